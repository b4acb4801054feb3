"""JSON Feed 1.0 and 1.1, which feedparser 6.0 cannot read, mapped onto the entries of parse.

Owns: recognising a JSON Feed (also 1.1 generators that write a bare version) and reading its
items, authors and RFC 3339 dates. Never sees XML.
"""

from __future__ import annotations

import json
from typing import Any

from archfeed.errors import FeedError
from archfeed.models import ParsedEntry, ParsedFeed
from archfeed.parse.dates import read_date
from archfeed.parse.entries import (
    apart,
    language,
    origin_link,
    safe_url,
    shaped,
    without_shared_openings,
)
from archfeed.text import clean, html_to_paragraphs, plain_paragraphs


def parse_json(body: bytes, base_url: str) -> ParsedFeed:
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
    feed_base = safe_url(doc.get("home_page_url"), base_url) or base_url
    feed_author = _json_authors(doc)
    entries = without_shared_openings(
        apart(_json_entry(item, feed_base, feed_author) for item in items if isinstance(item, dict))
    )
    return ParsedFeed(
        title=clean(str(doc.get("title", ""))),
        language=language(doc.get("language")),
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
    url = safe_url(item.get("url") or item.get("external_url"), base_url)
    html = item.get("content_html")
    text = (
        html_to_paragraphs(html)
        if isinstance(html, str) and html
        else plain_paragraphs(str(item.get("content_text") or ""))
    )
    if not text and isinstance(item.get("summary"), str):
        text = clean(item["summary"])
    raw_date = item.get("date_published") or item.get("date_modified")
    title = clean(str(item.get("title") or ""))
    raw_id = item.get("id")
    return shaped(
        guid=str(raw_id) if raw_id not in (None, "") else None,
        url=url,
        title=title,
        raw_date=raw_date,
        text=text,
        author=_json_authors(item) or feed_author,
        published=read_date(raw_date),
        tags=_tags(item.get("tags")),
        origin=origin_link(html if isinstance(html, str) else text, base_url),
    )


def _tags(value: Any) -> list[Any]:
    """`tags` is an array; some feeds give one string ("workflow, omnifocus"), which would
    otherwise be read letter by letter."""
    if isinstance(value, str):
        return [tag.strip() for tag in value.split(",")]
    return value if isinstance(value, list) else []
