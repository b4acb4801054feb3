"""Shared helpers for the end-to-end tests: the real command line, in a sandbox.

`Cli.run` runs a command line in this process, through archfeed.cli.run() with an Environment
the test builds (streams, variables, terminal or not, a clock): what a user sees, at a fraction
of a process's cost. `Cli.spawn` and `Cli.command` start the installed entry point instead, for
what belongs to a process: signals, kill -9, locks between two runs, pipes, exit at a closed
stdout. Every run gets HOME and the XDG directories pointed into tmp_path, a clean environment
(no ARCHFEED_*, FORCE_COLOR or NO_COLOR leaking in from the developer's shell) and explicit
--config and --db paths, so nothing ever touches the real home directory.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from archfeed.cli import run as run_in_process
from archfeed.cli.environment import Environment

FIXTURES = Path(__file__).parent / "fixtures"

# The DESIGN §2 contract for every entry object of `list --format json`.
ENTRY_KEYS = frozenset(
    {
        "id",
        "title",
        "url",
        "source",
        "published",
        "first_seen",
        "lang",
        "topics",
        "excerpt",
        "author",
        "also_at",
    }
)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str | None, int | None]:
    """pytest-httpserver listens on 127.0.0.1 (not `localhost`, which may resolve to ::1 first)
    on a free port."""
    return ("127.0.0.1", 0)


def _sandbox_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        # wide enough that a rich table never wraps a title in the middle of a token
        "COLUMNS": "200",
        "TERM": "dumb",
    }


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


@dataclass
class Cli:
    """The archfeed command line as a user runs it, confined to one tmp_path."""

    root: Path
    config: Path
    db: Path
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def write_config(
        self, sources: list[tuple[str, str]], settings: str = "", extra: str = ""
    ) -> Path:
        """A feeds.toml with `sources` as (name, url-or-path) pairs and optional [settings] lines."""
        lines = []
        if settings:
            lines += ["[settings]", settings.strip(), ""]
        for name, url in sources:
            lines += ["[[source]]", f"name = {toml_string(name)}", f"url = {toml_string(url)}", ""]
        if extra:
            lines.append(extra)
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text("\n".join(lines), encoding="utf-8")
        return self.config

    def command(self, *args: str) -> list[str]:
        """The argv of `archfeed --config CONFIG --db DB ARGS...`."""
        return [
            sys.executable,
            "-m",
            "archfeed",
            "--config",
            str(self.config),
            "--db",
            str(self.db),
            *args,
        ]

    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        stdin: bytes = b"",
        terminal: bool = False,
        env: Mapping[str, str] | None = None,
        stdout: io.StringIO | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """`archfeed --config CONFIG --db DB ARGS...` in this process: stdout and stderr
        captured, stdin given, stdout a terminal or not, the variables `env` added to the
        sandbox's. A traceback (a bug, or --debug) is written to stderr, as Python would."""
        out, err = stdout or io.StringIO(), io.StringIO()
        environ = {**self.env, **(env or {})}
        world = Environment(
            stdin=io.BytesIO(stdin), stdout=out, stderr=err, environ=environ,
            stdout_is_terminal=terminal, clock=self.clock,
        )  # fmt: skip
        with _environ(environ), contextlib.chdir(cwd or self.root):
            try:
                code = run_in_process(self.command(*args)[3:], world)
            except Exception:
                traceback.print_exc(file=err)
                code = 1
        return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())

    def spawn(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """The same, through the installed entry point in a process of its own."""
        return subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=self.env,
            cwd=cwd or self.root,
            timeout=self.timeout,
            check=False,
        )

    def fetch(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("fetch", *args)

    def list_json(self, *args: str) -> list[dict[str, Any]]:
        done = self.run("list", "--format", "json", *args)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        data = json.loads(done.stdout)
        assert isinstance(data, list)
        return data

    def rows(
        self, sql: str = "SELECT count(*) FROM entries", params: tuple[object, ...] = ()
    ) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.db)
        try:
            return list(conn.execute(sql, params))
        finally:
            conn.close()

    def count(self) -> int:
        return int(self.rows()[0][0])


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ as the sandbox has it, for the libraries that read it themselves (click's
    envvar options, platformdirs), as click's CliRunner does."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def make_cli(root: Path) -> Cli:
    """A Cli whose config, database, HOME and XDG directories all live under `root`."""
    home = root / "home"
    home.mkdir()
    return Cli(
        root=root,
        config=root / "feeds.toml",
        db=root / "archfeed.db",
        env=_sandbox_env(home),
    )


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return make_cli(tmp_path)


def assert_no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert "Traceback" not in done.stdout, done.stdout
