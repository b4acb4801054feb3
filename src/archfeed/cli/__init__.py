"""The command line: options → calls → output, and the one place that prints errors and exits.

Owns: running the Typer app (cli/app.py and the command modules beside it) and turning every
failure into `archfeed: error: …`, a hint and an exit code of DESIGN §2. Never holds SQL, HTTP,
parsing or formatting logic. Heavy modules are imported inside the commands that need them, so
`--version` and `--help` start fast.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn, TextIO, cast

import typer

from archfeed.cli import digest, fetching, opml, reading, setup
from archfeed.cli.app import DEBUG, GuardedOutput, OutputError, app
from archfeed.errors import ArchfeedError, ExitCode

__all__ = ["app", "digest", "fetching", "main", "opml", "reading", "setup"]


def _fail(message: str, hint: str | None, code: int) -> NoReturn:
    print(f"archfeed: error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    _quiet_stdout()
    sys.exit(code)


def _quiet_stdout() -> None:
    """When stdout is what failed (a closed pipe, a full disk), Python's own flush at exit would
    fail again and turn the exit code into 120: send what is left nowhere."""
    try:
        sys.stdout.flush()
    except (OSError, OutputError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main() -> None:
    """The console script: runs the app and turns every failure into a message and exit code."""
    sys.stdout = cast(TextIO, GuardedOutput(sys.stdout))
    try:
        code = app(standalone_mode=False)
    except OutputError as exc:
        if not exc.closed:
            _fail(f"cannot write the output: {exc.reason}", None, ExitCode.ERROR)
        _quiet_stdout()  # the reader (head, less) went away: not an error
        sys.exit(ExitCode.OK)
    except ArchfeedError as exc:
        if DEBUG.debug:
            raise
        _fail(exc.message, exc.hint, exc.exit_code)
    except typer.Abort:
        _interrupted()
    except KeyboardInterrupt:
        _interrupted()
    except Exception as exc:
        if _is_usage_error(exc):
            _fail(exc.format_message(), _usage_hint(exc), ExitCode.USAGE)  # type: ignore[attr-defined]
        if DEBUG.debug:
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
    """Ctrl-C: every transaction is already committed or rolled back; parser workers are ended
    here, and the download threads are daemons, so nothing is left to wait for."""
    if "archfeed.update.pool" in sys.modules:  # never import it just to stop it
        sys.modules["archfeed.update.pool"].stop_all()
    print("archfeed: interrupted", file=sys.stderr)
    _quiet_stdout()
    sys.exit(ExitCode.INTERRUPTED)
