"""The only feedparser code: bytes of a feed → a ParsedFeed of plain-text entries with identities.

Owns: format detection (RSS, Atom, RDF via feedparser; JSON Feed in jsonfeed.py), the defences
applied to a document before feedparser sees it, turning titles and bodies into plain text, dates
into UTC. entries.py shapes every format's entries (identity, safe links, bounds). Never fetches
(feedparser is handed bytes, never a URL or a path) and no feedparser object leaves this package.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from xml.sax.expatreader import ExpatParser

import feedparser

from archfeed.errors import FeedError
from archfeed.models import Memos, ParsedEntry, ParsedFeed
from archfeed.models.pipeline import FORGET_ALL
from archfeed.parse import items
from archfeed.parse.charset import utf8_despite_declaration, utf16_without_bom
from archfeed.parse.dates import asked_interval, from_struct, read_date
from archfeed.parse.entries import (
    apart,
    author_name,
    language,
    origin_link,
    safe_url,
    shaped,
    without_shared_openings,
)
from archfeed.parse.jsonfeed import parse_json
from archfeed.text import clean, flat, html_to_paragraphs, html_to_text, plain_paragraphs

_DATE_KEYS = ("published", "updated", "created")
_SUMMARY_MAX = 2000  # characters of a summary kept: enough for any excerpt
_BEFORE_XML = b"\xef\xbb\xbf \t\r\n"  # a UTF-8 byte-order mark, and whitespace
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})


class _BufferedExpat(ExpatParser):
    """expat as feedparser gets it, but handing over each run of text at once: unbuffered, it
    reports the text between two entity references (`&lt;p&gt;` in every escaped HTML body) as
    events of their own, and feedparser's handling of an event cost a third of its time per entry
    (0.45 against 0.30 ms on the entries of benchmarks/genfeeds.py)."""

    def reset(self) -> None:
        super().reset()
        expat = self._parser  # type: ignore[attr-defined]  # the pyexpat parser reset() made
        expat.buffer_text = True
        expat.buffer_size = 1 << 16


def create_parser() -> ExpatParser:
    """The driver protocol of xml.sax.make_parser, which feedparser calls with the module names
    in its PREFERRED_XML_PARSERS."""
    return _BufferedExpat()


@contextmanager
def _buffered_expat() -> Iterator[None]:
    """feedparser picks its XML parser from a list of module names it keeps globally: this
    module's, for the length of one call, and the list as it was afterwards, so that importing
    archfeed changes nothing for other users of feedparser. Parsing runs in one thread per
    process (a worker, or the main thread for small runs)."""
    preferred = feedparser.api.PREFERRED_XML_PARSERS
    saved = preferred[:]
    preferred[:] = [__name__]
    try:
        yield
    finally:
        preferred[:] = saved


def parse(
    body: bytes,
    content_type: str | None,
    base_url: str,
    known: Mapping[str, bytes] | None = None,
) -> ParsedFeed:
    """Parse one feed document; raise FeedError when nothing in it can be read as a feed.
    `known`: the memos of the items of its last fetch, by digest (parse/items.py); the items
    they name are read from them, not from feedparser."""
    known = known or {}
    head = body.lstrip(_BEFORE_XML)[:1]
    if not head:
        raise FeedError("empty response")
    if head in (b"{", b"["):
        return parse_json(body, base_url)
    utf8 = utf16_without_bom(body)
    if utf8 is not None:
        return _parse_xml(utf8, None, base_url, known)
    if head == b"<":
        # what precedes the XML declaration (a newline, spaces, a BOM before them) makes the
        # document not well-formed for expat, and feedparser's loose parser then reads it
        # differently (`&amp;` left in categories, a false "ill-formed" warning)
        body = body.lstrip(_BEFORE_XML)
    return _parse_xml(*utf8_despite_declaration(body, content_type), base_url, known)


def _strip_internal_subset(body: bytes) -> bytes:
    """Remove the DTD's internal subset (`<!DOCTYPE rss [ … ]>` keeps `<!DOCTYPE rss>`): its
    entity declarations are how billion-laughs and quadratic blow-up documents expand, and
    feedparser's loose parser expands what expat refuses (a 50 kB entity referenced 2,000 times
    costs it 3.5 s and 300 MB). No feed needs one: HTML entities are known without it."""
    start = body.find(b"<!DOCTYPE")
    if start < 0:
        start = body.find(b"<!doctype")
    if start < 0:
        return body
    bracket = body.find(b"[", start)
    close = body.find(b">", start)
    if bracket < 0 or (0 <= close < bracket):
        return body  # no internal subset
    quote = None
    for index in range(bracket + 1, len(body)):
        char = body[index : index + 1]
        if quote:
            if char == quote:
                quote = None
        elif char in (b'"', b"'"):
            quote = char
        elif char == b"]":
            end = body.find(b">", index)
            if end < 0:
                break
            return body[:bracket] + body[end:]
    return body[:start]  # an unterminated subset: nothing after it is a feed anyway


def _parse_xml(
    body: bytes, content_type: str | None, base_url: str, known: Mapping[str, bytes]
) -> ParsedFeed:
    body = _strip_internal_subset(body)
    parts = items.split(body, content_type, base_url)
    if parts is not None and any(digest in known for digest in parts.digests):
        reused = _reusing(parts, content_type, base_url, known)
        if reused is not None:
            return reused
    doc = _feedparser(body, content_type)
    problem = doc.get("bozo_exception")
    if not doc.get("version") and not doc.entries:
        reason = _short(problem) if problem else "no RSS, Atom or RDF elements"
        raise FeedError(f"not a feed: {reason}")
    author = _feed_author(doc)
    raw = [_xml_entry(item, base_url, author) for item in doc.entries]
    memos = FORGET_ALL  # an ill-formed document is read loosely, each item as others let it
    if parts is not None and not problem and len(raw) == len(parts.items):
        memos = _memos(parts.digests, raw, known)
    return _feed(doc, raw, problem, memos)


def _reusing(
    parts: items.Split, content_type: str | None, base_url: str, known: Mapping[str, bytes]
) -> ParsedFeed | None:
    """The document with feedparser reading only its items that have no memo, the others read
    from theirs; None when that reading is not what the whole document would give (it is
    ill-formed without them, or feedparser found another number of items)."""
    doc = _feedparser(parts.without(known.keys()), content_type)
    fresh = [digest for digest in parts.digests if digest not in known]
    if doc.get("bozo_exception") or not doc.get("version") or len(doc.entries) != len(fresh):
        return None
    author = _feed_author(doc)
    parsed = iter([_xml_entry(item, base_url, author) for item in doc.entries])
    raw = [items.decode(known[d]) if d in known else next(parsed) for d in parts.digests]
    return _feed(doc, raw, None, _memos(parts.digests, raw, known))


def _feedparser(body: bytes, content_type: str | None) -> Any:
    headers = {"content-type": content_type} if content_type else {}
    # sanitize and URI resolution are for HTML output; archfeed renders plain text, and both cost
    # more than half of feedparser's time per entry
    with _buffered_expat():
        return feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )


def _feed_author(doc: Any) -> str | None:
    """Atom's feed author is every entry's author unless the entry names its own (RFC 4287
    4.2.1); RSS has none: what feedparser calls its author is the managingEditor."""
    if not str(doc.get("version", "")).startswith("atom"):
        return None
    feed = doc.get("feed", {})
    return author_name(feed.get("author"), feed.get("author_detail"))


def _memos(digests: Sequence[str], raw: Sequence[ParsedEntry], known: Mapping[str, bytes]) -> Memos:
    new = {d: items.encode(entry) for d, entry in zip(digests, raw, strict=True) if d not in known}
    return Memos(tuple(new.items()), tuple(sorted(set(known) - set(digests))))


def _feed(doc: Any, raw: Sequence[ParsedEntry], problem: Any, memos: Memos) -> ParsedFeed:
    """The document's entries after what reads all of them together."""
    feed = doc.get("feed", {})
    return ParsedFeed(
        title=_plain(feed.get("title_detail")) or clean(feed.get("title", "")),
        language=language(feed.get("language")),
        entries=without_shared_openings(apart(raw)),
        warning=f"ill-formed feed, read what could be read: {_short(problem)}" if problem else None,
        memos=memos,
        ttl=asked_interval(feed),
    )


def _xml_entry(item: Any, base_url: str, feed_author: str | None) -> ParsedEntry:
    url = safe_url(item.get("link"), base_url)
    text = _best_text(item)
    # feedparser's reading of the entry's dates, else the first of its date strings that
    # read_date can read; dict.get: a FeedParserDict maps a missing `updated` to `published`
    parsed = (dict.get(item, f"{key}_parsed") for key in _DATE_KEYS)
    published = next(filter(None, map(from_struct, parsed)), None) or next(
        filter(None, (read_date(dict.get(item, key)) for key in _DATE_KEYS)), None
    )
    raw_title = _plain(item.get("title_detail")) or clean(item.get("title", ""))
    entry = shaped(
        guid=item.get("id"),
        url=url,
        title=raw_title,
        raw_date=dict.get(item, "published") or dict.get(item, "updated"),
        text=text,
        author=author_name(item.get("author"), item.get("author_detail")) or feed_author,
        published=published,
        tags=(tag.get("term") or tag.get("label") for tag in item.get("tags", [])),
        origin=_origin(item, base_url),
    )
    return replace(entry, summary=_own_summary(item, entry.text))


def _origin(item: Any, base_url: str) -> str | None:
    bodies = [*item.get("content", []), item.get("summary_detail")]
    links = (origin_link(str(d["value"]), base_url) for d in bodies if d and d.get("value"))
    return next((link for link in links if link), None)


def _best_text(item: Any) -> str:
    """The fullest body an entry offers: its content, else its summary."""
    candidates = [*item.get("content", []), item.get("summary_detail")]
    texts = [_plain(detail, paragraphs=True) for detail in candidates if detail]
    return max(texts, key=len, default="")


def _own_summary(item: Any, text: str) -> str | None:
    """The feed's summary (`<description>` beside `content:encoded`, Atom's `<summary>` beside
    its content) when it is not just how the text begins: what the excerpt shows, when the
    text starts with something else (a photo's caption, a byline)."""
    summary = _plain(item.get("summary_detail")) if item.get("content") else ""
    if not summary or summary == flat(text) or flat(text).startswith(summary.rstrip(".… ")[:60]):
        return None
    return summary[:_SUMMARY_MAX]


def _plain(detail: Any, paragraphs: bool = False) -> str:
    """A text construct's plain text: on one line, or in paragraphs (an article's body)."""
    if not detail or not detail.get("value"):
        return ""
    value = str(detail["value"])
    if detail.get("type") in _HTML_TYPES:
        return html_to_paragraphs(value) if paragraphs else html_to_text(value)
    return plain_paragraphs(value) if paragraphs else clean(value)


def _short(problem: Any) -> str:
    return clean(str(problem))[:200] or type(problem).__name__
