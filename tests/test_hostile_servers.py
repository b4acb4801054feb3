"""Hostile servers: every kind of misbehaving server in one fetch run, within the timeout and a
memory bound; each source's outcome is a case of its own."""

from __future__ import annotations

import email.utils
import socket
import struct
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from conftest import (
    CHAINED_FEED,
    GOOD_FEED,
    RSS,
    SQLITE_NOISE,
    Cli,
    FeedServer,
    Measured,
    _Handler,
    assert_about,
    closed_port,
    make_cli,
    never_answer,
    resolution,
    run_measured,
    serving,
    source_line,
    sources_json,
    trickle_body,
    trickle_headers,
)

TIMEOUT = 2  # [settings] timeout of the hostile run
HUGE = 300_000_000  # bytes the huge route would send (10 MB is the default max_bytes)
MB = 1_000_000


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


@dataclass(frozen=True)
class HostileRun:
    """One fetch of every hostile source at once, as a user's config of many would be: what it
    printed, what it cost, what the server sent, and when it ran."""

    cli: Cli
    server: FeedServer
    plan: dict[str, tuple[str, str | None]]  # name → (url, what its failed: line says; None: ok)
    done: Measured
    ran: datetime
    in_3h: datetime


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, gzip_bomb: bytes) -> Iterator[HostileRun]:
    with serving() as server:
        cli = make_cli(tmp_path_factory.mktemp("hostile"))
        in_3h = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
        html = b"<!doctype html><html><head><title>Hi</title></head><body><p>Blog</p></body></html>"
        server.feed("/chained.xml", CHAINED_FEED)
        server.redirect("/hop3", server.url("/chained.xml"), 307)
        server.redirect("/hop2", server.url("/hop3"), 302)
        retry_at = email.utils.format_datetime(in_3h, usegmt=True)
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
                server.feed("/503", b"maintenance", "text/plain", 503, {"Retry-After": retry_at}),
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
        done = run_measured(cli, "fetch")  # a process of its own: its memory is measured
        print(
            f"hostile run: {len(plan)} sources, wall {done.wall:.2f} s (timeout {TIMEOUT} s), "
            f"peak RSS {done.peak_rss_mb:.0f} MB (the CLI process), {done.peak_tree_mb:.0f} MB "
            f"(its process tree, summed); the 300 MB routes sent {server.sent['/huge'] / MB:.1f} "
            f"MB (no Content-Length) and {server.sent['/huge-declared'] / MB:.1f} MB (declared)"
        )
        print(done.stderr)
        yield HostileRun(cli, server, plan, done, datetime.now(UTC), in_3h)


CASES = (
    "good chain e404 e410 e500 e429 e503 silent trickle-body trickle-headers huge huge-declared "
    "bomb bomb-file loop html empty refused dns"
).split()


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_each_hostile_source_has_its_own_line(hostile: HostileRun, name: str) -> None:
    if name not in hostile.plan:
        pytest.skip(f"{DNS_HOST} resolves here: the request would leave this machine")
    line = source_line(hostile.done.stderr, name)
    reason = hostile.plan[name][1]
    if reason is None:
        assert line == f"{name}: 2 new, 0 updated", line
    else:
        assert line.startswith(f"{name}: failed: "), line
        assert reason in line, (reason, line)


@pytest.mark.slow
def test_the_hostile_run_ends_cleanly_with_the_good_entries(hostile: HostileRun) -> None:
    done = hostile.done
    assert "Traceback" not in done.stderr + done.stdout
    assert not SQLITE_NOISE.search(done.stderr), done.stderr
    assert done.returncode == 3, done.stderr
    assert f"{len(hostile.plan) - 2} failed" in done.stderr
    assert "moved" not in source_line(done.stderr, "chain")  # 301, 302, 307: not all permanent
    entries = hostile.cli.list_json()
    assert Counter(e["source"] for e in entries) == {"good": 2, "chain": 2}
    assert hostile.server.hits["/chained.xml"] == 1


@pytest.mark.slow
def test_the_hostile_run_stays_within_its_time_and_memory(hostile: HostileRun) -> None:
    """All ran at once, each within timeout + 1 s; memory stayed far from 1 GB or 300 MB."""
    done, sent = hostile.done, hostile.server.sent
    assert done.wall < TIMEOUT + 2.5, f"took {done.wall:.1f} s with timeout = {TIMEOUT}"
    assert done.peak_rss_mb < 400, f"peak RSS {done.peak_rss_mb:.0f} MB"
    assert done.peak_tree_mb < 400, f"peak RSS of the process tree {done.peak_tree_mb:.0f} MB"
    assert sent["/huge"] < 64 * MB, "the client kept reading past max_bytes"
    assert sent["/huge-declared"] < 64 * MB


@pytest.mark.slow
def test_what_the_hostile_failures_mean_for_the_next_run(hostile: HostileRun) -> None:
    health = sources_json(hostile.cli)
    later = timedelta(minutes=30)
    assert_about(health["e429"]["next_try"], hostile.ran + later, timedelta(minutes=2))
    assert_about(health["e503"]["next_try"], hostile.in_3h, timedelta(minutes=2))  # its date
    assert health["e410"]["gone"] is True
    assert health["e404"]["gone"] is False
    assert health["good"]["failures"] == 0
    assert all(health[name]["failures"] == 1 for name, (_, r) in hostile.plan.items() if r)


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
