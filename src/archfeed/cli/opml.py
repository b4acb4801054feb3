"""The `opml import` and `opml export` commands.

Owns: reading the OPML file the user names, choosing which of its feeds are new to the config,
appending them to feeds.toml (atomically, the existing text kept byte for byte) and printing the
config as OPML. Never parses or writes OPML or TOML text itself: archfeed.opml does.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated

import typer

from archfeed.cli.app import app, state_of
from archfeed.errors import ConfigError, UsageError

opml_app = typer.Typer(
    name="opml",
    help="Move sources between feeds.toml and OPML, the subscription list of feed readers.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@opml_app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The OPML file ('-' reads standard input)")
    ],
    write: Annotated[bool, typer.Option("--write", help="Append them to the config")] = False,
) -> None:
    """Print the OPML file's feeds that are not in the config as [[source]] blocks (or add them)."""
    state = state_of(ctx)
    config = state.config(required=write)
    from archfeed import opml

    origin = "standard input" if str(file) == "-" else str(file)
    imported = opml.read(_read_input(file, state.env.stdin), origin)
    for warning in imported.warnings:
        state.say(f"warning: {warning}")
    new = opml.additions(config.sources, imported.sources)
    known = len(imported.sources) - len(new)
    if not new:
        where = f" in {config.path}" if config.path else ""
        state.say(f"nothing new in {origin}: {known} feed(s), all already{where}")
        return
    blocks = opml.toml_blocks(new)
    if not write:
        state.out(blocks)
        state.say(
            f"{len(new)} new source(s) from {origin} ({known} already in the config); "
            "add them with --write"
        )
        return
    assert config.path is not None  # required=True: a missing config raised already
    _append(config.path, origin, blocks, state.env.now())
    state.say(f"added {len(new)} source(s) to {config.path} ({known} already there)")


@opml_app.command("export")
def export(ctx: typer.Context) -> None:
    """Print the config's sources, enabled and disabled, as OPML 2.0."""
    from archfeed import opml

    state = state_of(ctx)
    config = state.config()
    remote = [source for source in config.sources if source.is_remote]
    if len(remote) < len(config.sources):
        state.say(
            f"left out {len(config.sources) - len(remote)} local source(s): "
            "a file:// URL means nothing to another feed reader"
        )
    name = config.path.name if config.path else "feeds.toml"
    state.out(opml.write(remote, f"archfeed sources ({name})", state.env.now()) + "\n")


def _read_input(file: Path, stdin: IO[bytes]) -> bytes:
    if str(file) == "-":
        return stdin.read()
    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"no such file: {file}", hint="give the path of an OPML file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None


def _append(path: Path, origin: str, blocks: str, now: datetime) -> None:
    """Append `blocks` to the config at `path`: written to a temporary file beside it, checked to
    load, then moved over it, so the config is never half-written or left invalid."""
    import tempfile

    from archfeed.config import load
    from archfeed.text import clean

    target = path.resolve()  # a symlinked config stays a symlink: its target gets the new text
    try:
        original = target.read_bytes()
        mode = target.stat().st_mode & 0o7777
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    today = now.strftime("%Y-%m-%d")
    added = f"\n# imported from {clean(origin)} on {today}\n{blocks}"
    try:
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", text=False)
    except OSError as exc:
        raise ConfigError(f"cannot write beside {path}: {exc.strerror or exc}") from None
    temp = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(original + added.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        temp.chmod(mode)
        try:
            load(temp)
        except ConfigError as exc:
            raise ConfigError(
                f"{path} would not load with the imported sources appended; left it unchanged:\n"
                f"{exc.message}",
                hint="fix the config first (see 'archfeed check'), or paste the blocks by hand",
            ) from None
        temp.replace(target)  # atomic: readers see the old file or the new one
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        temp.unlink(missing_ok=True)


app.add_typer(opml_app, name="opml")
