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
from datetime import UTC, datetime
from pathlib import Path

from archfeed.errors import StoreError
from archfeed.models import (
    Classified,
    FetchResult,
    Filter,
    ParsedEntry,
    StoredEntry,
    Validators,
)
from archfeed.text import iso

SCHEMA_VERSION = 1
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
        self, name: str, url: str, result: FetchResult, error: str, now: datetime
    ) -> None:
        with self._transaction() as conn:
            self._touch(conn, name, url, now)
            conn.execute(
                "UPDATE sources SET last_fetch = ?, last_status = ?, last_error = ?, "
                "failures = failures + 1, moved_to = ? WHERE name = ?",
                (iso(now), result.status, error, result.permanent_redirect, name),
            )

    def save(
        self,
        name: str,
        url: str,
        result: FetchResult,
        changes: Sequence[Change],
        known: dict[str, Known],
        now: datetime,
    ) -> tuple[int, int]:
        """Write one source's new and changed entries and its fetch state in one transaction.
        Returns (new, updated)."""
        stamp = iso(now)
        inserts, updates = [], []
        for change in changes:
            entry, cls = change.entry, change.classified
            old = known.get(entry.key)
            first_seen = old.first_seen if old else stamp
            published = _published(entry.published, now, first_seen, old)
            row = (
                entry.url,
                entry.title,
                entry.text,
                entry.author,
                published,
                stamp,
                cls.lang,
                cls.lang_source,
                json.dumps(sorted(cls.topics), ensure_ascii=False),
                json.dumps(list(entry.categories), ensure_ascii=False),
                change.content_hash,
            )
            if old:
                updates.append((*row, entry_id(name, entry.key)))
            else:
                inserts.append((entry_id(name, entry.key), name, entry.key, first_seen, *row))
        with self._transaction() as conn:
            self._touch(conn, name, url, now)
            conn.executemany(
                "INSERT INTO entries (id, source, key, first_seen, url, title, text, author, "
                "published, updated, lang, lang_source, topics, categories, content_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                inserts,
            )
            conn.executemany(
                "UPDATE entries SET url = ?, title = ?, text = ?, author = ?, published = ?, "
                "updated = ?, lang = ?, lang_source = ?, topics = ?, categories = ?, "
                "content_hash = ? WHERE id = ?",
                updates,
            )
            conn.execute(
                "UPDATE sources SET etag = ?, last_modified = ?, body_hash = ?, last_fetch = ?, "
                "last_status = ?, last_error = NULL, failures = 0, moved_to = ?, "
                "last_new = CASE WHEN ? THEN ? ELSE last_new END WHERE name = ?",
                (
                    result.etag,
                    result.last_modified,
                    result.body_hash,
                    stamp,
                    result.status,
                    result.permanent_redirect,
                    bool(inserts),
                    stamp,
                    name,
                ),
            )
        return len(inserts), len(updates)

    @staticmethod
    def _touch(conn: sqlite3.Connection, name: str, url: str, now: datetime) -> None:
        conn.execute(
            "INSERT INTO sources (name, url, added) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET url = excluded.url",
            (name, url, iso(now)),
        )

    # -- queries --------------------------------------------------------------------------------

    def entries(self, where: Filter, text_chars: int | None = None) -> list[StoredEntry]:
        """Entries matching the filter, newest first. `text_chars` cuts the text in SQL, so that
        a list of excerpts does not read whole articles."""
        text = "text" if text_chars is None else f"substr(text, 1, {int(text_chars)})"
        clauses, params = _where(where)
        # only fixed SQL and placeholders are interpolated: the values travel as parameters
        sql = (
            f"SELECT id, source, title, url, {text}, author, published, first_seen, lang, topics "  # noqa: S608
            f"FROM entries {clauses} ORDER BY published DESC, id"
        )
        if where.limit:
            sql += f" LIMIT {int(where.limit)}"
        return [_stored(row) for row in self.conn.execute(sql, params)]


def _where(where: Filter) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if where.sources:
        clauses.append(f"source IN ({', '.join('?' * len(where.sources))})")
        params.extend(where.sources)
    if where.langs:
        clauses.append(f"lang IN ({', '.join('?' * len(where.langs))})")
        params.extend(where.langs)
    if where.since:
        clauses.append("published >= ?")
        params.append(iso(where.since))
    if where.until:
        clauses.append("published < ?")
        params.append(iso(where.until))
    if where.search and where.search.strip():
        clauses.append("rowid IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?)")
        params.append(_fts_query(where.search))
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _fts_query(text: str) -> str:
    """Every word of the user's text, each quoted (FTS5 syntax in a search box is an error, not a
    feature, for a reader typing `c++` or `node.js`) and matched as a prefix, so that `postgres`
    finds "PostgreSQL" and `kube` finds "Kubernetes"."""
    return " ".join('"' + word.replace('"', '""') + '"*' for word in text.split())


def _published(when: datetime | None, now: datetime, first_seen: str, old: Known | None) -> str:
    """DESIGN §4: no usable date, or one in the future, means 'dated when first seen'."""
    if when is None or when > now:
        return old.published if old and when is None else first_seen
    return iso(when)


def _when(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _stored(row: tuple[object, ...]) -> StoredEntry:
    id_, source, title, url, text, author, published, first_seen, lang, topics = row
    return StoredEntry(
        id=str(id_),
        source=str(source),
        title=str(title),
        url=url if isinstance(url, str) else None,
        text=str(text),
        author=author if isinstance(author, str) else None,
        published=_when(str(published)),
        first_seen=_when(str(first_seen)),
        lang=str(lang),
        topics=tuple(json.loads(str(topics))),
    )
