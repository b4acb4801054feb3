"""The only SQL: the database file, its schema and migrations, writes, queries, digest marks.

Owns: one SQLite file in WAL mode with a busy timeout, and the Store that every command opens;
each source's writes all or nothing. Never fetches, parses or prints. Beside it: schema.py
(migrations, through sqlite-utils, imported only when a database needs them: ~100 ms of start-up
`list` should not pay), writes.py, query.py, clusters.py (copies of one article), trash.py (what a
prune took, until it is undone or purged), transactions.py (commits and batches of them, one fetch
at a time, SQLite's errors in words).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from archfeed.errors import StoreError
from archfeed.models import EntryDetail, Filter, LangSource, Rule, Source, SourceHealth, StoredEntry
from archfeed.store import clusters, query, reads, rules, transactions, trash, writes
from archfeed.store.dates import stored_time
from archfeed.store.trash import Plan
from archfeed.store.writes import Fetched, Known, entry_hash, entry_id
from archfeed.text import iso

if TYPE_CHECKING:  # a fetch's shapes: `list` never builds them (models/pipeline.py)
    from archfeed.models import Article, Classified, Evidence, FetchResult, Validators

__all__ = ["Fetched", "Known", "Plan", "Store", "entry_hash", "entry_id"]

SCHEMA_VERSION = 14
BUSY_TIMEOUT_S = 30.0
APP_ID = 0x41524346  # "ARCF": marks the file as an archfeed database


class Store:
    """The database of one run: `with Store(path) as store:`, closed when the block ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self._writes = transactions.Transactions(self.conn, path, BUSY_TIMEOUT_S)
            self._transaction = self._writes.transaction
            self.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._migrate()
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA cache_size = -65536")  # 64 MiB; a fetch uses less
            self._file = _identity(path)
        except sqlite3.OperationalError as exc:
            raise transactions.explain(path, exc, BUSY_TIMEOUT_S) from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"cannot open the database {path}: {exc}",
                hint="is it an archfeed database? pass another with --db",
            ) from None
        except OSError as exc:
            raise StoreError(f"cannot create the database {path}: {exc.strerror}") from None

    def still_in_place(self) -> None:
        """Raise when the file this store wrote to is no longer at its path (deleted, or
        replaced by another file during a fetch): what was written went nowhere a reader looks."""
        if _identity(self.path) != self._file:
            raise StoreError(
                f"the database {self.path} was deleted or replaced while this run wrote to it",
                hint="what it stored is lost with the old file; run the command again",
            )

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
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

    def fetch_lock(
        self, on_wait: Callable[[str, float], None], wait: float = BUSY_TIMEOUT_S
    ) -> AbstractContextManager[None]:
        """One fetch at a time per database: a second one is told (`on_wait(pid, wait)`), waits
        up to `wait` seconds, then gives up with a clear error (readers never wait)."""
        return transactions.fetch_lock(self.path, wait, on_wait)

    def batched(self) -> AbstractContextManager[None]:
        """The writes made inside it share a commit every BATCH_SECONDS; see Transactions."""
        return self._writes.batched()

    # -- fetch state ----------------------------------------------------------------------------

    def validators(self) -> dict[str, Validators]:
        from archfeed.models import Validators

        rows = self.conn.execute("SELECT name, etag, last_modified, body_hash FROM sources")
        return {name: Validators(etag, modified, digest) for name, etag, modified, digest in rows}

    def tombstones(self, source: str) -> set[str]:
        """Identities of the source's pruned entries: a fetch must not bring them back."""
        rows = self.conn.execute("SELECT key FROM tombstones WHERE source = ?", (source,))
        return {key for (key,) in rows}

    def prune_plan(self, before: datetime, unread: bool = False) -> Plan:
        """What prune(before, …, unread) would delete."""
        return trash.plan(self.conn, iso(before), unread)

    def prune(self, before: datetime, now: datetime, unread: bool = False) -> int:
        """Move the read entries first seen before `before` (the unread ones too with `unread`)
        to the trash, their identities kept as tombstones (dated `now`); the previous prune's
        trash is emptied and its space given back to the disk. Returns how many went."""
        with self._transaction() as conn:
            count, emptied = trash.prune(conn, iso(before), iso(now), unread)
        if emptied:
            self._give_space_back()
        return count

    def pruned(self) -> Plan:
        """What the last prune took, while it can be undone."""
        return trash.in_trash(self.conn)

    def undo_prune(self) -> int:
        with self._transaction() as conn:
            return trash.undo(conn)

    def purge_pruned(self) -> int:
        """Empty the trash for good, and give its space back to the disk."""
        with self._transaction() as conn:
            count = trash.purge(conn)
        if count:
            self._give_space_back()
        return count

    def _give_space_back(self) -> None:
        self.conn.execute("INSERT INTO entries_fts (entries_fts) VALUES ('optimize')")
        self.conn.execute("VACUUM")

    # -- read state -------------------------------------------------------------------------------

    def mark(self, ids: Sequence[str], read: bool, now: datetime) -> int:
        """The articles of these entries read (at `now`) or unread; returns how many changed."""
        with self._transaction() as conn:
            return reads.mark(conn, ids, iso(now) if read else None)

    def mark_matching(self, where: Filter, read: bool, now: datetime) -> int:
        """The articles with a copy the filter selects read or unread, as mark() does."""
        with self._transaction() as conn:
            clauses, params = query.selected(conn, where)
            return reads.mark_matching(conn, clauses, params, iso(now) if read else None)

    # -- digests --------------------------------------------------------------------------------

    def digest_mark(self, name: str) -> int:
        """The last entry (by seq) the digest `name` sent; 0 for a new digest."""
        row = self.conn.execute("SELECT mark FROM digests WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def newest_seq(self) -> int:
        return writes.newest_seq(self.conn)

    def advance_digest(self, name: str, mark: int, now: datetime) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO digests (name, mark, sent) VALUES (?, ?, ?) ON CONFLICT(name) "
                "DO UPDATE SET mark = max(mark, excluded.mark), sent = excluded.sent",
                (name, mark, iso(now)),
            )

    def known(self, source: str) -> dict[str, Known]:
        rows = self.conn.execute(
            "SELECT key, seq, content_hash, first_seen, published FROM entries WHERE source = ?",
            (source,),
        )
        return {key: Known(*known) for key, *known in rows}

    def memos(self, source: str) -> dict[str, bytes]:
        """The source's items as its last fetch read them, by digest (parse/items.py)."""
        rows = self.conn.execute("SELECT digest, memo FROM item_memos WHERE source = ?", (source,))
        return dict(rows.fetchall())

    def record_failure(
        self, source: Source, result: FetchResult, error: str, now: datetime, skip_until: datetime
    ) -> None:
        """A failed fetch: one more consecutive failure, and no new try before `skip_until`."""
        with self._transaction() as conn:
            writes.failure(conn, source, result, error, now, skip_until)

    def health(self) -> dict[str, SourceHealth]:
        return query.health(self.conn)

    def save(self, fetched: Fetched) -> tuple[int, int, int]:
        """Write one source's new and changed entries, their clusters of copies and the source's
        fetch state, all or nothing (a transaction, or a savepoint inside batched()). Returns
        (new, updated, duplicates): duplicates are new copies of stored articles."""
        with self._transaction() as conn:
            return writes.save(conn, fetched)

    def copies(self, me: Article, same: Callable[[Article, Article], bool]) -> tuple[int, ...]:
        """The stored entries of other sources that `same` takes for copies of `me`."""
        return clusters.copies(self.conn, me, same)

    # -- classification after a config change ----------------------------------------------------

    def stale(self, fingerprints: dict[str, str]) -> list[str]:
        """The sources whose entries were classified under another config than `fingerprints`."""
        rows = self.conn.execute("SELECT name, classified_with FROM sources")
        return [name for name, used in rows if name in fingerprints and used != fingerprints[name]]

    def evidence(self, source: str) -> list[tuple[int, Evidence]]:
        """What each of a source's entries was classified from, by seq."""
        from archfeed.models import Evidence

        rows = self.conn.execute(
            "SELECT seq, title, text, categories, text_lang, text_lang_source FROM entries "
            "WHERE source = ?",
            (source,),
        )
        return [
            (seq, Evidence(title, text, tuple(json.loads(cats)), lang, LangSource(how)))
            for seq, title, text, cats, lang, how in rows
        ]

    def reclassify(
        self, source: str, fingerprint: str, rows: Sequence[tuple[int, Classified]]
    ) -> None:
        with self._transaction() as conn:
            writes.reclassify(conn, source, fingerprint, rows)

    # -- cross-posts found again under new rules --------------------------------------------------

    def matched_with(self) -> str | None:
        """The version of the cross-post rules the stored copies were found under."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'matched_with'").fetchone()
        return str(row[0]) if row else None

    def matching_inputs(self) -> list[tuple[int, str, str | None, str, str, str, datetime | None]]:
        """(seq, source, url, title, text, lang, published) of every entry, in the order they
        were stored."""
        rows = self.conn.execute(
            "SELECT seq, source, url, title, text, lang, published FROM entries ORDER BY seq"
        )
        return [
            (seq, source, url, title, text, lang, stored_time(published))
            for seq, source, url, title, text, lang, published in rows
        ]

    def rematch(
        self, rows: Sequence[tuple[int, Article]], same: Callable[[Article, Article], bool],
        rules: str,
    ) -> int:  # fmt: skip
        """Find the copies of every stored entry again, all or nothing: new keys (`rows`, by
        seq, in the order they were stored), then for each entry the candidates stored before it,
        as a fetch would have found them, each kept when `same` says so. Index lookups only: the
        cost grows with the candidates, not with the square of the database. Returns how many
        entries are copies of another."""
        with self._transaction() as conn:
            writes.rekey(conn, [(seq, article.keys) for seq, article in rows])
            copies = clusters.rebuild(conn, rows, same)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('matched_with', ?)", (rules,)
            )
        return copies

    # -- reading -----------------------------------------------------------------------------------

    def entries(self, where: Filter, text_chars: int | None = None) -> list[StoredEntry]:
        return query.entries(self.conn, where, text_chars)

    def matching(self, where: Filter, cap: int | None = None) -> int:
        return query.matching(self.conn, where, cap)

    def source_names(self) -> set[str]:
        """Every source the database has fetched, configured now or not."""
        return {name for (name,) in self.conn.execute("SELECT name FROM sources")}

    def detail(self, prefix: str) -> list[EntryDetail]:
        return query.detail(self.conn, prefix)

    def id_chars(self, ids: Sequence[str], least: int) -> int:
        return query.id_chars(self.conn, ids, least)

    def counts(self, by: str, where: Filter) -> list[tuple[str, int]]:
        return query.counts(self.conn, by, where)

    def rule_hits(self, found: Sequence[Rule]) -> list[int]:
        return rules.hits(self.conn, found)


def _identity(path: Path) -> tuple[int, int] | None:
    """The file at `path` (device, inode), or None when there is none."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino
