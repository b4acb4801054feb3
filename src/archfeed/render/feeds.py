"""The merged stream as a feed another reader subscribes to: Atom 1.0 (RFC 4287) and JSON Feed
1.1 (jsonfeed.org/version/1.1), for `list` and `digest`.

Owns: both documents: one item per entry given, its id a tag: URI (RFC 4151) that never changes
between runs, its link and its other copies' links (only those web_link lets through), its
language, topics, dates, author and excerpt (render.summary); the feed's own title, id and date.
Never chooses the entries (the store's filters and the digest's mark do) and never writes feed
text as markup: XML is built by ElementTree, which escapes every value, JSON by json.dumps, and
every value first loses what text.clean strips, which takes all that XML 1.0 cannot carry.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from archfeed import __version__
from archfeed.render import summary
from archfeed.text import clean, iso
from archfeed.text.links import web_link

if TYPE_CHECKING:
    from archfeed.models import Filter, StoredEntry

# RFC 4151: an authority and a date fixed once, so that an id is the same in every run and
# every release; what follows is the entry's own id, or what names the feed
TAG = "tag:archfeed,2026:"
ATOM = "http://www.w3.org/2005/Atom"
NS = "urn:archfeed:feed"  # the `archfeed:source` of a copy's link: Atom takes foreign attributes
JSON_FEED = "https://jsonfeed.org/version/1.1"
EXTENSION = "_archfeed"  # JSON Feed 1.1: an object whose name starts with "_" is an extension


@dataclass(frozen=True)
class Channel:
    """The feed itself: its title, its id (a tag: URI), and the time it is dated when it has
    no entries to be dated by."""

    title: str
    id: str
    now: datetime


def list_channel(where: Filter, now: datetime) -> Channel:
    """`list`'s feed, titled and named by its filters. The time window (--since, --until) and
    --limit are left out of both: `--since 7d` moves each run, and a feed whose id moved would
    be a new feed to every subscriber."""
    named = (
        ("source", where.sources),
        ("topic", where.topics),
        ("lang", where.langs),
        ("search", (where.search,) if where.search else ()),
        ("state", () if where.read is None else ("read" if where.read else "unread",)),
        ("copies", ("all",) if where.all_copies else ()),
        ("shown", ("muted",) if where.muting and where.muting.hidden else ()),
    )
    said = [f"{key} {' or '.join(values)}" for key, values in named if values]
    pairs = [(key, value) for key, values in named for value in sorted(values)]
    query = "?" + urlencode(pairs, quote_via=quote) if pairs else ""
    return Channel("archfeed" + (": " + ", ".join(said) if said else ""), f"{TAG}list{query}", now)


def digest_channel(name: str, now: datetime) -> Channel:
    return Channel(f'archfeed digest "{name}"', f"{TAG}digest/{quote(name, safe='')}", now)


def _entry_tag(entry: StoredEntry) -> str:
    return f"{TAG}entry/{entry.id}"


def document(fmt: str, entries: Sequence[StoredEntry], excerpt_chars: int, channel: Channel) -> str:
    """`entries` as a feed in `fmt`, one of render.FEED_FORMATS; any other is the caller's bug."""
    return _WRITERS[fmt](entries, excerpt_chars, channel)


def _inert(value: str) -> str:
    """A value as every field of both formats carries it: what clean strips (which is all XML
    1.0 cannot carry too: controls, halves of UTF-16 pairs, U+FFFE) goes from what was stored
    before clean stripped them all."""
    return clean(value)


def _updated(entry: StoredEntry) -> datetime:
    """An entry's date: when it was published, else (a post that gave none) when first seen."""
    return entry.published or entry.first_seen


def _newest(entries: Sequence[StoredEntry], channel: Channel) -> str:
    return iso(max((_updated(entry) for entry in entries), default=channel.now))


def _atom(entries: Sequence[StoredEntry], excerpt_chars: int, channel: Channel) -> str:
    # namespaces as plain attributes (as opml.py writes them): ElementTree's registry of
    # prefixes is global to the process
    feed = ET.Element("feed", {"xmlns": ATOM, "xmlns:archfeed": NS})
    _element(feed, "id", channel.id)
    _element(feed, "title", _inert(channel.title), type="text")
    _element(feed, "updated", _newest(entries, channel))
    _element(feed, "generator", "archfeed", version=__version__)
    for entry in entries:
        item = ET.SubElement(feed, "entry", {"xml:lang": _inert(entry.lang)})
        _atom_entry(item, entry, excerpt_chars)
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, "unicode") + "\n"


def _atom_entry(item: ET.Element, entry: StoredEntry, excerpt_chars: int) -> None:
    _element(item, "id", _entry_tag(entry))
    _element(item, "title", _inert(entry.title), type="text")
    link = web_link(entry.url)
    if link:
        ET.SubElement(item, "link", {"rel": "alternate", "href": link})
    for copy in entry.also_at:
        href = web_link(copy.url)
        if href:
            related = {"rel": "related", "href": href, "title": _inert(copy.title)}
            ET.SubElement(item, "link", {**related, "archfeed:source": _inert(copy.source)})
    if entry.published:
        _element(item, "published", iso(entry.published))
    _element(item, "updated", iso(_updated(entry)))
    if entry.author:
        _element(ET.SubElement(item, "author"), "name", _inert(entry.author))
    for topic in sorted(entry.topics):
        ET.SubElement(item, "category", {"term": _inert(topic)})
    text = _inert(summary(entry, excerpt_chars))
    _element(item, "summary", text, type="text")
    if not link:  # RFC 4287 4.1.1.1: an entry without an alternate link must have content
        _element(item, "content", text, type="text")
    # where it came from; an entry that names no author gets its source's name as the source's
    # author (RFC 4287 4.1.2 wants one), not a made-up person or a feed-wide "archfeed"
    source = ET.SubElement(item, "source")
    _element(source, "title", _inert(entry.source), type="text")
    if not entry.author:
        _element(ET.SubElement(source, "author"), "name", _inert(entry.source))


def _element(parent: ET.Element, tag: str, text: str, **attributes: str) -> None:
    ET.SubElement(parent, tag, attributes).text = text


def _jsonfeed(entries: Sequence[StoredEntry], excerpt_chars: int, channel: Channel) -> str:
    """JSON Feed has no feed id or date of its own: they are in the `_archfeed` object, beside
    the copies of each item (`external_url` holds one link, an article may have several)."""
    document: dict[str, Any] = {
        "version": JSON_FEED,
        "title": _inert(channel.title),
        "items": [_json_item(entry, excerpt_chars) for entry in entries],
        EXTENSION: {"id": channel.id, "updated": _newest(entries, channel)},
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _json_item(entry: StoredEntry, excerpt_chars: int) -> dict[str, Any]:
    text = _inert(summary(entry, excerpt_chars))
    item: dict[str, Any] = {"id": _entry_tag(entry)}
    link = web_link(entry.url)
    if link:
        item["url"] = link
    # content_text: JSON Feed wants content_text or content_html; the excerpt is what there is
    item |= {"title": _inert(entry.title), "content_text": text, "summary": text}
    if entry.published:
        item["date_published"] = iso(entry.published)
    item["date_modified"] = iso(_updated(entry))
    if entry.author:
        item["authors"] = [{"name": _inert(entry.author)}]
    if entry.topics:
        item["tags"] = [_inert(topic) for topic in sorted(entry.topics)]
    item["language"] = _inert(entry.lang)
    copies = [
        {"source": _inert(copy.source), "url": web_link(copy.url), "title": _inert(copy.title)}
        for copy in entry.also_at
    ]
    item[EXTENSION] = {"source": _inert(entry.source), "also_at": copies}
    return item


_WRITERS: dict[str, Callable[[Sequence[StoredEntry], int, Channel], str]] = {
    "atom": _atom,
    "jsonfeed": _jsonfeed,
}
