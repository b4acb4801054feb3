"""The items a feed document repeats from its last fetch: what lets a changed feed skip feedparser
for every item whose bytes did not change.

Owns: splitting an RSS, RDF or Atom document into its head, items and tail when the split is
certain; the digest of an item in its document's context (the head and tail but for their dates,
the Content-Type, the base URL, the parsing code itself); memos, the entry an item parsed to
before the steps that read the whole document, and reading them back. Never parses an item:
parse/__init__.py has feedparser do it, and reads the whole document whenever the split is not
certain.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from archfeed.models import ParsedEntry

_ROOT = re.compile(rb"<(?![?!])([\w:.-]+)")
_COMMENT_OR_CDATA = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>", re.DOTALL)
# what a head says of the whole document and never of an item: it changes whenever an item
# does (the channel's dates, RSS 1.0's list of its items), and feedparser gives items nothing
# of it, so that a feed with one new item still reads the others from their memos
_VOLATILE = re.compile(
    rb"<(lastBuildDate|pubDate|updated|published|dc:date|items)\b[^>]*>.*?</\1\s*>", re.DOTALL
)
_SPACE = frozenset(b" \t\r\n")


@dataclass(frozen=True)
class Split:
    """A document in three parts, and a digest of each item in its context."""

    head: bytes
    items: tuple[bytes, ...]
    tail: bytes
    digests: tuple[str, ...]

    def without(self, known: Collection[str]) -> bytes:
        """The document with only the items whose digest is not in `known`."""
        fresh = (item for item, digest in zip(self.items, self.digests, strict=True)
                 if digest not in known)  # fmt: skip
        return self.head + b"".join(fresh) + self.tail


def split(body: bytes, content_type: str | None, base_url: str) -> Split | None:
    """The document's items, or None when where each begins and ends is not certain: an item
    element written another way (a prefix, `<item/>`), items nested or with anything but space
    between them, a comment or CDATA section that holds an item's tag, no item at all."""
    root = _ROOT.search(body)
    name = root and {b"rss": b"item", b"rdf:RDF": b"item", b"feed": b"entry"}.get(root.group(1))
    bounds = _bounds(body, name) if name else None
    if not bounds:
        return None
    head, tail = body[: bounds[0][0]], body[bounds[-1][1] :]
    context = hashlib.blake2b(digest_size=16)
    for part in (_code_version(), (content_type or "").encode(), base_url.encode()):
        context.update(part + b"\x00")
    context.update(_VOLATILE.sub(b"", head) + b"\x00" + _VOLATILE.sub(b"", tail))
    items = tuple(body[start:end] for start, end in bounds)
    digests = []
    for item in items:
        digest = context.copy()
        digest.update(item)
        digests.append(digest.hexdigest())
    return Split(head, items, tail, tuple(digests))


def _bounds(body: bytes, name: bytes) -> list[tuple[int, int]] | None:
    """Where each element `name` begins and ends, when that is certain."""
    opens = [m.start() for m in re.finditer(rb"<" + name + rb"[\s>/]", body)]
    closes = [m.end() for m in re.finditer(rb"</" + name + rb"\s*>", body)]
    if not opens or len(opens) != len(closes):
        return None
    for start, end, after in zip(opens, closes, [*opens[1:], None], strict=True):
        if not start < end or body[start : body.index(b">", start) + 1].endswith(b"/>"):
            return None
        if after is not None and not (end <= after and _blank(body[end:after])):
            return None
    for span in _COMMENT_OR_CDATA.finditer(body):
        if b"<" + name in span.group() or b"</" + name in span.group():
            return None
    return list(zip(opens, closes, strict=True))


def _blank(between: bytes) -> bool:
    return all(byte in _SPACE for byte in between)


@cache
def _code_version() -> bytes:
    """The parsing code itself and feedparser's version: a memo written by another version of
    either is another item's, so that an upgrade that reads items differently reads them again."""
    import feedparser

    from archfeed import text
    from archfeed.models import pipeline

    digest = hashlib.blake2b(feedparser.__version__.encode(), digest_size=16)
    here = Path(__file__).parent
    for path in [*sorted(here.glob("*.py")), Path(text.__file__), Path(pipeline.__file__)]:
        digest.update(path.read_bytes())
    return digest.digest()


def encode(entry: ParsedEntry) -> bytes:
    """An item's entry as a memo: compact JSON, compressed (a body may be 200 kB)."""
    fields = [
        entry.key, entry.url, entry.title, entry.text, entry.author,
        entry.published.isoformat() if entry.published else None, list(entry.categories),
        entry.origin, entry.summary, entry.alias,
    ]  # fmt: skip
    return zlib.compress(json.dumps(fields, ensure_ascii=False).encode(), 1)


def decode(memo: bytes) -> ParsedEntry:
    key, url, title, text, author, published, categories, origin, summary, alias = json.loads(
        zlib.decompress(memo)
    )
    when = datetime.fromisoformat(published) if published else None
    return ParsedEntry(
        key, url, title, text, author, when, tuple(categories), origin, summary, alias
    )
