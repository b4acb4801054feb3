"""The parser workers' half of ingesting a feed: from its bytes to the changes the store takes.

Owns: parsing, one entry per identity (the richer of an item given twice; an entry stored under
a shared link keeping it), hashing, classifying and the cross-post keys of every new or changed
entry. Pure: no database, no network; run in a worker process (update/pool.py) or inline.
Never finds copies among stored entries: the main process, which has the database, does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from archfeed import dedup
from archfeed.classify import classify
from archfeed.errors import FeedError
from archfeed.models import Change, ParsedEntry, ParsedFeed, Prepared, Source, TopicRule
from archfeed.store import entry_hash

TOMBSTONE = "pruned"  # in the hashes handed to a worker: skip this identity, whatever it holds


def prepare(
    body: bytes,
    content_type: str | None,
    base_url: str,
    source: Source,
    rules: Sequence[TopicRule],
    expected: Sequence[str],
    unchanged: Mapping[str, str],
    memos: Mapping[str, bytes],
) -> Prepared:
    """The CPU-bound half of ingesting a feed, run in a worker process: parse, then hash,
    classify and compute the dedup keys of every entry that is new or changed (`unchanged`: the
    stored hash of each identity, tombstones included; `memos`: the source's items as its last
    fetch read them, by digest). Pure: no database, no network."""
    from archfeed.parse import parse

    try:
        feed = parse(body, content_type, base_url, memos)
    except FeedError as exc:
        return Prepared(error=exc.message)
    except Exception as exc:  # a parser crash on hostile input is that source's error alone
        return Prepared(error=f"parser failed: {type(exc).__name__}: {exc}")
    return prepare_feed(feed, source, rules, expected, unchanged)


def prepare_feed(
    feed: ParsedFeed,
    source: Source,
    rules: Sequence[TopicRule],
    expected: Sequence[str],
    unchanged: Mapping[str, str],
) -> Prepared:
    """The entries of a parsed feed that are new or changed, hashed, classified and with the keys
    that find their copies; what the source repeats across all its items is read first."""
    entries = _distinct(_as_stored(feed.entries, unchanged))
    # what the source repeats across its items is boilerplate, never evidence of a cross-post
    shared = dedup.siblings([e.title for e in entries], [e.text for e in entries], feed.title)
    changes = []
    try:
        for entry, sibling in zip(entries, shared, strict=True):
            digest = entry_hash(entry)
            if unchanged.get(entry.key) in (digest, TOMBSTONE):  # unchanged, or pruned for good
                continue
            classified = classify(entry, source, feed.language, rules, expected)
            keys = dedup.keys(entry.url, entry.title, entry.text, entry.origin, sibling)
            changes.append(Change(entry, classified, digest, keys))
    finally:
        dedup.forget()  # the next feed's texts are others
    return Prepared(tuple(changes), warning=feed.warning, memos=feed.memos, ttl=feed.ttl)


def _as_stored(entries: Sequence[ParsedEntry], unchanged: Mapping[str, str]) -> list[ParsedEntry]:
    """The entries, the one stored under an alias (by an earlier version, or while it was the
    only item with that link) keeping that identity, so that an upgrade duplicates nothing: the
    entry whose content is the stored one's, else the first that shares the alias (earlier
    versions stored the first of a document's items with one link; its text may have changed
    since, or only the way this version reads it)."""
    holder: dict[str, int] = {}
    for index, entry in enumerate(entries):  # hashed only when stored under its alias: rare
        if entry.alias and entry.alias in unchanged and unchanged[entry.alias] == entry_hash(entry):
            holder.setdefault(entry.alias, index)
    for index, entry in enumerate(entries):
        if entry.alias and entry.alias in unchanged:
            holder.setdefault(entry.alias, index)
    return [
        replace(entry, key=entry.alias)
        if entry.alias and holder.get(entry.alias) == index
        else entry
        for index, entry in enumerate(entries)
    ]


def _distinct(entries: Iterable[ParsedEntry]) -> list[ParsedEntry]:
    """One entry per identity, in document order: of an item given twice, the richer copy (more
    text, then a longer title, then a date), the first on a tie."""
    kept: dict[str, ParsedEntry] = {}
    for entry in entries:
        other = kept.get(entry.key)
        if other is None or _richness(entry) > _richness(other):
            kept[entry.key] = entry
    return list(kept.values())


def _richness(entry: ParsedEntry) -> tuple[int, int, bool]:
    return len(entry.text), len(entry.title), entry.published is not None
