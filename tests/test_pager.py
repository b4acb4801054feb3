"""Long tables go through the pager as git's do: $ARCHFEED_PAGER, $PAGER, else `less -FRX`;
only a table, only on a terminal, only when it is longer than the terminal; never with
--no-pager. The last test runs the entry point on a real pseudo-terminal."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from conftest import Cli, rss


@pytest.fixture
def many(cli: Cli) -> Cli:
    feed = cli.root / "feed.xml"
    items = [(f"p-{n}", f"Post number {n} about queues", f"Text {n}.") for n in range(12)]
    feed.write_bytes(rss("blog", items))
    cli.write_config([("blog", str(feed))])
    assert cli.fetch().returncode == 0
    return cli


def _pager(tmp_path: Path) -> tuple[str, Path]:
    """A pager command that saves what it was given, and its LESS variable, to a file."""
    saw = tmp_path / "pager-saw.json"
    script = tmp_path / "pager.py"
    script.write_text(
        "import json, os, sys\n"
        f"open({str(saw)!r}, 'w').write(json.dumps([sys.stdin.read(), os.environ.get('LESS')]))\n",
        encoding="utf-8",
    )
    return f"{sys.executable} {script}", saw


def test_a_table_longer_than_the_terminal_goes_to_the_pager(many: Cli, tmp_path: Path) -> None:
    command, saw = _pager(tmp_path)
    done = many.run("list", terminal=True, env={"ARCHFEED_PAGER": command, "LINES": "20"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    paged, less = json.loads(saw.read_text(encoding="utf-8"))
    assert "Post number 11 about queues" in paged
    assert "Post number 0 about queues" in paged
    assert less == "FRX"  # as git sets it when the user did not


def test_a_table_that_fits_is_written_as_it_is(many: Cli, tmp_path: Path) -> None:
    command, saw = _pager(tmp_path)
    done = many.run("list", terminal=True, env={"ARCHFEED_PAGER": command, "LINES": "500"})
    assert "Post number 11 about queues" in done.stdout
    assert not saw.exists()


@pytest.mark.parametrize(
    ("args", "env", "terminal"),
    [
        (("list", "--no-pager"), {}, True),
        (("--no-pager", "list"), {}, True),
        (("list", "--format", "table"), {}, False),  # not a terminal: never
        (("list", "--format", "json"), {}, True),  # data, not a table
        (("list",), {"ARCHFEED_PAGER": ""}, True),
        (("list",), {"ARCHFEED_PAGER": "cat"}, True),
    ],
)
def test_no_pager_when_told_or_not_a_terminal_table(
    many: Cli, tmp_path: Path, args: tuple[str, ...], env: dict[str, str], terminal: bool
) -> None:
    command, saw = _pager(tmp_path)
    done = many.run(*args, terminal=terminal, env={"PAGER": command, "LINES": "5", **env})
    assert done.returncode == 0, done.stderr
    assert "Post number 11 about queues" in done.stdout
    assert not saw.exists()


def test_pager_comes_from_pager_when_archfeed_pager_is_unset(many: Cli, tmp_path: Path) -> None:
    command, saw = _pager(tmp_path)
    entry = many.list_json()[0]
    done = many.run("show", entry["id"], terminal=True,
                    env={"PAGER": command, "LINES": "3", "LESS": "R"})  # fmt: skip
    assert done.stdout == ""
    paged, less = json.loads(saw.read_text(encoding="utf-8"))
    assert entry["title"] in paged
    assert less == "R"  # the user's own LESS is kept


def test_a_pager_that_is_not_installed_leaves_the_table_on_stdout(many: Cli) -> None:
    done = many.run("list", terminal=True,
                    env={"ARCHFEED_PAGER": "/nonexistent/pager -x", "LINES": "5"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Post number 11 about queues" in done.stdout


def _on_a_terminal(cli: Cli, rows: int, cols: int, env: dict[str, str]) -> str:
    """Run `archfeed list` through the entry point with stdout on a pseudo-terminal of `rows`
    by `cols`; return what reached the terminal."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    environ = {k: v for k, v in cli.env.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(cli.command("list"), stdout=follower, stderr=subprocess.PIPE,
                               env={**environ, "TERM": "xterm", **env})  # fmt: skip
    os.close(follower)
    drawn = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: every writer is gone
            break
        if not chunk:
            break
        drawn += chunk
    process.wait(timeout=30)
    os.close(leader)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    return drawn.decode("utf-8", errors="replace")


def test_the_entry_point_pages_on_a_real_terminal_at_its_width(many: Cli, tmp_path: Path) -> None:
    command, saw = _pager(tmp_path)
    _on_a_terminal(many, rows=10, cols=70, env={"ARCHFEED_PAGER": command})
    paged, _ = json.loads(saw.read_text(encoding="utf-8"))
    lines = re.sub(r"\x1b\[[0-9;]*m|\x1b\]8;[^\x1b]*\x1b\\", "", paged).splitlines()
    assert max(len(line) for line in lines) == 70  # the terminal's width, measured, not 80
    assert "\x1b]8;" in paged  # a terminal that is not TERM=dumb: titles are links
    saw.unlink()
    drawn = _on_a_terminal(many, rows=400, cols=90, env={"ARCHFEED_PAGER": command})
    assert not saw.exists()  # it fits: no pager
    assert "Post number 11" in drawn
