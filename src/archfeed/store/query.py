"""Read queries: entries by filter, counts per language and topic.

Owns: turning a Filter into SQL with parameters, and rows into StoredEntry. Never writes, and never
puts a value into SQL text: only fixed fragments and `?` marks are joined, values are parameters.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from archfeed.models import EntryDetail, Filter, LangSource, SourceHealth, StoredEntry
from archfeed.store import rules
from archfeed.store.clusters import with_copies
from archfeed.store.dates import stored_time
from archfeed.text import iso, parse_iso


def entries(
    conn: sqlite3.Connection, where: Filter, text_chars: int | None = None
) -> list[StoredEntry]:
    """Entries matching the filter, newest first. `text_chars` cuts the text in SQL, so that a
    list of excerpts does not read whole articles."""
    text = "text" if text_chars is None else f"substr(text, 1, {int(text_chars)})"
    clauses, params = _listed(conn, where)
    muted_by = "NULL"
    if where.muting and where.muting.hidden:  # what hides each: its canonical copy's verdict
        shown: list[object] = []
        muted_by = rules.label(conn, where.muting, shown)
        params = [*shown, *params]  # the SELECT's marks come before the WHERE's
    columns = _STORED.format(text=text, muted_by=muted_by)
    sql = f"SELECT {columns}, cluster FROM entries {clauses} ORDER BY published DESC, id"
    if where.limit:
        sql += f" LIMIT {int(where.limit)}"
    rows = _named(conn, sql, params)
    return with_copies(conn, [_stored(row) for row in rows], [row["cluster"] for row in rows])


def matching(conn: sqlite3.Connection, where: Filter, cap: int | None = None) -> int:
    """How many entries `entries(where)` would list without its limit; `cap`: counting stops
    there (where rules apply, a million rows would take seconds)."""
    clauses, params = _listed(conn, where)
    rows = f"SELECT 1 FROM entries {clauses}" + (f" LIMIT {int(cap)}" if cap else "")
    return int(conn.execute(f"SELECT count(*) FROM ({rows})", params).fetchone()[0])


def _listed(conn: sqlite3.Connection, where: Filter) -> tuple[str, list[object]]:
    clauses, params = selected(conn, where)
    if not where.all_copies:  # one row per article: its canonical copy
        clauses = f"{clauses} AND canonical = 1" if clauses else "WHERE canonical = 1"
    return clauses, params


def id_chars(conn: sqlite3.Connection, ids: Sequence[str], least: int) -> int:
    """How many first characters make each of `ids` unique among all stored ids (at least
    `least`), as `git log --oneline` abbreviates: one more than each id shares with its
    neighbours in the id index, two lookups an id."""
    longest = least
    for id_ in ids:
        for (other,) in conn.execute(
            "SELECT max(id) FROM entries WHERE id < ? UNION ALL "
            "SELECT min(id) FROM entries WHERE id > ?",
            (id_, id_),
        ):
            if other:
                shared = len(os.path.commonprefix([id_, other]))  # noqa: RUF071 -- characters: wanted
                longest = max(longest, min(shared + 1, len(id_)))
    return longest


def detail(conn: sqlite3.Connection, prefix: str) -> list[EntryDetail]:
    """The entries whose id starts with `prefix` (two at most: enough to call it ambiguous)."""
    rows = _named(
        conn,
        f"SELECT {_STORED.format(text='text', muted_by='NULL')}, cluster, lang_source, "
        "categories, updated, canonical, (SELECT url FROM sources s WHERE s.name = source) "
        "AS source_url FROM entries WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
        (prefix, prefix + "\uffff"),
    )
    found = with_copies(conn, [_stored(row) for row in rows], [row["cluster"] for row in rows])
    return [
        EntryDetail(
            entry, LangSource(row["lang_source"] or ""), tuple(json.loads(row["categories"])),
            parse_iso(row["updated"]), row["source_url"], bool(row["canonical"]),
        )
        for entry, row in zip(found, rows, strict=True)
    ]  # fmt: skip


def health(conn: sqlite3.Connection) -> dict[str, SourceHealth]:
    rows = _named(
        conn,
        "SELECT s.name, s.url, s.last_fetch, s.last_status, s.last_error, s.failures, "
        "s.skip_until, s.gone_url, s.moved_to, count(e.seq) AS entries, s.last_new, s.fresh_for, "
        "s.ttl FROM sources s LEFT JOIN entries e ON e.source = s.name GROUP BY s.name",
    )
    return {
        row["name"]: SourceHealth(
            name=row["name"],
            url=row["url"],
            last_fetch=_maybe(row["last_fetch"]),
            last_status=row["last_status"],
            last_error=row["last_error"],
            failures=row["failures"],
            skip_until=_maybe(row["skip_until"]),
            gone_url=row["gone_url"],
            moved_to=row["moved_to"],
            entries=row["entries"],
            last_new=_maybe(row["last_new"]),
            fresh_for=row["fresh_for"],
            ttl=row["ttl"],
        )
        for row in rows
    }


def _named(conn: sqlite3.Connection, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
    """Rows read by column name, never by position."""
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params).fetchall()


def _maybe(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


def counts(conn: sqlite3.Connection, by: str, where: Filter) -> list[tuple[str, int]]:
    """(value, articles) per language or per topic among the articles the filter selects, most
    first. An article is counted once, by its canonical copy, with the topics of all its copies."""
    clauses, params = selected(conn, where)
    clauses = f"{clauses} AND canonical = 1" if clauses else "WHERE canonical = 1"
    if by == "lang":
        sql = f"SELECT lang, count(*) AS n FROM entries {clauses} GROUP BY lang"
    else:
        article = "coalesce(e.cluster, -e.seq)"
        sql = (
            f"SELECT t.topic, count(DISTINCT {article}) AS n FROM entry_topics t "
            f"JOIN entries e ON e.seq = t.seq WHERE {article} IN "
            f"(SELECT coalesce(cluster, -seq) FROM entries {clauses}) GROUP BY t.topic"
        )
    rows = conn.execute(f"{sql} ORDER BY n DESC, 1", params)
    return [(str(value), int(n)) for value, n in rows]


RARE_TOPIC = 5000  # entries: below this, a topic's own entries drive the query


def _topic_clause(conn: sqlite3.Connection, topics: tuple[str, ...]) -> tuple[str, list[object]]:
    """An article has the topics of all its copies (docs/design.md, "Topics"). Two plans, chosen by
    a cheap probe of the topic's size: a rare topic's entries (and their clusters' members) are
    looked up directly, then sorted; a common topic is checked entry by entry while reading newest
    first, which stops after `--limit` matches. Either plan alone is slow for the other case on 1M
    entries (hundreds of ms)."""
    marks = ", ".join("?" * len(topics))
    size = conn.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM entry_topics WHERE topic IN ({marks}) LIMIT ?)",
        [*topics, RARE_TOPIC],
    ).fetchone()[0]
    if size == 0:
        return "0 = 1", []  # nothing has it: say so, rather than read every entry to find out
    if size < RARE_TOPIC:
        return (
            f"seq IN (SELECT seq FROM entry_topics WHERE topic IN ({marks}) UNION "
            "SELECT c.seq FROM entry_topics t JOIN entries e ON e.seq = t.seq "
            "JOIN entries c ON c.cluster = e.cluster "
            f"WHERE t.topic IN ({marks}) AND e.cluster IS NOT NULL)",
            [*topics, *topics],
        )
    return (
        "(EXISTS (SELECT 1 FROM entry_topics t WHERE t.seq = entries.seq AND t.topic IN "
        f"({marks})) OR (entries.cluster IS NOT NULL AND EXISTS (SELECT 1 FROM entries c "
        "JOIN entry_topics t ON t.seq = c.seq WHERE c.cluster = entries.cluster AND t.topic IN "
        f"({marks}))))",
        [*topics, *topics],
    )


def selected(conn: sqlite3.Connection, where: Filter) -> tuple[str, list[object]]:
    """The WHERE clause (and its parameters) of the entries the filter selects, every copy."""
    clauses: list[str] = []
    params: list[object] = []
    if where.sources:
        clauses.append(f"source IN ({', '.join('?' * len(where.sources))})")
        params.extend(where.sources)
    if where.topics:  # first: checked from the index alone, before a row is read
        clause, values = _topic_clause(conn, where.topics)
        clauses.append(clause)
        params.extend(values)
    if where.langs:
        clauses.append(f"lang IN ({', '.join('?' * len(where.langs))})")
        params.extend(where.langs)
    if where.since:
        clauses.append("published >= ?")
        params.append(iso(where.since))
    if where.until:
        clauses.append("published < ?")
        params.append(iso(where.until))
    if where.read is not None:
        clauses.append("read_at IS NOT NULL" if where.read else "read_at IS NULL")
    if where.muting is not None:  # last: on the rows every other test kept
        clauses.append(rules.clause(conn, where.muting, params))
    if where.after_seq is not None:
        clauses.append("seq > ?")
        params.append(where.after_seq)
    if where.upto_seq is not None:
        clauses.append("seq <= ?")
        params.append(where.upto_seq)
    if where.search and where.search.strip():
        match = _fts_query(where.search)
        found = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM entries_fts WHERE entries_fts MATCH ? LIMIT 1)",
            (match,),
        ).fetchone()[0]
        clauses.append("seq IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?)" if found
                       else "0 = 1")  # fmt: skip
        params.extend([match] if found else [])
        for term in _symbolic(where.search):  # c++ is not c: the index cannot tell, the text can
            clauses.append("instr(lower(title || ' ' || text), ?) > 0")
            params.append(term)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _fts_query(text: str) -> str:
    """Every word of the user's text, each quoted (FTS5 syntax in a search box is an error, not a
    feature) and matched as a prefix, so that `postgres` finds "PostgreSQL" and `kube` finds
    "Kubernetes". The index keeps letters and digits only: `node.js` is the phrase "node js",
    `c++` and `c#` the word "c" exactly (as a prefix it would be every word in c), and the text
    itself is checked for the term (`_symbolic`); `k8s` finds "Kubernetes" too."""
    parts = []
    for word in _terms(text):
        tokens = _TOKEN.findall(word)
        if not tokens:
            continue
        phrase = '"' + " ".join(tokens).replace('"', '""') + '"'
        symbolic = len(tokens) > 1 or tokens[0] != word
        parts.append(phrase if symbolic and len(tokens[-1]) < 3 else phrase + "*")
        if word.lower() in _SAME_AS:
            parts[-1] = f'({parts[-1]} OR "{_SAME_AS[word.lower()]}"*)'
    return " ".join(parts) or '""'


def _symbolic(text: str) -> list[str]:
    """The words of a search that hold more than letters and digits: c++, c#, .net, node.js."""
    return [word.lower() for word in _terms(text) if _TOKEN.fullmatch(word) is None and
            _TOKEN.search(word)]  # fmt: skip


def _terms(text: str) -> list[str]:
    """The words of a search without the quotes, brackets and commas around them: `"event
    sourcing"` is two words, `(c++)` is c++."""
    return [term for word in text.split() if (term := word.strip(_AROUND))]


_AROUND = "\"'()[]{},;:!?"


_TOKEN = re.compile(r"[^\W_]+")  # what FTS5's unicode61 tokenizer keeps of a word
_SAME_AS = {"k8s": "kubernetes"}  # a developer's short names for what articles spell out


# what a StoredEntry is read from; {text}: the whole text, or as much of it as a list shows;
# {muted_by}: what hides it (`list --muted`), else NULL
_STORED = (
    "id, source, title, url, {text} AS text, author, published, first_seen, lang, topics, summary, "
    "read_at IS NOT NULL AS read, {muted_by} AS muted_by"
)


def _stored(row: sqlite3.Row) -> StoredEntry:
    return StoredEntry(
        id=row["id"],
        source=row["source"],
        title=row["title"],
        url=row["url"],
        text=row["text"],
        author=row["author"],
        published=stored_time(row["published"]),
        first_seen=parse_iso(row["first_seen"]),
        lang=row["lang"],
        topics=tuple(json.loads(row["topics"])),
        summary=row["summary"],
        read=bool(row["read"]),
        muted_by=row["muted_by"],
    )
