"""Read queries: entries by filter, counts per language and topic.

Owns: turning a Filter into SQL with parameters, and rows into StoredEntry. Never writes, and never
puts a value into SQL text: only fixed fragments and `?` marks are joined, values are parameters.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from archfeed.models import Filter, StoredEntry
from archfeed.text import iso


def entries(
    conn: sqlite3.Connection, where: Filter, text_chars: int | None = None
) -> list[StoredEntry]:
    """Entries matching the filter, newest first. `text_chars` cuts the text in SQL, so that a
    list of excerpts does not read whole articles."""
    text = "text" if text_chars is None else f"substr(text, 1, {int(text_chars)})"
    clauses, params = _where(where)
    sql = (
        f"SELECT id, source, title, url, {text}, author, published, first_seen, lang, topics "
        f"FROM entries {clauses} ORDER BY published DESC, id"
    )
    if where.limit:
        sql += f" LIMIT {int(where.limit)}"
    return [_stored(row) for row in conn.execute(sql, params)]


def counts(conn: sqlite3.Connection, by: str, where: Filter) -> list[tuple[str, int]]:
    """(value, entries) per language or per topic among the entries the filter selects, most
    first."""
    clauses, params = _where(where)
    if by == "lang":
        sql = f"SELECT lang, count(*) AS n FROM entries {clauses} GROUP BY lang"
    else:
        inner = f"SELECT seq FROM entries {clauses}" if clauses else "SELECT seq FROM entries"
        sql = f"SELECT topic, count(*) AS n FROM entry_topics WHERE seq IN ({inner}) GROUP BY topic"
    rows = conn.execute(f"{sql} ORDER BY n DESC, 1", params)
    return [(str(value), int(n)) for value, n in rows]


def _where(where: Filter) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if where.sources:
        clauses.append(f"source IN ({', '.join('?' * len(where.sources))})")
        params.extend(where.sources)
    if where.langs:
        clauses.append(f"lang IN ({', '.join('?' * len(where.langs))})")
        params.extend(where.langs)
    if where.topics:
        marks = ", ".join("?" * len(where.topics))
        clauses.append(f"seq IN (SELECT seq FROM entry_topics WHERE topic IN ({marks}))")
        params.extend(where.topics)
    if where.since:
        clauses.append("published >= ?")
        params.append(iso(where.since))
    if where.until:
        clauses.append("published < ?")
        params.append(iso(where.until))
    if where.search and where.search.strip():
        clauses.append("seq IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?)")
        params.append(_fts_query(where.search))
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _fts_query(text: str) -> str:
    """Every word of the user's text, each quoted (FTS5 syntax in a search box is an error, not a
    feature, for a reader typing `c++` or `node.js`) and matched as a prefix, so that `postgres`
    finds "PostgreSQL" and `kube` finds "Kubernetes"."""
    return " ".join('"' + word.replace('"', '""') + '"*' for word in text.split())


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
