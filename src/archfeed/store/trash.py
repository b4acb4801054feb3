"""Pruning: old entries out of the way, with a way back until the space is given back.

Owns: the trash of the last prune (`pruned_entries`, `pruned_topics`, `pruned_bands`: the rows
as they were), putting them back (`undo`) and emptying it (`purge`). A prune empties the trash of
the one before it, so the last prune can always be undone until the next one or a purge; the
identities of pruned entries stay as tombstones, so a fetch does not bring them back. Never
decides which entries are old (the caller gives the cut-off) nor asks the user anything.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from archfeed.store import clusters
from archfeed.store.writes import newest_seq

_OLD = "FROM entries WHERE first_seen < ?"
_OLD_READ = f"{_OLD} AND read_at IS NOT NULL"  # unread entries stay unless asked for
# the side tables of an entry, each with its trash
_SIDES = (("entry_topics", "pruned_topics"), ("entry_bands", "pruned_bands"))


@dataclass(frozen=True)
class Plan:
    """What a prune would delete: how many entries, first seen from `oldest` to `newest`, and
    how many unread entries as old it keeps."""

    count: int
    oldest: str | None
    newest: str | None
    unread_kept: int = 0


def plan(conn: sqlite3.Connection, before: str, unread: bool) -> Plan:
    span = _span(conn, _OLD if unread else _OLD_READ, (before,))
    if unread:
        return span
    (kept,) = conn.execute(f"SELECT count(*) {_OLD} AND read_at IS NULL", (before,)).fetchone()
    return Plan(span.count, span.oldest, span.newest, int(kept))


def _span(conn: sqlite3.Connection, rows: str, params: tuple[str, ...] = ()) -> Plan:
    count, oldest, newest = conn.execute(
        f"SELECT count(*), min(first_seen), max(first_seen) {rows}", params
    ).fetchone()
    return Plan(int(count), oldest, newest)


def prune(conn: sqlite3.Connection, before: str, now: str, unread: bool) -> tuple[int, int]:
    """Move the read entries first seen before `before` (and the unread ones with `unread`)
    into the trash (emptied first: the prune before this one can no longer be undone),
    tombstone their identities; clusters they leave elect a new canonical copy. Returns
    (pruned now, entries of the trash emptied)."""
    old = _OLD if unread else _OLD_READ
    emptied = purge(conn)
    # the numbers of what goes are never given again (writes.newest_seq): digest marks passed them
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('seq_high', ?)", (str(newest_seq(conn)),)
    )
    seqs = f"SELECT seq {old}"
    conn.execute(f"INSERT INTO pruned_entries SELECT * {old}", (before,))
    for side, trash in _SIDES:
        conn.execute(f"INSERT INTO {trash} SELECT * FROM {side} WHERE seq IN ({seqs})", (before,))
    conn.execute(
        f"INSERT OR IGNORE INTO tombstones (source, key, pruned) SELECT source, key, ? {old}",
        (now, before),
    )
    left = {row[0] for row in conn.execute(
        f"SELECT DISTINCT cluster {old} AND cluster IS NOT NULL", (before,)
    )}  # fmt: skip
    count = conn.execute(f"DELETE {old}", (before,)).rowcount  # triggers: index, side tables
    clusters.elect(conn, left)
    return count, emptied


def undo(conn: sqlite3.Connection) -> int:
    """Put the last prune's entries back as they were (ids, seq, clusters, topics, the
    full-text index) and forget their tombstones; returns how many came back."""
    conn.execute(
        "DELETE FROM tombstones WHERE (source, key) IN (SELECT source, key FROM pruned_entries)"
    )
    # an entry stored again under the same identity since (it cannot be: its tombstone kept it
    # out) would win over its old copy
    count = conn.execute("INSERT OR IGNORE INTO entries SELECT * FROM pruned_entries").rowcount
    back = "SELECT p.seq FROM pruned_entries p JOIN entries e ON e.seq = p.seq AND e.id = p.id"
    conn.execute(
        f"INSERT INTO entries_fts (rowid, title, text) SELECT seq, title, text FROM entries "
        f"WHERE seq IN ({back})"
    )
    for side, trash in _SIDES:
        conn.execute(f"INSERT OR IGNORE INTO {side} SELECT * FROM {trash} WHERE seq IN ({back})")
    returned = [row[0] for row in conn.execute(
        f"SELECT DISTINCT cluster FROM entries WHERE seq IN ({back}) AND cluster IS NOT NULL"
    )]  # fmt: skip
    clusters.elect(conn, returned)
    purge(conn)
    return count


def purge(conn: sqlite3.Connection) -> int:
    """Empty the trash; returns how many entries it held. The caller gives the space back."""
    count = conn.execute("DELETE FROM pruned_entries").rowcount
    for _, trash in _SIDES:
        conn.execute(f"DELETE FROM {trash}")
    return count


def in_trash(conn: sqlite3.Connection) -> Plan:
    return _span(conn, "FROM pruned_entries")
