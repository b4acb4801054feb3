"""End-to-end, hostile: what a user sees through the CLI when servers, feed text, signals, other
processes and the database itself misbehave.

1. every kind of hostile server in one fetch run, within the timeout and a memory bound
2. hostile text (terminal escapes, bidi, zero-width, rich markup, scripts, a huge title) in every
   output format
3. kill -9 at random moments of a fetch: the database stays sound and converges
4. two fetches at once, and a reader while one runs
5. bad databases: not a database, someone else's, read-only, a full disk
6. source health: backoff, Retry-After, 410 Gone, 301 Moved, `sources --format json`

Every server listens on 127.0.0.1, in a thread of this process (a threaded http.server whose
routes are plain functions, so a stuck route never holds up the others), and every loop in it is
bounded in time and count; the fixture stops them all.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import email.utils
import hashlib
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import ENTRY_KEYS, Cli, assert_no_traceback, make_cli, toml_string

RSS = "application/rss+xml; charset=utf-8"
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


@pytest.fixture
def server() -> Iterator[FeedServer]:
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
    return subprocess.run(
        cli.command(*args),
        capture_output=True,
        env={**cli.env, **(env or {})},
        cwd=cli.root,
        timeout=cli.timeout,
        check=False,
    )


def sources_json(cli: Cli) -> dict[str, dict[str, Any]]:
    done = cli.run("sources", "--format", "json")
    assert_no_traceback(done)
    assert done.returncode == 0, done.stderr
    return {item["name"]: item for item in json.loads(done.stdout)}


def parse_iso(value: str) -> datetime:
    assert ISO_Z.match(value), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def assert_about(value: str | None, expected: datetime, slack: timedelta) -> None:
    assert value is not None
    when = parse_iso(value)
    assert expected - slack <= when <= expected + slack, (value, expected)


SQLITE_NOISE = re.compile(r"sqlite|OperationalError|DatabaseError|database is locked", re.I)


# -- 1. every hostile server in one run -----------------------------------------------------------

TIMEOUT = 2  # [settings] timeout of the hostile run
HUGE = 300_000_000  # bytes the huge route would send (10 MB is the default max_bytes)
MB = 1_000_000


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


def huge_stream(total: int, chunk: int = 65536) -> Iterator[bytes]:
    """`total` bytes of a feed that never ends, one constant chunk at a time: never in memory."""
    yield b'<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title><description>'
    block = b"ha " * (chunk // 3)
    for _ in range(total // len(block)):
        yield block


def huge_body(h: _Handler) -> None:
    """300 MB with no Content-Length (/huge: the cap must hold while reading) or with it
    (/huge-declared: nothing need be read)."""
    h.send_response(200)
    h.send_header("Content-Type", RSS)
    if h.path == "/huge-declared":
        h.send_header("Content-Length", str(HUGE))
    h.end_headers()
    for part in huge_stream(HUGE):
        h.wfile.write(part)
        h.server.sent[h.path] += len(part)


@pytest.fixture(scope="session")
def gzip_bomb() -> bytes:
    """~1 MB of gzip that inflates to 1 GiB of zeros. Each 1 MiB block ends in a full flush, so
    every block after the first compresses to the same bytes: compress two, repeat the second."""
    zeros = bytes(1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(zeros, crc)
    # an empty final block, then the gzip trailer: CRC-32 and size mod 2**32
    bomb = first + block * 1023 + b"\x03\x00" + struct.pack("<II", crc, (1 << 30) & 0xFFFFFFFF)
    assert len(bomb) < 1_200_000
    return bomb


DNS_HOST = "archfeed-test.invalid"  # RFC 6761: .invalid never resolves


@pytest.mark.slow
def test_every_hostile_server_in_one_run(cli: Cli, server: FeedServer, gzip_bomb: bytes) -> None:
    in_3h = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    html = b"<!doctype html><html><head><title>Hi</title></head><body><p>Blog</p></body></html>"
    server.feed("/chained.xml", CHAINED_FEED)
    server.redirect("/hop3", server.url("/chained.xml"), 307)
    server.redirect("/hop2", server.url("/hop3"), 302)
    # name → (url, what its failed: line must say); None: it must succeed
    plan: dict[str, tuple[str, str | None]] = {
        "good": (server.feed("/good.xml", GOOD_FEED), None),
        "chain": (server.redirect("/hop1", server.url("/hop2"), 301), None),
        "e404": (server.feed("/404", b"not here", "text/plain", 404), "HTTP 404"),
        "e410": (server.feed("/410", b"gone", "text/plain", 410), "HTTP 410"),
        "e500": (server.feed("/500", b"oops", "text/plain", 500), "HTTP 500"),
        "e429": (
            server.feed("/429", b"slow down", "text/plain", 429, {"Retry-After": "120"}),
            "HTTP 429",
        ),
        "e503": (
            server.feed(
                "/503",
                b"maintenance",
                "text/plain",
                503,
                {"Retry-After": email.utils.format_datetime(in_3h, usegmt=True)},
            ),
            "HTTP 503",
        ),
        "silent": (server.route("/silent", never_answer), "timed out"),
        "trickle-body": (server.route("/trickle-body", trickle_body), "timed out"),
        "trickle-headers": (server.route("/trickle-headers", trickle_headers), "timed out"),
        "huge": (server.route("/huge", huge_body), "larger than max_bytes"),
        "huge-declared": (server.route("/huge-declared", huge_body), "larger than max_bytes"),
        "bomb": (
            server.feed("/bomb", gzip_bomb, RSS, headers={"Content-Encoding": "gzip"}),
            "larger than max_bytes",
        ),
        # the same bytes as a .gz file, without Content-Encoding: archfeed inflates those too
        "bomb-file": (server.feed("/feed.xml.gz", gzip_bomb, "application/gzip"), "max_bytes"),
        "loop": (server.redirect("/loop", server.url("/loop")), "redirects"),
        "html": (server.feed("/html", html, "text/html; charset=utf-8"), "not a feed"),
        "empty": (server.feed("/empty", b""), "empty"),
        "refused": (f"http://127.0.0.1:{closed_port()}/feed.xml", "connection refused"),
    }
    dns = resolution(DNS_HOST)
    print(f"\nresolving {DNS_HOST}: {dns}")
    if dns == "fails":
        plan["dns"] = (f"http://{DNS_HOST}/feed", "cannot resolve")
    elif dns == "hangs":  # archfeed's hard per-request deadline must still end it
        plan["dns"] = (f"http://{DNS_HOST}/feed", "timed out")
    # else: a resolver that answers for .invalid would send the request off this machine
    cli.write_config(
        [(name, url) for name, (url, _) in plan.items()], settings=f"timeout = {TIMEOUT}"
    )
    cli.run("check")  # creates nothing, but warms the file cache: the wall time is fetch's

    done = run_measured(cli, "fetch")

    print(
        f"hostile run: {len(plan)} sources, wall {done.wall:.2f} s (timeout {TIMEOUT} s), "
        f"peak RSS {done.peak_rss_mb:.0f} MB (the CLI process), {done.peak_tree_mb:.0f} MB (its "
        f"process tree, summed); the 300 MB routes sent {server.sent['/huge'] / MB:.1f} MB (no "
        f"Content-Length) and {server.sent['/huge-declared'] / MB:.1f} MB (declared)"
    )
    print(done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    assert not SQLITE_NOISE.search(done.stderr), done.stderr
    assert done.returncode == 3, done.stderr
    for name, (_, reason) in plan.items():
        line = source_line(done.stderr, name)
        if reason is None:
            assert line == f"{name}: 2 new, 0 updated", line
        else:
            assert line.startswith(f"{name}: failed: "), line
            assert reason in line, (reason, line)
    assert f"{len(plan) - 2} failed" in done.stderr
    assert "moved" not in source_line(done.stderr, "chain")  # 301, 302, 307: not all permanent
    entries = cli.list_json()
    assert Counter(e["source"] for e in entries) == {"good": 2, "chain": 2}
    assert server.hits["/chained.xml"] == 1
    # bounds: all ran at once, each within timeout + 1 s; memory stayed far from 1 GB or 300 MB
    assert done.wall < TIMEOUT + 2.5, f"took {done.wall:.1f} s with timeout = {TIMEOUT}"
    assert done.peak_rss_mb < 400, f"peak RSS {done.peak_rss_mb:.0f} MB"
    assert done.peak_tree_mb < 400, f"peak RSS of the process tree {done.peak_tree_mb:.0f} MB"
    assert server.sent["/huge"] < 64 * MB, "the client kept reading past max_bytes"
    assert server.sent["/huge-declared"] < 64 * MB
    # what the failures mean for the next run
    now = datetime.now(UTC)
    health = sources_json(cli)
    assert_about(health["e429"]["next_try"], now + timedelta(minutes=30), timedelta(minutes=2))
    assert_about(health["e503"]["next_try"], in_3h, timedelta(minutes=2))  # the date it gave
    assert health["e410"]["gone"] is True
    assert health["e404"]["gone"] is False
    assert health["good"]["failures"] == 0
    assert all(health[name]["failures"] == 1 for name, (_, r) in plan.items() if r)


# -- 2. hostile text ---------------------------------------------------------------------------------

ESCAPES = (
    "\x1b[31mred\x1b[0m "  # CSI: colour
    "\x1b]0;pwned\x07 "  # OSC 0: window title
    "\x1b]52;c;cHduZWQ=\x07 "  # OSC 52: clipboard
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\ "  # OSC 8: hyperlink
    "bell\x07 \x9b31mC1\x9b0m "  # BEL, C1 CSI
    "\u202eevil\u202c \u2066iso\u2069 zero\u200bwidth word\u2060joiner"
    " tab\there cr\rlf\nls\u2028nel\x85end"
)
MARKUP = "[bold red]x[/] [link=https://evil]y[/link]"
BODY_HTML = (
    "<p>Body " + ESCAPES + "</p><script>alert(1)</script>"
    "<img src=x onerror=alert(2)><a href='javascript:alert(3)'>a link</a>"
    "<style>p{color:red}</style>&lt;script&gt;escaped&lt;/script&gt; done"
)
LONG_TITLE = "Zyzzyva " + " ".join(f"word{i % 97}" for i in range(800))[:4992]
FORBIDDEN = (
    "\x00", "\x1b", "\x07", "\x9b", "\x85", "\u202e", "\u202c", "\u2066", "\u2069", "\u200b",
    "\u2060",
)  # fmt: skip
ESCAPED = ("\\u001b", "\\u0007", "\\u009b", "\\u202e", "\\u202E", "\\u2066", "\\u200b")
JS_URLS = (
    "javascript:alert(document.cookie)",
    " JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
)


def hostile_json_feed() -> bytes:
    items: list[dict[str, Any]] = [
        {
            "id": "hostile-json-1",
            "url": "https://evil.example/post\x1b]0;pwned\x07?q=\u202eyes",
            "title": MARKUP + " Title " + ESCAPES,
            "content_html": BODY_HTML,
            "date_published": "2025-02-03T10:00:00Z",
            "authors": [{"name": "Mallory \x1b]0;pwned\x07 \u202etoor\u202c"}],
            "tags": ["\x1b[31mtag", "[bold]cat[/bold]", "\u202eevil", "zero\u200bwidth"],
        },
        *(
            {
                "id": f"hostile-js-{index}",
                "url": url,
                "title": f"Script-scheme link {index}",
                "content_text": "A link that must not be passed on.",
                "date_published": f"2025-02-0{index + 1}T09:00:00Z",
            }
            for index, url in enumerate(JS_URLS)
        ),
    ]
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Hostile \x1b]0;x\x07",
            "items": items,
        }
    ).encode()


def long_json_feed() -> bytes:
    item = {
        "id": "long-1",
        "url": "https://long.example/1",
        "title": LONG_TITLE,
        "content_text": "A title longer than any screen. " * 40,
        "date_published": "2025-02-03T11:00:00Z",
    }
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [item]}).encode()


# entities for what XML 1.0 allows: C1, bidi, zero-width; double-escaped HTML in the description
HOSTILE_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hostile RSS &#x202E;</title><link>https://rss.example/</link>
<item><title>RSS [bold red]x[/] [link=https://evil]y[/link] &#x9B;31mC1 &#x202E;evil&#x202C;
&#x2066;iso&#x2069; zero&#x200B;width word&#x2060;joiner</title>
<link>javascript&#58;alert(1)</link><guid isPermaLink="false">hostile-rss-1</guid>
<pubDate>Mon, 03 Feb 2025 08:00:00 +0000</pubDate>
<author>m@evil.example (Mallory &#x202E;toor)</author>
<category>&#x202E;evil</category><category>[bold]cat[/bold]</category>
<description>&lt;p&gt;Excerpt &#x9B;31m &#x202E;rev &amp;#x1B;]0;pwned&amp;#x07; &amp;#x202E;ent
&amp;#155;c1&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;
</description></item>
</channel></rss>
"""
# ESC and BEL as character references are not well-formed XML 1.0: feedparser's loose parser
LOOSE_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Loose</title><link>https://loose.example/</link>
<item><title>Loose &#x1B;]0;pwned&#x07; &#27;[31mred&#7; title</title>
<link>https://loose.example/1</link><guid>loose-1</guid>
<pubDate>Mon, 03 Feb 2025 07:00:00 +0000</pubDate>
<description>Loose &#x1B;[2J body &#155;31m</description></item>
</channel></rss>
"""

TextFilled = tuple[Cli, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def hostile_text(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TextFilled]:
    """One database with the hostile feeds fetched over HTTP, and `list --format json` of it."""
    srv = FeedServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        cli = make_cli(tmp_path_factory.mktemp("hostile-text"))
        cli.write_config(
            [
                ("json", srv.feed("/hostile.json", hostile_json_feed(), JSON_FEED)),
                ("rss", srv.feed("/hostile.xml", HOSTILE_RSS)),
                ("loose", srv.feed("/loose.xml", LOOSE_RSS)),
                ("long", srv.feed("/long.json", long_json_feed(), JSON_FEED)),
            ]
        )
        done = run_bytes(cli, "fetch")
        assert done.returncode == 0, done.stderr
        inert(done.stderr, "fetch stderr")
        entries = cli.list_json("--excerpt", "1000")
    finally:
        srv.stop.set()
        srv.shutdown()
        srv.server_close()
        thread.join(5)
    assert len(entries) == 4 + len(JS_URLS)
    yield cli, entries


def inert(out: bytes, what: str) -> str:
    """The output decoded, after checking that nothing in it can steer a terminal or reorder text."""
    assert b"\x1b" not in out, (what, out[:300])
    assert b"\x07" not in out, what
    text = out.decode("utf-8")  # strictly: no stray bytes either
    for char in FORBIDDEN:
        assert char not in text, (what, repr(char))
    return text


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def inert_json(out: bytes, what: str, lines: bool = False) -> list[Any]:
    text = inert(out, what)
    for escape in ESCAPED:
        assert escape not in text, (what, escape)
    docs = [json.loads(line) for line in text.splitlines()] if lines else [json.loads(text)]
    for string in strings_in(docs):
        for char in FORBIDDEN:
            assert char not in string, (what, repr(char), string[:200])
        assert not string.lower().startswith(("javascript:", "data:")), (what, string)
    return docs


def by_title_prefix(entries: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    found = [e for e in entries if e["title"].startswith(prefix)]
    assert len(found) == 1, (prefix, [e["title"][:60] for e in entries])
    return found[0]


def test_hostile_text_is_clean_in_stored_fields(hostile_text: TextFilled) -> None:
    _, entries = hostile_text
    main = by_title_prefix(entries, MARKUP)
    assert set(main) == ENTRY_KEYS
    # the visible words survive; what steers the terminal does not
    for word in ("red", "pwned", "click", "bell", "C1", "evil", "iso", "zerowidth", "wordjoiner"):
        assert word in main["title"], (word, main["title"])
    assert "tab here cr lf ls nelend" in main["title"]  # \t \r \n U+2028: a space; NEL: none
    assert main["url"] is not None and main["url"].startswith("https://evil.example/post")
    assert main["author"] is not None and main["author"].startswith("Mallory")
    assert "alert(" not in main["excerpt"]  # <script> and onerror never become text
    assert "onerror" not in main["excerpt"]
    assert "p{color" not in main["excerpt"]
    assert "<script>escaped</script>" in main["excerpt"]  # escaped text is text, printed as such
    assert "a link" in main["excerpt"]
    rss_entry = by_title_prefix(entries, "RSS [bold red]x[/]")
    assert rss_entry["url"] is None  # javascript&#58; is still javascript:
    assert "pwned" in rss_entry["excerpt"]
    assert "alert(" not in rss_entry["excerpt"]
    loose = by_title_prefix(entries, "Loose")
    assert "pwned" in loose["title"]
    for index in range(len(JS_URLS)):
        assert by_title_prefix(entries, f"Script-scheme link {index}")["url"] is None
    long = by_title_prefix(entries, "Zyzzyva")["title"]
    assert len(LONG_TITLE) == 5000
    print(f"\n5,000-character title stored as {len(long)} characters")
    assert long == LONG_TITLE or (long.endswith("…") and LONG_TITLE.startswith(long[:-1]))


@pytest.mark.parametrize("fmt", ["table", "plain", "json", "jsonl", "csv", "markdown"])
def test_hostile_text_is_inert_in_list(hostile_text: TextFilled, fmt: str) -> None:
    cli, entries = hostile_text
    done = run_bytes(cli, "list", "--format", fmt, "--excerpt", "1000")
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    if fmt in ("json", "jsonl"):
        docs = inert_json(done.stdout, fmt, lines=fmt == "jsonl")
        listed = docs[0] if fmt == "json" else docs
        assert [e["id"] for e in listed] == [e["id"] for e in entries]
        return
    text = inert(done.stdout, fmt)
    assert "javascript:" not in text.lower()
    assert "alert(" not in text
    if fmt == "plain":
        lines = text.splitlines()
        assert len(lines) == len(entries)  # no line break smuggled into a title
        assert all(len(line.split("\t")) == 5 for line in lines)
        assert MARKUP in text
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) == len(entries) + 1
        assert {row[1] for row in rows[1:]} == {e["title"] for e in entries}
    elif fmt == "markdown":
        assert len([line for line in text.splitlines() if line.startswith("- **")]) == len(entries)
        assert not re.search(r"(?<!\\)<script", text)  # `\<script\>`: literal text
        assert "[bold red]x[/]" not in text  # escaped: \\[bold red\\]x\\[/\\]
    else:
        assert "[bold red]x[/]" in text  # rich markup prints literally
        assert "[link=https://evil]y[/link]" in text


def test_hostile_text_table_on_a_colour_terminal(hostile_text: TextFilled) -> None:
    """With colour forced, rich's own SGR styles are the only escape sequences in the table."""
    cli, _ = hostile_text
    colour = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}
    done = run_bytes(cli, "list", "--format", "table", "--excerpt", "1000", env=colour)
    assert done.returncode == 0, done.stderr
    assert b"\x1b[" in done.stdout, "colour was not forced: this test checks nothing"
    assert b"\x1b]" not in done.stdout  # no OSC: no title, clipboard or hyperlink
    text = inert(re.sub(rb"\x1b\[[0-9;]*m", b"", done.stdout), "table in colour")
    assert "[bold red]x[/]" in text
    shown = run_bytes(cli, "show", by_title_prefix(hostile_text[1], MARKUP)["id"], env=colour)
    assert shown.returncode == 0, shown.stderr
    assert b"\x1b]" not in shown.stdout
    inert(re.sub(rb"\x1b\[[0-9;]*m", b"", shown.stdout), "show in colour")


@pytest.mark.parametrize("fmt", ["table", "plain", "json"])
def test_hostile_text_is_inert_in_show(hostile_text: TextFilled, fmt: str) -> None:
    cli, entries = hostile_text
    for entry in entries:
        done = run_bytes(cli, "show", entry["id"], "--format", fmt)
        assert done.returncode == 0, done.stderr
        what = f"show {fmt} {entry['title'][:30]!r}"
        if fmt == "json":
            (detail,) = inert_json(done.stdout, what)
            assert detail["id"] == entry["id"]
            assert set(detail) >= ENTRY_KEYS
            assert detail["url"] == entry["url"]
            continue
        text = inert(done.stdout, what)
        assert "javascript:" not in text.lower(), what
        assert "alert(" not in text, what
        assert "onerror" not in text, what
        if entry["title"].startswith(MARKUP):
            assert "[bold red]x[/]" in text
        if entry["title"].startswith("Zyzzyva"):
            assert len(text.splitlines()) < 80, (what, len(text.splitlines()))


@pytest.mark.parametrize("command", ["sources", "topics", "langs"])
@pytest.mark.parametrize("fmt", ["table", "plain", "json"])
def test_hostile_text_is_inert_in_counts_and_sources(
    hostile_text: TextFilled, command: str, fmt: str
) -> None:
    cli, _ = hostile_text
    done = run_bytes(cli, command, "--format", fmt)
    assert done.returncode == 0, done.stderr
    if fmt == "json":
        (rows,) = inert_json(done.stdout, f"{command} json")
        assert rows
        if command == "topics":  # hostile categories became plain slugs
            for row in rows:
                assert re.fullmatch(r"[\w-]+", row["topic"]), row
    else:
        assert inert(done.stdout, f"{command} {fmt}").strip()


def test_huge_title_does_not_explode_the_table(hostile_text: TextFilled) -> None:
    cli, _ = hostile_text
    done = run_bytes(cli, "list", "--format", "table", "--source", "long")
    assert done.returncode == 0, done.stderr
    text = inert(done.stdout, "long table")
    lines = text.splitlines()
    print(f"\n5,000-character title: {len(lines)} table lines at COLUMNS=200")
    assert "Zyzzyva" in text
    assert 3 < len(lines) < 80
    assert max(len(line) for line in lines) <= 200


def raw(data: bytes) -> Route:
    """A route that writes `data` as the whole response: status line and headers included."""

    def write(h: _Handler) -> None:
        h.wfile.write(data)

    return write


def leaks(out: bytes) -> list[str]:
    """The terminal-steering or text-reordering characters in `out`, raw or JSON-escaped."""
    found = [repr(b) for b in (b"\x1b", b"\x07") if b in out]
    text = out.decode("utf-8", errors="replace")
    found += [repr(c) for c in FORBIDDEN if c in text]
    return found + [e for e in ESCAPED if e in text]


def test_hostile_location_headers_are_inert(cli: Cli, server: FeedServer) -> None:
    """A Location with raw control bytes fails cleanly; one with UTF-8 C1 and bidi bytes is
    followed, and the moved-to URL is shown percent-encoded."""
    port = server.server_address[1]
    location = b"http://127.0.0.1:%d/landing\xc2\x9b31m\xe2\x80\xaeevil" % port
    landing = server.feed("/landing%C2%9B31m%E2%80%AEevil", ONE_ITEM)
    escape = b"http://127.0.0.1:%d/x\x1b]0;pwned\x07" % port
    cli.write_config(
        [
            (
                "utf8",
                server.route(
                    "/utf8", raw(b"HTTP/1.0 301 Moved\r\nLocation: %s\r\n\r\n" % location)
                ),
            ),
            (
                "escape",
                server.route(
                    "/escape", raw(b"HTTP/1.0 301 Moved\r\nLocation: %s\r\n\r\n" % escape)
                ),
            ),
        ]
    )

    done = run_bytes(cli, "fetch")

    assert done.returncode == 3, done.stderr
    assert leaks(done.stderr) == [], done.stderr
    stderr = done.stderr.decode()
    assert source_line(stderr, "escape").startswith("escape: failed: ")
    assert source_line(stderr, "utf8") == (
        f"utf8: 1 new, 0 updated; moved permanently: update your config to {landing}"
    )
    for fmt in ("table", "plain", "json"):
        shown = run_bytes(cli, "sources", "--format", fmt)
        assert shown.returncode == 0
        assert leaks(shown.stdout) == [], (fmt, shown.stdout)
    assert sources_json(cli)["utf8"]["moved_to"] == landing


HOSTILE_REASON = b"\x1b]0;pwned\x07Oops \x1b[2J \xc2\x9b31m \xe2\x80\xaeevil"


def test_hostile_reason_phrase_is_inert(cli: Cli, server: FeedServer) -> None:
    """h11 accepts ESC and BEL in a reason phrase. Found here: `HTTP/1.0 500 \\x1b]0;pwned\\x07`
    once reached fetch's report line and `sources` (table, plain; \\u001b in json) raw: an OSC
    window-title sequence from any server. Fixed in 921bac7 (server words cleaned like feed
    text)."""
    response = b"HTTP/1.0 500 %s\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nno"
    cli.write_config([("reason", server.route("/reason", raw(response % HOSTILE_REASON)))])

    done = run_bytes(cli, "fetch")

    assert done.returncode == 3, done.stderr
    assert source_line(done.stderr.decode(), "reason").startswith("reason: failed: HTTP 500")
    outputs = {"fetch stderr": done.stderr}
    for fmt in ("table", "plain", "json"):
        outputs[f"sources {fmt}"] = run_bytes(cli, "sources", "--format", fmt).stdout
    found = {what: leaks(out) for what, out in outputs.items() if leaks(out)}
    assert found == {}


# -- 3. kill -9 at random moments ----------------------------------------------------------------

KILL_FEEDS = 40
KILL_ENTRIES = 50
KILL_TRIALS = 20
KILL_SEED = 20250203
FINAL = 0  # the generation of the reference run and of the final fetch
_VOCAB = [
    "".join(random.Random(n).choice("abcdefghijklmnopqrstuvwxyz") for _ in range(3 + n % 7))
    for n in range(2000)
]


@lru_cache(maxsize=256)
def kill_feed(index: int, generation: int) -> bytes:
    """Feed `index` as served in `generation`: the same 50 entries and texts every time, every
    title carrying the generation, so that each generation rewrites every entry."""
    rng = random.Random(index)
    items = []
    for j in range(KILL_ENTRIES):
        words = " ".join(rng.choice(_VOCAB) for _ in range(40))
        title = f"Feed {index} entry {j} {words[:40]} (rev {generation})"
        when = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=index * KILL_ENTRIES + j)
        items.append(
            f"<item><title>{title}</title><link>https://kill{index}.example/{j}</link>"
            f"<guid>kill-{index}-{j}</guid>"
            f"<pubDate>{email.utils.format_datetime(when)}</pubDate>"
            f"<description>{words}</description></item>"
        )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Kill {index}</title>'
        f"<link>https://kill{index}.example/</link>{''.join(items)}</channel></rss>"
    ).encode()


def soundness(db: Path) -> tuple[list[str], Counter[int]]:
    """What is wrong with the database after a kill (integrity, the full-text index, per-source
    atomicity: a source's entries and its fetch state all from one generation), and how many
    sources it holds of each generation."""
    generations: Counter[int] = Counter()
    if not db.exists():
        return [], generations  # killed before it was created
    problems = []
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchall()
        if integrity != [("ok",)]:
            problems.append(f"integrity_check: {integrity}")
        if conn.execute("PRAGMA foreign_key_check").fetchall():
            problems.append("foreign_key_check")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "entries" not in tables:
            return problems, generations  # killed before the schema was committed
        conn.execute("INSERT INTO entries_fts (entries_fts) VALUES ('integrity-check')")
        revs: dict[str, Counter[str]] = {}
        for source, title in conn.execute("SELECT source, title FROM entries"):
            match = re.search(r"\(rev (\d+)\)$", title)
            revs.setdefault(source, Counter())[match.group(1) if match else "?"] += 1
        for name, body_hash in conn.execute("SELECT name, body_hash FROM sources"):
            counted = revs.pop(name, Counter())
            if len(counted) != 1 or sum(counted.values()) != KILL_ENTRIES:
                problems.append(f"{name}: entries of generations {dict(counted)}")
                continue
            (generation,) = counted
            generations[int(generation)] += 1
            index = int(name.removeprefix("feed"))
            expected = hashlib.blake2b(kill_feed(index, int(generation)), digest_size=16)
            if body_hash != expected.hexdigest():
                problems.append(f"{name}: fetch state from another generation than its entries")
        if revs:
            problems.append(f"entries without a source row: {sorted(revs)}")
    except sqlite3.DatabaseError as exc:
        problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
    return problems, generations


def stored(cli: Cli) -> list[tuple[str, str, str, str]]:
    return sorted(cli.rows("SELECT source, key, id, title FROM entries"))


@pytest.mark.slow
def test_kill_9_at_random_moments(tmp_path: Path, server: FeedServer) -> None:
    """Trials accumulate on one database; each trial serves a new generation of every feed (every
    entry changed), so a kill always interrupts real writes. Finally the database must hold what
    a clean run into a fresh database holds."""
    generation = [FINAL]

    def serving(index: int) -> Route:
        return lambda h: respond(h, 200, kill_feed(index, generation[0]))

    config = "".join(
        source_block(
            f"feed{i}",
            server.route(f"/kill/{i}.xml", serving(i)),
            lang="en",  # detecting 2,000 entries of made-up words would take ~10 s a run
        )
        for i in range(KILL_FEEDS)
    )
    clis = []
    for name in ("reference", "victim"):
        (tmp_path / name).mkdir()
        clis.append(make_cli(tmp_path / name))
        write_config(clis[-1], config)
    reference, victim = clis
    started = time.monotonic()
    clean = reference.fetch()
    duration = time.monotonic() - started
    assert clean.returncode == 0, clean.stderr
    expected = stored(reference)
    assert len(expected) == KILL_FEEDS * KILL_ENTRIES

    # random moments spread over the whole run: one in each of KILL_TRIALS equal slices of
    # (0, duration), in a shuffled order
    rng = random.Random(KILL_SEED)
    delays = [duration * (k + rng.random()) / KILL_TRIALS for k in range(KILL_TRIALS)]
    rng.shuffle(delays)
    killed = finished = 0
    unsound: dict[int, list[str]] = {}
    landed: Counter[str] = Counter()  # where in the run the kills landed
    recoveries: list[bool] = []
    orphans: list[int] = []  # processes of the run still alive after each kill
    keys = [(source, key, id_) for source, key, id_, _ in expected]
    for trial in range(KILL_TRIALS):
        generation[0] = trial + 1
        delay = delays[trial]
        with tempfile.TemporaryFile() as err:  # a file: orphans may hold a pipe open forever
            process = subprocess.Popen(
                victim.command("fetch"),
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=victim.env,
                cwd=victim.root,
            )
            try:
                try:
                    process.wait(timeout=delay)
                    finished += 1
                    err.seek(0)
                    assert process.returncode == 0, err.read()
                except subprocess.TimeoutExpired:
                    process.send_signal(signal.SIGKILL)
                    process.wait(10)
                    killed += 1
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
        left = processes_of(victim)  # parser workers the kill orphaned (they end within
        orphans.append(len(left))  # ~0.5 s by themselves: test_no_process_outlives_…)
        end_processes(left)
        problems, generations = soundness(victim.db)
        if problems:
            unsound[trial] = problems
        done_sources = generations[trial + 1]
        landed[
            "before any source was stored" if done_sources == 0
            else "after every source was stored" if done_sources == KILL_FEEDS
            else "between sources"
        ] += 1  # fmt: skip
        if trial % 5 == 4:  # every fifth kill: does a plain fetch bring it back?
            recovery = victim.fetch()
            assert_no_traceback(recovery)
            problems, generations = soundness(victim.db)
            now = stored(victim)
            recoveries.append(
                recovery.returncode == 0
                and not problems
                and generations == {trial + 1: KILL_FEEDS}
                and [(source, key, id_) for source, key, id_, _ in now] == keys
            )

    generation[0] = FINAL
    final = victim.fetch()
    assert_no_traceback(final)
    assert final.returncode == 0, final.stderr
    after = stored(victim)
    recoveries.append(after == expected)
    print(
        f"\nkill -9: clean fetch {duration:.2f} s; {KILL_TRIALS} trials on one accumulating "
        f"database (seed {KILL_SEED}): {killed} killed, {finished} finished before the kill; "
        f"kills landed {dict(landed)}; sound after {KILL_TRIALS - len(unsound)}/{KILL_TRIALS}; "
        f"a fetch after the kill converged {sum(recoveries)}/{len(recoveries)} "
        f"(the last one: {len(after)} entries vs {len(expected)} from a fresh database); "
        f"processes of the run still alive the moment after each kill: {orphans}"
    )
    assert unsound == {}
    assert killed >= KILL_TRIALS // 2
    assert landed["between sources"] >= 3, "the kills missed the writes: nothing was tested"
    assert soundness(victim.db)[0] == []
    assert len(after) == len({(source, key) for source, key, _, _ in after})  # no duplicates
    assert all(recoveries), recoveries
    assert after == expected


STOPS = {
    "Ctrl-C": (signal.SIGINT, True),  # a terminal sends it to the whole process group
    "SIGINT": (signal.SIGINT, False),  # kill -INT PID
    "SIGTERM": (signal.SIGTERM, False),  # kill PID, timeout(1)
    "SIGKILL": (signal.SIGKILL, False),  # kill -9 PID, the OOM killer
}


def _own_group_default_sigint() -> None:
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # background jobs start with SIGINT ignored


@dataclass
class Stopped:
    returncode: int
    stderr: str  # everything written to it, by the fetch or anything it left behind
    left: list[int]  # processes of the run still alive 2 s after the fetch ended
    commands: list[bytes]  # their command lines


def stop_pooled_fetch(cli: Cli, server: FeedServer, stop: str) -> Stopped:
    """Start a fetch of 24 slow feeds (~3.6 s), wait until its parser pool runs, stop it as
    STOPS[stop] says, and see what is left after 2 s; then end whatever is."""
    signum, whole_group = STOPS[stop]
    cli.write_config(
        [(f"feed{i}", server.feed(f"/feed{i}.xml", kill_feed(i, 0), delay=0.3)) for i in range(24)],
        settings="concurrency = 2",
    )
    left: list[int] = []
    commands: list[bytes] = []
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            cli.command("fetch"), stdout=subprocess.DEVNULL, stderr=err, env=cli.env,
            cwd=cli.root, preexec_fn=_own_group_default_sigint,  # noqa: PLW1509
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 15
            # the CLI, the resource tracker, the forkserver and a worker: the pool is up
            while len(processes_of(cli)) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
            if process.poll() is not None:
                pytest.skip("the fetch ended before it could be stopped")
            if whole_group:
                os.killpg(process.pid, signum)
            else:
                process.send_signal(signum)
            process.wait(10)
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                left = processes_of(cli)
                if not left:
                    break
                time.sleep(0.1)
            for pid in left:
                with contextlib.suppress(OSError):
                    commands.append(Path(f"/proc/{pid}/cmdline").read_bytes()[:80])
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
            end_processes(processes_of(cli))
        err.seek(0)
        return Stopped(process.returncode, err.read().decode(errors="replace"), left, commands)


needs_pool = pytest.mark.skipif(
    not Path("/proc/self/environ").exists() or (os.cpu_count() or 1) < 2,
    reason="needs /proc, and 2+ CPUs (with one, fetch parses inline: no pool)",
)


@pytest.mark.slow
@needs_pool
@pytest.mark.parametrize("stop", list(STOPS))
def test_no_process_outlives_a_stopped_fetch(cli: Cli, server: FeedServer, stop: str) -> None:
    """Found here: a fetch stopped while its parser pool ran (4+ sources due, 2+ CPUs) left the
    forkserver, its workers and multiprocessing's resource tracker running for good, reparented
    to init, whatever stopped it (Ctrl-C, kill -INT, -TERM, -9). They held the fetch's stdout
    and stderr, so `archfeed fetch 2>&1 | tee log` never ended. Fixed in 921bac7 (workers watch
    the fetch's pid)."""
    stopped = stop_pooled_fetch(cli, server, stop)

    assert stopped.left == [], (
        f"{len(stopped.left)} processes still running 2 s after {stop}: {stopped.commands}"
    )
    if stop in ("Ctrl-C", "SIGINT"):
        assert stopped.returncode == 130
        assert stopped.stderr.startswith("archfeed: interrupted\n"), stopped.stderr


@pytest.mark.slow
@needs_pool
@pytest.mark.parametrize("stop", ["Ctrl-C", "SIGINT"])
def test_interrupted_pooled_fetch_says_only_interrupted(
    cli: Cli, server: FeedServer, stop: str
) -> None:
    stopped = stop_pooled_fetch(cli, server, stop)

    assert stopped.returncode == 130
    assert stopped.stderr == "archfeed: interrupted\n"


# -- 4. two fetches at once --------------------------------------------------------------------------

SLOW_FEEDS = 20


@pytest.mark.slow
def test_two_fetches_at_once_and_a_reader(cli: Cli, server: FeedServer) -> None:
    cli.write_config(
        [
            (
                f"slow{i}",
                server.feed(
                    f"/slow/{i}.xml",
                    rss(
                        f"slow{i}", [(f"s{i}-{j}", f"Slow {i} item {j}", "Text.") for j in range(5)]
                    ),
                    delay=0.3,
                ),
            )
            for i in range(SLOW_FEEDS)
        ],
        settings="concurrency = 2",
    )
    first = subprocess.Popen(
        cli.command("fetch"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli.env, cwd=cli.root,
    )  # fmt: skip
    second: subprocess.Popen[str] | None = None
    try:
        assert server.requested.wait(15), "the first fetch never reached the server"
        second = subprocess.Popen(
            cli.command("fetch"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=cli.env, cwd=cli.root,
        )  # fmt: skip
        reads: list[tuple[float, int, bool]] = []
        while first.poll() is None and len(reads) < 5:
            started = time.monotonic()
            done = cli.run("list", "--format", "json")
            reads.append((time.monotonic() - started, done.returncode, first.poll() is None))
            assert_no_traceback(done)
            assert done.returncode == 0, done.stderr
            assert isinstance(json.loads(done.stdout), list)
            assert not SQLITE_NOISE.search(done.stderr), done.stderr
        _, first_err = first.communicate(timeout=30)
        first_end = time.monotonic()
        _, second_err = second.communicate(timeout=60)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
    print(f"\nreads while the first fetch ran (s, rc, still running): {reads}")
    assert [r for r in reads if r[2]], "no read happened while the first fetch ran"
    assert all(seconds < 2 for seconds, _, _ in reads), reads
    assert first.returncode == 0, first_err
    for stderr in (first_err, second_err):
        assert "Traceback" not in stderr
        assert not SQLITE_NOISE.search(stderr), stderr
    if second.returncode == 0:  # it waited for the lock: none of its requests overlapped
        per_path: dict[str, list[float]] = {}
        for when, path in server.times:
            per_path.setdefault(path, []).append(when)
        assert all(len(times) == 2 for times in per_path.values()), per_path
        first_fetch = max(min(times) for times in per_path.values())
        second_fetch = min(max(times) for times in per_path.values())
        assert first_fetch < second_fetch, "the second fetch ran alongside the first"
        assert second_fetch > first_end - 1.0
        assert f"{SLOW_FEEDS} not modified" in second_err
    else:
        assert second.returncode == 1, second_err
        assert second_err.startswith("archfeed: error: "), second_err
        assert "hint: " in second_err
    assert cli.count() == SLOW_FEEDS * 5
    assert cli.rows("SELECT count(DISTINCT source || char(0) || key) FROM entries")[0][0] == (
        SLOW_FEEDS * 5
    )


# -- 5. bad databases ---------------------------------------------------------------------------------


def assert_clear_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert_no_traceback(done)
    assert done.returncode == 1, (done.returncode, done.stderr)
    lines = done.stderr.splitlines()
    assert lines[0].startswith("archfeed: error: "), done.stderr
    assert any(line.startswith("hint: ") for line in lines), done.stderr
    assert "this is a bug" not in done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


LOCAL_FEED = rss("local", [(f"local-{j}", f"Local item {j}", "Some text.") for j in range(3)])


@pytest.mark.parametrize("command", ["fetch", "list"])
def test_db_that_is_not_a_database(cli: Cli, tmp_path: Path, command: str) -> None:
    (tmp_path / "local.xml").write_bytes(LOCAL_FEED)
    cli.write_config([("local", "local.xml")])
    cli.db.write_bytes(random.Random(7).randbytes(16384))
    before = digest(cli.db)

    done = cli.run(command)

    assert_clear_error(done, str(cli.db))
    assert digest(cli.db) == before  # not a byte of the user's file changed
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "archfeed.db",
        "feeds.toml",
        "home",
        "local.xml",
    ]


@pytest.mark.parametrize("command", ["fetch", "list"])
def test_db_that_is_someone_elses_sqlite(cli: Cli, tmp_path: Path, command: str) -> None:
    (tmp_path / "local.xml").write_bytes(LOCAL_FEED)
    cli.write_config([("local", "local.xml")])
    conn = sqlite3.connect(cli.db)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('my precious notes')")
    conn.commit()
    conn.close()
    before = digest(cli.db)

    done = cli.run(command)

    assert_clear_error(done, "not archfeed's")
    assert digest(cli.db) == before
    assert cli.rows("SELECT name FROM sqlite_master") == [("notes",)]
    assert cli.rows("SELECT body FROM notes") == [("my precious notes",)]


PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2
NOBODY = 65534


def _as_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _without_dac_override() -> None:
    """Root that obeys file modes: drop the capabilities that bypass them, for this process and
    whatever it executes (the bounding set survives exec)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _probe(preexec: Callable[[], None] | None, code: str) -> bool:
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            timeout=30,
            preexec_fn=preexec,
            cwd="/",
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # e.g. it may not even run the interpreter
        return False
    return done.returncode == 0


def obeying_file_modes(folder: Path) -> tuple[Callable[[], None] | None, str]:
    """A preexec_fn under which the CLI cannot write into `folder` (already made read-only), and
    how: as is when not root; as root, uid 65534 if it can run this interpreter, else root
    without CAP_DAC_OVERRIDE. Skips when neither works here."""
    candidates: list[tuple[Callable[[], None] | None, str]] = [(None, "as is")]
    if os.geteuid() == 0:
        candidates = [
            (_as_nobody, f"as uid {NOBODY}"),
            (_without_dac_override, "as root without CAP_DAC_OVERRIDE"),
        ]
    for preexec, how in candidates:
        runs = _probe(preexec, "import archfeed")
        writes = _probe(preexec, f"open({str(folder / 'probe')!r}, 'w')")
        if runs and not writes:
            return preexec, how
    pytest.skip("no way here to run the CLI without the right to write a read-only folder")


def test_read_only_database() -> None:
    # a folder anyone can reach (pytest's tmp_path lives under a 0700 folder), made read-only
    base = Path(tempfile.mkdtemp(prefix="archfeed-ro-"))
    try:
        base.chmod(0o755)
        cli = make_cli(base)
        cli.db = base / "ro" / "archfeed.db"
        (base / "local.xml").write_bytes(LOCAL_FEED)
        cli.write_config([("local", str(base / "local.xml"))])
        assert cli.fetch().returncode == 0
        (base / "local.xml").write_bytes(LOCAL_FEED.replace(b"Local item 0", b"Changed item 0"))
        for path in [*cli.db.parent.iterdir(), base / "local.xml", cli.config]:
            path.chmod(0o444)
        cli.db.parent.chmod(0o555)
        before = digest(cli.db)
        preexec, how = obeying_file_modes(cli.db.parent)
        print(f"\nread-only database: running the CLI {how}")

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                cli.command(*args), capture_output=True, text=True, env=cli.env, cwd=base,
                timeout=30, preexec_fn=preexec, check=False,
            )  # fmt: skip

        fetched = run("fetch")
        listed = run("list", "--format", "json")

        print(f"fetch: {fetched.stderr.strip()!r}\nlist: {listed.stderr.strip()!r}")
        assert_clear_error(fetched, "read-only")
        assert digest(cli.db) == before
        assert integrity(cli.db) == "ok"
        assert cli.rows("SELECT title FROM entries WHERE key = 'local-0'") == [("Local item 0",)]
        # reading it: either works, or is the same clear error (SQLite cannot open a WAL
        # database read-only when it may not create the -shm file beside it)
        if listed.returncode == 0:
            assert len(json.loads(listed.stdout)) == 3
        else:
            assert_clear_error(listed, "read-only")
    finally:
        for path in base.rglob("*"):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


# CPython 3.11's ProcessPoolExecutor: shut down with wait=False (archfeed does, when an error
# ends a fetch) and exit at once, and now and then its atexit hook writes to the wake-up pipe
# the management thread is closing at that moment. A race, seen about once in ten runs under
# load: too rare for a strict xfail, so the test tolerates exactly this and reports it.
_EXIT_RACE = re.compile(
    r"Exception ignored in: <module 'threading'[^\n]*\nTraceback \(most recent call last\):\n"
    r"(?:  .*\n)*?.*concurrent/futures/process\.py.*\n(?:  .*\n)*OSError: \[Errno 9\] Bad file "
    r"descriptor\n?"
)


def without_exit_race(stderr: str) -> tuple[str, bool]:
    cleaned = _EXIT_RACE.sub("", stderr)
    return cleaned, cleaned != stderr


def file_size_limit(limit: int) -> Callable[[], None]:
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


FULL_DISK_LIMIT = 1_000_000  # bytes per file: the schema (~110 kB) and small feeds fit
BIG_ENTRIES = 800  # ~1.2 MB of text, ~3 MB with its indexes: does not fit


@pytest.mark.slow
def test_full_disk(cli: Cli, server: FeedServer) -> None:
    rng = random.Random(11)
    small = {
        f"small{k}": rss(
            f"small{k}",
            [
                (f"s{k}-{j}", f"Small {k} item {j}", " ".join(rng.choices(_VOCAB, k=30)))
                for j in range(20)
            ],
        )
        for k in range(4)
    }
    big = rss(
        "big",
        [
            (f"big-{j}", f"Big item {j}", " ".join(rng.choices(_VOCAB, k=200)))
            for j in range(BIG_ENTRIES)
        ],
    )
    urls = [(name, server.feed(f"/{name}.xml", body)) for name, body in small.items()]
    urls.append(("big", server.feed("/big.xml", big, delay=0.5)))  # after the small ones
    write_config(  # lang: no detection of made-up words, which would take seconds
        cli,
        "[settings]\nconcurrency = 5\n\n"
        + "".join(source_block(name, url, lang="en") for name, url in urls),
    )

    done = subprocess.run(
        cli.command("fetch"), capture_output=True, text=True, env=cli.env, cwd=cli.root,
        timeout=60, preexec_fn=file_size_limit(FULL_DISK_LIMIT), check=False,
    )  # fmt: skip

    print(f"\nfull disk: {done.stderr.strip()!r}")
    done.stderr, raced = without_exit_race(done.stderr)
    if raced:
        print("full disk: the ProcessPoolExecutor exit race struck (a traceback after the error)")
    assert_clear_error(done)
    assert re.search(r"disk|full|space", done.stderr, re.I), done.stderr
    assert integrity(cli.db) == "ok"
    counts = dict(cli.rows("SELECT source, count(*) FROM entries GROUP BY source"))
    assert counts.get("big", 0) == 0
    # writes are committed a batch at a time (Store.batched): the small sources of batches
    # committed before the failure are stored whole; the others left no trace, not even an ETag,
    # so the next fetch stores them
    assert set(counts) <= set(small)
    assert all(n == 20 for n in counts.values()), counts  # complete, none partial
    assert [row[0] for row in cli.rows("SELECT name FROM sources ORDER BY name")] == sorted(counts)
    # with room again, the next fetch stores the rest
    again = cli.fetch()
    assert again.returncode == 0, again.stderr
    assert "big: 800 new, 0 updated" in again.stderr
    assert cli.count() == 4 * 20 + BIG_ENTRIES


# -- 6. source health ------------------------------------------------------------------------------

ONE_ITEM = rss("health", [("h-1", "Health item", "Text.")])
RESCUED = rss("rescued", [("r-1", "Rescued item", "Back again.")])


def test_failing_source_backs_off_and_recovers(cli: Cli, server: FeedServer) -> None:
    server.feed("/fail", b"oops", "text/plain", 500)
    cli.write_config([("good", server.feed("/good", ONE_ITEM)), ("flaky", server.url("/fail"))])

    first = cli.fetch()

    assert_no_traceback(first)
    assert first.returncode == 3, first.stderr
    assert source_line(first.stderr, "flaky") == "flaky: failed: HTTP 500 Internal Server Error"
    assert server.hits["/fail"] == 1
    health = sources_json(cli)["flaky"]
    assert health["failures"] == 1
    assert health["last_error"] == "HTTP 500 Internal Server Error"
    assert_about(
        health["next_try"], datetime.now(UTC) + timedelta(minutes=30), timedelta(minutes=2)
    )

    second = cli.fetch()

    assert second.returncode == 0, second.stderr  # skipped and good: nothing failed
    assert server.hits["/fail"] == 1, "a backing-off source was requested"
    assert source_line(second.stderr, "flaky") == (
        f"flaky: skipped after 1 failed fetches in a row; next try after {health['next_try']} "
        "(--force tries now)"
    )
    assert source_line(second.stderr, "good") == "good: not modified"
    assert "1 skipped" in second.stderr

    server.feed("/fail", RESCUED)
    forced = cli.fetch("--force")

    assert forced.returncode == 0, forced.stderr
    assert server.hits["/fail"] == 2
    assert source_line(forced.stderr, "flaky") == "flaky: 1 new, 0 updated"
    health = sources_json(cli)["flaky"]
    assert (health["failures"], health["last_error"], health["next_try"]) == (0, None, None)
    assert health["status"] == 200
    assert health["entries"] == 1

    normal = cli.fetch()

    assert normal.returncode == 0, normal.stderr
    assert server.hits["/fail"] == 3  # requested again as any healthy source
    assert source_line(normal.stderr, "flaky") == "flaky: not modified"


def test_retry_after_is_honoured(cli: Cli, server: FeedServer) -> None:
    url = server.feed("/429", b"later", "text/plain", 429, {"Retry-After": "7200"})
    cli.write_config([("busy", url)])

    first = cli.fetch()
    now = datetime.now(UTC)

    assert first.returncode == 3
    assert source_line(first.stderr, "busy") == "busy: failed: HTTP 429 Too Many Requests"
    health = sources_json(cli)["busy"]
    assert health["status"] == 429
    assert_about(health["next_try"], now + timedelta(hours=2), timedelta(minutes=2))
    second = cli.fetch()
    assert second.returncode == 0
    assert "next try after" in source_line(second.stderr, "busy")
    assert server.hits["/429"] == 1


def a_day_passes(cli: Cli) -> None:
    """As if the next fetch ran a day later: every backoff has expired (the clock stays put)."""
    day_ago = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn = sqlite3.connect(cli.db)
    conn.execute("UPDATE sources SET skip_until = ?, last_fetch = ?", (day_ago, day_ago))
    conn.commit()
    conn.close()


def test_gone_source_is_skipped_until_its_url_changes(cli: Cli, server: FeedServer) -> None:
    gone = server.feed("/gone", b"gone", "text/plain", 410)
    good = server.feed("/good", ONE_ITEM)
    cli.write_config([("good", good), ("old", gone)])

    first = cli.fetch()

    assert first.returncode == 3
    assert source_line(first.stderr, "old") == "old: failed: HTTP 410 Gone"
    assert sources_json(cli)["old"]["gone"] is True
    a_day_passes(cli)  # the backoff has long expired; the 410 has not

    later = cli.fetch()

    assert later.returncode == 0, later.stderr
    assert server.hits["/gone"] == 1, "a gone source was requested"
    assert source_line(later.stderr, "old") == (
        "old: gone (410); change its url in the config, or remove it"
    )
    item = sources_json(cli)["old"]
    assert item["gone"] is True
    plain = cli.run("sources", "--format", "plain")
    assert "gone (410)" in next(
        line for line in plain.stdout.splitlines() if line.startswith("old\t")
    )

    forced = cli.fetch("--force")

    assert forced.returncode == 3
    assert server.hits["/gone"] == 2
    assert source_line(forced.stderr, "old") == "old: failed: HTTP 410 Gone"

    a_day_passes(cli)
    cli.write_config(
        [("good", good), ("old", server.feed("/new-home", ONE_ITEM.replace(b"h-1", b"n-1")))]
    )
    moved_on = cli.fetch()

    assert moved_on.returncode == 0, moved_on.stderr
    assert server.hits["/gone"] == 2
    assert server.hits["/new-home"] == 1
    assert source_line(moved_on.stderr, "old") == "old: 1 new, 0 updated"
    item = sources_json(cli)["old"]
    assert (item["gone"], item["failures"], item["last_error"]) == (False, 0, None)


@pytest.mark.parametrize("status", [410, 404])
def test_changed_url_is_fetched_at_once(cli: Cli, server: FeedServer, status: int) -> None:
    """Found here: a source whose url the user changed still waited out the backoff its old url
    earned ('skipped after 1 failed fetches in a row; next try after <now + 30 min>'), so the fix
    the 410 message asks for was not fetched. Fixed in 921bac7."""
    cli.write_config([("blog", server.feed("/old", b"no", "text/plain", status))])
    assert cli.fetch().returncode == 3

    cli.write_config([("blog", server.feed("/new", ONE_ITEM))])  # the user fixes the url
    done = cli.fetch()

    assert server.hits["/new"] == 1, source_line(done.stderr, "blog")
    assert done.returncode == 0, done.stderr
    assert source_line(done.stderr, "blog") == "blog: 1 new, 0 updated"


def test_moved_source_says_where(cli: Cli, server: FeedServer) -> None:
    new = server.feed("/new.xml", ONE_ITEM)
    cli.write_config([("mover", server.redirect("/old.xml", new, 301))])

    done = cli.fetch()

    assert done.returncode == 0, done.stderr
    assert source_line(done.stderr, "mover") == (
        f"mover: 1 new, 0 updated; moved permanently: update your config to {new}"
    )
    assert [e["source"] for e in cli.list_json()] == ["mover"]
    assert sources_json(cli)["mover"]["moved_to"] == new
    plain = cli.run("sources", "--format", "plain")
    assert plain.stdout.rstrip("\n").endswith(f"moved: update your config to {new}")
    again = cli.fetch()  # still moved: still said, until the config changes
    assert again.returncode == 0
    assert source_line(again.stderr, "mover").endswith(f"update your config to {new}")


def test_sources_json_values(cli: Cli, server: FeedServer) -> None:
    urls = {
        "ok": server.feed("/ok", ONE_ITEM),
        "broken": server.feed("/broken", b"oops", "text/plain", 500),
        "busy": server.feed("/busy", b"later", "text/plain", 429, {"Retry-After": "7200"}),
        "gone": server.feed("/gone", b"gone", "text/plain", 410),
        "mover": server.redirect("/mover", server.feed("/moved", RESCUED), 308),
        "off": server.feed("/off", ONE_ITEM),
    }
    write_config(
        cli,
        "".join(source_block(name, url) for name, url in urls.items() if name != "off")
        + source_block("off", urls["off"], enabled=False),
    )

    done = cli.fetch()
    now = datetime.now(UTC)

    assert done.returncode == 3
    assert server.hits["/off"] == 0
    items = cli.run("sources", "--format", "json")
    listed = json.loads(items.stdout)
    assert [item["name"] for item in listed] == list(urls)  # config order, every source
    keys = {
        "name", "url", "enabled", "last_fetch", "status", "entries", "last_new", "failures",
        "last_error", "next_try", "moved_to", "gone",
    }  # fmt: skip
    health = {item["name"]: item for item in listed}
    for name, item in health.items():
        assert set(item) == keys, item
        assert item["url"] == urls[name]
        if name != "off":
            assert_about(item["last_fetch"], now, timedelta(minutes=1))
    soon = timedelta(minutes=2)
    ok = health["ok"]
    assert (ok["enabled"], ok["status"], ok["entries"], ok["failures"]) == (True, 200, 1, 0)
    assert ok["last_new"] == ok["last_fetch"]
    assert (ok["last_error"], ok["next_try"], ok["moved_to"], ok["gone"]) == (
        None,
        None,
        None,
        False,
    )
    broken = health["broken"]
    assert (broken["status"], broken["entries"], broken["failures"]) == (500, 0, 1)
    assert (broken["last_new"], broken["moved_to"], broken["gone"]) == (None, None, False)
    assert broken["last_error"] == "HTTP 500 Internal Server Error"
    assert_about(broken["next_try"], now + timedelta(minutes=30), soon)
    busy = health["busy"]
    assert (busy["status"], busy["failures"], busy["last_error"]) == (
        429, 1, "HTTP 429 Too Many Requests",
    )  # fmt: skip
    assert_about(busy["next_try"], now + timedelta(hours=2), soon)
    gone = health["gone"]
    assert (gone["status"], gone["gone"], gone["failures"]) == (410, True, 1)
    mover = health["mover"]
    assert (mover["status"], mover["entries"], mover["failures"]) == (200, 1, 0)
    assert mover["moved_to"] == server.url("/moved")
    assert mover["gone"] is False
    assert health["off"] == {
        "name": "off", "url": urls["off"], "enabled": False, "last_fetch": None, "status": None,
        "entries": 0, "last_new": None, "failures": 0, "last_error": None, "next_try": None,
        "moved_to": None, "gone": False,
    }  # fmt: skip


def test_helpers_are_what_they_claim(gzip_bomb: bytes) -> None:
    """The test machinery itself: a closed port refuses; the bomb is one valid gzip stream of
    1 GiB of zeros (its first 16 MiB inflated here, its trailer read)."""
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", closed_port()), timeout=2).close()
    assert gzip_bomb[:2] == b"\x1f\x8b"
    assert struct.unpack("<I", gzip_bomb[-4:]) == (1 << 30,)
    inflated = zlib.decompressobj(31).decompress(gzip_bomb, 16 << 20)
    assert len(inflated) == 16 << 20
    assert inflated.count(0) == len(inflated)
