"""Writes: one source's entries, clusters and fetch state; failures; new classifications.

Owns: the INSERT and UPDATE statements, run inside the transaction (or savepoint) the Store opens
for each call. Never opens, commits or rolls back one itself.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from archfeed.models import Source
from archfeed.store import clusters
from archfeed.store.dates import UNDATED
from archfeed.text import flat, iso, person

if TYPE_CHECKING:  # a fetch's shapes (models/pipeline.py): annotations here only
    from archfeed.models import Change, Classified, DedupKeys, FetchResult, Memos, ParsedEntry


def entry_id(source: str, key: str) -> str:
    """A stable id: the same source and identity always give the same 16 hex characters."""
    return hashlib.sha1(f"{source}\x00{key}".encode(), usedforsecurity=False).hexdigest()[:16]


def entry_hash(entry: ParsedEntry) -> str:
    """What makes an entry 'changed': any user-visible field."""
    return _hash(
        entry.title, entry.text, entry.url, entry.author, entry.categories,
        iso(entry.published) if entry.published else "", entry.summary,
    )  # fmt: skip


def _hash(
    title: str, text: str, url: str | None, author: str | None, categories: Sequence[str],
    published: str, summary: str | None,
) -> str:  # fmt: skip
    parts = [
        title,
        # paragraphs are the text's layout, not what it says: an entry stored flat by an earlier
        # version is not "updated" by them
        flat(text),
        url or "",
        author or "",
        "\x1f".join(categories),
        published,
    ]
    if summary:  # only then: the hashes of entries stored before stay what they were
        parts.append(summary)
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).hexdigest()


def authors_by_name(conn: sqlite3.Connection) -> None:
    """Schema v11: authors stored as "Jo Doe (jo@x.org)" become "Jo Doe", as parse now writes
    them, and so does each one's change hash when the stored fields give back the stored hash
    (a post dated in the future was stored under another date: its next fetch updates it), so
    that the first fetch after the upgrade does not count them all as updated."""
    for table in ("entries", "pruned_entries"):
        rows = conn.execute(
            "SELECT seq, title, text, url, author, categories, published, summary, "  # noqa: S608
            f"content_hash FROM {table} WHERE author LIKE '%@%'"
        ).fetchall()
        changes = []
        for seq, title, text, url, author, categories, published, summary, stored in rows:
            named = person(author)
            if named == author:
                continue
            tags, when = json.loads(categories or "[]"), "" if published == UNDATED else published
            same = _hash(title, text, url, author, tags, when, summary) == stored
            renamed = _hash(title, text, url, named, tags, when, summary) if same else stored
            changes.append((named, renamed, seq))
        conn.executemany(
            f"UPDATE {table} SET author = ?, content_hash = ? WHERE seq = ?",  # noqa: S608
            changes,
        )


def newest_seq(conn: sqlite3.Connection) -> int:
    """The highest seq ever given: a prune of the newest entries must not let the next ones
    reuse their numbers, which digest marks have passed already (store/trash.py keeps it)."""
    return int(conn.execute(
        "SELECT max(coalesce((SELECT max(seq) FROM entries), 0), coalesce((SELECT "
        "CAST(value AS INTEGER) FROM meta WHERE key = 'seq_high'), 0))"
    ).fetchone()[0])  # fmt: skip


# what an entry keeps of its DedupKeys beside its index rows (entry_bands); fixed names, joined
# into the statements below
KEY_COLUMNS = (
    "canonical_url, title_key, origin_url, lead, trail, generic_title, private_url, excerpt"
)
_KEY_MARKS = ", ".join("?" * len(KEY_COLUMNS.split(", ")))
_KEY_SETS = ", ".join(f"{column} = ?" for column in KEY_COLUMNS.split(", "))


def key_columns(keys: DedupKeys) -> tuple[object, ...]:
    return (keys.canonical_url, keys.title_key, keys.origin_url, keys.lead, keys.trail,
            int(keys.generic_title), int(keys.private), int(keys.excerpt))  # fmt: skip


def rekey(conn: sqlite3.Connection, rows: Sequence[tuple[int, DedupKeys]]) -> None:
    """New keys for stored entries, by seq: their columns and their index rows."""
    conn.executemany(
        f"UPDATE entries SET {_KEY_SETS} WHERE seq = ?",  # noqa: S608 -- fixed column names
        [(*key_columns(keys), seq) for seq, keys in rows],
    )
    clusters.write_bands(conn, [(seq, keys.bands + keys.anchors, True) for seq, keys in rows])


@dataclass(frozen=True)
class Known:
    seq: int
    content_hash: str
    first_seen: str
    published: str


@dataclass(frozen=True)
class Fetched:
    """What a source's fetch writes: its new and changed entries, and its fetch state."""

    source: Source
    classified_with: str  # the config's fingerprint the changes were classified under
    result: FetchResult
    now: datetime
    changes: Sequence[Change] = ()
    known: Mapping[str, Known] = field(default_factory=dict)  # its entries stored before
    memos: Memos | None = None  # its items' memos to write and to forget; None: leave them
    ttl: float | None = None  # seconds its feed asks between fetches (ParsedFeed.ttl)


def save(conn: sqlite3.Connection, fetched: Fetched) -> tuple[int, int, int]:
    """One source's new and changed entries, their clusters of copies and the source's fetch
    state. Returns (new, updated, duplicates)."""
    source, result, now, changes, known = (
        fetched.source, fetched.result, fetched.now, fetched.changes, fetched.known
    )  # fmt: skip
    stamp = iso(now)
    # seqs are given here, as SQLite would (one above the largest), so that the rows that point
    # at an entry are written without looking each one up by id
    last = before = newest_seq(conn)
    inserts, updates, topics, bands, seqs = [], [], [], [], []
    for change in changes:
        entry, cls = change.entry, change.classified
        old = known.get(entry.key)
        first_seen = old.first_seen if old else stamp
        id_ = entry_id(source.name, entry.key)
        seq = old.seq if old else (last := last + 1)
        row = (
            entry.url, entry.title, entry.text, entry.author,
            _published(entry.published, now, first_seen, old), stamp,
            cls.lang, cls.lang_source, cls.text_lang, cls.text_lang_source,
            json.dumps(sorted(cls.topics), ensure_ascii=False),
            json.dumps(list(entry.categories), ensure_ascii=False), change.content_hash,
            entry.summary, *key_columns(change.keys),
        )  # fmt: skip
        if old:
            updates.append((*row, seq))
        else:
            inserts.append((seq, id_, source.name, entry.key, first_seen, *row))
        topics.append((seq, cls.topics, bool(old)))
        bands.append((seq, change.keys.bands + change.keys.anchors, bool(old)))
        seqs.append(seq)
    touch(conn, source, fetched.classified_with, now)
    conn.executemany(
        "INSERT INTO entries (seq, id, source, key, first_seen, url, title, text, author, "  # noqa: S608
        "published, updated, lang, lang_source, text_lang, text_lang_source, topics, "
        f"categories, content_hash, summary, {KEY_COLUMNS}) "
        f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {_KEY_MARKS})",
        inserts,
    )
    if inserts:  # changed entries are re-indexed by the entries_au trigger
        conn.execute(
            "INSERT INTO entries_fts (rowid, title, text) "
            "SELECT seq, title, text FROM entries WHERE seq > ?",
            (before,),
        )
    conn.executemany(
        "UPDATE entries SET url = ?, title = ?, text = ?, author = ?, published = ?, "  # noqa: S608
        "updated = ?, lang = ?, lang_source = ?, text_lang = ?, text_lang_source = ?, "
        f"topics = ?, categories = ?, content_hash = ?, summary = ?, {_KEY_SETS} WHERE seq = ?",
        updates,
    )
    _set_topics(conn, topics)
    clusters.write_bands(conn, bands)
    touched = clusters.clusters_of(conn, seqs) if seqs else set()
    touched |= {clusters.join(conn, seq, c.copies) for seq, c in zip(seqs, changes, strict=True)
                if c.copies}  # fmt: skip
    clusters.elect(conn, touched, seqs)
    conn.execute(
        "UPDATE sources SET etag = ?, last_modified = ?, body_hash = ?, last_fetch = ?, "
        "last_status = ?, last_error = NULL, failures = 0, moved_to = ?, "
        "skip_until = NULL, gone_url = NULL, fresh_for = ?, ttl = ?, "
        "last_new = CASE WHEN ? THEN ? ELSE last_new END WHERE name = ?",
        (result.etag, result.last_modified, result.body_hash, stamp, result.status,
         result.permanent_redirect, result.fresh_for, fetched.ttl, bool(inserts), stamp,
         source.name),
    )  # fmt: skip
    if fetched.memos is not None:
        _keep_memos(conn, source.name, fetched.memos)
    duplicates = sum(1 for c in changes if c.copies and c.entry.key not in known)
    return len(inserts), len(updates), duplicates


def _keep_memos(conn: sqlite3.Connection, source: str, memos: Memos) -> None:
    if memos.forget_all:
        conn.execute("DELETE FROM item_memos WHERE source = ?", (source,))
    conn.executemany(
        "DELETE FROM item_memos WHERE source = ? AND digest = ?",
        [(source, digest) for digest in memos.gone],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO item_memos (source, digest, memo) VALUES (?, ?, ?)",
        [(source, digest, memo) for digest, memo in memos.new],
    )


def touch(conn: sqlite3.Connection, source: Source, fingerprint: str | None, now: datetime) -> None:
    conn.execute(
        "INSERT INTO sources (name, url, added, classified_with, position) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET url = excluded.url, "
        "position = excluded.position, "
        "classified_with = coalesce(excluded.classified_with, classified_with)",
        (source.name, source.url, iso(now), fingerprint, source.position),
    )


def failure(
    conn: sqlite3.Connection,
    source: Source,
    result: FetchResult,
    error: str,
    now: datetime,
    skip_until: datetime,
) -> None:
    """A failed fetch: one more consecutive failure, and no new try before `skip_until`."""
    gone = source.url if result.status == 410 else None
    touch(conn, source, None, now)
    conn.execute(
        "UPDATE sources SET last_fetch = ?, last_status = ?, last_error = ?, "
        "failures = failures + 1, moved_to = ?, skip_until = ?, gone_url = ? "
        "WHERE name = ?",
        (iso(now), result.status, error, result.permanent_redirect, iso(skip_until),
         gone, source.name),
    )  # fmt: skip


def reclassify(
    conn: sqlite3.Connection, source: str, fingerprint: str, rows: Sequence[tuple[int, Classified]]
) -> None:
    """New classifications of stored entries, by seq."""
    conn.executemany(
        "UPDATE entries SET lang = ?, lang_source = ?, topics = ? WHERE seq = ?",
        [(c.lang, c.lang_source, json.dumps(sorted(c.topics), ensure_ascii=False), seq)
         for seq, c in rows],
    )  # fmt: skip
    _set_topics(conn, [(seq, c.topics, True) for seq, c in rows])
    conn.execute("UPDATE sources SET classified_with = ? WHERE name = ?", (fingerprint, source))


def _set_topics(conn: sqlite3.Connection, rows: Sequence[tuple[int, Sequence[str], bool]]) -> None:
    """The entry_topics rows that make `--topic` an index lookup: (seq, topics, whether it was
    stored before, so that only those have old rows to drop)."""
    conn.executemany("DELETE FROM entry_topics WHERE seq = ?", [(s,) for s, _, old in rows if old])
    conn.executemany(
        "INSERT INTO entry_topics (topic, seq) VALUES (?, ?)",
        [(topic, seq) for seq, topics, _ in rows for topic in topics],
    )


def _published(when: datetime | None, now: datetime, first_seen: str, old: Known | None) -> str:
    """docs/design.md, "Time": no date is UNDATED (an entry stored before keeps its date), a date
    in the future is when it was first seen."""
    if when is None:
        return old.published if old else UNDATED
    return first_seen if when > now else iso(when)
