"""Long tables through a pager, the way git and gh page theirs.

Owns: choosing the pager ($ARCHFEED_PAGER, else $PAGER, else `less -FRX`; none when that
variable is empty or `cat`, under --no-pager, or when stdout is not a terminal), the terminal's
height, and handing the pager a table that is longer than the terminal (a shorter one is written
as it is). The pager's words are split as a shell would split them, never run by a shell. Never
renders: a command writes its table to the stream `paged()` gives it.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import signal
import subprocess
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archfeed.cli.app import State
    from archfeed.cli.environment import Environment

DEFAULT = "less -FRX"  # quit when it fits, keep colours and links, leave the screen as it was


def command(env: Environment) -> list[str] | None:
    """The pager to run, as words; None for none."""
    for name in ("ARCHFEED_PAGER", "PAGER"):
        if name in env.environ:
            value = env.environ[name].strip()
            break
    else:
        value = DEFAULT
    try:
        words = shlex.split(value)
    except ValueError:  # an unclosed quote: what it means is anyone's guess
        return None
    return words if words and words != ["cat"] else None


@contextlib.contextmanager
def paged(state: State, table: bool) -> Iterator[IO[str]]:
    """The stream to write a command's output to: stdout itself, unless the output is a table
    on a terminal and a pager is on; then a buffer, which goes to the pager when the block ends
    if it is longer than the terminal (of a known height), else to stdout."""
    env = state.env
    words = command(env) if table and env.stdout_is_terminal and not state.no_pager else None
    if words is None:
        yield env.stdout
        return
    buffer = io.StringIO()
    yield buffer
    text = buffer.getvalue()
    height = _height(env)
    # a terminal of unknown height cannot be said to be too short
    if height is None or text.count("\n") < height or not _page(words, text, env):
        state.out(text)


def _height(env: Environment) -> int | None:
    """LINES, else the terminal's own height; None when neither says."""
    value = env.environ.get("LINES", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    try:
        return os.get_terminal_size(env.stdout.fileno()).lines
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None


def _page(words: list[str], text: str, env: Environment) -> bool:
    """Show `text` in the pager, until the reader quits it; False when it cannot be started."""
    environ = {**env.environ}
    environ.setdefault("LESS", "FRX")  # as git sets them: `PAGER=less` keeps colours too
    environ.setdefault("LV", "-c")
    try:
        pager = subprocess.Popen(words, stdin=subprocess.PIPE, env=environ, text=True,
                                 encoding="utf-8", errors="replace")  # fmt: skip
    except OSError:  # not installed: the table is written as it is
        return False
    # Ctrl-C in less is the pager's: this process waits for it to end, as git does
    previous = _ignore_interrupts()
    try:
        assert pager.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # the reader quit before the end
            pager.stdin.write(text)
            pager.stdin.close()
        pager.wait()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return True


def _ignore_interrupts() -> Any:
    """Ignore SIGINT; returns the handler to put back (None: none can be set from here)."""
    try:
        return signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        return None
