"""The Typer application, its global options and what the commands share.

Owns: the `app` object, the global options (and their environment variables), the per-run State
(the Environment, config, database, verbosity), `--format` as several commands take it, declared
once here (docs/design.md, "The user-facing contract"), and the choice of an output format among
a command's writers (State.format); the filters are cli/filters.py's. Never prints errors:
cli/__init__.py does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from archfeed import __version__
from archfeed.cli.environment import Environment
from archfeed.errors import UsageError

if TYPE_CHECKING:
    from archfeed.models import Config
    from archfeed.store import Store

app = typer.Typer(
    name="archfeed",
    help="Fetch RSS, Atom, RDF and JSON Feed sources into SQLite; read them as tables, text, JSON.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion: bash, zsh, fish, PowerShell
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class State:
    """One run: its Environment, made by cli.run(), and the global options, filled in by the
    app's callback."""

    env: Environment
    config_path: Path | None = None  # None: discover
    db_path: Path | None = None
    quiet: bool = False
    verbose: bool = False
    debug: bool = False
    no_pager: bool = False

    def config(self, required: bool = True) -> Config:
        from archfeed.config import default_config_path, load
        from archfeed.models import Config

        path = self.config_path or default_config_path()
        if not required and self.config_path is None and not path.is_file():
            return Config(path=None)
        return load(path)

    @contextmanager
    def store(self, config: Config) -> Iterator[Store]:
        """The database, open for the block and closed after it, whatever happens."""
        from archfeed.config import default_db_path
        from archfeed.store import Store

        with Store(self.db_path or config.settings.db or default_db_path()) as store:
            yield store

    def classify_again(self, config: Config, store: Store) -> None:
        """The step before a command reads or adds classified entries: the stored entries of
        every source whose topics or language the config changed get classified again (one small
        query when nothing changed)."""
        from archfeed.classify import fingerprints

        # the check is one small query; the pipeline it would need (~40 ms of imports) only
        # when the config changed
        if config.sources and store.stale(fingerprints(config.sources, config.topics)):
            from archfeed.update import reclassify

            changed = reclassify(config, store)
            if changed:
                self.say(f"classified {changed} stored entries again after a config change")

    def say(self, message: str) -> None:
        """A progress or summary line on stderr, unless --quiet."""
        if not self.quiet:
            self.env.say(message)

    def waiting(self, pid: str, wait: float) -> None:
        """What a second fetch (or prune) says while the first holds the database."""
        self.say(f"waiting for another fetch (pid {pid}) to finish, up to {wait:g} s…")

    def out(self, text: str) -> None:
        """Data, on stdout."""
        self.env.stdout.write(text)

    def format(self, fmt: str | None, formats: Collection[str]) -> str:
        """The format asked for, which must be one of `formats`; unset: a table on a terminal,
        else plain text."""
        if fmt is None:
            return "table" if self.env.stdout_is_terminal else "plain"
        if fmt not in formats:
            raise UsageError(f"unknown format '{fmt}'", hint=f"use one of: {', '.join(formats)}")
        return fmt


def _version(ctx: typer.Context, value: bool) -> None:
    if value:
        state_of(ctx).env.stdout.write(f"archfeed {__version__}\n")
        raise typer.Exit()


def _file_option(name: str, short: str | None, envvar: str, summary: str) -> Any:
    """A global option naming a file, also read from an environment variable."""
    names = (name, short) if short else (name,)
    return typer.Option(*names, envvar=envvar, show_envvar=True, dir_okay=False, help=summary)


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        _file_option(
            "--config",
            "-c",
            "ARCHFEED_CONFIG",
            "Config file [default: ./feeds.toml if present, else the user config dir's]",
        ),
    ] = None,
    db: Annotated[
        Path | None,
        _file_option(
            "--db",
            None,
            "ARCHFEED_DB",
            "Database file [default: [settings].db, else the user data dir's archfeed.db]",
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress or success lines: errors and failing sources only"
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail on stderr")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors")] = False,
    no_pager: Annotated[
        bool, typer.Option("--no-pager", help="Never page a long table ($ARCHFEED_PAGER, $PAGER)")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit"
        ),
    ] = False,
) -> None:
    state = state_of(ctx)
    state.config_path, state.db_path = config, db
    state.quiet, state.verbose, state.debug = quiet, verbose and not quiet, debug
    state.no_pager = no_pager


def state_of(ctx: typer.Context) -> State:
    state = ctx.find_root().obj
    assert isinstance(state, State), "cli.run() makes the State"
    return state


# -- output formats --------------------------------------------------------------------------------

# The names `--format` takes, each with its writer in render (tests/test_design.py pairs them):
# named here so that registering the commands (and `--help`, `--version`) imports no renderer.
LIST_FORMATS = ("table", "plain", "json", "jsonl", "csv", "markdown", "atom", "jsonfeed")
DETAIL_FORMATS = ("table", "plain", "json")  # show, sources, topics, langs
DIGEST_FORMATS = ("text", "markdown", "html", "json", "atom", "jsonfeed")


def format_option(formats: Collection[str], default: str | None = None) -> Any:
    """The `--format` option of a command that writes in `formats`, for its Annotated type;
    without a default, a table on a terminal and plain text in a pipe."""
    where = f"[default: {default}]" if default else "[default: table on a terminal, else plain]"
    return typer.Option("--format", "-f", help=f"{', '.join(formats)} {where}")


ListFormat = Annotated[str | None, format_option(LIST_FORMATS)]
DetailFormat = Annotated[str | None, format_option(DETAIL_FORMATS)]
DigestFormat = Annotated[str | None, format_option(DIGEST_FORMATS, default="text")]
# a command's own --no-pager, beside the global one: `archfeed list --no-pager` is what is typed
NoPager = Annotated[bool, typer.Option("--no-pager", help="Never page a long table")]
