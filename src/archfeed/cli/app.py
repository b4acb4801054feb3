"""The Typer application, its global options and what every command shares.

Owns: the `app` object, the global options (and their environment variables), the per-run State
(config, database, verbosity), the filter options of DESIGN §2 and the choice of output format.
Never prints errors: cli/__init__.py does.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from archfeed import __version__
from archfeed.errors import UsageError

if TYPE_CHECKING:
    from archfeed.models import Config, Filter
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
    debug: bool = False

    def config(self, required: bool = True) -> Config:
        from archfeed.config import default_config_path, load
        from archfeed.models import Config

        path = self.config_path or default_config_path()
        if not required and self.config_path is None and not path.is_file():
            return Config(path=None)
        return load(path)

    def store(self, config: Config) -> Store:
        """The database, its stored classification brought in line with the config first."""
        from archfeed.config import default_db_path
        from archfeed.store import Store
        from archfeed.update import reclassify

        store = Store(self.db_path or config.settings.db or default_db_path())
        if config.sources:
            changed = reclassify(config, store)
            if changed:
                self.say(f"classified {changed} stored entries again after a config change")
        return store

    def say(self, message: str) -> None:
        """A progress or summary line on stderr, unless --quiet."""
        if not self.quiet:
            print(message, file=sys.stderr)


DEBUG = State()  # what main() knows of --debug, which it reads outside any Typer context


class OutputError(Exception):
    """stdout failed: its reader went away (`closed`), or its disk is full. Deliberately not an
    OSError: typer turns an EPIPE OSError into a silent exit 1 before main() can see it."""

    def __init__(self, closed: bool, reason: str) -> None:
        super().__init__(reason)
        self.closed = closed
        self.reason = reason


class GuardedOutput:
    """sys.stdout, with its write failures raised as OutputError."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as exc:
            raise _output_error(exc) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            raise _output_error(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _output_error(exc: OSError) -> OutputError:
    return OutputError(isinstance(exc, BrokenPipeError), exc.strerror or str(exc))


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
    DEBUG.debug = debug
    ctx.obj = State(config_path=config, db_path=db, quiet=quiet, verbose=verbose and not quiet)


def state_of(ctx: typer.Context) -> State:
    state = ctx.obj
    assert isinstance(state, State)
    return state


# -- FILTERS of DESIGN §2, shared by list, topics, langs (and digest) ------------------------------

SourceOption = Annotated[
    list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable)")
]
TopicOption = Annotated[
    list[str] | None,
    typer.Option("--topic", "-t", help="Only this topic (repeatable: any of them)"),
]
LangOption = Annotated[
    list[str] | None,
    typer.Option("--lang", "-l", help="Only this language, e.g. en (repeatable: any of them)"),
]
SinceOption = Annotated[
    str | None,
    typer.Option(help="From this ISO date/time, or a duration back: 90m, 36h, 7d, 2w"),
]
UntilOption = Annotated[
    str | None, typer.Option(help="Before this ISO date/time, or a duration back")
]
SearchOption = Annotated[str | None, typer.Option(help="Full-text search over title and text")]
FORMAT_HELP = "table, plain, json or jsonl [default: table on a terminal, else plain]"


def make_filter(
    source: list[str] | None,
    topic: list[str] | None,
    lang: list[str] | None,
    since: str | None,
    until: str | None,
    search: str | None,
    limit: int | None = None,
) -> Filter:
    from archfeed.models import Filter
    from archfeed.text import slugify

    return Filter(
        sources=tuple(source or ()),
        topics=tuple(slugify(t) for t in topic or ()),
        langs=tuple(code.strip().lower() for code in lang or ()),
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        search=search,
        limit=limit or None,
    )


def choose_format(fmt: str | None, allowed: tuple[str, ...]) -> str:
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
