"""The command line: options → calls → output, and the one place that prints errors and exits.

Owns: Typer commands, global options and their environment variables, choosing output formats
(tables on a terminal, plain text in a pipe), and exit codes. Never holds SQL, HTTP, parsing or
formatting logic of its own. Heavy modules are imported inside the commands that need them, so
`--version` and `--help` start fast.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from archfeed import __version__
from archfeed.errors import ArchfeedError, ExitCode, UsageError

if TYPE_CHECKING:
    from archfeed.models import Config
    from archfeed.store import Store

app = typer.Typer(
    name="archfeed",
    help="Fetch RSS, Atom, RDF and JSON Feed sources into SQLite; read them as tables, text, JSON.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class State:
    config_path: Path | None = None  # None: discover
    db_path: Path | None = None
    quiet: bool = False
    verbose: bool = False

    def config(self, required: bool = True) -> Config:
        from archfeed.config import default_config_path, load
        from archfeed.models import Config

        path = self.config_path or default_config_path()
        if not required and self.config_path is None and not path.is_file():
            return Config(path=None)
        return load(path)

    def store(self, config: Config) -> Store:
        from archfeed.config import default_db_path
        from archfeed.store import Store

        return Store(self.db_path or config.settings.db or default_db_path())

    def say(self, message: str) -> None:
        """A progress or summary line on stderr, unless --quiet."""
        if not self.quiet:
            print(message, file=sys.stderr)


_debug = False


def _version(value: bool) -> None:
    if value:
        print(f"archfeed {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            envvar="ARCHFEED_CONFIG",
            show_envvar=True,
            dir_okay=False,
            help="Config file [default: ./feeds.toml if present, else the user config dir's]",
        ),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            envvar="ARCHFEED_DB",
            show_envvar=True,
            dir_okay=False,
            help="Database file [default: [settings].db, else the user data dir's archfeed.db]",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print nothing but errors on stderr")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail on stderr")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit"
        ),
    ] = False,
) -> None:
    global _debug  # noqa: PLW0603 -- read by main(), which runs outside any click context
    _debug = debug
    ctx.obj = State(config_path=config, db_path=db, quiet=quiet, verbose=verbose and not quiet)


def _state(ctx: typer.Context) -> State:
    state = ctx.obj
    assert isinstance(state, State)
    return state


@app.command()
def init(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Where to write it [default: --config, else the user config dir's feeds.toml]"
        ),
    ] = None,
) -> None:
    """Write a commented starter feeds.toml; never overwrites an existing file."""
    from archfeed.config import user_config_file, write_starter

    target = path or _state(ctx).config_path or user_config_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    write_starter(target)
    _state(ctx).say(f"wrote {target}; edit it, then run 'archfeed --config {target} fetch'")


@app.command()
def check(ctx: typer.Context) -> None:
    """Validate the config and print its sources."""
    config = _state(ctx).config()
    for source in config.sources:
        flags = "" if source.enabled else "\t(disabled)"
        topics = ",".join(source.topics) or "-"
        print(f"{source.name}\t{source.url}\t{source.lang or '-'}\t{topics}{flags}")
    _state(ctx).say(
        f"{config.path}: OK, {len(config.sources)} sources, {len(config.topics)} topic rules"
    )


@app.command()
def fetch(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source", "-s", help="Fetch only this source (repeatable); disabled ones too"
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Ignore ETag, Last-Modified and unchanged bodies: fetch and parse everything",
        ),
    ] = False,
) -> None:
    """Fetch the enabled sources (or the named ones) and store their entries."""
    from archfeed import render, update

    state = _state(ctx)
    config = state.config()
    chosen = update.select(config, source or [])
    if not chosen:
        state.say("no enabled sources to fetch; add [[source]] tables to the config")
        return
    store = state.store(config)
    show_bar = not state.quiet and sys.stderr.isatty()
    with render.progress(len(chosen), show_bar) as advance:
        reports = update.run(config, store, chosen, force, on_report=lambda r: advance(r.source))
    store.close()
    for report in reports:
        state.say(render.report_line(report, state.verbose))
    state.say(render.total_line(reports))
    if any(report.failed for report in reports):
        raise typer.Exit(ExitCode.PARTIAL)


_FORMAT_HELP = "table, plain, json or jsonl [default: table on a terminal, else plain]"


@app.command("list")
def list_(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable)")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="From this ISO date/time, or a duration back: 90m, 36h, 7d, 2w"),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Before this ISO date/time, or a duration back")
    ] = None,
    search: Annotated[str | None, typer.Option(help="Full-text search over title and text")] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help=_FORMAT_HELP)] = None,
    excerpt: Annotated[
        int | None,
        typer.Option(min=0, help="Excerpt length in characters [default: [settings].excerpt, 150]"),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=0, help="At most N entries; 0 for all [default: 50 in a table, all otherwise]"
        ),
    ] = None,
) -> None:
    """The entries, newest first."""
    from archfeed import render
    from archfeed.models import Filter

    state = _state(ctx)
    config = state.config(required=False)
    chosen = _format(fmt, render.FORMATS)
    if limit is None:
        limit = 50 if chosen == "table" else 0
    where = Filter(
        sources=tuple(source or ()),
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        search=search,
        limit=limit or None,
    )
    chars = config.settings.excerpt if excerpt is None else excerpt
    store = state.store(config)
    entries = store.entries(where, text_chars=chars + 1)
    store.close()
    if not entries and chosen == "table":
        state.say("no entries match; 'archfeed fetch' stores new ones, fewer filters find more")
        return
    render.write_entries(entries, chosen, chars, sys.stdout)


def _format(fmt: str | None, allowed: tuple[str, ...]) -> str:
    if fmt is None:
        return "table" if sys.stdout.isatty() else "plain"
    if fmt not in allowed:
        raise UsageError(f"unknown format '{fmt}'", hint=f"use one of: {', '.join(allowed)}")
    return fmt


def _when(value: str | None, option: str) -> datetime | None:
    from archfeed.text import parse_when

    if value is None:
        return None
    when = parse_when(value, datetime.now(UTC))
    if when is None:
        raise UsageError(
            f"{option} {value!r} is neither a date nor a duration",
            hint="use an ISO date like 2026-01-31 or 2026-01-31T08:00, or 90m, 36h, 7d, 2w",
        )
    return when


def _fail(message: str, hint: str | None, code: int) -> NoReturn:
    print(f"archfeed: error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    sys.exit(code)


def main() -> None:
    """The console script: runs the app and turns every failure into a message and exit code."""
    try:
        code = app(standalone_mode=False)
    except ArchfeedError as exc:
        if _debug:
            raise
        _fail(exc.message, exc.hint, exc.exit_code)
    except typer.Abort:
        _interrupted()
    except KeyboardInterrupt:
        _interrupted()
    except BrokenPipeError:
        # the reader (head, less) went away: not an error; keep Python from complaining at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(ExitCode.OK)
    except Exception as exc:
        if _is_usage_error(exc):
            _fail(exc.format_message(), _usage_hint(exc), ExitCode.USAGE)  # type: ignore[attr-defined]
        if _debug:
            raise
        _fail(
            f"unexpected {type(exc).__name__}: {exc}",
            "this is a bug in archfeed; run again with --debug and report the traceback",
            ExitCode.ERROR,
        )
    if code == ExitCode.INTERRUPTED:  # typer turns Ctrl-C into an exit code of 130
        _interrupted()
    sys.exit(code if isinstance(code, int) else 0)


def _is_usage_error(exc: Exception) -> bool:
    """Click's usage errors, whichever click: typer 0.29 carries its own copy of click, older
    typers use the click package, so the class cannot be named here."""
    return hasattr(exc, "format_message") and getattr(exc, "exit_code", None) == ExitCode.USAGE


def _usage_hint(exc: Exception) -> str:
    ctx = getattr(exc, "ctx", None)
    return f"see '{getattr(ctx, 'command_path', None) or 'archfeed'} --help'"


def _interrupted() -> NoReturn:
    print("archfeed: interrupted", file=sys.stderr)
    sys.stderr.flush()
    sys.stdout.flush()
    # fetch threads may still wait on the network; every transaction is already committed or
    # rolled back, so nothing is left to wait for
    os._exit(ExitCode.INTERRUPTED)
