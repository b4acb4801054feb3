"""The only SQL: the database file, its schema and migrations, per-source writes, and queries.

Owns: one SQLite file in WAL mode with a busy timeout; entries keyed by (source, identity) with a
stable short id; per-source fetch state; the full-text index. Every source's writes happen in one
transaction. Never fetches, parses or prints.

sqlite-utils creates and migrates the schema (it is imported only then: ~100 ms of start-up that
`list` should not pay); reads and upserts go through the same connection with plain SQL.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from archfeed.errors import StoreError
from archfeed.models import (
    Article,
    Classified,
    DedupKeys,
    EntryDetail,
    FetchResult,
    Filter,
    ParsedEntry,
    Source,
    SourceHealth,
    StoredEntry,
    Validators,
)
from archfeed.store import clusters, query
from archfeed.text import iso

SCHEMA_VERSION = 4
BUSY_TIMEOUT_S = 30.0
APP_ID = 0x41524346  # "ARCF": marks the file as an archfeed database


def entry_id(source: str, key: str) -> str:
    """A stable id: the same source and identity always give the same 16 hex characters."""
    return hashlib.sha1(f"{source}\x00{key}".encode(), usedforsecurity=False).hexdigest()[:16]


def entry_hash(entry: ParsedEntry) -> str:
    """What makes an entry 'changed': any user-visible field."""
    parts = (
        entry.title,
        entry.text,
        entry.url or "",
        entry.author or "",
        "\x1f".join(entry.categories),
        iso(entry.published) if entry.published else "",
    )
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Known:
    content_hash: str
    first_seen: str
    published: str


@dataclass(frozen=True)
class Change:
    entry: ParsedEntry
    classified: Classified
    content_hash: str
    keys: DedupKeys
    copies: tuple[int, ...] = ()  # seqs of stored entries in other sources: the same article


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._migrate()
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"cannot open the database {path}: {exc}",
                hint="is it an archfeed database? pass another with --db",
            ) from None
        except OSError as exc:
            raise StoreError(f"cannot create the database {path}: {exc.strerror}") from None

    def close(self) -> None:
        self.conn.close()

    # -- schema ---------------------------------------------------------------------------------

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer archfeed (schema {version})",
                hint="upgrade archfeed",
            )
        app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
        tables = self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if version == 0 and tables and app_id != APP_ID:
            raise StoreError(
                f"{self.path} is a SQLite database but not archfeed's",
                hint="pass another path with --db",
            )
        from archfeed.store.schema import migrate

        with self._transaction():
            migrate(self.conn, version, SCHEMA_VERSION)
            self.conn.execute(f"PRAGMA application_id = {APP_ID}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise StoreError(
                f"the database {self.path} stayed locked for {BUSY_TIMEOUT_S:g} s",
                hint="another archfeed fetch is probably running; try again when it ends",
            ) from None
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- fetch state ----------------------------------------------------------------------------

    def validators(self) -> dict[str, Validators]:
        rows = self.conn.execute("SELECT name, etag, last_modified, body_hash FROM sources")
        return {name: Validators(etag, modified, digest) for name, etag, modified, digest in rows}

    def known(self, source: str) -> dict[str, Known]:
        rows = self.conn.execute(
            "SELECT key, content_hash, first_seen, published FROM entries WHERE source = ?",
            (source,),
        )
        return {key: Known(digest, first, published) for key, digest, first, published in rows}

    def record_failure(
        self, source: Source, result: FetchResult, error: str, now: datetime, skip_until: datetime
    ) -> None:
        """A failed fetch: one more consecutive failure, and no new try before `skip_until`."""
        gone = source.url if result.status == 410 else None
        with self._transaction() as conn:
            self._touch(conn, source, None, now)
            conn.execute(
                "UPDATE sources SET last_fetch = ?, last_status = ?, last_error = ?, "
                "failures = failures + 1, moved_to = ?, skip_until = ?, gone_url = ? "
                "WHERE name = ?",
                (iso(now), result.status, error, result.permanent_redirect, iso(skip_until),
                 gone, source.name),
            )  # fmt: skip

    def health(self) -> dict[str, SourceHealth]:
        return query.health(self.conn)

    def save(
        self,
        source: Source,
        fingerprint: str,
        result: FetchResult,
        changes: Sequence[Change],
        known: dict[str, Known],
        now: datetime,
    ) -> tuple[int, int, int]:
        """Write one source's new and changed entries, their clusters of copies and the source's
        fetch state, in one transaction. `fingerprint` is the classification the changes were
        made with. Returns (new, updated, duplicates): duplicates are new copies of stored
        articles."""
        stamp = iso(now)
        inserts, updates, topics = [], [], []
        for change in changes:
            entry, cls = change.entry, change.classified
            old = known.get(entry.key)
            first_seen = old.first_seen if old else stamp
            id_ = entry_id(source.name, entry.key)
            row = (
                entry.url, entry.title, entry.text, entry.author,
                _published(entry.published, now, first_seen, old), stamp,
                cls.lang, cls.lang_source, cls.text_lang, cls.text_lang_source,
                json.dumps(sorted(cls.topics), ensure_ascii=False),
                json.dumps(list(entry.categories), ensure_ascii=False), change.content_hash,
            )  # fmt: skip
            if old:
                updates.append((*row, id_))
            else:
                inserts.append((id_, source.name, entry.key, first_seen, *row))
            topics.append((id_, cls.topics))
        with self._transaction() as conn:
            self._touch(conn, source, fingerprint, now)
            conn.executemany(
                "INSERT INTO entries (id, source, key, first_seen, url, title, text, author, "
                "published, updated, lang, lang_source, text_lang, text_lang_source, topics, "
                "categories, content_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                inserts,
            )
            conn.executemany(
                "UPDATE entries SET url = ?, title = ?, text = ?, author = ?, published = ?, "
                "updated = ?, lang = ?, lang_source = ?, text_lang = ?, text_lang_source = ?, "
                "topics = ?, categories = ?, content_hash = ? WHERE id = ?",
                updates,
            )
            _set_topics(conn, topics)
            changed = [(entry_id(source.name, c.entry.key), c) for c in changes]
            clusters.write_keys(conn, [(id_, c.keys) for id_, c in changed])
            touched = clusters.clusters_of(conn, [id_ for id_, _ in changed]) if changed else set()
            touched |= {clusters.join(conn, id_, c.copies) for id_, c in changed if c.copies}
            clusters.elect(conn, touched)
            conn.execute(
                "UPDATE sources SET etag = ?, last_modified = ?, body_hash = ?, last_fetch = ?, "
                "last_status = ?, last_error = NULL, failures = 0, moved_to = ?, "
                "skip_until = NULL, gone_url = NULL, "
                "last_new = CASE WHEN ? THEN ? ELSE last_new END WHERE name = ?",
                (result.etag, result.last_modified, result.body_hash, stamp, result.status,
                 result.permanent_redirect, bool(inserts), stamp, source.name),
            )  # fmt: skip
        duplicates = sum(1 for c in changes if c.copies and c.entry.key not in known)
        return len(inserts), len(updates), duplicates

    @staticmethod
    def _touch(
        conn: sqlite3.Connection, source: Source, fingerprint: str | None, now: datetime
    ) -> None:
        conn.execute(
            "INSERT INTO sources (name, url, added, classified_with, position) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET url = excluded.url, "
            "position = excluded.position, "
            "classified_with = coalesce(excluded.classified_with, classified_with)",
            (source.name, source.url, iso(now), fingerprint, source.position),
        )

    # -- classification after a config change ----------------------------------------------------

    def stale(self, fingerprints: dict[str, str]) -> list[str]:
        """The sources whose entries were classified under another config than `fingerprints`."""
        rows = self.conn.execute("SELECT name, classified_with FROM sources")
        return [name for name, used in rows if name in fingerprints and used != fingerprints[name]]

    def classification_inputs(self, source: str) -> list[tuple[str, str, str, list[str], str, str]]:
        """(id, text_lang, text_lang_source, categories, title, text) of a source's entries."""
        rows = self.conn.execute(
            "SELECT id, text_lang, text_lang_source, categories, title, text FROM entries "
            "WHERE source = ?",
            (source,),
        )
        return [(i, lang, how, json.loads(cats), t, x) for i, lang, how, cats, t, x in rows]

    def reclassify(
        self, source: str, fingerprint: str, rows: Sequence[tuple[str, Classified]]
    ) -> None:
        with self._transaction() as conn:
            conn.executemany(
                "UPDATE entries SET lang = ?, lang_source = ?, topics = ? WHERE id = ?",
                [(c.lang, c.lang_source, json.dumps(sorted(c.topics), ensure_ascii=False), id_)
                 for id_, c in rows],
            )  # fmt: skip
            _set_topics(conn, [(id_, c.topics) for id_, c in rows])
            conn.execute(
                "UPDATE sources SET classified_with = ? WHERE name = ?", (fingerprint, source)
            )

    def candidates(self, source: str, keys: DedupKeys) -> list[tuple[int, Article]]:
        return clusters.candidates(self.conn, source, keys)

    # -- reading -----------------------------------------------------------------------------------

    def entries(self, where: Filter, text_chars: int | None = None) -> list[StoredEntry]:
        return query.entries(self.conn, where, text_chars)

    def detail(self, prefix: str) -> list[EntryDetail]:
        return query.detail(self.conn, prefix)

    def counts(self, by: str, where: Filter) -> list[tuple[str, int]]:
        return query.counts(self.conn, by, where)


def _set_topics(conn: sqlite3.Connection, rows: Sequence[tuple[str, Sequence[str]]]) -> None:
    """The entry_topics rows that make `--topic` an index lookup."""
    conn.executemany(
        "DELETE FROM entry_topics WHERE seq = (SELECT seq FROM entries WHERE id = ?)",
        [(id_,) for id_, _ in rows],
    )
    conn.executemany(
        "INSERT INTO entry_topics (topic, seq) SELECT ?, seq FROM entries WHERE id = ?",
        [(topic, id_) for id_, topics in rows for topic in topics],
    )


def _published(when: datetime | None, now: datetime, first_seen: str, old: Known | None) -> str:
    """DESIGN §4: no usable date, or one in the future, means 'dated when first seen'."""
    if when is None or when > now:
        return old.published if old and when is None else first_seen
    return iso(when)
