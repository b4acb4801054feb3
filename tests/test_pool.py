"""The parser workers: the limits each feed's parsing runs under, and a fetch that carries on
when its workers die. Real worker processes (a forkserver pool, as a fetch of 4+ sources starts);
the work functions live here, where the workers can import them."""

from __future__ import annotations

import os
import signal

import pytest

from archfeed.models import Prepared
from archfeed.update import pool
from archfeed.update.pool import POOL_MIN_SOURCES, Parsers


def echo(text: str) -> Prepared:
    return Prepared(warning=f"{text} in {os.getpid()}")


def hog(gib: int) -> Prepared:
    """What a hostile feed can make a parser do: ask for more memory than a worker may have."""
    block = bytearray(gib << 30)
    return Prepared(warning=f"held {len(block)} bytes")


def spin() -> Prepared:
    """A parser stuck in a loop of its own (a pathological regular expression, say)."""
    while True:
        pass


def die() -> Prepared:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def test_a_feed_that_parses_too_long_is_stopped_and_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """_guarded() is what a worker runs each feed in: past FEED_SECONDS, the feed's own error."""
    monkeypatch.setattr(pool, "FEED_SECONDS", 0.05)
    stopped = pool._guarded(spin)
    assert stopped.error == "parser stopped: TimeoutError: parsing took more than 0.05 s"
    assert pool._guarded(echo, "after").warning.startswith("after")  # type: ignore[union-attr]


def test_a_feed_that_asks_for_too_much_memory_fails_alone() -> None:
    """A worker's address space is capped (WORKER_MEMORY): 4 GiB is refused, that feed fails,
    and the same worker goes on with the next feed."""
    assert pool.WORKER_MEMORY < 4 << 30
    with Parsers(POOL_MIN_SOURCES) as parsers:
        assert parsers.pool is not None, "no pool: this machine has one core"
        parsers.submit("hog", hog, 4)
        parsers.submit("next", echo, "next")
        done = dict(parsers.ready(wait=True))
    assert done["hog"].error is not None
    assert done["hog"].error.startswith("parser stopped: MemoryError")
    assert done["next"].error is None
    assert str(os.getpid()) not in str(done["next"].warning), "ran in the fetch, not a worker"


def test_a_dead_worker_fails_its_feed_and_the_rest_are_parsed_inline() -> None:
    """A worker killed (the OOM killer, a crash in C) breaks the pool: the feed it held fails
    with a message, and the feeds after it are parsed in the fetch's own process."""
    with Parsers(POOL_MIN_SOURCES) as parsers:
        assert parsers.pool is not None, "no pool: this machine has one core"
        parsers.submit("dies", die)
        (tag, dead), *_ = list(parsers.ready(wait=True))
        assert tag == "dies"
        assert dead.error is not None
        assert dead.error.startswith("parser worker failed: BrokenProcessPool")
        parsers.submit("after", echo, "after")
        assert parsers.pool is None, "a broken pool was kept"
        ((_, after),) = list(parsers.ready(wait=True))
    assert after.warning == f"after in {os.getpid()}"


def test_a_worker_keeps_nothing_of_a_feed_once_it_is_prepared() -> None:
    """A worker parses feed after feed: the words it read of one feed's texts (kept while its
    entries' keys are made) go with it, or every worker held thousands of texts (82 MB each on
    benchmarks/peers.py, 17 MB once they went)."""
    from archfeed.dedup import boilerplate
    from archfeed.models import Source
    from archfeed.update.worker import prepare

    long_text = "Every crane reports its moves to a Kafka topic. " * 40
    items = "".join(
        f"<item><guid>{n}</guid><title>Post {n}</title><description>{text}</description></item>"
        for n, text in enumerate(("Short and sweet.", long_text))
    )
    body = f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    prepared = prepare(body, None, "https://example.org/", Source("t", "x"), (), ("en",), {}, {})
    assert len(prepared.changes) == 2
    assert boilerplate.whole.cache_info().currsize == 0
    assert boilerplate.head.cache_info().currsize == 0
