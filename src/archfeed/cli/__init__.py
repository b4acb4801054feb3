"""The command line: options → calls → output, and the one place that prints errors and exits.

Owns: running the Typer app (cli/app.py and the command modules beside it) in an Environment,
and turning every failure into `archfeed: error: …`, a hint and an exit code of docs/design.md
("Exit codes"). `run()` is the whole command line as a function, which the tests call in-process;
`main()` is the console script around it. Never holds SQL, HTTP, parsing or formatting logic.
Heavy modules are imported inside the commands that need them, so `--version` and `--help` start
fast.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Sequence

import typer

from archfeed.cli import digest, fetching, marks, opml, reading, setup, subscribe
from archfeed.cli.app import State, app
from archfeed.cli.environment import Environment, OutputError
from archfeed.errors import ArchfeedError, ExitCode

__all__ = [
    "app",
    "digest",
    "fetching",
    "main",
    "marks",
    "opml",
    "reading",
    "run",
    "setup",
    "subscribe",
]


def main() -> None:
    """The console script: this process's environment, and its exit status. Ctrl-C before or
    after the command runs is the same one line as during it; once the exit status is known, a
    late one is ignored (what is left is the interpreter's shutdown)."""
    env = Environment.of_process()
    try:
        code = run(sys.argv[1:], env)
    except KeyboardInterrupt:  # between the steps run() guards
        code = _interrupted(env)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


def run(argv: Sequence[str], env: Environment) -> int:
    """Run one command line; returns its exit code. With --debug, an error is raised instead of
    printed, so that its traceback shows."""
    state = State(env)
    argv = list(argv) or ["--help"]  # `archfeed` alone: what it can do, not an error
    # click prints --help and --version through sys.stdout: point it at this run's streams
    with contextlib.redirect_stdout(env.stdout), contextlib.redirect_stderr(env.stderr):
        code = _guarded(argv, state)
    _quiet_stdout(env)
    return code


def _guarded(argv: Sequence[str], state: State) -> int:  # noqa: PLR0911 -- one per failure kind
    env = state.env
    try:
        code = app(args=list(argv), prog_name="archfeed", standalone_mode=False, obj=state)
        env.stdout.flush()  # what is still buffered fails here, as the rest would have
    except OutputError as exc:
        if exc.closed:  # the reader (head, less) went away: not an error
            return ExitCode.OK
        return _fail(env, f"cannot write the output: {exc.reason}", None, ExitCode.ERROR)
    except ArchfeedError as exc:
        if state.debug:
            raise
        return _fail(env, exc.message, exc.hint, exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        return _interrupted(env)
    except Exception as exc:
        if _is_usage_error(exc):
            return _fail(env, exc.format_message(), _usage_hint(exc), ExitCode.USAGE)  # type: ignore[attr-defined]
        if state.debug:
            raise
        return _fail(
            env,
            f"unexpected {type(exc).__name__}: {exc}",
            "this is a bug in archfeed; run again with --debug and report the traceback",
            ExitCode.ERROR,
        )
    if code == ExitCode.INTERRUPTED:  # typer turns Ctrl-C into an exit code of 130
        return _interrupted(env)
    return code if isinstance(code, int) else ExitCode.OK


def _fail(env: Environment, message: str, hint: str | None, code: int) -> int:
    env.say(f"archfeed: error: {message}")
    if hint:
        env.say(f"hint: {hint}")
    return code


def _quiet_stdout(env: Environment) -> None:
    """When stdout is what failed (a closed pipe, a full disk), Python's own flush at exit would
    fail again and turn the exit code into 120: send what is left nowhere."""
    try:
        env.stdout.flush()
    except (OSError, OutputError):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), env.stdout.fileno())


def _is_usage_error(exc: Exception) -> bool:
    """Click's usage errors, whichever click: typer 0.29 carries its own copy of click, older
    typers use the click package, so the class cannot be named here."""
    return hasattr(exc, "format_message") and getattr(exc, "exit_code", None) == ExitCode.USAGE


def _usage_hint(exc: Exception) -> str:
    ctx = getattr(exc, "ctx", None)
    return f"see '{getattr(ctx, 'command_path', None) or 'archfeed'} --help'"


def _interrupted(env: Environment) -> int:
    """Ctrl-C: every transaction is already committed or rolled back; parser workers are ended
    here, and the download threads are daemons, so nothing is left to wait for."""
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C while stopping: still one line
        if "archfeed.update.pool" in sys.modules:  # never import it just to stop it
            sys.modules["archfeed.update.pool"].stop_all()
    env.say("archfeed: interrupted")
    return ExitCode.INTERRUPTED
