"""A changed feed hands feedparser only its new items: the others are read from the memos of the
last fetch (parse/items.py), and what comes out is what parsing the whole document gives."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import feedparser
import pytest

from archfeed.models import ParsedFeed
from archfeed.parse import items, parse
from conftest import RSS, Cli, FeedServer, respond, source_line

BASE = "https://blog.example/feed.xml"


def _rss_items(numbers: range, text: Callable[[int], str] = lambda n: f"Body {n} " * 30) -> str:
    return "\n".join(
        f"<item><title>Post {n}</title><link>https://blog.example/{n}</link><guid>g-{n}</guid>"
        f"<pubDate>Mon, 03 Feb 2025 {n % 24:02d}:00:00 +0000</pubDate><category>c{n % 3}</category>"
        f"<description>{text(n)}</description></item>"
        for n in numbers
    )


def _rss(numbers: range, head: str = "", **kwargs: Any) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Blog</title>'
        f"<link>https://blog.example/</link>{head}\n{_rss_items(numbers, **kwargs)}\n"
        "</channel></rss>\n"
    ).encode()


def _atom(numbers: range, updated: str) -> bytes:
    entries = "\n".join(
        f"<entry><title type='html'>Post &lt;b&gt;{n}&lt;/b&gt;</title><id>urn:e:{n}</id>"
        f"<link href='/p/{n}'/><updated>2025-02-03T{n % 24:02d}:00:00Z</updated>"
        f"<content type='html'>&lt;p&gt;Entry {n} body, long enough.&lt;/p&gt;</content></entry>"
        for n in numbers
    )
    return (
        "<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom' xml:lang='de'>"
        f"<title>Atom blog</title><id>urn:feed</id><updated>{updated}</updated>"
        f"<author><name>Jo Doe</name></author>\n{entries}\n</feed>"
    ).encode()


def _rdf(numbers: range) -> bytes:
    listed = "".join(f"<rdf:li resource='https://rdf.example/{n}'/>" for n in numbers)
    entries = "".join(
        f"<item rdf:about='https://rdf.example/{n}'><title>Item {n}</title>"
        f"<link>https://rdf.example/{n}</link><description>Text of item {n}</description></item>"
        for n in numbers
    )
    return (
        "<?xml version='1.0'?><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' "
        "xmlns='http://purl.org/rss/1.0/'><channel rdf:about='https://rdf.example/'>"
        f"<title>RDF</title><link>https://rdf.example/</link><items><rdf:Seq>{listed}</rdf:Seq>"
        f"</items></channel>{entries}</rdf:RDF>"
    ).encode()


def _no_guid(numbers: range) -> bytes:
    # every item links the same news page: told apart by title and date (parse/entries.apart)
    entries = "".join(
        f"<item><title>News {n}</title><link>https://news.example/</link>"
        f"<description><![CDATA[<p>Annons: https://ads.example/{n} Weekly news number {n} "
        f"about queues.</p>]]></description></item>"
        for n in numbers
    )
    return f"<rss version='2.0'><channel><title>News</title>{entries}</channel></rss>".encode()


PAIRS = {
    # (the last fetch's document, today's): new items on top, the oldest gone, the head's dates new
    "rss": (_rss(range(3, 12), "<lastBuildDate>Mon, 03 Feb 2025</lastBuildDate>"),
            _rss(range(1, 10), "<lastBuildDate>Tue, 04 Feb 2025</lastBuildDate>")),
    "atom": (_atom(range(2, 8), "2025-02-03T00:00:00Z"), _atom(range(0, 6), "2025-02-04T00:00:00Z")),
    "rdf": (_rdf(range(2, 6)), _rdf(range(0, 4))),
    # a third item opening with the same advert makes it the source's: the others' summaries change
    "shared openings and no guid": (_no_guid(range(2, 4)), _no_guid(range(0, 4))),
    "an item changed in place": (_rss(range(0, 5)), _rss(range(0, 5)).replace(b"Body 3", b"Now 3")),
    "cp1251": (_rss(range(2, 5)).replace(b"utf-8", b"windows-1251"),
               _rss(range(0, 4)).replace(b"utf-8", b"windows-1251")),
}  # fmt: skip


def _memos_of(feed: ParsedFeed) -> dict[str, bytes]:
    assert not feed.memos.forget_all
    return dict(feed.memos.new)


@pytest.mark.parametrize("kind", PAIRS)
def test_reading_items_from_memos_gives_what_the_whole_document_gives(kind: str) -> None:
    before, after = PAIRS[kind]
    content_type = "application/xml; charset=windows-1251" if kind == "cp1251" else None
    known = _memos_of(parse(before, content_type, BASE))
    whole = parse(after, content_type, BASE)
    reused = parse(after, content_type, BASE, known)
    assert reused.entries == whole.entries
    assert (reused.title, reused.language, reused.warning) == (whole.title, whole.language, None)
    parts = items.split(after, content_type, BASE)
    assert parts is not None
    repeated = {digest for digest in parts.digests if digest in known}
    assert repeated, "nothing repeated: the pair tests nothing"
    # only the items the last fetch did not have get memos; those it had and today's lacks go
    assert {d for d, _ in reused.memos.new} == set(parts.digests) - repeated
    assert set(reused.memos.gone) == set(known) - set(parts.digests)


@pytest.fixture
def feedparser_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many entries each feedparser.parse call read, in order."""
    seen: list[int] = []
    real = feedparser.parse

    def counting(*args: Any, **kwargs: Any) -> Any:
        doc = real(*args, **kwargs)
        seen.append(len(doc.entries))
        return doc

    monkeypatch.setattr(feedparser, "parse", counting)
    return seen


def test_feedparser_reads_only_the_new_items(feedparser_reads: list[int]) -> None:
    before, after = PAIRS["rss"]
    known = _memos_of(parse(before, None, BASE))
    feedparser_reads.clear()
    parse(after, None, BASE, known)
    assert feedparser_reads == [2]


@pytest.mark.parametrize(
    "body",
    [
        _rss(range(3)).replace(b"</item>\n<item>", b"</item>text<item>", 1),
        _rss(range(3)).replace(b"Body 1 ", b"<![CDATA[ </item> ]]>", 1),
        _rss(range(3)).replace(b"<title>Blog</title>", b"<!-- <item> --><title>Blog</title>"),
        _rss(range(3)).replace(b"<item>", b"<item/><item>", 1),
        b"<rss version='2.0'><channel><title>Blog</title></channel></rss>",
        b"<rdf:RDF xmlns:rdf='r' xmlns:rss='s'><rss:item><rss:title>A</rss:title></rss:item>"
        b"</rdf:RDF>",
        b"<html><body><item>not a feed</item></body></html>",
    ],
    ids=["text between", "cdata", "comment", "self-closed", "no items", "prefixed", "html"],
)
def test_a_document_whose_items_are_not_certain_is_not_split(body: bytes) -> None:
    assert items.split(body, None, BASE) is None


def test_an_ill_formed_document_keeps_no_memos() -> None:
    feed = parse(_rss(range(3)).replace(b"Body 1", b"Body & 1", 1), None, BASE)
    assert feed.warning and len(feed.entries) == 3
    assert feed.memos.forget_all


def test_a_memo_is_of_its_context_and_its_code(monkeypatch: pytest.MonkeyPatch) -> None:
    body = _rss(range(2))
    digests = items.split(body, None, BASE).digests  # type: ignore[union-attr]
    assert items.split(body, "application/rss+xml", BASE).digests != digests  # type: ignore[union-attr]
    assert items.split(body, None, BASE + "?x").digests != digests  # type: ignore[union-attr]
    other_head = body.replace(b"<title>Blog</title>", b"<title>Blog 2</title>")
    assert not set(items.split(other_head, None, BASE).digests) & set(digests)  # type: ignore[union-attr]
    monkeypatch.setattr(items, "_code_version", lambda: b"another version")
    assert not set(items.split(body, None, BASE).digests) & set(digests)  # type: ignore[union-attr]


def _report(cli: Cli) -> str:
    done = cli.fetch("--force")
    assert done.returncode == 0, done.stderr
    return source_line(done.stderr, "blog")


_STORED = (
    "id, source, key, url, title, text, author, published, lang, lang_source, topics, categories, "
    "content_hash, text_lang, text_lang_source, canonical_url, title_key, origin_url, lead, trail, "
    "generic_title, private_url, excerpt, summary"
)


def _listed(cli: Cli) -> list[Any]:
    """What a user sees and what the store keeps, but for the times of the fetch itself."""
    stored = cli.rows(f"SELECT {_STORED} FROM entries ORDER BY id")
    shown = [
        {k: v for k, v in entry.items() if k != "first_seen"} for entry in cli.list_json("--all")
    ]
    return [shown, [list(row) for row in stored]]


def test_a_changed_feed_is_stored_as_parsing_it_whole_would_store_it(
    cli: Cli, server: FeedServer, feedparser_reads: list[int]
) -> None:
    feed = server.url("/feed.xml")
    cli.write_config([("blog", feed)])
    served = {"body": _rss(range(2, 32))}
    server.route("/feed.xml", lambda h: respond(h, 200, served["body"], RSS))
    assert "30 new" in _report(cli)
    assert cli.rows("SELECT count(*) FROM item_memos WHERE source = 'blog'") == [(30,)]

    feedparser_reads.clear()
    # two new on top, the two oldest gone, one item rewritten in place
    served["body"] = _rss(range(0, 30)).replace(b"Body 5 Body", b"Edited Body", 1)
    line = _report(cli)
    assert "2 new" in line and "1 updated" in line, line
    assert feedparser_reads == [3]
    assert cli.rows("SELECT count(*) FROM item_memos WHERE source = 'blog'") == [(30,)]
    listed = _listed(cli)

    # the same two documents into another database with the memos forgotten in between
    other = Cli(cli.root, cli.config, cli.root / "whole.db", cli.env)
    served["body"] = _rss(range(2, 32))
    _report(other)
    with sqlite3.connect(other.db) as conn:
        conn.execute("DELETE FROM item_memos")
    conn.close()
    served["body"] = _rss(range(0, 30)).replace(b"Body 5 Body", b"Edited Body", 1)
    assert _report(other) == line
    assert _listed(other) == listed
    assert len(listed[0]) == len(listed[1]) == 32
