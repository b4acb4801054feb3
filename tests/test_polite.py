"""Polite fetching (issue 19): a source is fetched no more often than its server asks
(Cache-Control, Expires against Date), its feed asks (<ttl>, <sy:updatePeriod>), the config's
min_interval and its own interval allow, the wait capped at a day; --force fetches anyway. The
server on 127.0.0.1 counts its requests: a fetch that is not due asks it nothing."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from archfeed.fetch.caching import fresh_for
from archfeed.text import iso
from conftest import (
    ONE_ITEM,
    RSS,
    Cli,
    Clock,
    FeedServer,
    Route,
    _Handler,
    assert_no_traceback,
    rss,
    source_block,
    source_line,
    sources_json,
    total_line,
    write_config,
)
from test_readme_recipes import SCRIPTS

START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def answering(body: bytes, headers: dict[str, str], status: int = 200) -> Route:
    """A route that sends exactly these headers: no Date of the server's own beside a test's."""

    def route(h: _Handler) -> None:
        h.send_response_only(status)
        sent = {"Content-Type": RSS, "Content-Length": str(len(body)), **headers}
        for name, value in sent.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(body)

    return route


def one_source(cli: Cli, url: str, settings: str = "", **extra: object) -> None:
    settings_table = f"[settings]\n{settings}\n\n" if settings else ""
    write_config(cli, settings_table + source_block("blog", url, **extra))
    cli.clock = Clock(START)


def at(cli: Cli, when: timedelta, *args: str) -> tuple[int, str]:
    """`archfeed fetch ARGS` at START + `when`: its exit code and the source's line."""
    assert isinstance(cli.clock, Clock)
    cli.clock.now = START + when
    done = cli.fetch(*args)
    assert_no_traceback(done)
    return done.returncode, source_line(done.stderr, "blog")


def not_due(until: timedelta, why: str) -> str:
    return f"blog: not due until {iso(START + until)} ({why}; --force fetches it now)"


def test_max_age_holds_the_next_fetch_back_until_it_has_passed(
    cli: Cli, server: FeedServer
) -> None:
    one_source(cli, server.feed("/feed", ONE_ITEM, headers={"Cache-Control": "max-age=3600"}))
    assert at(cli, timedelta(0)) == (0, "blog: 1 new, 0 updated")

    assert at(cli, 59 * MINUTE) == (0, not_due(HOUR, "its server asks for 1h"))
    assert server.hits["/feed"] == 1  # not due: not asked

    assert at(cli, HOUR) == (0, "blog: not modified")
    assert server.hits["/feed"] == 2


def test_a_source_not_due_is_neither_failed_nor_said_under_quiet(
    cli: Cli, server: FeedServer
) -> None:
    """cron mails what a job prints: a run in which nothing was due prints nothing at all."""
    cached = {"Cache-Control": "max-age=3600"}
    write_config(
        cli,
        source_block("blog", server.feed("/a", ONE_ITEM, headers=cached))
        + source_block("news", server.feed("/b", rss("news", [("n", "N", "T.")]), headers=cached)),
    )
    cli.clock = clock = Clock(START)
    assert cli.fetch().returncode == 0
    clock.advance(30 * MINUTE)

    done = cli.fetch()

    assert done.returncode == 0, done.stderr
    assert total_line(done.stderr) == (
        "total: 2 sources, 0 new, 0 updated, 0 duplicates, 0 not modified, 0 failed, 2 not due"
    )
    assert source_line(done.stderr, "news").startswith("news: not due until ")
    quiet = cli.run("-q", "fetch")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    assert server.hits == {"/a": 1, "/b": 1}


def test_expires_is_read_against_the_answers_date_not_the_local_clock(
    cli: Cli, server: FeedServer
) -> None:
    """The server's clock is 25 years behind: its Expires, two hours after its Date, is long past
    by this machine's clock, yet the answer is fresh for two hours."""
    date = datetime(2001, 1, 1, 12, 0, tzinfo=UTC)
    headers = {"Date": format_datetime(date, usegmt=True),
               "Expires": format_datetime(date + 2 * HOUR, usegmt=True)}  # fmt: skip
    one_source(cli, server.route("/feed", answering(ONE_ITEM, headers)))
    assert at(cli, timedelta(0))[0] == 0

    assert at(cli, 119 * MINUTE) == (0, not_due(2 * HOUR, "its server asks for 2h"))
    assert server.hits["/feed"] == 1
    assert at(cli, 2 * HOUR) == (0, "blog: not modified")
    assert server.hits["/feed"] == 2


SY = 'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"'


@pytest.mark.parametrize(
    ("channel", "wait"),
    [
        ("<ttl>90</ttl>", 90 * MINUTE),
        ("<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>",
         6 * HOUR),
        ("<ttl>30</ttl><sy:updatePeriod>hourly</sy:updatePeriod>", HOUR),  # the longer
    ],
)  # fmt: skip
def test_the_feeds_ttl_and_update_period(
    cli: Cli, server: FeedServer, channel: str, wait: timedelta
) -> None:
    body = ONE_ITEM.replace(b'<rss version="2.0">', f'<rss version="2.0" {SY}>'.encode())
    body = body.replace(b"<channel>", b"<channel>" + channel.encode())
    one_source(cli, server.feed("/feed", body))
    assert at(cli, timedelta(0)) == (0, "blog: 1 new, 0 updated")
    spelled = {90 * MINUTE: "90min", 6 * HOUR: "6h", HOUR: "1h"}[wait]

    assert at(cli, wait - MINUTE) == (0, not_due(wait, f"its feed asks for {spelled}"))
    assert server.hits["/feed"] == 1
    # not modified: the document is the one that asked, and what it asked still holds
    assert at(cli, wait) == (0, "blog: not modified")
    assert at(cli, 2 * wait - MINUTE) == (0, not_due(2 * wait, f"its feed asks for {spelled}"))
    assert server.hits["/feed"] == 2


def test_a_304_says_how_long_it_is_fresh_as_a_200_does(cli: Cli, server: FeedServer) -> None:
    def route(h: _Handler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            answering(b"", {"ETag": '"v1"', "Cache-Control": "max-age=7200"}, 304)(h)
        else:
            answering(ONE_ITEM, {"ETag": '"v1"', "Cache-Control": "max-age=3600"})(h)

    one_source(cli, server.route("/feed", route))
    assert at(cli, timedelta(0))[0] == 0
    assert at(cli, HOUR) == (0, "blog: not modified")  # the 304, fresh for two hours

    assert at(cli, 2 * HOUR) == (0, not_due(3 * HOUR, "its server asks for 2h"))
    assert server.hits["/feed"] == 2


def test_a_sources_interval_sets_its_pace(cli: Cli, server: FeedServer) -> None:
    one_source(cli, server.feed("/feed", ONE_ITEM), interval="6h")
    assert at(cli, timedelta(0))[0] == 0

    assert at(cli, 6 * HOUR - MINUTE) == (0, not_due(6 * HOUR, "its interval is 6h"))
    assert server.hits["/feed"] == 1
    assert at(cli, 6 * HOUR) == (0, "blog: not modified")
    assert server.hits["/feed"] == 2


def test_a_file_is_read_on_every_run_unless_its_interval_says(cli: Cli, tmp_path: Path) -> None:
    """No server to be polite to: min_interval is for servers; a file's own interval holds."""
    feed = tmp_path / "feed.xml"
    feed.write_bytes(ONE_ITEM)
    one_source(cli, str(feed))
    assert at(cli, timedelta(0))[0] == 0
    assert at(cli, MINUTE) == (0, "blog: not modified")

    one_source(cli, str(feed), interval="2h")
    assert at(cli, 2 * MINUTE) == (0, not_due(MINUTE + 2 * HOUR, "its interval is 2h"))


def test_min_interval_by_default_and_as_configured(cli: Cli, server: FeedServer) -> None:
    """10 minutes by default; a server asking for less waits as long as min_interval anyway."""
    url = server.feed("/feed", ONE_ITEM, headers={"Cache-Control": "max-age=60"})
    one_source(cli, url)
    assert at(cli, timedelta(0))[0] == 0
    assert at(cli, 9 * MINUTE) == (0, not_due(10 * MINUTE, "min_interval is 10min"))
    assert server.hits["/feed"] == 1
    assert at(cli, 10 * MINUTE) == (0, "blog: not modified")
    assert server.hits["/feed"] == 2

    # the setting counts from the next run on, for what was fetched before it changed too
    one_source(cli, url, settings='min_interval = "2h"')
    assert at(cli, 2 * HOUR + 9 * MINUTE) == (0, not_due(2 * HOUR + 10 * MINUTE,
                                                         "min_interval is 2h"))  # fmt: skip
    assert server.hits["/feed"] == 2
    one_source(cli, url, settings='min_interval = "0min"')
    assert at(cli, 11 * MINUTE) == (0, "blog: not modified")  # max-age=60 has passed
    assert at(cli, timedelta(minutes=11, seconds=30)) == (
        0, not_due(12 * MINUTE, "its server asks for 1min"),
    )  # fmt: skip


def test_the_wait_is_capped_at_a_day(cli: Cli, server: FeedServer) -> None:
    one_source(cli, server.feed("/feed", ONE_ITEM, headers={"Cache-Control": "max-age=31536000"}))
    assert at(cli, timedelta(0))[0] == 0

    assert at(cli, DAY - MINUTE) == (0, not_due(DAY, "its server asks for 365d, capped at 1d"))
    assert at(cli, DAY) == (0, "blog: not modified")
    assert server.hits["/feed"] == 2


def test_force_fetches_what_is_not_due_and_a_named_source_is_still_polite(
    cli: Cli, server: FeedServer
) -> None:
    one_source(cli, server.feed("/feed", ONE_ITEM, headers={"Cache-Control": "max-age=3600"}))
    assert at(cli, timedelta(0))[0] == 0

    assert at(cli, MINUTE, "--source", "blog") == (0, not_due(HOUR, "its server asks for 1h"))
    assert server.hits["/feed"] == 1
    # --force: asked now, and parsed whatever the validators say (its other meaning)
    assert at(cli, 2 * MINUTE, "--force") == (0, "blog: 0 new, 0 updated")
    assert server.hits["/feed"] == 2
    assert at(cli, 3 * MINUTE) == (0, not_due(2 * MINUTE + HOUR, "its server asks for 1h"))


def test_sources_shows_the_next_fetch(cli: Cli, server: FeedServer) -> None:
    url = server.feed("/feed", ONE_ITEM, headers={"Cache-Control": "max-age=3600"})
    write_config(cli, source_block("blog", url) + source_block("new", server.url("/none")))
    cli.clock = clock = Clock(START)
    assert cli.fetch("--source", "blog").returncode == 0

    listed = sources_json(cli)
    assert listed["blog"]["next_fetch"] == iso(START + HOUR)
    assert listed["new"]["next_fetch"] is None  # never fetched: the next fetch fetches it
    utc = {"TZ": "UTC", "COLUMNS": "200"}
    table = cli.run("sources", "--format", "table", env=utc).stdout
    assert re.search(r"^blog\s+0 min\s+2026-05-04 10:00\s+200\b", table, re.M), table
    plain = cli.run("sources", "--format", "plain").stdout.splitlines()
    assert plain[0].split("\t")[-1] == iso(START + HOUR)
    assert plain[1].split("\t")[-1] == "-"

    clock.advance(HOUR)
    table = cli.run("sources", "--format", "table", env=utc).stdout
    assert re.search(r"^blog\s+1 h\s+due\s+200\b", table, re.M), table
    # min_interval is the config's: applied when asked, it changes the next fetch at once
    write_config(
        cli, '[settings]\nmin_interval = "3h"\n\n' + source_block("blog", url)
    )  # fmt: skip
    assert sources_json(cli)["blog"]["next_fetch"] == iso(START + 3 * HOUR)


def test_a_failing_sources_next_fetch_is_its_next_try(cli: Cli, server: FeedServer) -> None:
    """The backoff decides for a failing source, as before; once it answers, politeness again."""
    one_source(cli, server.feed("/feed", b"busy", "text/plain", 503, {"Retry-After": "7200"}))
    assert at(cli, timedelta(0))[0] == 1
    health = sources_json(cli)["blog"]
    assert health["next_fetch"] == health["next_try"] == iso(START + 2 * HOUR)
    server.feed("/feed", ONE_ITEM, headers={"Cache-Control": "max-age=600"})
    assert at(cli, 2 * HOUR) == (0, "blog: 1 new, 0 updated")
    assert sources_json(cli)["blog"]["next_fetch"] == iso(START + 2 * HOUR + 10 * MINUTE)


def test_the_readme_crontab_every_quarter_hour_asks_only_what_is_due(
    cli: Cli, server: FeedServer
) -> None:
    """README, "Use it from cron and scripts": its fetch line, run every 15 minutes, prints
    nothing (no mail) and asks each server only when it is due."""
    crontab = re.search(r"```cron\n(.*?)```", SCRIPTS, flags=re.S)
    assert crontab is not None
    (line,) = [row for row in crontab.group(1).splitlines() if row.endswith(" fetch")]
    args = shlex.split(line.split(" archfeed ", 1)[1])
    write_config(
        cli,
        source_block("hourly", server.feed("/h", ONE_ITEM, headers={"Cache-Control": "max-age=3600"}))
        + source_block("plain", server.feed("/p", rss("p", [("p", "P", "T.")]))),
    )  # fmt: skip
    cli.clock = clock = Clock(START)
    for _ in range(8):  # two hours
        done = cli.run(*args)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
        clock.advance(15 * MINUTE)
    assert server.hits == {"/h": 2, "/p": 8}  # every hour; every run, past min_interval


@pytest.mark.parametrize(
    ("where", "line", "problem"),
    [
        ('[settings]\nmin_interval = "10m"\n', 2, "minutes or months?"),
        ('[settings]\nmin_interval = "soon"\n', 2, "a number and min, h, d or w, up to 30d"),
        ("[settings]\n\nmin_interval = 600\n", 3, "'min_interval' must be a duration"),
        ('[[source]]\nurl = "https://a.example/feed"\ninterval = "40d"\n', 3, "up to 30d"),
        ('[[source]]\nurl = "https://a.example/feed"\ninterval = ""\n', 3, "is not a duration"),
    ],
)
def test_a_bad_interval_is_a_config_error_with_its_line(
    cli: Cli, where: str, line: int, problem: str
) -> None:
    write_config(cli, where)
    for command in ("check", "fetch"):
        done = cli.run(command)
        assert done.returncode == 2, done.stderr
        assert f"(line {line})" in done.stderr and problem in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"cache-control": "public, max-age=300"}, 300.0),
        ({"cache-control": 'max-age="300", must-revalidate'}, 300.0),
        ({"cache-control": "s-maxage=900"}, 900.0),  # alone: the server's word still
        ({"cache-control": "max-age=300, s-maxage=900"}, 300.0),  # a private client's directive
        ({"cache-control": "no-cache, max-age=300"}, 0.0),
        ({"cache-control": "no-store"}, 0.0),
        ({"cache-control": "max-age=300", "age": "120"}, 180.0),
        ({"cache-control": "max-age=300", "age": "900"}, 0.0),
        ({"cache-control": "max-age=" + "9" * 40}, None),  # no number a server means
        ({"cache-control": "a" * 16_000 + "!, max-age=60"}, 60.0),  # read in one pass
        ({"expires": "Fri, 31 Dec 99999 23:59:59 GMT"}, 0.0),  # no date: expired already
        ({"cache-control": "max-age=300", "expires": "Thu, 01 Jan 2099 00:00:00 GMT"}, 300.0),
        ({"expires": "Mon, 04 May 2026 10:00:00 GMT", "date": "Mon, 04 May 2026 09:00:00 GMT"},
         3600.0),
        ({"expires": "0", "date": "Mon, 04 May 2026 09:00:00 GMT"}, 0.0),  # expired already
    ],
)  # fmt: skip
def test_what_the_headers_say(headers: dict[str, str], seconds: float | None) -> None:
    assert fresh_for(headers) == seconds


def test_next_fetch_comes_after_the_keys_scripts_read(cli: Cli) -> None:
    """`next_fetch` came after the keys a script already reads, which keep their places."""
    write_config(cli, source_block("blog", "https://a.example/feed"))
    keys = list(json.loads(cli.run("sources", "--format", "json").stdout)[0])
    assert keys[-1] == "next_fetch"
    assert keys[:-1] == ["name", "url", "enabled", "last_fetch", "status", "entries", "last_new",
                         "failures", "last_error", "next_try", "moved_to", "gone"]  # fmt: skip
