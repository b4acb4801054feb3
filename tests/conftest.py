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
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from archfeed.cli import run as run_in_process
from archfeed.cli.environment import Environment

FIXTURES = Path(__file__).parent / "fixtures"

# The contract (docs/design.md) for every entry object of `list --format json`.
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
        "read",
        "muted_by",
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


class Clock:
    """A clock a test moves by hand: what `Cli.run` gives archfeed as the current time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now


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
        discover: bool = False,
        asking: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """`archfeed --config CONFIG --db DB ARGS...` in this process (`discover`: without
        --config and --db): stdout and stderr captured, stdin given, stdout a terminal or not,
        the variables `env` added to the sandbox's; `asking`: stdin is a terminal (someone
        there to answer, with `stdin`). A traceback (a bug, or --debug) is written
        to stderr, as Python would."""
        out, err = stdout or io.StringIO(), io.StringIO()
        environ = {**self.env, **(env or {})}
        world = Environment(
            stdin=io.BytesIO(stdin), stdout=out, stderr=err, environ=environ,
            stdout_is_terminal=terminal, stdin_is_terminal=asking, clock=self.clock,
        )  # fmt: skip
        with _environ(environ), contextlib.chdir(cwd or self.root):
            try:
                argv = list(args) if discover else self.command(*args)[3:]
                code = run_in_process(argv, world)
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


RSS = "application/rss+xml; charset=utf-8"
# [settings] of a test that fetches one server again at once about something else than
# politeness (tests/test_polite.py): every fetch asks it, as before min_interval
EVERY_RUN = 'min_interval = "0min"'
JSON_FEED = "application/feed+json"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# -- a threaded server on 127.0.0.1 whose routes are functions ------------------------------------

Route = Callable[["_Handler"], None]


class FeedServer(ThreadingHTTPServer):
    """Serves `routes[path](handler)`; counts requests per path and the body bytes it sent."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.times: list[tuple[float, str]] = []  # (monotonic, path) of every request
        self.sent: Counter[str] = Counter()
        self.guard = threading.Lock()
        self.stop = threading.Event()  # set at teardown: every waiting route returns at once
        self.requested = threading.Event()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def route(self, path: str, handler: Route) -> str:
        self.routes[path] = handler
        return self.url(path)

    def feed(
        self,
        path: str,
        body: bytes,
        content_type: str = RSS,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> str:
        """Serve `body` at `path` on every request (after `delay` seconds); return its URL."""
        return self.route(
            path, lambda h: respond(h, status, body, content_type, headers or {}, delay)
        )

    def redirect(self, path: str, to: str, status: int = 302) -> str:
        return self.route(path, lambda h: respond(h, status, b"", "text/plain", {"Location": to}))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection; a body may end at the close
    server: FeedServer

    def do_GET(self) -> None:
        with self.server.guard:
            self.server.hits[self.path] += 1
            self.server.times.append((time.monotonic(), self.path))
        self.server.requested.set()
        route = self.server.routes.get(self.path)
        try:
            if route is None:
                respond(self, 404, b"no such path", "text/plain")
            else:
                route(self)
        except OSError:  # the client gave up: for most routes here, that is the point
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


def respond(
    h: _Handler,
    status: int,
    body: bytes,
    content_type: str = RSS,
    headers: dict[str, str] | None = None,
    delay: float = 0.0,
) -> None:
    if delay and h.server.stop.wait(delay):
        return
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    h.end_headers()
    h.wfile.write(body)


@contextlib.contextmanager
def serving() -> Iterator[FeedServer]:
    """A FeedServer in a thread of its own, stopped with every route it holds up."""
    srv = FeedServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.stop.set()
        srv.shutdown()
        srv.server_close()
        thread.join(5)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with serving() as srv:
        yield srv


# -- helpers ----------------------------------------------------------------------------------------


def rss(channel: str, items: list[tuple[str, str, str]]) -> bytes:
    """A small RSS 2.0 feed of (guid, title, description) items, all dated 2025-02-03."""
    body = "".join(
        f"<item><title>{title}</title><link>https://{channel}.example/{guid}</link>"
        f"<guid>{guid}</guid><pubDate>Mon, 03 Feb 2025 10:00:00 +0000</pubDate>"
        f"<description>{text}</description></item>\n"
        for guid, title, text in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{channel}</title><link>https://{channel}.example/</link>\n{body}</channel></rss>\n"
    ).encode()


GOOD_FEED = rss(
    "good",
    [
        ("good-1", "Sharding without tears", "Consistent hashing, rebalancing and hot keys."),
        ("good-2", "Backpressure in queues", "Bounded buffers and what to do when they fill."),
    ],
)
CHAINED_FEED = rss(
    "chained",
    [
        ("chained-1", "Read replicas and lag", "Why a replica is never quite up to date."),
        ("chained-2", "Saga orchestration", "Compensating actions for long transactions."),
    ],
)


def total_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("total: ")]
    assert len(lines) == 1, stderr
    return lines[0]


def source_line(stderr: str, name: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith(f"{name}: ")]
    assert len(lines) == 1, f"expected one summary line for {name!r} in:\n{stderr}"
    return lines[0]


def closed_port() -> int:
    """A port that was just free on 127.0.0.1 and is now closed: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def resolution(host: str, within: float = 2.0) -> str:
    """'fails' when `host` does not resolve within `within` s, 'hangs' or 'resolves' otherwise."""
    outcome: list[str] = []

    def resolve() -> None:
        try:
            socket.getaddrinfo(host, 80)
            outcome.append("resolves")
        except OSError:
            outcome.append("fails")

    thread = threading.Thread(target=resolve, daemon=True)
    thread.start()
    thread.join(within)
    return outcome[0] if outcome else "hangs"


def write_config(cli: Cli, text: str) -> None:
    cli.config.parent.mkdir(parents=True, exist_ok=True)
    cli.config.write_text(text, encoding="utf-8")


def source_block(name: str, url: str, **extra: object) -> str:
    lines = ["[[source]]", f"name = {toml_string(name)}", f"url = {toml_string(url)}"]
    for key, value in extra.items():
        lines.append(f"{key} = {json.dumps(value)}")  # bools, strings, lists: JSON is TOML here
    return "\n".join(lines) + "\n"


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    wall: float  # seconds
    peak_rss_mb: float  # the CLI process's own maximum resident set size (wait4)
    peak_tree_mb: float  # most RSS its process tree held at once (sampled; worker processes too)


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc/*/stat (no /proc/PID/task/*/children here)."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) if found else 0


def tree_rss_kb(root: int) -> int:
    """The RSS of `root` and all its descendants, summed (shared pages count once per process:
    an upper bound)."""
    children = _children()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_kb(pid)
        todo += children.get(pid, [])
    return total


def run_measured(cli: Cli, *args: str, limit: float = 60.0) -> Measured:
    """Run the CLI; measure its wall time, its own peak RSS (wait4's rusage of this one child),
    and the peak RSS of its whole process tree (sampled every 50 ms from /proc)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(
            cli.command(*args), stdout=out, stderr=err, env=cli.env, cwd=cli.root
        )
        peak = [0]
        ended = threading.Event()

        def sample() -> None:
            while not ended.wait(0.05):
                peak[0] = max(peak[0], tree_rss_kb(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        if Path("/proc/self/status").exists():
            sampler.start()
        watchdog = threading.Timer(limit, process.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
            ended.set()
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        if sampler.is_alive():
            sampler.join(5)
        out.seek(0)
        err.seek(0)
        return Measured(
            process.returncode,
            out.read().decode("utf-8"),
            err.read().decode("utf-8"),
            wall,
            usage.ru_maxrss / 1024,  # kB on Linux
            peak[0] / 1024,
        )


def processes_of(cli: Cli) -> list[int]:
    """Live processes started by this test's CLI runs, wherever they were reparented: those
    whose environment holds the sandbox's HOME (unique to the test)."""
    marker = f"HOME={cli.env['HOME']}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                environ = Path(entry.path, "environ").read_bytes()
            except OSError:
                continue
            if marker in environ.split(b"\0"):
                found.append(int(entry.name))
    return found


def end_processes(pids: list[int]) -> None:
    """SIGKILL these processes (all started by this test) and wait, briefly, until they are gone."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def run_bytes(
    cli: Cli, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """A run's output as the bytes a terminal or a pipe would get (UTF-8, as the sandbox's
    PYTHONIOENCODING says)."""
    done = cli.run(*args, env=env)
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.encode(), done.stderr.encode()
    )


def sources_json(cli: Cli) -> dict[str, dict[str, Any]]:
    done = cli.run("sources", "--format", "json")
    assert_no_traceback(done)
    assert done.returncode == 0, done.stderr
    return {item["name"]: item for item in json.loads(done.stdout)}


def parse_iso(value: str) -> datetime:
    """A time of the JSON contract, read by the tests' own rule, not by archfeed's."""
    assert ISO_Z.match(value), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def assert_about(value: str | None, expected: datetime, slack: timedelta) -> None:
    assert value is not None
    when = parse_iso(value)
    assert expected - slack <= when <= expected + slack, (value, expected)


SQLITE_NOISE = re.compile(r"sqlite|OperationalError|DatabaseError|database is locked", re.I)


ONE_ITEM = rss("health", [("h-1", "Health item", "Text.")])
# made-up words, the same every run: texts of many entries that share no sentence
VOCAB = [
    "".join(random.Random(n).choice("abcdefghijklmnopqrstuvwxyz") for _ in range(3 + n % 7))
    for n in range(2000)
]


# -- routes of a server that misbehaves in time -----------------------------------------------------


def never_answer(h: _Handler) -> None:
    h.server.stop.wait(30)  # reads the request, then says nothing


def trickle_body(h: _Handler) -> None:
    """Valid headers at once, then one byte of body every 0.5 s."""
    h.send_response(200)
    h.send_header("Content-Type", RSS)
    h.end_headers()
    for byte in GOOD_FEED[:60]:
        if h.server.stop.wait(0.5):
            return
        h.wfile.write(bytes([byte]))


def trickle_headers(h: _Handler) -> None:
    """The status line and headers themselves, one byte every 0.5 s."""
    head = b"HTTP/1.0 200 OK\r\nContent-Type: application/rss+xml\r\nX-Padding: " + b"a" * 40
    for byte in head + b"\r\n\r\n":
        if h.server.stop.wait(0.5):
            return
        h.wfile.write(bytes([byte]))
