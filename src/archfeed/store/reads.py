"""Read state: which articles the user has read, the same on every copy of an article.

Owns: the SQL over entries.read_at (NULL: unread; else when it was read), marking articles read
or unread by entry or by filter, and keeping the state whole when copies join a cluster: every
copy of an article holds the article's state, so reading one copy reads the article, a new copy
of a read article arrives read, and a filter or an index reads one row, not a cluster. Never
decides which entries a filter selects (query.py builds the clause) nor what an id prefix names.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence


def mark(conn: sqlite3.Connection, ids: Sequence[str], read_at: str | None) -> int:
    """Mark the articles of these entries (by id) read at `read_at`, or unread (None): every
    copy of each. Returns how many articles changed."""
    marks = ", ".join("?" * len(ids))
    return _mark(conn, f"SELECT seq, cluster FROM entries WHERE id IN ({marks})", ids, read_at)


def mark_matching(
    conn: sqlite3.Connection, clauses: str, params: Sequence[object], read_at: str | None
) -> int:
    """Mark the articles of which a copy matches `clauses` (query.selected's WHERE, with its
    parameters), as mark() does."""
    return _mark(conn, f"SELECT seq, cluster FROM entries {clauses}", params, read_at)


def _mark(
    conn: sqlite3.Connection, hits: str, params: Sequence[object], read_at: str | None
) -> int:
    # the entries named, and every member of their clusters, whose state is not the one asked
    todo = "read_at IS NULL" if read_at else "read_at IS NOT NULL"
    chosen = (
        f"WITH hit (seq, cluster) AS ({hits}) SELECT {{what}} FROM entries WHERE {todo} AND "
        "(seq IN (SELECT seq FROM hit) OR cluster IN (SELECT cluster FROM hit "
        "WHERE cluster IS NOT NULL))"
    )
    changed = conn.execute(
        chosen.format(what="count(DISTINCT coalesce(cluster, -seq))"), params
    ).fetchone()[0]
    if changed:
        conn.execute(
            f"UPDATE entries SET read_at = ? WHERE seq IN ({chosen.format(what='seq')})",
            [read_at, *params],
        )
    return int(changed)


def spread(conn: sqlite3.Connection, cluster: int) -> None:
    """After copies joined `cluster` (clusters.join): when one part of it was read, all of it is.
    Each part that joined was whole before, and its canonical copy (or the lone entry, canonical
    by default) still says so until the next election: those rows are the only ones asked."""
    (read_at,) = conn.execute(
        "SELECT max(read_at) FROM entries WHERE cluster = ? AND canonical = 1", (cluster,)
    ).fetchone()
    if read_at is not None:
        conn.execute(
            "UPDATE entries SET read_at = ? WHERE cluster = ? AND read_at IS NULL",
            (read_at, cluster),
        )
