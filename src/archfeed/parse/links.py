"""The feeds a web page says it offers: its `<link rel="alternate">` feeds and the `<a>` links
that look like feeds, for `archfeed add`.

Owns: whether a document says it is an HTML page; reading a page (stdlib html.parser) for those
links, absolute, http(s) only, each once, in the page's order, under `<base href>`; the bounds
that keep a hostile page cheap. Never fetches and never decides whether a link is a feed:
update/discover.py fetches each and has parse/__init__.py read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

from archfeed.parse.entries import safe_url

MAX_BYTES = 1_000_000  # of a page read: its head, and the whole of nearly every page
MAX_TAGS = 20_000  # start and end tags read: a large page has some thousands
MAX_LINKS = 16  # of each kind: each is fetched to be checked
_FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"}
)
_FEED_ENDINGS = ("/feed", "/rss", "/atom", ".rss", ".xml", ".atom", "feed.json")
_FEED_WORDS = re.compile(r"\b(?:rss|atom|feeds?)\b", re.IGNORECASE)
_TEXT_MAX = 200  # characters of a link's text looked at: the words that matter come first
# a "<" that opens no tag ending before the next "<" (quoted values may hold ">"): html.parser
# scans to the end of the page from each, so that 40 kB of "<a " took it 18 s; made text, it
# costs one step of this scan, which stops at the next "<"
_NO_TAG = re.compile(r"""<(?![A-Za-z/!?](?:[^<>"']|"[^"<]*"|'[^'<]*')*>)""")
# an HTML doctype or root element, after what may precede it (an XML declaration, comments)
_HTML = re.compile(
    rb"(?:\s|<\?[^<>]*>|<!--.*?-->)*<(?:!doctype\s+html|html)[\s>/]", re.IGNORECASE | re.DOTALL
)
_HEAD = 4096  # bytes where a page says it is one


def is_html(body: bytes) -> bool:
    """Whether the document says it is an HTML page by its doctype or root element: no feed, and
    feedparser would take seconds to say so (its loose parser reads a 4 MB page in 6 s)."""
    return _HTML.match(body[:_HEAD].removeprefix(b"\xef\xbb\xbf")) is not None


@dataclass(frozen=True)
class PageLinks:
    alternates: tuple[str, ...]  # `<link rel="alternate">` of a feed type, in the page's order
    anchors: tuple[str, ...]  # `<a href>` that look like feeds, those on the page's host first


def feed_links(body: bytes, content_type: str | None, url: str) -> PageLinks:
    """The feed links of the HTML page `body`, found at `url` (after redirects)."""
    reader = _Reader()
    reader.read(_NO_TAG.sub("&lt;", _decoded(body[:MAX_BYTES], content_type)))
    base = safe_url(reader.base, url) or url
    alternates = _absolute(
        (href for href, kind in reader.alternates if kind in _FEED_TYPES or _json_feed(href, kind)),
        base,
    )
    anchors = _absolute(
        (href for href, text in reader.anchors if _feed_path(href) or _FEED_WORDS.search(text)),
        base,
    )
    host = urlsplit(url).hostname
    anchors.sort(key=lambda link: urlsplit(link).hostname != host)  # stable: page order kept
    return PageLinks(tuple(alternates[:MAX_LINKS]), tuple(anchors[:MAX_LINKS]))


def _decoded(body: bytes, content_type: str | None) -> str:
    """The page as text in the charset its Content-Type declares, else UTF-8; never failing."""
    header = Message()
    header["content-type"] = content_type or "text/html"
    try:
        return body.decode(header.get_content_charset() or "utf-8", errors="replace")
    except (LookupError, UnicodeError):  # an unknown charset, or a codec that is no text's
        return body.decode("utf-8", errors="replace")


def _absolute(hrefs: Iterable[str], base: str) -> list[str]:
    """Each href as an absolute http(s) URL without its fragment, once; `javascript:`, `data:`
    and the like dropped."""
    found = (safe_url(href, base) for href in hrefs)
    return list(dict.fromkeys(urldefrag(link).url for link in found if link))


def _feed_path(href: str) -> bool:
    path = urlsplit(href.strip()).path.lower().removesuffix("/")
    return path.endswith(_FEED_ENDINGS)


def _json_feed(href: str, kind: str) -> bool:
    """application/json is also what APIs are (WordPress's wp-json pages): a feed by its path."""
    return kind == "application/json" and ("feed" in href.lower() or _feed_path(href))


class _Enough(Exception):
    """MAX_TAGS were read."""


class _Reader(HTMLParser):
    """Collects the raw hrefs of feed-type alternates and of every anchor with its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.alternates: list[tuple[str, str]] = []  # (href, its type without parameters)
        self.anchors: list[tuple[str, str]] = []  # (href, its text, title and images' alt)
        self._href: str | None = None  # of the anchor being read
        self._text = ""
        self._tags = 0

    def read(self, text: str) -> None:
        try:
            # at once: fed in parts, html.parser scans what it holds again at each part
            self.feed(text)
            self.close()
        except _Enough:
            pass  # a page that long has said what it offers in what was read
        self._close_anchor()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._counted()
        # reversed: of an attribute given twice, HTML takes the first
        named = {name: value or "" for name, value in reversed(attrs)}
        href = named.get("href")
        if tag == "base" and href and self.base is None:
            self.base = href  # the first <base href> is the document's, wherever it is
        elif tag == "link" and href and "alternate" in named.get("rel", "").lower().split():
            kind = named.get("type", "").split(";")[0].strip().lower()
            self.alternates.append((href, kind))
        elif tag == "a":
            self._close_anchor()  # an <a> inside an <a> ends the first, as browsers do
            if href:
                self._href = href
                self._add(named.get("title", ""))
        elif tag == "img":
            self._add(named.get("alt", ""))  # the feed icon: <a href=…><img alt="RSS"></a>

    def handle_endtag(self, tag: str) -> None:
        self._counted()
        if tag == "a":
            self._close_anchor()

    def handle_data(self, data: str) -> None:
        self._add(data)

    def _counted(self) -> None:
        self._tags += 1
        if self._tags > MAX_TAGS:
            raise _Enough

    def _add(self, text: str) -> None:
        if self._href is not None and len(self._text) < _TEXT_MAX:
            self._text = f"{self._text} {text[:_TEXT_MAX]}"

    def _close_anchor(self) -> None:
        if self._href is not None:
            self.anchors.append((self._href, self._text))
        self._href, self._text = None, ""
