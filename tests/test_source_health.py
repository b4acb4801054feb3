"""Source health: backoff, Retry-After, 410 Gone, 301 Moved, `sources --format json`."""

from __future__ import annotations

import errno
import json
import socket
import ssl
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from archfeed.text import iso
from conftest import (
    EVERY_RUN,
    ONE_ITEM,
    Cli,
    Clock,
    FeedServer,
    assert_about,
    assert_no_traceback,
    closed_port,
    parse_iso,
    rss,
    source_block,
    source_line,
    sources_json,
    write_config,
)

RESCUED = rss("rescued", [("r-1", "Rescued item", "Back again.")])
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # the clock of the tests that move it


def test_failing_source_backs_off_and_recovers(cli: Cli, server: FeedServer) -> None:
    server.feed("/fail", b"oops", "text/plain", 500)
    cli.write_config(
        [("good", server.feed("/good", ONE_ITEM)), ("flaky", server.url("/fail"))],
        settings=EVERY_RUN,
    )
    cli.clock = Clock(START)

    first = cli.fetch()

    assert_no_traceback(first)
    assert first.returncode == 3, first.stderr
    assert source_line(first.stderr, "flaky") == "flaky: failed: HTTP 500 Internal Server Error"
    assert server.hits["/fail"] == 1
    health = sources_json(cli)["flaky"]
    assert health["failures"] == 1
    assert health["last_error"] == "HTTP 500 Internal Server Error"
    assert health["next_try"] == iso(START + timedelta(minutes=30))
    for fmt in ("plain", "table"):  # every format says when, not only JSON
        listed = cli.run("sources", "--format", fmt, env={"COLUMNS": "200"}).stdout
        assert f"next try after {health['next_try']}" in listed, listed

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
    cli.clock = Clock(START)

    first = cli.fetch()

    assert first.returncode == 1
    assert source_line(first.stderr, "busy") == "busy: failed: HTTP 429 Too Many Requests"
    health = sources_json(cli)["busy"]
    assert health["status"] == 429
    assert health["next_try"] == iso(START + timedelta(hours=2))  # not the 30 min of a backoff
    second = cli.fetch()
    assert second.returncode == 0
    assert "next try after" in source_line(second.stderr, "busy")
    assert server.hits["/429"] == 1


def a_day_passes(cli: Cli) -> None:
    """The next run is a day later: every backoff has expired."""
    clock = cli.clock if isinstance(cli.clock, Clock) else Clock(datetime.now(UTC))
    clock.advance(timedelta(days=1, seconds=1))
    cli.clock = clock


def test_backoff_doubles_per_failure_up_to_a_day(cli: Cli, server: FeedServer) -> None:
    """30 min after the first failure, then twice as long after each one, never more than a day:
    each next try is exactly that far from the fetch that failed, and the source is asked again
    as soon as it comes, not before."""
    server.feed("/fail", b"oops", "text/plain", 500)
    cli.write_config([("flaky", server.url("/fail"))])
    cli.clock = clock = Clock(START)
    expected = [timedelta(minutes=30) * 2**n for n in range(6)] + [timedelta(days=1)] * 2
    for failures, delay in enumerate(expected, start=1):
        failed = cli.fetch()
        assert failed.returncode == 1, failed.stderr
        assert server.hits["/fail"] == failures
        health = sources_json(cli)["flaky"]
        assert health["failures"] == failures
        assert health["next_try"] == iso(clock.now + delay), f"after {failures} failures"
        clock.advance(delay - timedelta(seconds=1))
        assert "skipped after" in source_line(cli.fetch().stderr, "flaky")
        assert server.hits["/fail"] == failures, "asked before its next try"
        clock.advance(timedelta(seconds=1))


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
    assert cli.fetch().returncode == 1  # its only source failed: nothing was stored

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
    # the state is the seventh field; next_fetch (tests/test_polite.py) came after it
    assert plain.stdout.split("\t")[6] == f"moved: update your config to {new}"
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
        "last_error", "next_try", "moved_to", "gone", "next_fetch",
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
    # a healthy source is due again after min_interval (tests/test_polite.py), a failing one at
    # its next try, a gone one never
    assert parse_iso(ok["next_fetch"]) == parse_iso(ok["last_fetch"]) + timedelta(minutes=10)
    broken = health["broken"]
    assert (broken["status"], broken["entries"], broken["failures"]) == (500, 0, 1)
    assert (broken["last_new"], broken["moved_to"], broken["gone"]) == (None, None, False)
    assert broken["last_error"] == "HTTP 500 Internal Server Error"
    assert_about(broken["next_try"], now + timedelta(minutes=30), soon)
    assert broken["next_fetch"] == broken["next_try"]
    busy = health["busy"]
    assert (busy["status"], busy["failures"], busy["last_error"]) == (
        429, 1, "HTTP 429 Too Many Requests",
    )  # fmt: skip
    assert_about(busy["next_try"], now + timedelta(hours=2), soon)
    gone = health["gone"]
    assert (gone["status"], gone["gone"], gone["failures"]) == (410, True, 1)
    assert gone["next_fetch"] is None
    mover = health["mover"]
    assert (mover["status"], mover["entries"], mover["failures"]) == (200, 1, 0)
    assert mover["moved_to"] == server.url("/moved")
    assert mover["gone"] is False
    assert health["off"] == {
        "name": "off", "url": urls["off"], "enabled": False, "last_fetch": None, "status": None,
        "entries": 0, "last_new": None, "failures": 0, "last_error": None, "next_try": None,
        "moved_to": None, "gone": False, "next_fetch": None,
    }  # fmt: skip


def test_a_run_that_reaches_no_source_is_the_machine_offline_not_the_sources_failing(
    cli: Cli,
) -> None:
    """Every source refused (as when the laptop is offline, or its proxy is down): one error,
    exit 1, and no backoff, so the next run, with the network back, fetches them all."""
    refused = [(name, f"http://127.0.0.1:{closed_port()}/feed.xml") for name in ("a", "b", "c")]
    cli.write_config(refused)
    cli.clock = Clock(START)

    offline = cli.fetch()

    assert_no_traceback(offline)
    assert offline.returncode == 1, offline.stderr
    assert "archfeed: error: offline? no source could be reached" in offline.stderr
    assert "hint: " in offline.stderr
    health = sources_json(cli)
    assert [health[name]["failures"] for name in "abc"] == [0, 0, 0]
    assert [health[name]["next_try"] for name in "abc"] == [None, None, None]
    again = cli.fetch()
    assert "skipped" not in again.stderr
    assert again.returncode == 1


def test_one_source_refused_beside_one_that_answers_is_that_sources_failure(
    cli: Cli, server: FeedServer
) -> None:
    cli.write_config(
        [("good", server.feed("/good", ONE_ITEM)),
         ("down", f"http://127.0.0.1:{closed_port()}/feed.xml")]
    )  # fmt: skip
    done = cli.fetch()
    assert done.returncode == 3, done.stderr
    assert source_line(done.stderr, "down") == "down: failed: connection refused"
    assert "offline" not in done.stderr
    assert sources_json(cli)["down"]["failures"] == 1


def test_when_every_source_failed_and_nothing_was_stored_the_exit_code_is_1(
    cli: Cli, server: FeedServer
) -> None:
    """Exit 3 means "some failed, the rest were stored"; with nothing stored it is 1."""
    cli.write_config([("x", server.feed("/x", b"no", "text/plain", 500)),
                      ("y", server.feed("/y", b"no", "text/plain", 503))])  # fmt: skip
    done = cli.fetch()
    assert done.returncode == 1, done.stderr
    assert source_line(done.stderr, "x") == "x: failed: HTTP 500 Internal Server Error"
    assert "archfeed: error: no source could be fetched; nothing was stored" in done.stderr


def test_quiet_hides_progress_and_success_never_a_failed_gone_or_moved_source(
    cli: Cli, server: FeedServer
) -> None:
    """The README's cron line runs `archfeed -q fetch`: a dead feed must reach its mail."""
    new = server.feed("/new.xml", ONE_ITEM.replace(b"h-1", b"m-1"))
    cli.write_config(
        [("fine", server.feed("/fine", ONE_ITEM)),
         ("broken", server.feed("/broken", b"no", "text/plain", 500)),
         ("dead", server.feed("/dead", b"gone", "text/plain", 410)),
         ("mover", server.redirect("/old.xml", new, 301))]
    )  # fmt: skip
    cli.clock = Clock(START)

    first = cli.run("-q", "fetch")

    assert first.returncode == 3, first.stderr
    assert source_line(first.stderr, "broken") == "broken: failed: HTTP 500 Internal Server Error"
    assert source_line(first.stderr, "dead") == "dead: failed: HTTP 410 Gone"
    assert source_line(first.stderr, "mover").endswith(f"update your config to {new}")
    assert "fine:" not in first.stderr
    assert "total:" not in first.stderr
    cli.clock.advance(timedelta(days=2))

    later = cli.run("-q", "fetch")

    assert source_line(later.stderr, "dead").startswith("dead: gone (410)")
    assert source_line(later.stderr, "mover").endswith(f"update your config to {new}")
    assert "fine:" not in later.stderr


@pytest.mark.parametrize(
    ("cause", "message", "network"),
    [
        (socket.gaierror(-2, "Name or service not known"), "cannot resolve the host name", True),
        (ConnectionRefusedError(111, "Connection refused"), "connection refused", True),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "cannot connect", True),
        (ssl.SSLCertVerificationError(1, "certificate verify failed"), "TLS failed", True),
        (OSError(errno.EMFILE, "Too many open files"), "cannot connect", False),
    ],
)
def test_the_networks_failures_are_told_from_a_servers(
    cause: OSError, message: str, network: bool
) -> None:
    """What makes a run "offline": every source failing at the network, told by the root
    cause's type and errno, in any locale."""
    from archfeed.fetch.failures import transport_failure

    error = httpx.ConnectError("connect failed")
    error.__cause__ = cause
    said, unreachable = transport_failure(error)
    assert said.startswith(message)
    assert unreachable is network
    assert transport_failure(httpx.ReadError("reset"))[1] is False  # it answered, then broke
