"""End-to-end: `archfeed fetch` and `archfeed list` run as a user runs them, against feeds served
on 127.0.0.1 by pytest-httpserver (and, for the trickling server, a plain http.server).

The fixture feeds in tests/fixtures/ are hand-written:
  rss2.xml       RSS 2.0, guids, categories, HTML descriptions with entities and <script>
  atom.xml       Atom 1.0; one title holds `[bold red]pwned[/]` and an ESC as `&#x1B;` (not
                 well-formed XML 1.0: feedparser falls back to its loose parser and still reads it)
  jsonfeed.json  JSON Feed 1.1; a title with ESC, BEL and U+202E
  ru-cp1251.xml  Russian RSS encoded in windows-1251
  noguid.xml     RSS without guids; one item without a link either
  illformed.xml  an unescaped & and a missing closing tag
"""

from __future__ import annotations

import gzip
import json
import re
import signal
import subprocess
import threading
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conftest import (
    ENTRY_KEYS,
    EVERY_RUN,
    FIXTURES,
    Cli,
    Clock,
    FeedServer,
    assert_no_traceback,
    fixture_bytes,
    make_cli,
    never_answer,
    source_line,
    total_line,
    trickle_body,
)

RSS = "application/rss+xml; charset=utf-8"

# name → (fixture file, Content-Type served, entries in it)
SIX: dict[str, tuple[str, str, int]] = {
    "rss2": ("rss2.xml", RSS, 3),
    "atom": ("atom.xml", "application/atom+xml", 3),
    "jsonfeed": ("jsonfeed.json", "application/feed+json", 3),
    "ru": ("ru-cp1251.xml", "application/rss+xml; charset=windows-1251", 2),
    "noguid": ("noguid.xml", "text/xml; charset=utf-8", 3),
    "illformed": ("illformed.xml", "application/rss+xml", 2),
}
RU_TITLES = {
    "Как мы перенесли Kafka consumers на Kubernetes",
    "Шардирование PostgreSQL: уроки первого года",
}
HOSTILE = ("\x1b", "\x07", "\u202e", "\\u001b", "\\u0007", "\\u202e", "\\u202E")
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

TINY_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Tiny</title><link>https://tiny.example/</link>
<item><title>Small is beautiful</title><link>https://tiny.example/1</link><guid>tiny-1</guid>
<pubDate>Mon, 03 Feb 2025 10:00:00 +0000</pubDate><description>One short item.</description></item>
</channel></rss>
"""


_BIG_ITEM = (
    "<item><title>Padding item {0}</title><link>https://big.example/{0}</link><guid>big-{0}</guid>"
    "<description>The same sentence about sharding, replicas and write-ahead logs, again and again."
    "</description></item>\n"
)
# 8 kB of feed that gzips to well under 1000 bytes
BIG_FEED = (
    '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Big</title>'
    "<link>https://big.example/</link>\n"
    + "".join(_BIG_ITEM.format(i) for i in range(40))
    + "</channel></rss>\n"
).encode()


def serve(
    server: HTTPServer,
    name: str,
    body: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> str:
    """Serve `body` at /NAME on every request; return its URL."""
    server.expect_request(f"/{name}").respond_with_data(
        body, content_type=content_type, headers=headers or {}
    )
    return server.url_for(f"/{name}")


def serve_fixture(server: HTTPServer, name: str, path: str | None = None) -> str:
    """Serve the fixture of SIX[name] at /PATH (default: /NAME) with its Content-Type."""
    filename, content_type, _ = SIX[name]
    return serve(server, path or name, fixture_bytes(filename), content_type)


def by_title(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["title"]: entry for entry in entries}


# -- 1. the six fixtures --------------------------------------------------------------------------


def test_fetch_six_sources_and_list_json_contract(cli: Cli, httpserver: HTTPServer) -> None:
    cli.write_config([(name, serve_fixture(httpserver, name)) for name in SIX])

    done = cli.fetch()

    assert_no_traceback(done)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # summaries go to stderr, data to stdout
    for name, (_, _, count) in SIX.items():
        assert re.match(rf"^{name}: {count} new, 0 updated\b", source_line(done.stderr, name))
    expected = sum(count for _, _, count in SIX.values())
    assert total_line(done.stderr) == (
        f"total: 6 sources, {expected} new, 0 updated, 0 duplicates, 0 not modified, 0 failed"
    )
    # the ill-formed ones are read with a warning, not failed
    assert "ill-formed" in source_line(done.stderr, "illformed")

    entries = cli.list_json()
    assert len(entries) == expected == cli.count()
    for entry in entries:
        assert set(entry) == ENTRY_KEYS, entry
        assert ISO_Z.match(entry["published"]), entry
        assert ISO_Z.match(entry["first_seen"]), entry
        assert entry["topics"] == sorted(entry["topics"])
        assert isinstance(entry["also_at"], list)
        assert entry["title"]
    assert len({entry["id"] for entry in entries}) == expected
    published = [entry["published"] for entry in entries]
    assert published == sorted(published, reverse=True), "newest first"
    per_source = {name: sum(e["source"] == name for e in entries) for name in SIX}
    assert per_source == {name: count for name, (_, _, count) in SIX.items()}


def test_rss_fields_are_plain_text(cli: Cli, httpserver: HTTPServer) -> None:
    cli.write_config([("rss2", serve_fixture(httpserver, "rss2"))])
    assert cli.fetch().returncode == 0

    entries = by_title(cli.list_json("--excerpt", "1000"))

    idem = entries["Idempotency keys in payment APIs"]
    assert idem["url"] == "https://backend-notes.example/posts/idempotency-keys/"
    assert idem["published"] == "2025-03-04T09:30:00Z"
    assert idem["author"] == "Maria Lindqvist"
    assert idem["lang"] == "en"
    assert {"api-design", "payments"} <= set(idem["topics"])
    assert "the response & the client" in idem["excerpt"]  # &amp;amp; → &amp; → &
    assert "24\xa0hours — and" in idem["excerpt"]  # &nbsp; and &mdash; decoded
    assert "Idempotency-Key header lets" in idem["excerpt"]  # <a> text kept, tag dropped
    outbox = entries["The outbox pattern without a message broker"]
    assert outbox["published"] == "2025-02-17T13:00:00Z"  # +0100 converted to UTC
    for entry in entries.values():
        for leak in ("<p>", "<a ", "href", "&amp;", "&nbsp;", "tracking-pixel", "alert(", "script"):
            assert leak not in entry["excerpt"], (leak, entry["excerpt"])


# -- 2. refetch of unchanged feeds ---------------------------------------------------------------


def test_second_fetch_of_unchanged_feeds_adds_nothing(cli: Cli, httpserver: HTTPServer) -> None:
    cli.write_config([(name, serve_fixture(httpserver, name)) for name in SIX])
    first = cli.fetch()
    assert first.returncode == 0, first.stderr
    before = cli.list_json()

    second = cli.fetch()

    assert_no_traceback(second)
    assert second.returncode == 0, second.stderr
    assert re.search(r"\b0 new, 0 updated\b", total_line(second.stderr)), second.stderr
    assert ", 0 failed" in total_line(second.stderr)
    assert cli.count() == len(before)
    assert cli.rows("SELECT count(*) FROM (SELECT DISTINCT source, key FROM entries)")[0][0] == len(
        before
    )
    after = cli.list_json()
    assert [(e["id"], e["first_seen"]) for e in after] == [
        (e["id"], e["first_seen"]) for e in before
    ]


def test_forced_refetch_of_unchanged_feeds_adds_nothing(cli: Cli, httpserver: HTTPServer) -> None:
    """--force parses every body again: identities must still match, nothing is new or updated."""
    cli.write_config([(name, serve_fixture(httpserver, name)) for name in SIX])
    assert cli.fetch().returncode == 0
    count = cli.count()

    again = cli.fetch("--force")

    assert again.returncode == 0, again.stderr
    for name in SIX:
        assert re.match(rf"^{name}: 0 new, 0 updated\b", source_line(again.stderr, name))
    assert cli.count() == count


# -- 3. conditional GET ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("validator", "conditional"),
    [("ETag", "If-None-Match"), ("Last-Modified", "If-Modified-Since")],
)
def test_conditional_get_answered_with_304(
    cli: Cli, httpserver: HTTPServer, validator: str, conditional: str
) -> None:
    value = '"rss2-v1"' if validator == "ETag" else "Tue, 04 Mar 2025 10:00:00 GMT"
    body = fixture_bytes("rss2.xml")

    def handler(request: Request) -> Response:
        if request.headers.get(conditional) == value:
            return Response(status=304, headers={validator: value})
        return Response(body, status=200, content_type=RSS, headers={validator: value})

    httpserver.expect_request("/rss2").respond_with_handler(handler)
    cli.write_config([("rss2", httpserver.url_for("/rss2"))], settings=EVERY_RUN)
    assert cli.fetch().returncode == 0

    second = cli.run("--verbose", "fetch")

    assert_no_traceback(second)
    assert second.returncode == 0, second.stderr
    (_, first_response), (request, response) = httpserver.log
    assert first_response.status_code == 200
    assert request.headers.get(conditional) == value
    assert response.status_code == 304
    assert source_line(second.stderr, "rss2") == "rss2: not modified [HTTP 304]"  # -v: the status
    assert "1 not modified" in total_line(second.stderr)
    assert cli.count() == 3


def _etag_handler(body: bytes) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(body, content_type=RSS, headers={"ETag": '"v1"'})

    return handler


def test_conditional_get_not_modified_counted_in_total(cli: Cli, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/rss2").respond_with_handler(
        _etag_handler(fixture_bytes("rss2.xml"))
    )
    cli.write_config([("rss2", httpserver.url_for("/rss2"))], settings=EVERY_RUN)
    assert cli.fetch().returncode == 0

    second = cli.fetch()

    assert second.returncode == 0
    assert total_line(second.stderr) == (
        "total: 1 sources, 0 new, 0 updated, 0 duplicates, 1 not modified, 0 failed"
    )


def test_not_modified_source_has_a_summary_line(cli: Cli, httpserver: HTTPServer) -> None:
    """docs/design.md, "The data flow of a fetch": one summary line per source, not-modified ones too (once printed only with -v)."""
    httpserver.expect_request("/rss2").respond_with_handler(
        _etag_handler(fixture_bytes("rss2.xml"))
    )
    cli.write_config([("rss2", httpserver.url_for("/rss2"))], settings=EVERY_RUN)
    assert cli.fetch().returncode == 0

    second = cli.fetch()

    assert source_line(second.stderr, "rss2") == "rss2: not modified"


def test_unchanged_body_after_a_304_is_still_not_modified(cli: Cli, httpserver: HTTPServer) -> None:
    """A 304 keeps the stored body hash (it once wrote NULL over it), so a later 200 with the
    same bytes is still 'not modified'."""
    body = fixture_bytes("rss2.xml")
    honour = [True]

    def handler(request: Request) -> Response:
        if honour[0] and request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(body, content_type=RSS, headers={"ETag": '"v1"'})

    httpserver.expect_request("/rss2").respond_with_handler(handler)
    cli.write_config([("rss2", httpserver.url_for("/rss2"))], settings=EVERY_RUN)
    assert cli.fetch().returncode == 0
    assert "1 not modified" in total_line(cli.fetch().stderr)  # a 304
    honour[0] = False  # the server now ignores If-None-Match but serves the same bytes

    third = cli.fetch()

    assert "1 not modified" in total_line(third.stderr), third.stderr


# -- 4. a changed entry ---------------------------------------------------------------------------


def test_changed_entry_is_updated_not_duplicated(cli: Cli, httpserver: HTTPServer) -> None:
    old_title = "Idempotency keys in payment APIs"
    new_title = "Idempotency keys in payment APIs, revisited"
    body = fixture_bytes("rss2.xml")
    assert body.count(old_title.encode()) == 1
    url = serve(httpserver, "rss2", body, RSS)
    cli.write_config([("rss2", url)], settings=EVERY_RUN)
    assert cli.fetch().returncode == 0
    before = by_title(cli.list_json())[old_title]

    httpserver.clear_all_handlers()
    serve(httpserver, "rss2", body.replace(old_title.encode(), new_title.encode()), RSS)
    done = cli.fetch()

    assert done.returncode == 0, done.stderr
    assert source_line(done.stderr, "rss2") == "rss2: 0 new, 1 updated"
    assert cli.count() == 3
    entries = by_title(cli.list_json())
    assert old_title not in entries
    after = entries[new_title]
    assert after["id"] == before["id"]
    assert after["first_seen"] == before["first_seen"]
    # the full-text index follows the update
    assert [e["title"] for e in cli.list_json("--search", "revisited")] == [new_title]


# -- 5. one source failing ------------------------------------------------------------------------


def test_404_source_fails_the_other_is_stored(cli: Cli, httpserver: HTTPServer) -> None:
    good = serve_fixture(httpserver, "rss2")
    httpserver.expect_request("/gone").respond_with_data("no such feed", status=404)
    cli.write_config([("good", good), ("gone", httpserver.url_for("/gone"))])

    done = cli.fetch()

    assert_no_traceback(done)
    assert done.returncode == 3, done.stderr
    assert "failed" in source_line(done.stderr, "gone")
    assert "404" in source_line(done.stderr, "gone")
    assert source_line(done.stderr, "good") == "good: 3 new, 0 updated"
    assert "1 failed" in total_line(done.stderr)
    assert {e["source"] for e in cli.list_json()} == {"good"}
    assert cli.count() == 3


def test_unreachable_and_non_feed_sources_fail_cleanly(cli: Cli, httpserver: HTTPServer) -> None:
    good = serve_fixture(httpserver, "jsonfeed")
    html = serve(
        httpserver, "html", b"<!doctype html><html><body><p>Hello</p></body></html>", "text/html"
    )
    cli.write_config(
        [
            ("good", good),
            ("html", html),
            ("refused", "http://127.0.0.1:9/feed.xml"),
        ]
    )

    done = cli.fetch()

    assert_no_traceback(done)
    assert done.returncode == 3
    assert source_line(done.stderr, "html").startswith("html: failed:")
    assert source_line(done.stderr, "refused").startswith("refused: failed:")
    assert source_line(done.stderr, "good") == "good: 3 new, 0 updated"
    assert "2 failed" in total_line(done.stderr)


# -- 6. hostile text ------------------------------------------------------------------------------


def test_hostile_text_is_inert_in_every_format(cli: Cli, httpserver: HTTPServer) -> None:
    cli.write_config([(name, serve_fixture(httpserver, name)) for name in ("atom", "jsonfeed")])
    assert cli.fetch().returncode == 0

    outputs = {
        fmt: cli.run("list", "--format", fmt, "--excerpt", "1000")
        for fmt in ("json", "jsonl", "plain", "table")
    }

    for fmt, done in outputs.items():
        assert done.returncode == 0, (fmt, done.stderr)
        for bad in HOSTILE:
            assert bad not in done.stdout, (fmt, bad)
    titles = by_title(json.loads(outputs["json"].stdout))
    assert "Backpressure [31mred[0m alert for gnp.exe consumers" in titles
    assert "Hardening webhooks [bold red]pwned[/] [31m edition" in titles
    # rich markup in feed text prints literally, not as red bold text
    assert "[bold red]pwned[/]" in outputs["table"].stdout
    assert "[bold red]pwned[/]" in outputs["plain"].stdout
    for done in outputs.values():  # <script> bodies never become text
        assert "evil.example/steal" not in done.stdout
        assert "console.log" not in done.stdout


# -- 7. windows-1251 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["application/rss+xml; charset=windows-1251", "application/xml", "text/xml"],
)
def test_cp1251_titles_decoded(cli: Cli, httpserver: HTTPServer, content_type: str) -> None:
    url = serve(httpserver, "ru", fixture_bytes("ru-cp1251.xml"), content_type)
    cli.write_config([("ru", url)])

    done = cli.fetch()

    assert done.returncode == 0, done.stderr
    entries = cli.list_json()
    assert {e["title"] for e in entries} == RU_TITLES
    assert all(e["lang"] == "ru" for e in entries)
    kafka = by_title(entries)["Как мы перенесли Kafka consumers на Kubernetes"]
    assert kafka["excerpt"].startswith("Ребалансировка группы потребителей")
    assert kafka["published"] == "2025-02-24T04:00:00Z"  # +0300
    plain = cli.run("list", "--format", "plain")
    assert "Шардирование PostgreSQL: уроки первого года" in plain.stdout
    search = cli.list_json("--search", "Ребалансировка")
    assert [e["title"] for e in search] == ["Как мы перенесли Kafka consumers на Kubernetes"]


# -- 8. no guid -----------------------------------------------------------------------------------


def test_noguid_refetch_does_not_duplicate(cli: Cli, httpserver: HTTPServer) -> None:
    body = fixture_bytes("noguid.xml")
    url = serve(httpserver, "noguid", body, RSS)
    cli.write_config([("noguid", url)], settings=EVERY_RUN)
    assert cli.fetch().returncode == 0
    first = cli.list_json()
    assert len(first) == 3
    linkless = by_title(first)["Notes from the on-call handover"]
    assert linkless["url"] is None
    keys = sorted(str(row[0]) for row in cli.rows("SELECT key FROM entries"))
    assert "https://opslog.example/2025/02/pool-exhaustion" in keys

    # a changed channel description changes the body hash: every item is parsed again
    httpserver.clear_all_handlers()
    serve(httpserver, "noguid", body.replace(b"Small posts", b"Short posts"), RSS)
    again = cli.fetch()
    forced = cli.fetch("--force")

    for done in (again, forced):
        assert done.returncode == 0, done.stderr
        assert source_line(done.stderr, "noguid") == "noguid: 0 new, 0 updated"
    assert cli.count() == 3
    assert sorted(str(row[0]) for row in cli.rows("SELECT key FROM entries")) == keys
    assert [e["id"] for e in cli.list_json()] == [e["id"] for e in first]


def _news_page(items: list[tuple[str, str, str]]) -> bytes:
    """A project's news feed as some are written: no guids, every item linking to one page."""
    body = "".join(
        f"<item><title>{title}</title><link>https://project.example/news.html</link>"
        f"<pubDate>{date}</pubDate><description>{text}</description></item>"
        for title, date, text in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News</title>'
        f"<link>https://project.example/</link>{body}</channel></rss>"
    ).encode()


NEWS = [
    (f"Release 1.{n}", f"Mon, {10 + n:02d} Mar 2025 09:00:00 GMT", f"Version 1.{n} fixes bug {n}.")
    for n in range(5)
]


def test_items_sharing_one_link_are_each_stored_and_a_new_one_is_new(
    cli: Cli, tmp_path: Path
) -> None:
    """Every item links to news.html and none has a guid: five posts are five entries, and a
    sixth is "1 new" (once they collapsed into one entry and a new post was "1 updated")."""
    feed = tmp_path / "news.xml"
    feed.write_bytes(_news_page(NEWS))
    cli.write_config([("news", str(feed))])
    done = cli.fetch()
    assert source_line(done.stderr, "news") == "news: 5 new, 0 updated"
    assert sorted(e["title"] for e in cli.list_json()) == [t for t, _, _ in NEWS]
    assert cli.run("digest", "--format", "json").returncode == 0  # the mark moves past them
    extra = ("Release 1.9", "Mon, 24 Mar 2025 09:00:00 GMT", "Version 1.9 is out.")
    feed.write_bytes(_news_page([extra, *NEWS]))
    again = cli.fetch()
    assert source_line(again.stderr, "news") == "news: 1 new, 0 updated"
    digest = json.loads(cli.run("digest", "--format", "json").stdout)
    assert [e["title"] for g in digest["groups"] for e in g["entries"]] == ["Release 1.9"]
    assert cli.count() == 6


def test_an_entry_stored_under_a_shared_link_keeps_its_identity(cli: Cli, tmp_path: Path) -> None:
    """A post stored under its link (by an earlier version, or while it was the feed's only
    item) is not duplicated when other items come to share that link."""
    feed = tmp_path / "news.xml"
    feed.write_bytes(_news_page(NEWS[:1]))
    cli.write_config([("news", str(feed))])
    assert cli.fetch().returncode == 0
    assert cli.rows("SELECT key FROM entries") == [("https://project.example/news.html",)]
    feed.write_bytes(_news_page(NEWS[1:] + NEWS[:1]))
    grown = cli.fetch()
    assert source_line(grown.stderr, "news") == "news: 4 new, 0 updated"
    assert cli.count() == 5
    assert len({e["title"] for e in cli.list_json()}) == 5


def test_an_entry_stored_under_a_shared_link_is_updated_not_duplicated(
    cli: Cli, tmp_path: Path
) -> None:
    """The same, when the stored post has changed since (or this version reads it otherwise):
    the first item that shares its link takes its identity, as earlier versions gave it."""
    feed = tmp_path / "news.xml"
    feed.write_bytes(_news_page(NEWS[:1]))
    cli.write_config([("news", str(feed))])
    assert cli.fetch().returncode == 0
    title, date, text = NEWS[0]
    feed.write_bytes(_news_page([(title, date, text + " Corrected."), *NEWS[1:]]))
    grown = cli.fetch()
    assert source_line(grown.stderr, "news") == "news: 4 new, 1 updated"
    assert cli.count() == 5


def test_an_item_twice_in_a_document_keeps_the_richer_copy(cli: Cli, tmp_path: Path) -> None:
    item = "<item><guid>same-1</guid><title>{}</title><description>{}</description></item>"
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Twice</title>'
        + item.format("Kafka", "")
        + item.format("Kafka consumer groups", "How rebalancing works, and when it hurts.")
        + "</channel></rss>"
    )
    feed = tmp_path / "twice.xml"
    feed.write_text(body, encoding="utf-8")
    cli.write_config([("twice", str(feed))])
    assert cli.fetch().returncode == 0
    (entry,) = cli.list_json()
    assert entry["title"] == "Kafka consumer groups"
    assert entry["excerpt"].startswith("How rebalancing works")


# -- 9. ill-formed --------------------------------------------------------------------------------


def test_illformed_feed_stores_what_can_be_read(cli: Cli, httpserver: HTTPServer) -> None:
    cli.write_config([("illformed", serve_fixture(httpserver, "illformed"))])

    done = cli.fetch()

    assert_no_traceback(done)
    assert done.returncode in (0, 3)
    entries = cli.list_json()
    titles = {e["title"] for e in entries}
    assert "gRPC vs REST & JSON: what we measured" in titles
    assert len(entries) >= 1
    assert "warning" in source_line(done.stderr, "illformed")


def test_garbage_body_fails_without_traceback(cli: Cli, httpserver: HTTPServer) -> None:
    garbage = serve(httpserver, "garbage", bytes(range(256)) * 8, "application/rss+xml")
    empty = serve(httpserver, "empty", b"", "application/rss+xml")
    bad_json = serve(
        httpserver,
        "badjson",
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
        "application/feed+json",
    )
    cli.write_config([("garbage", garbage), ("empty", empty), ("badjson", bad_json)])

    done = cli.fetch()

    assert_no_traceback(done)
    assert done.returncode == 1, done.stderr
    for name in ("garbage", "empty", "badjson"):
        assert source_line(done.stderr, name).startswith(f"{name}: failed:")
    assert "3 failed" in total_line(done.stderr)
    assert cli.list_json() == []


# -- 10. gzip -------------------------------------------------------------------------------------


def test_gzip_bodies_with_and_without_content_encoding(cli: Cli, httpserver: HTTPServer) -> None:
    encoded = serve(
        httpserver,
        "encoded",
        gzip.compress(fixture_bytes("rss2.xml")),
        RSS,
        headers={"Content-Encoding": "gzip"},
    )
    gz_file = serve(
        httpserver, "atom.xml.gz", gzip.compress(fixture_bytes("atom.xml")), "application/gzip"
    )
    cli.write_config([("encoded", encoded), ("gzfile", gz_file)])

    done = cli.fetch()

    assert_no_traceback(done)
    assert done.returncode == 0, done.stderr
    assert source_line(done.stderr, "encoded").startswith("encoded: 3 new, 0 updated")
    assert source_line(done.stderr, "gzfile").startswith("gzfile: 3 new, 0 updated")
    titles = {e["title"] for e in cli.list_json()}
    assert "Idempotency keys in payment APIs" in titles
    assert "Raft leader election, step by step" in titles


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def test_deflate_bodies_zlib_wrapped_and_raw(cli: Cli, httpserver: HTTPServer) -> None:
    """Content-Encoding: deflate is zlib-wrapped by the standard (RFC 9110) and raw deflate from
    many servers: both are read."""
    deflate = {"Content-Encoding": "deflate"}
    wrapped = serve(
        httpserver, "wrapped", zlib.compress(fixture_bytes("rss2.xml")), RSS, headers=deflate
    )
    atom = _raw_deflate(fixture_bytes("atom.xml"))
    raw = serve(httpserver, "raw", atom, "application/atom+xml", headers=deflate)
    cli.write_config([("wrapped", wrapped), ("raw", raw)])

    done = cli.fetch()

    assert done.returncode == 0, done.stderr
    assert source_line(done.stderr, "wrapped") == "wrapped: 3 new, 0 updated"
    assert source_line(done.stderr, "raw").startswith("raw: 3 new, 0 updated")
    titles = {e["title"] for e in cli.list_json()}
    assert {"Idempotency keys in payment APIs", "Raft leader election, step by step"} <= titles


# -- 11. byte cap ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["content-length", "chunked", "gzip"])
def test_max_bytes_cap(cli: Cli, httpserver: HTTPServer, mode: str) -> None:
    big = BIG_FEED
    assert len(big) > 1000 > len(TINY_FEED)
    if mode == "content-length":
        serve(httpserver, "big", big, RSS)
    elif mode == "chunked":  # no Content-Length: the cap must hold while reading
        chunks = [big[i : i + 256] for i in range(0, len(big), 256)]
        httpserver.expect_request("/big").respond_with_response(
            Response(iter(chunks), content_type=RSS)
        )
    else:  # small on the wire, over the cap after decompression
        packed = gzip.compress(big)
        assert len(packed) < 1000
        serve(httpserver, "big", packed, RSS, headers={"Content-Encoding": "gzip"})
    tiny = serve(httpserver, "tiny", TINY_FEED, RSS)
    cli.write_config(
        [("big", httpserver.url_for("/big")), ("tiny", tiny)], settings="max_bytes = 1000"
    )

    done = cli.fetch()

    assert_no_traceback(done)
    assert done.returncode == 3, done.stderr
    line = source_line(done.stderr, "big")
    assert line.startswith("big: failed:")
    assert "max_bytes" in line
    assert source_line(done.stderr, "tiny") == "tiny: 1 new, 0 updated"
    assert [e["source"] for e in cli.list_json()] == ["tiny"]


# -- 12. timeout ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_timeout_when_headers_never_come(
    cli: Cli, httpserver: HTTPServer, server: FeedServer
) -> None:
    tiny = serve(httpserver, "tiny", TINY_FEED, RSS)
    slow = server.route("/silent", never_answer)
    cli.write_config([("slow", slow), ("tiny", tiny)], settings="timeout = 1")

    started = time.monotonic()
    done = cli.fetch()
    elapsed = time.monotonic() - started

    assert_no_traceback(done)
    assert done.returncode == 3, done.stderr
    assert elapsed < 3.5
    assert source_line(done.stderr, "slow") == "slow: failed: timed out after 1 s"
    assert [e["source"] for e in cli.list_json()] == ["tiny"]


@pytest.mark.slow
def test_timeout_on_trickling_body(cli: Cli, httpserver: HTTPServer, server: FeedServer) -> None:
    """`timeout` bounds the whole request: a server trickling a byte every 0.5 s is cut off
    (once iter_raw(65536) buffered the trickle and the deadline was never checked)."""
    tiny = serve(httpserver, "tiny", TINY_FEED, RSS)
    slow = server.route("/trickle", trickle_body)
    cli.write_config([("slow", slow), ("tiny", tiny)], settings="timeout = 1")

    started = time.monotonic()
    done = cli.fetch()
    elapsed = time.monotonic() - started

    assert_no_traceback(done)
    assert [e["source"] for e in cli.list_json()] == ["tiny"]
    assert done.returncode == 3, done.stderr
    assert "timed out" in source_line(done.stderr, "slow")
    assert elapsed < 3.5, f"took {elapsed:.1f} s with timeout = 1"


@pytest.mark.slow
def test_interrupt_during_fetch(cli: Cli, server: FeedServer) -> None:
    """Ctrl-C ends a fetch at once with 130 and a message (once it waited for the requests in
    flight to time out, and typer's Exit(130) skipped the message)."""
    cli.write_config([("slow", server.route("/silent", never_answer))], settings="timeout = 5")
    process = subprocess.Popen(
        cli.command("fetch"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli.env,
        cwd=cli.root,
        # a shell without job control starts background jobs with SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    try:
        assert server.requested.wait(10), "the fetch never reached the server"
        time.sleep(0.2)
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    elapsed = time.monotonic() - interrupted

    assert "Traceback" not in stderr
    assert process.returncode == 130
    assert "interrupted" in stderr
    assert elapsed < 2.5, f"exited {elapsed:.1f} s after SIGINT"


def test_a_fetch_whose_reader_stops_leaves_no_thread_failing(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the caller stops reading (its store failed, say), no download thread starts another
    request on the closed client: nothing is printed behind the caller's own error."""
    from archfeed.fetch import fetch_all
    from archfeed.models import Settings, Source

    failures: list[object] = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    sources = [Source(f"s{i}", server.feed(f"/s{i}", TINY_FEED, delay=0.2)) for i in range(6)]
    results = fetch_all(sources, {}, Settings(concurrency=2, timeout=5))
    assert next(results).error is None
    results.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        thread.name == "fetch" and thread.is_alive() for thread in threading.enumerate()
    ):
        time.sleep(0.05)
    assert failures == []
    assert "/s4" not in server.hits, "requests went on after the reader stopped"
    assert "/s5" not in server.hits


# -- 13. User-Agent -------------------------------------------------------------------------------


def test_user_agent(cli: Cli, httpserver: HTTPServer) -> None:
    cli.write_config(
        [
            ("rss2", serve_fixture(httpserver, "rss2")),
            ("jsonfeed", serve_fixture(httpserver, "jsonfeed")),
        ]
    )

    assert cli.fetch().returncode == 0

    agents = [request.headers.get("User-Agent", "") for request, _ in httpserver.log]
    assert len(agents) == 2
    assert all(agent.startswith("archfeed/") for agent in agents), agents


# -- 14. list filters -----------------------------------------------------------------------------

Filled = tuple[Cli, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory, make_httpserver: HTTPServer) -> Filled:
    """One database with rss2, atom, jsonfeed and ru fetched over HTTP, shared by the read-only
    list tests; with `list --format json --excerpt 100000` (whole texts) of it."""
    cli = make_cli(tmp_path_factory.mktemp("filled"))
    names = ("rss2", "atom", "jsonfeed", "ru")
    cli.write_config(
        [(name, serve_fixture(make_httpserver, name, f"filled-{name}")) for name in names]
    )
    done = cli.fetch()
    assert done.returncode == 0, done.stderr
    entries = cli.list_json("--excerpt", "100000")
    assert len(entries) == 11
    return cli, entries


def test_list_search(filled: Filled) -> None:
    cli, _ = filled

    def titles(text: str) -> list[str]:
        return [e["title"] for e in cli.list_json("--search", text)]

    assert titles("outbox") == ["The outbox pattern without a message broker"]
    assert titles("COALESCING") == ["Cache stampedes and request coalescing"]  # any case
    assert titles("jitter") == ["Retry budgets instead of retry storms"]  # in the text only
    assert titles("retry budget") == ["Retry budgets instead of retry storms"]  # every word
    assert titles("Kubernetes") == ["Как мы перенесли Kafka consumers на Kubernetes"]
    assert titles("zookeeper") == []


@pytest.mark.parametrize(
    "text", ["c++", "node.js", '"unbalanced', "NOT", "a OR b", "x*", "(", "title:raft", "-"]
)
def test_list_search_fts_syntax_is_not_an_error(filled: Filled, text: str) -> None:
    cli, _ = filled
    done = cli.run("list", "--format", "json", "--search", text)
    assert_no_traceback(done)
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)


def test_list_source(filled: Filled) -> None:
    cli, entries = filled
    atom = cli.list_json("--source", "atom")
    assert len(atom) == 3
    assert {e["source"] for e in atom} == {"atom"}
    two = cli.list_json("-s", "rss2", "-s", "ru")
    assert [e["id"] for e in two] == [e["id"] for e in entries if e["source"] in ("rss2", "ru")]
    assert cli.run("list", "--source", "no-such-source").returncode == 2  # a typo, not "none"


def test_list_since_until(filled: Filled) -> None:
    cli, entries = filled
    assert [e["id"] for e in cli.list_json("--since", "2000-01-01")] == [e["id"] for e in entries]

    since = cli.list_json("--since", "2025-02-01")
    assert [e["id"] for e in since] == [e["id"] for e in entries if e["published"] >= "2025-02-01"]
    assert 0 < len(since) < len(entries)

    until = cli.list_json("--until", "2025-01-01")
    assert {e["title"] for e in until} == {
        "Raft leader election, step by step",
        "Retry budgets instead of retry storms",
    }

    window = cli.list_json("--since", "2025-01-01", "--until", "2025-02-01")
    assert [e["id"] for e in window] == [
        e["id"] for e in entries if "2025-01-01" <= e["published"] < "2025-02-01"
    ]
    assert cli.list_json("--since", "7d") == []  # everything is older than a week


def test_list_since_until_boundaries_and_offsets(filled: Filled) -> None:
    """An offset is converted to UTC; --since is inclusive, --until exclusive."""
    cli, entries = filled
    webhooks = by_title(entries)["Hardening webhooks [bold red]pwned[/] [31m edition"]
    assert webhooks["published"] == "2025-02-20T10:00:00Z"
    at = cli.list_json("--since", "2025-02-20T12:00:00+02:00")
    assert at[-1]["id"] == webhooks["id"]
    before = cli.list_json("--until", "2025-02-20T10:00:00")
    assert webhooks["id"] not in {e["id"] for e in before}
    assert len(at) + len(before) == len(entries)


def test_list_since_a_duration_counts_back_from_the_clock(filled: Filled) -> None:
    """`--since 7d` is seven days before now, as the clock says: on 2025-02-27 12:00 it is
    2025-02-20 12:00, two hours after the webhooks entry, which `--since 8d` includes."""
    cli, entries = filled
    webhooks = by_title(entries)["Hardening webhooks [bold red]pwned[/] [31m edition"]
    saved = cli.clock
    cli.clock = lambda: datetime(2025, 2, 27, 12, 0, tzinfo=UTC)
    try:
        week = [e["id"] for e in cli.list_json("--since", "7d")]
        eight = [e["id"] for e in cli.list_json("--since", "8d")]
        hours = [e["id"] for e in cli.list_json("--until", "170h")]  # before 2025-02-20 10:00
    finally:
        cli.clock = saved
    assert webhooks["id"] not in week
    assert webhooks["id"] in eight
    assert week == [e["id"] for e in entries if e["published"] >= "2025-02-20T12:00:00Z"]
    assert hours == [e["id"] for e in entries if e["published"] < "2025-02-20T10:00:00Z"]


def test_list_bad_since_is_a_usage_error(filled: Filled) -> None:
    cli, _ = filled
    bad = cli.run("list", "--since", "last tuesday")
    assert_no_traceback(bad)
    assert bad.returncode == 2
    assert bad.stderr.startswith("archfeed: error: --since")
    assert bad.stdout == ""


def test_list_limit(filled: Filled) -> None:
    cli, entries = filled
    assert [e["id"] for e in cli.list_json("--limit", "2")] == [e["id"] for e in entries[:2]]
    assert len(cli.list_json("--limit", "0")) == len(entries)  # 0 means all
    plain = cli.run("list", "--format", "plain", "--limit", "3")
    assert len(plain.stdout.splitlines()) == 3


def test_list_excerpt(filled: Filled) -> None:
    cli, entries = filled
    full = {e["id"]: e["excerpt"] for e in entries}
    short = cli.list_json("--excerpt", "20")
    assert len(short) == len(entries)
    for entry in short:
        text, cut = full[entry["id"]], entry["excerpt"]
        assert len(cut) <= 20, cut
        if len(text) > 20:
            assert cut.endswith("…"), cut
            assert text.startswith(cut[:-1]), (text, cut)
        else:
            assert cut == text
    assert all(e["excerpt"] == "" for e in cli.list_json("--excerpt", "0"))


def test_list_plain_format(filled: Filled) -> None:
    cli, entries = filled
    done = cli.run("list", "--format", "plain")
    lines = done.stdout.splitlines()
    assert len(lines) == len(entries)
    for line, entry in zip(lines, entries, strict=True):
        assert line.split("\t") == [
            entry["published"],
            entry["source"],
            entry["lang"],
            entry["title"],
            entry["url"] or "",
            entry["id"],
        ]
    # not a terminal: plain is the default, with no colour
    assert cli.run("list").stdout == done.stdout
    assert "\x1b" not in done.stdout


# -- usage errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("list", "--format", "xml"), "unknown format 'xml'"),
        (("fetch", "--source", "nope"), "no source named 'nope'"),
    ],
)
def test_archfeed_usage_errors_exit_2(cli: Cli, args: tuple[str, ...], message: str) -> None:
    cli.write_config([("local", str(FIXTURES / "rss2.xml"))])
    done = cli.run(*args)
    assert_no_traceback(done)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"archfeed: error: {message}")


@pytest.mark.parametrize(
    "args",
    [("fetch", "--no-such-option"), ("list", "--limit", "-1"), ("list", "--format")],
)
def test_click_usage_errors_exit_2(cli: Cli, args: tuple[str, ...]) -> None:
    """Click's own usage errors exit 2 (typer 0.29 vendors click: catching the click package's
    UsageError once missed them, giving 'unexpected NoSuchOption ... this is a bug' and exit 1)."""
    cli.write_config([("local", str(FIXTURES / "rss2.xml"))])
    done = cli.run(*args)
    assert_no_traceback(done)
    assert "this is a bug" not in done.stderr
    assert done.returncode == 2, done.stderr


# -- 15. a local path ------------------------------------------------------------------------------


def test_local_path_relative_to_config(cli: Cli, tmp_path: Path) -> None:
    config_dir = tmp_path / "conf"
    (config_dir / "feeds").mkdir(parents=True)
    (config_dir / "feeds" / "rss2.xml").write_bytes(fixture_bytes("rss2.xml"))
    packed = gzip.compress(fixture_bytes("ru-cp1251.xml"))
    (config_dir / "feeds" / "ru.xml.gz").write_bytes(packed)
    cli.config = config_dir / "feeds.toml"
    cli.write_config([("local", "feeds/rss2.xml"), ("localgz", "feeds/ru.xml.gz")])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    done = cli.run("fetch", cwd=elsewhere)

    assert_no_traceback(done)
    assert done.returncode == 0, done.stderr
    assert source_line(done.stderr, "local") == "local: 3 new, 0 updated"
    assert source_line(done.stderr, "localgz") == "localgz: 2 new, 0 updated"
    entries = cli.list_json()
    assert {e["title"] for e in entries if e["source"] == "localgz"} == RU_TITLES
    again = cli.run("fetch", cwd=elsewhere)
    assert again.returncode == 0
    assert cli.count() == 5


def test_missing_local_file_fails_cleanly(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "rss2.xml").write_bytes(fixture_bytes("rss2.xml"))
    cli.write_config([("here", "rss2.xml"), ("missing", "nowhere/feed.xml")])

    done = cli.fetch()

    assert_no_traceback(done)
    assert done.returncode == 3
    assert source_line(done.stderr, "missing").startswith("missing: failed:")
    assert source_line(done.stderr, "here") == "here: 3 new, 0 updated"
    assert cli.count() == 3


# -- time (docs/design.md, "Time"); the sandbox ----------------------------------------------------------------


def test_a_future_date_is_first_seen_and_an_undated_post_sorts_last(
    cli: Cli, httpserver: HTTPServer
) -> None:
    """A post dated in the future is dated when first seen; a post with no date it can read is
    not made the newest: `published` is null, it sorts after every dated post, shows as
    "undated", matches no --since, and still reaches the digest as new."""
    feed = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Clock skew</title><link>https://skew.example/</link>
<item><title>Undated</title><link>https://skew.example/undated</link>
<description>No date at all.</description></item>
<item><title>From the future</title><link>https://skew.example/future</link>
<pubDate>Fri, 01 Jan 2100 00:00:00 +0000</pubDate><description>Time travel.</description></item>
<item><title>Unreadable</title><link>https://skew.example/unreadable</link>
<pubDate>sometime soon</pubDate><description>A date no one can read.</description></item>
<item><title>Old</title><link>https://skew.example/old</link>
<pubDate>Mon, 06 Jan 2020 10:00:00 +0000</pubDate><description>Years ago.</description></item>
</channel></rss>
"""
    cli.write_config([("skew", serve(httpserver, "skew", feed, RSS))])
    cli.clock = Clock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    assert cli.fetch().returncode == 0

    listed = cli.list_json()
    assert [e["title"] for e in listed][:2] == ["From the future", "Old"]
    assert {e["title"] for e in listed[2:]} == {"Undated", "Unreadable"}
    entries = by_title(listed)
    assert entries["From the future"]["published"] == "2026-06-01T12:00:00Z"
    assert entries["Undated"]["published"] is None
    assert entries["Unreadable"]["published"] is None
    assert [e["title"] for e in cli.list_json("--since", "2000-01-01")] == [
        "From the future",
        "Old",
    ]
    plain = cli.run("list", "--format", "plain").stdout.splitlines()
    assert plain[-1].startswith("\tskew\t")  # no date: an empty first field
    table = cli.run("list", "--format", "table").stdout
    assert "undated" in table
    digest = json.loads(cli.run("digest", "--format", "json").stdout)
    assert digest["count"] == 4
    # fetched again, nothing changes: the undated posts are not made new or updated
    again = cli.fetch("--force")
    assert source_line(again.stderr, "skew") == "skew: 0 new, 0 updated"


def test_nothing_written_outside_tmp(cli: Cli, httpserver: HTTPServer) -> None:
    cli.write_config([("rss2", serve_fixture(httpserver, "rss2"))])
    assert cli.run("check").returncode == 0
    assert cli.fetch().returncode == 0
    assert cli.run("list").returncode == 0
    home = Path(cli.env["HOME"])
    assert [p for p in home.rglob("*") if p.is_file()] == []  # --db and --config were honoured
    assert cli.db.is_file()
