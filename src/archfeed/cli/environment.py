"""What a run of archfeed gets from the world around it, as one object tests can build.

Owns: the standard streams and whether each is a terminal, the environment variables, the colour
decision (NO_COLOR, TERM=dumb, not a terminal) and the clock; and stdout's write failures turned
into OutputError. Never parses options or prints errors: cli/__init__.py does. As httpie's
Environment: `Environment.of_process()` is the real one, a test passes its own streams, variables
and a fixed clock, and the commands run in-process the same way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import IO, Any


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Environment:
    stdin: IO[bytes]
    stdout: IO[str]
    stderr: IO[str]
    environ: Mapping[str, str] = field(default_factory=dict)
    stdout_is_terminal: bool = False
    stderr_is_terminal: bool = False
    stdin_is_terminal: bool = False  # someone there to answer a question
    clock: Callable[[], datetime] = _utc_now

    @classmethod
    def of_process(cls) -> Environment:
        """This process's streams (stdout guarded), variables and the system clock."""
        return cls(
            stdin=sys.stdin.buffer,
            stdout=GuardedOutput(sys.stdout),  # type: ignore[arg-type]  # IO[str]'s whole API
            stderr=sys.stderr,
            environ=os.environ,
            stdout_is_terminal=sys.stdout.isatty(),
            stderr_is_terminal=sys.stderr.isatty(),
            stdin_is_terminal=sys.stdin.isatty(),
        )

    def now(self) -> datetime:
        """The current time, in UTC, to the second: what every stored date is precise to."""
        return self.clock().astimezone(UTC).replace(microsecond=0)

    @property
    def colours(self) -> str | None:
        """The colours stdout shows, as rich names them, or None for none: never under NO_COLOR
        (no-color.org: set and not empty), always under FORCE_COLOR (for `less -R`), else on a
        terminal that is not TERM=dumb, as many as COLORTERM and TERM say."""
        if self.environ.get("NO_COLOR"):
            return None
        term = self.environ.get("TERM", "")
        if not self.environ.get("FORCE_COLOR") and (not self.stdout_is_terminal or term == "dumb"):
            return None
        if self.environ.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
            return "truecolor"
        return "256" if term.endswith("256color") else "standard"

    @property
    def width(self) -> int | None:
        """The width tables are drawn at: COLUMNS, else the terminal's own when stdout is one
        (measured here, since a table for the pager is drawn into a buffer); None: unknown."""
        value = self.environ.get("COLUMNS", "")
        if value.isdigit() and int(value) > 0:
            return int(value)
        if not self.stdout_is_terminal:
            return None
        try:
            return os.get_terminal_size(self.stdout.fileno()).columns
        except (OSError, ValueError, AttributeError):  # a test's StringIO, a closed stream
            return None

    @property
    def zone(self) -> tzinfo | None:
        """The reader's time zone: TZ when it names one (`Europe/Berlin`, `:UTC`), else the
        system's."""
        name = self.environ.get("TZ", "").removeprefix(":")
        if name:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                pass  # a POSIX rule such as EST5EDT: the system's reading of it, below
        return datetime.now().astimezone().tzinfo

    def reader_quit(self, grace: float) -> bool:
        """After a flush: whether stdout is a pipe whose reader went away before the end
        (`digest | head -1`). A reader that wants it all (mail, jq, less) keeps its end open
        until the end of the output, which only this process's exit gives it; one that closes
        within `grace` seconds of the last write, while the output is still open, stopped
        early. Not a pipe, or a reader still there: False."""
        import select
        import stat

        try:
            fd = self.stdout.fileno()
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                return False
        except (OSError, ValueError, AttributeError):  # a StringIO, a closed stream
            return False
        poller = select.poll()
        poller.register(fd, select.POLLERR)  # what the write end says once the read end closed
        return bool(poller.poll(int(grace * 1000)))

    def say(self, message: str) -> None:
        print(message, file=self.stderr)

    def ask(self, question: str) -> bool:
        """A yes-or-no question on stderr, answered on stdin; anything but y or yes is no."""
        print(f"{question} [y/N] ", end="", file=self.stderr, flush=True)
        answer = self.stdin.readline().decode(errors="replace").strip().lower()
        return answer in ("y", "yes")


class OutputError(Exception):
    """stdout failed: its reader went away (`closed`), or its disk is full. Deliberately not an
    OSError: typer turns an EPIPE OSError into a silent exit 1 before the runner can see it."""

    def __init__(self, closed: bool, reason: str) -> None:
        super().__init__(reason)
        self.closed = closed
        self.reason = reason


class GuardedOutput:
    """A text stream whose write failures are raised as OutputError."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as exc:
            raise _output_error(exc) from None

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            raise _output_error(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _output_error(exc: OSError) -> OutputError:
    return OutputError(isinstance(exc, BrokenPipeError), exc.strerror or str(exc))
