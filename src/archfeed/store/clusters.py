"""Clusters of copies of one article: finding candidates, joining clusters, electing the canonical
copy, and gathering the other copies of listed entries.

Owns: the SQL over entries.cluster, entries.canonical and entry_bands. Never decides whether two
entries are the same article (dedup.py does, on the candidates found here), and never puts a
value into SQL text: only fixed fragments and `?` marks are joined.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from archfeed.models import Copy, StoredEntry
from archfeed.store import reads
from archfeed.store.dates import UNDATED, stored_time

if TYPE_CHECKING:  # a fetch's shapes (models/pipeline.py)
    from archfeed.models import Article, DedupKeys

MAX_CANDIDATES = 50  # a URL or a band shared by more entries than this is boilerplate
MAX_TITLE_CANDIDATES = 5  # the newest few of a repeated title: a copy is recent
MAX_WEIGHED = 500  # more changed entries than this: each cluster is weighed whole (SQL's limits)
MAX_ANCHOR_CANDIDATES = 10  # the newest few sharing one opening anchor ("in this article we")


_COLUMNS = (
    "source, title, text, lang, canonical_url, title_key, origin_url, lead, trail, "
    "generic_title, private_url, excerpt, published"
)


def copies(
    conn: sqlite3.Connection, me: Article, same: Callable[[Article, Article], bool],
    before: int | None = None,
) -> tuple[int, ...]:  # fmt: skip
    """The seqs of the candidates `same` takes for copies of `me`. One match in a cluster is
    enough (joining it joins the whole cluster), so its other members are not compared: a new
    copy of an article stored 625 times costs one comparison, not one per candidate."""
    found: list[int] = []
    matched: set[int] = set()
    for seq, cluster in candidates(conn, me.source, me.keys, before):
        if cluster in matched:
            continue  # neither compared nor read: its text may be 200 kB
        if same(me, _article(conn, seq)):
            found.append(seq)
            if cluster is not None:
                matched.add(cluster)
    return tuple(found)


def candidates(
    conn: sqlite3.Connection, source: str, keys: DedupKeys, before: int | None = None
) -> list[tuple[int, int | None]]:
    """Entries of other sources (and stored before `before`, a seq, when given) that share a
    canonical URL, a title (of 3+ words), an LSH band or an opening anchor with `keys`, or that
    one of the two names as where it was first published: index lookups only, whatever the size
    of the database, each signal with its own cap, so that a title many feeds repeat ("This week
    in Rust") or a common opening cannot crowd out the rest."""
    parts: list[str] = []
    params: list[object] = []

    def newest(where: str, *values: object, cap: int = MAX_CANDIDATES) -> None:
        parts.append(f"SELECT seq FROM (SELECT seq FROM {where} ORDER BY seq DESC LIMIT ?)")
        params.extend([*values, cap])

    others = "AND source != ?"
    if keys.canonical_url:
        newest(f"entries WHERE canonical_url = ? {others}", keys.canonical_url, source)
        newest(f"entries WHERE origin_url = ? {others}", keys.canonical_url, source)
    if keys.origin_url:
        newest(f"entries WHERE canonical_url = ? {others}", keys.origin_url, source)
    if keys.title_key.count(" ") >= 2 and not keys.generic_title:
        newest(f"entries WHERE title_key = ? {others}", keys.title_key, source,
               cap=MAX_TITLE_CANDIDATES)  # fmt: skip
    if keys.bands:
        marks = ", ".join("?" * len(keys.bands))
        parts.append(
            f"SELECT seq FROM (SELECT seq FROM entry_bands WHERE band IN ({marks}) LIMIT ?)"
        )
        params += [*keys.bands, MAX_CANDIDATES]
    for anchor in keys.probes:
        newest("entry_bands WHERE band = ?", anchor, cap=MAX_ANCHOR_CANDIDATES)
    if not parts:
        return []
    rows = conn.execute(
        f"SELECT seq, cluster FROM entries WHERE seq IN ({' UNION '.join(parts)}) "
        "AND source != ? AND seq < ?",
        [*params, source, before if before is not None else 1 << 62],
    )
    return [(int(seq), cluster) for seq, cluster in rows]


def _article(conn: sqlite3.Connection, seq: int) -> Article:
    from archfeed.models import Article, DedupKeys

    row = conn.execute(f"SELECT {_COLUMNS} FROM entries WHERE seq = ?", (seq,)).fetchone()
    source, title, text, lang, url, key, origin, lead, trail, generic, private, excerpt, when = row
    keys = DedupKeys(
        url, key or "", (), (), (), origin, lead, trail, bool(generic), bool(private), bool(excerpt)
    )
    return Article(source, title, text, lang, keys, stored_time(when))


def write_bands(
    conn: sqlite3.Connection, rows: Sequence[tuple[int, tuple[int, ...], bool]]
) -> None:
    """Index the signature bands and opening anchors of new and changed entries: (seq, bands and
    anchors, whether it was stored before, so that only those have old rows to drop)."""
    conn.executemany(
        "DELETE FROM entry_bands WHERE seq = ?", [(seq,) for seq, _, stored in rows if stored]
    )
    conn.executemany(
        "INSERT OR IGNORE INTO entry_bands (band, seq) VALUES (?, ?)",
        [(band, seq) for seq, bands, _ in rows for band in bands],
    )


def join(conn: sqlite3.Connection, seq: int, matches: Iterable[int]) -> int:
    """Put the entry and its matches (all by seq) in one cluster, merging their clusters, and
    the article read when a part of it was. A cluster is named by the smallest seq ever in it,
    so its name never changes."""
    members = [seq, *matches]
    marks = ", ".join("?" * len(members))
    names = {
        row[0] if row[0] is not None else row[1]
        for row in conn.execute(
            f"SELECT cluster, seq FROM entries WHERE seq IN ({marks})",
            members,
        )
    }
    cluster = min(names | set(members))
    merged = sorted(names - {cluster})  # other clusters, whose members all move
    marks_merged = ", ".join("?" * len(merged))
    # only rows whose cluster changes are read and written: the cluster joined is not scanned,
    # so a copy joining a cluster of 625 costs as much as one joining a cluster of 2
    conn.execute(
        f"UPDATE entries SET cluster = ? WHERE (seq IN ({marks}) OR cluster IN ({marks_merged})) "
        "AND cluster IS NOT ?",
        [cluster, *members, *merged, cluster],
    )
    reads.spread(conn, cluster)
    return int(cluster)


def elect(
    conn: sqlite3.Connection, clusters: Iterable[int], changed: Sequence[int] | None = None
) -> None:
    """The canonical copy is one a reader can open (never a localhost or private-network link
    while a public copy exists), then the earliest published, ties broken by the source's
    position in the config (then by age in the database): the same answer on every fetch.
    `changed`: the entries stored or updated since the clusters last had a canonical copy;
    then only they and the canonical copies so far are weighed (the best of a cluster that
    gained members is the best of its old best and the newcomers), unless a canonical copy
    itself changed: then the whole cluster."""
    weighed = set(changed) if changed is not None and len(changed) <= MAX_WEIGHED else None
    for cluster in set(clusters):
        scope, params = "", [cluster]
        if weighed is not None:
            found = conn.execute(
                "SELECT seq FROM entries WHERE cluster = ? AND canonical = 1", (cluster,)
            )
            current = [seq for (seq,) in found]
            if current and not weighed.intersection(current):
                pool = [*current, *weighed]
                scope = f"AND e.seq IN ({', '.join('?' * len(pool))}) "
                params += pool
        (winner,) = conn.execute(
            f"SELECT e.seq FROM entries e LEFT JOIN sources s ON s.name = e.source "
            f"WHERE e.cluster = ? {scope}ORDER BY e.private_url, e.published = ?, e.published, "
            "coalesce(s.position, 1e9), e.seq LIMIT 1",
            [*params, UNDATED],
        ).fetchone()
        # written only where it changes: the old canonical copy and the new one, found by the
        # index of (cluster, canonical)
        conn.execute(
            "UPDATE entries SET canonical = 0 WHERE cluster = ? AND canonical = 1 AND seq != ?",
            (cluster, winner),
        )
        conn.execute("UPDATE entries SET canonical = 1 WHERE seq = ? AND canonical = 0", (winner,))


def rebuild(
    conn: sqlite3.Connection, rows: Sequence[tuple[int, Article]],
    same: Callable[[Article, Article], bool],
) -> int:  # fmt: skip
    """Every cluster made again: each entry of `rows` (by seq, in the order stored) joined to
    the copies `same` finds among the entries stored before it. Returns how many entries are
    copies of another."""
    conn.execute("UPDATE entries SET cluster = NULL, canonical = 1")
    joined = set()
    for seq, me in rows:
        matches = copies(conn, me, same, before=seq)
        if matches:
            joined.add(join(conn, seq, matches))
    elect(conn, joined)
    return int(conn.execute("SELECT count(*) FROM entries WHERE canonical = 0").fetchone()[0])


def clusters_of(conn: sqlite3.Connection, seqs: Sequence[int]) -> set[int]:
    marks = ", ".join("?" * len(seqs))
    rows = conn.execute(
        f"SELECT DISTINCT cluster FROM entries WHERE seq IN ({marks}) AND cluster IS NOT NULL",
        list(seqs),
    )
    return {int(row[0]) for row in rows}


def with_copies(conn: sqlite3.Connection, entries: list[StoredEntry], clusters: list[int | None]
                ) -> list[StoredEntry]:  # fmt: skip
    """Each entry with `also_at` (the other copies, oldest first) and the topics of all copies."""
    wanted = sorted({c for c in clusters if c is not None})
    if not wanted:
        return entries
    marks = ", ".join("?" * len(wanted))
    members: dict[int, list[tuple[str, str, str | None, str, list[str]]]] = {}
    for cluster, id_, source, url, title, topics in conn.execute(
        "SELECT cluster, id, source, url, title, topics FROM entries "
        f"WHERE cluster IN ({marks}) ORDER BY published, seq",
        wanted,
    ):
        members.setdefault(cluster, []).append((id_, source, url, title, json.loads(topics)))
    result = []
    for entry, cluster in zip(entries, clusters, strict=True):
        if cluster is None:
            result.append(entry)
            continue
        copies = members.get(cluster, [])
        others = tuple(
            Copy(src, url, title) for id_, src, url, title, _ in copies if id_ != entry.id
        )
        topics = tuple(sorted({t for *_, tops in copies for t in tops} | set(entry.topics)))
        result.append(replace(entry, also_at=others, topics=topics))
    return result
