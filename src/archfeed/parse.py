"""The only feedparser code: bytes of a feed → a ParsedFeed of plain-text entries with identities.

Owns: format detection (RSS, Atom, RDF via feedparser; JSON Feed mapped here), entry identity,
turning titles and bodies into plain text, dates into UTC. Never fetches (feedparser is handed
bytes, never a URL or a path) and no feedparser object leaves this module.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.sax.expatreader import ExpatParser

import feedparser

from archfeed.errors import FeedError
from archfeed.models import ParsedEntry, ParsedFeed
from archfeed.text import clean, excerpt, html_to_text

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})
_SAFE_SCHEMES = frozenset({"http", "https"})
_UNTITLED_LENGTH = 80
_MAX_TITLE, _MAX_AUTHOR, _MAX_CATEGORY, _MAX_CATEGORIES = 300, 200, 100, 32
_MAX_URL, _MAX_TEXT = 2048, 200_000
_DECLARED_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding=["'])[^"']*(["'])""")


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


feedparser.api.PREFERRED_XML_PARSERS[:] = [__name__]


def parse(body: bytes, content_type: str | None, base_url: str) -> ParsedFeed:
    """Parse one feed document; raise FeedError when nothing in it can be read as a feed."""
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if not head:
        raise FeedError("empty response")
    if head in (b"{", b"["):
        return _parse_json(body, base_url)
    utf8 = _utf16_without_bom(body)
    if utf8 is not None:
        return _parse_xml(utf8, None, base_url)
    return _parse_xml(body, content_type, base_url)


def _utf16_without_bom(body: bytes) -> bytes | None:
    """UTF-16 with no byte-order mark defeats expat and feedparser's sniffing, but its zero bytes
    give it away: `<` is 00 3C in big-endian and 3C 00 in little-endian."""
    if len(body) < 4:
        return None
    if body[0] == 0 and body[2] == 0 and body[1] and body[3]:
        text = body.decode("utf-16-be", errors="replace")
    elif body[1] == 0 and body[3] == 0 and body[0] and body[2]:
        text = body.decode("utf-16-le", errors="replace")
    else:
        return None
    return _DECLARED_ENCODING.sub(r"\1utf-8\2", text, count=1).encode("utf-8")


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


def _parse_xml(body: bytes, content_type: str | None, base_url: str) -> ParsedFeed:
    body = _strip_internal_subset(body)
    headers = {"content-type": content_type} if content_type else {}
    # sanitize and URI resolution are for HTML output; archfeed renders plain text, and both cost
    # more than half of feedparser's time per entry
    doc = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    problem = doc.get("bozo_exception")
    if not doc.get("version") and not doc.entries:
        reason = _short(problem) if problem else "no RSS, Atom or RDF elements"
        raise FeedError(f"not a feed: {reason}")
    feed = doc.get("feed", {})
    # the feed's author is every entry's author unless the entry names its own (RSS, Atom, JSON)
    feed_author = clean(feed.get("author", "")) or None
    entries = tuple(_bounded(_xml_entry(item, base_url, feed_author)) for item in doc.entries)
    return ParsedFeed(
        title=_plain(feed.get("title_detail")) or clean(feed.get("title", "")),
        language=_language(feed.get("language")),
        entries=entries,
        warning=f"ill-formed feed, read what could be read: {_short(problem)}" if problem else None,
    )


def _bounded(entry: ParsedEntry) -> ParsedEntry:
    """Feed text is hostile: a 5,000-character title or a thousand categories is an attack or a
    bug, never something to show in full."""
    url = entry.url if entry.url and len(entry.url) <= _MAX_URL else None
    return replace(
        entry,
        url=url,
        title=excerpt(entry.title, _MAX_TITLE),
        text=entry.text[:_MAX_TEXT],
        author=excerpt(entry.author, _MAX_AUTHOR) if entry.author else None,
        categories=tuple(excerpt(c, _MAX_CATEGORY) for c in entry.categories[:_MAX_CATEGORIES]),
    )


def _xml_entry(item: Any, base_url: str, feed_author: str | None) -> ParsedEntry:
    url = _safe_url(item.get("link"), base_url)
    text = _best_text(item)
    when = next(
        (
            item[key]
            for key in ("published_parsed", "updated_parsed", "created_parsed")
            if item.get(key)
        ),
        None,
    )
    published = datetime.fromtimestamp(calendar.timegm(when), UTC) if when else None
    raw_title = _plain(item.get("title_detail")) or clean(item.get("title", ""))
    return ParsedEntry(
        key=_identity(
            item.get("id"), url, raw_title, item.get("published") or item.get("updated"), text
        ),
        url=url,
        title=raw_title or _untitled(text, url),
        text=text,
        author=clean(item.get("author", "")) or feed_author,
        published=published,
        categories=_categories(tag.get("term") or tag.get("label") for tag in item.get("tags", [])),
    )


def _best_text(item: Any) -> str:
    """The fullest body an entry offers: its content, else its summary."""
    candidates = [*item.get("content", []), item.get("summary_detail")]
    texts = [_plain(detail) for detail in candidates if detail]
    return max(texts, key=len, default="")


def _plain(detail: Any) -> str:
    if not detail or not detail.get("value"):
        return ""
    value = str(detail["value"])
    return html_to_text(value) if detail.get("type") in _HTML_TYPES else clean(value)


def _parse_json(body: bytes, base_url: str) -> ParsedFeed:
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError(f"invalid JSON: {exc}") from None
    items = doc.get("items") if isinstance(doc, dict) else None
    if (
        not isinstance(doc, dict)
        or not isinstance(items, list)
        or not _looks_like_json_feed(doc, items)
    ):
        raise FeedError(
            "JSON, but not a JSON Feed (no jsonfeed.org version, no items with id or url)"
        )
    feed_base = _safe_url(doc.get("home_page_url"), base_url) or base_url
    feed_author = _json_authors(doc)
    entries = tuple(
        _bounded(_json_entry(item, feed_base, feed_author))
        for item in items
        if isinstance(item, dict)
    )
    return ParsedFeed(
        title=clean(str(doc.get("title", ""))),
        language=_language(doc.get("language")),
        entries=entries,
    )


def _looks_like_json_feed(doc: dict[str, Any], items: list[Any]) -> bool:
    """A jsonfeed.org version, or (for generators that write "1.1") items shaped like its items."""
    if "jsonfeed.org/version/" in str(doc.get("version", "")):
        return True
    return bool(items) and all(isinstance(i, dict) and ("id" in i or "url" in i) for i in items)


def _json_authors(obj: dict[str, Any]) -> str | None:
    """JSON Feed 1.1 `authors`, or 1.0's single `author`, as one string."""
    authors = obj.get("authors") or ([obj["author"]] if isinstance(obj.get("author"), dict) else [])
    names = [clean(str(a.get("name", ""))) for a in authors if isinstance(a, dict)]
    return ", ".join(filter(None, names)) or None


def _json_entry(item: dict[str, Any], base_url: str, feed_author: str | None) -> ParsedEntry:
    url = _safe_url(item.get("url") or item.get("external_url"), base_url)
    html = item.get("content_html")
    text = (
        html_to_text(html)
        if isinstance(html, str) and html
        else clean(str(item.get("content_text") or ""))
    )
    if not text and isinstance(item.get("summary"), str):
        text = clean(item["summary"])
    raw_date = item.get("date_published") or item.get("date_modified")
    title = clean(str(item.get("title") or ""))
    raw_id = item.get("id")
    return ParsedEntry(
        key=_identity(
            str(raw_id) if raw_id not in (None, "") else None, url, title, raw_date, text
        ),
        url=url,
        title=title or _untitled(text, url),
        text=text,
        author=_json_authors(item) or feed_author,
        published=_rfc3339(raw_date),
        categories=_categories(item.get("tags") or []),
    )


def _identity(guid: str | None, url: str | None, title: str, date: Any, text: str) -> str:
    """DESIGN §4: the guid/id, else the link, else a hash of title and date (and of the text when
    there is neither, so that untitled undated items stay apart)."""
    if guid and guid.strip():
        return guid.strip()
    if url:
        return url
    basis = f"{title}\x00{date or ''}" if title or date else f"\x00\x00{text}"
    return "sha1:" + hashlib.sha1(basis.encode(), usedforsecurity=False).hexdigest()


def _rfc3339(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _safe_url(value: Any, base_url: str) -> str | None:
    """An absolute http(s) URL, or None: a `javascript:` or `data:` link is never passed on."""
    if not isinstance(value, str) or not value.strip():
        return None
    url = clean(urljoin(base_url, value.strip()) if base_url.startswith("http") else value.strip())
    return url if urlsplit(url).scheme.lower() in _SAFE_SCHEMES else None


def _categories(terms: Iterable[Any]) -> tuple[str, ...]:
    cleaned = (clean(str(term)) for term in terms if term)
    return tuple(dict.fromkeys(term for term in cleaned if term))


def _language(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower().replace("_", "-").split("-")[0][:3] or None


def _untitled(text: str, url: str | None) -> str:
    return excerpt(text, _UNTITLED_LENGTH) or url or "(untitled)"


def _short(problem: Any) -> str:
    return clean(str(problem))[:200] or type(problem).__name__
