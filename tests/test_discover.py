"""Feed discovery (update/discover.py, parse/links.py): from a page's address to the feeds it
offers, each fetched and parsed to be sure, over real HTTP on 127.0.0.1; and the link reading
on bytes, hostile pages among them."""

from __future__ import annotations

import json
import time
import tracemalloc
from datetime import UTC, datetime

import pytest

from archfeed.errors import ExitCode, FeedError, UsageError
from archfeed.models import Settings
from archfeed.parse.links import MAX_LINKS, PageLinks, feed_links, is_html
from archfeed.update.discover import COMMON_PATHS, Candidate, discover
from conftest import (
    GOOD_FEED,
    JSON_FEED,
    FeedServer,
    Route,
    _Handler,
    never_answer,
    trickle_body,
)

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml"
# 4 at a time: FeedServer listens with a backlog of 5, and 16 connections at once wait 1 s
SETTINGS = Settings(timeout=3.0, concurrency=4)
MB = 1_000_000


def page(head: str = "", body: str = "") -> bytes:
    return (
        f"<!DOCTYPE html>\n<html><head><title>A blog</title>{head}</head>"
        f"<body><h1>A blog</h1>{body}</body></html>\n"
    ).encode()


def alternate(href: str, kind: str = "application/rss+xml", rel: str = "alternate") -> str:
    return f'<link rel="{rel}" type="{kind}" href="{href}">'


def atom(title: str, dates: list[str]) -> bytes:
    entries = "".join(
        f"<entry><id>urn:{title}:{n}</id><title>Post {n}</title><updated>{when}</updated>"
        f"<link href='https://atom.example/{n}'/><summary>Text {n}</summary></entry>"
        for n, when in enumerate(dates)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><id>urn:{title}</id><updated>{dates[0]}</updated>{entries}</feed>"
    ).encode()


RSS_NEWEST = datetime(2025, 2, 3, 10, 0, tzinfo=UTC)  # conftest.rss dates every item so
ATOM_FEED = atom(
    "Atom side", ["2025-01-05T08:00:00Z", "2025-03-01T12:30:00Z", "2024-12-24T00:00:00Z"]
)


EMBEDDED_RSS = (
    '<rss version="2.0"><channel><title>c</title><item><title>x</title></item></channel></rss>'
)


def test_an_html_page_is_no_feed_whatever_it_holds() -> None:
    from archfeed.parse import parse

    assert parse(page(body=EMBEDDED_RSS), "application/rss+xml", BASE).entries  # feedparser: yes
    assert is_html(page(body=EMBEDDED_RSS))  # so discover never asks it


# -- discover(), over HTTP ----------------------------------------------------------------------


def test_two_alternates_come_back_in_the_pages_order_described(server: FeedServer) -> None:
    url = server.feed(
        "/blog/", page(alternate("/blog/rss.xml") + alternate("atom.xml", ATOM)), HTML
    )
    server.feed("/blog/rss.xml", GOOD_FEED, delay=0.3)  # answers last, is listed first
    server.feed("/blog/atom.xml", ATOM_FEED, ATOM)
    found = discover(url, SETTINGS)
    assert found.page_url == url
    assert found.candidates == (
        Candidate(server.url("/blog/rss.xml"), "good", 2, RSS_NEWEST),
        Candidate(
            server.url("/blog/atom.xml"), "Atom side", 3, datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
        ),
    )
    assert found.tried == (url, server.url("/blog/rss.xml"), server.url("/blog/atom.xml"))
    assert server.hits["/feed"] == 0  # alternates answered: no guessing


def test_a_feed_link_in_the_body_is_found(server: FeedServer) -> None:
    url = server.feed(
        "/", page(body='<p><a href="/about">About</a> <a href="/feed/">x</a></p>'), HTML
    )
    server.feed("/feed/", GOOD_FEED)
    found = discover(url, SETTINGS)
    assert [c.url for c in found.candidates] == [server.url("/feed/")]
    assert server.hits["/about"] == 0  # neither its path nor its text says feed


def test_an_unlinked_feed_at_a_usual_path_is_found(server: FeedServer) -> None:
    url = server.feed("/blog", page(body="<p>No links at all.</p>"), HTML)
    server.feed("/rss.xml", GOOD_FEED)
    found = discover(url, SETTINGS)
    assert [c.url for c in found.candidates] == [server.url("/rss.xml")]
    assert found.candidates[0].entries == 2
    # the page's folder first, then the site's root
    assert server.hits["/blog/rss.xml"] == 1
    assert found.tried.index(server.url("/blog/feed")) < found.tried.index(server.url("/feed"))


def test_the_address_of_a_feed_is_its_one_candidate(server: FeedServer) -> None:
    url = server.feed("/feed.xml", GOOD_FEED)
    found = discover(url, SETTINGS)
    assert found.candidates == (Candidate(url, "good", 2, RSS_NEWEST),)
    assert found.tried == (url,)
    assert sum(server.hits.values()) == 1


def test_a_json_feed_alternate_is_found(server: FeedServer) -> None:
    body = json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": "Jay",
        "items": [{"id": "1", "url": "https://j.example/1", "content_text": "x",
                   "date_published": "2025-04-01T00:00:00Z"}],
    }).encode()  # fmt: skip
    url = server.feed("/", page(alternate("/feed.json", "application/feed+json")), HTML)
    server.feed("/feed.json", body, JSON_FEED)
    [candidate] = discover(url, SETTINGS).candidates
    assert candidate == Candidate(
        server.url("/feed.json"), "Jay", 1, datetime(2025, 4, 1, tzinfo=UTC)
    )


def test_an_alternate_that_404s_is_dropped_the_working_one_kept(server: FeedServer) -> None:
    url = server.feed("/", page(alternate("/gone.xml") + alternate("/atom.xml", ATOM)), HTML)
    server.feed("/atom.xml", ATOM_FEED, ATOM)
    found = discover(url, SETTINGS)
    assert [c.url for c in found.candidates] == [server.url("/atom.xml")]
    assert server.hits["/gone.xml"] == 1


def test_a_page_whose_only_alternate_404s_is_an_error_with_a_hint(server: FeedServer) -> None:
    url = server.feed("/", page(alternate("/gone.xml")), HTML)
    with pytest.raises(FeedError) as raised:
        discover(url, SETTINGS)
    error = raised.value
    assert error.exit_code == ExitCode.ERROR
    assert error.message == f"no feed found at {url}"
    assert error.hint is not None
    assert f"{server.url('/gone.xml')}: HTTP 404" in error.hint
    assert all(f"/{path}" in error.hint for path in COMMON_PATHS)
    assert f"127.0.0.1:{server.server_address[1]}" in error.hint
    assert server.hits["/rss.xml"] == 1  # the usual paths were tried too


def test_a_redirected_page_resolves_its_links_against_where_it_landed(server: FeedServer) -> None:
    url = server.redirect("/start", "/blog/")
    server.feed("/blog/", page(alternate("feed.xml")), HTML)
    server.feed("/blog/feed.xml", GOOD_FEED)
    found = discover(url, SETTINGS)
    assert found.page_url == server.url("/blog/")
    assert [c.url for c in found.candidates] == [server.url("/blog/feed.xml")]
    assert server.hits["/feed.xml"] == 0


def test_links_that_reach_one_feed_give_one_candidate(server: FeedServer) -> None:
    url = server.feed("/", page(alternate("/feed") + alternate("/feed/") + alternate("/f2")), HTML)
    server.redirect("/feed", "/feed/", status=301)
    server.feed("/feed/", GOOD_FEED)
    server.redirect("/f2", "/feed/")
    [candidate] = discover(url, SETTINGS).candidates
    assert candidate.url == server.url("/feed/")  # where the permanent redirect led


def test_a_page_that_names_itself_as_its_feed_is_not_fetched_again(server: FeedServer) -> None:
    url = server.feed("/home", page(alternate("/home") + alternate("/other")), HTML)
    # an HTML page that claims to be RSS, and holds what feedparser would read as an item
    server.feed("/other", page(body=EMBEDDED_RSS), "application/rss+xml")
    with pytest.raises(FeedError) as raised:
        discover(url, SETTINGS)
    assert server.hits["/home"] == 1
    assert server.hits["/other"] == 1
    assert f"{url}: the page itself" in (raised.value.hint or "")
    assert f"{server.url('/other')}: not a feed" in (raised.value.hint or "")


def test_a_feed_with_nothing_in_it_is_no_candidate(server: FeedServer) -> None:
    url = server.feed("/", page(alternate("/empty.xml") + alternate("/good.xml")), HTML)
    server.feed("/empty.xml", b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>')
    server.feed("/good.xml", GOOD_FEED)
    assert [c.url for c in discover(url, SETTINGS).candidates] == [server.url("/good.xml")]


def test_base_href_is_honoured(server: FeedServer) -> None:
    url = server.feed("/a/page", page('<base href="/b/">' + alternate("feed.xml")), HTML)
    server.feed("/b/feed.xml", GOOD_FEED)
    assert [c.url for c in discover(url, SETTINGS).candidates] == [server.url("/b/feed.xml")]


def test_a_hostile_title_comes_back_as_plain_text(server: FeedServer) -> None:
    body = json.dumps({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Evil\u001b]8;;https://x.example\u0007 \u202eFeed\u001b[31m" + "!" * 5000,
        "items": [{"id": "1", "content_text": "x"}],
    }).encode()  # fmt: skip
    url = server.feed("/", page(alternate("/feed.json", "application/json")), HTML)
    server.feed("/feed.json", body, "application/json")
    [candidate] = discover(url, SETTINGS).candidates
    assert candidate.title.startswith("Evil]8;;https://x.example Feed[31m!!!")
    assert not any(c in candidate.title for c in "\x1b\x07\u202e")
    assert len(candidate.title) <= 200


def test_a_page_that_cannot_be_fetched_is_an_error(server: FeedServer) -> None:
    with pytest.raises(FeedError, match=r"^cannot fetch .*/missing: HTTP 404 Not Found$") as raised:
        discover(server.url("/missing"), SETTINGS)
    assert raised.value.hint


def test_a_redirect_loop_is_an_error_about_redirects(server: FeedServer) -> None:
    url = server.redirect("/loop", "/loop")
    with pytest.raises(FeedError, match="more than 5 redirects"):
        discover(url, SETTINGS)
    assert server.hits["/loop"] == 6  # the first request and five redirects: then it stops


def _huge(h: _Handler) -> None:
    """300 MB of HTML without a Content-Length: the cap must hold while reading."""
    h.send_response(200)
    h.send_header("Content-Type", HTML)
    h.end_headers()
    block = b"<p>ha ha ha</p>" * 4096
    for _ in range(300 * MB // len(block)):
        h.wfile.write(block)
        h.server.sent[h.path] += len(block)


def test_a_huge_page_is_an_error_and_costs_little(server: FeedServer) -> None:
    url = server.route("/huge", _huge)
    tracemalloc.start()
    try:
        with pytest.raises(FeedError, match=r"larger than max_bytes \(1,000,000 bytes\)"):
            discover(url, Settings(timeout=10.0, max_bytes=MB))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * MB
    assert server.sent["/huge"] < 64 * MB  # the client stopped reading


@pytest.mark.parametrize("route", [never_answer, trickle_body], ids=["silent", "trickling"])
def test_a_slow_page_is_an_error_within_the_timeout(server: FeedServer, route: Route) -> None:
    url = server.route("/slow", route)
    started = time.monotonic()
    with pytest.raises(FeedError, match=r"timed out after 1 s"):
        discover(url, Settings(timeout=1.0))
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("url", ["ftp://example.com/feed", "example.com/blog", "https://"])
def test_only_web_addresses_are_taken(url: str) -> None:
    with pytest.raises(UsageError) as raised:
        discover(url, SETTINGS)
    assert raised.value.exit_code == ExitCode.USAGE


# -- parse/links.py, on bytes -------------------------------------------------------------------

BASE = "https://site.example/blog/post"


def links(html: str, url: str = BASE, content_type: str | None = HTML) -> PageLinks:
    return feed_links(html.encode("utf-8"), content_type, url)


def test_alternates_by_rel_token_and_type_any_case() -> None:
    found = links(
        alternate("/one", rel="alternate feed")
        + '<LINK REL="Alternate" TYPE="Application/Atom+XML; charset=utf-8" HREF="two">'
        + alternate("/rdf", "application/rdf+xml")
        + alternate("/fr/", "text/html")  # a translation, no feed
        + alternate("/feeds/", "text/html")  # the page listing the feeds: no feed either
        + alternate("/style.css", "text/css", rel="alternate stylesheet")
        + alternate("/x", rel="nofollow")
    )
    assert found.alternates == (
        "https://site.example/one",
        "https://site.example/blog/two",
        "https://site.example/rdf",
    )


def test_alternates_unsafe_duplicate_and_api_links_are_dropped() -> None:
    found = links(
        alternate("javascript:alert(1)")
        + alternate("data:application/rss+xml,<rss/>")
        + alternate("/feed#top")
        + alternate("https://site.example/feed")
        + alternate("/wp-json/wp/v2/pages/2", "application/json")
        + alternate("/feeds/all.json", "application/json")
    )
    assert found.alternates == ("https://site.example/feed", "https://site.example/feeds/all.json")


def test_feed_looking_anchors_on_the_pages_host_first() -> None:
    found = links(
        '<a href="https://friend.example/feed/">their feed</a>'
        '<a href="/about">About</a><a href="/feedback">feedback</a>'
        '<a href="/index.xml">x</a><a href="/s">Subscribe by RSS</a>'
        '<a href="/icon"><img src="rss.png" alt="Atom"></a><a href="/t" title="Feeds">t</a>'
        '<a href="javascript:void(0)">RSS</a><a href="/index.xml">again</a>'
    )
    here = [f"https://site.example/{path}" for path in ("index.xml", "s", "icon", "t")]
    assert found.anchors == (*here, "https://friend.example/feed/")
    assert found.alternates == ()


def test_base_href_and_the_pages_charset() -> None:
    html = '<base href="https://cdn.example/x/"><link rel=alternate type=application/rss+xml href="flux-é.xml">'
    found = feed_links(html.encode("latin-1"), "text/html; charset=ISO-8859-1", BASE)
    assert found.alternates == ("https://cdn.example/x/flux-é.xml",)  # not "flux-\ufffd.xml"
    assert links('<base href="javascript:x">' + alternate("f.xml")).alternates == (
        "https://site.example/blog/f.xml",
    )


def test_of_an_attribute_or_a_base_given_twice_the_first_counts() -> None:
    found = links(
        '<base href="/one/"><base href="/two/">'
        '<link rel=alternate type=application/rss+xml href="first.xml" href="second.xml">'
    )
    assert found.alternates == ("https://site.example/one/first.xml",)


def test_links_are_bounded() -> None:
    found = links("".join(alternate(f"/f{n}.xml") for n in range(100)))
    assert len(found.alternates) == MAX_LINKS


@pytest.mark.parametrize(
    "hostile", ["<a " * 400_000, '<a x="' * 200_000, "</" * 500_000, "<a>" * 400_000]
)
def test_a_hostile_page_is_read_quickly(hostile: str) -> None:
    # html.parser alone took 18 s over 40 kB of "<a "; this page is 1 MB and more
    started = time.monotonic()
    found = links(hostile + alternate("/late.xml"))
    assert time.monotonic() - started < 3.0
    assert found == PageLinks((), ())  # a link past what is read is not looked for


def test_a_link_after_unclosed_tags_is_still_read() -> None:
    found = links("<a " * 1000 + '<p title="a>b">' + alternate("/feed.xml"))
    assert found.alternates == ("https://site.example/feed.xml",)


@pytest.mark.parametrize(
    ("body", "html"),
    [
        (b"<!doctype html><title>x</title>", True),
        (b'\xef\xbb\xbf\n<!-- hi --><HTML lang="en">', True),
        (b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN"><html>', True),
        (GOOD_FEED, False),
        (ATOM_FEED, False),
        (b'<?xml-stylesheet href="feed.xsl"?><rss version="2.0">', False),
        (b"<!-- <html> --><rss>", False),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', False),
    ],
)
def test_is_html(body: bytes, html: bool) -> None:
    assert is_html(body) is html
