"""The database schema and its migrations, one function per version step.

Owns: table, index and full-text definitions, made with sqlite-utils. Never reads or writes
entries itself: a step that changes what stored values mean (v11) calls store/writes.py.
Imported only when a database needs creating or migrating, since sqlite-utils costs ~100 ms of
start-up.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils


def migrate(conn: sqlite3.Connection, version: int, target: int) -> None:
    """Bring a database from schema `version` to `target`, inside the caller's transaction."""
    db = sqlite_utils.Database(conn)
    for step in _STEPS[version:target]:
        step(db)
    conn.execute(f"PRAGMA user_version = {target}")


def _schema_v1(db: sqlite_utils.Database) -> None:
    db.table("sources").create(
        {
            "name": str,
            "url": str,
            "added": str,
            "etag": str,
            "last_modified": str,
            "body_hash": str,
            "last_fetch": str,
            "last_status": int,
            "last_error": str,
            "failures": int,
            "last_new": str,
            "moved_to": str,
        },
        pk="name",
        not_null={"url", "failures"},
        defaults={"failures": 0},
    )
    # seq is the rowid the full-text index points at: an INTEGER PRIMARY KEY survives VACUUM
    db.table("entries").create(
        {
            "seq": int,
            "id": str,
            "source": str,
            "key": str,
            "url": str,
            "title": str,
            "text": str,
            "author": str,
            "published": str,
            "first_seen": str,
            "updated": str,
            "lang": str,
            "lang_source": str,
            "topics": str,
            "categories": str,
            "content_hash": str,
        },
        pk="seq",
        not_null={
            "id",
            "source",
            "key",
            "title",
            "text",
            "published",
            "first_seen",
            "updated",
            "lang",
            "topics",
            "categories",
            "content_hash",
        },
        defaults={"lang": "und", "topics": "[]", "categories": "[]"},
    )
    entries = db.table("entries")
    entries.create_index(["id"], unique=True)
    entries.create_index(["source", "key"], unique=True)
    entries.create_index(["published", "id"], index_name="entries_newest")
    entries.create_index(["source", "published"])
    entries.create_index(["first_seen"])
    entries.enable_fts(["title", "text"], fts_version="FTS5", create_triggers=True)


def _topics_and_text_language_v2(db: sqlite_utils.Database) -> None:
    """v2: topics in their own table (so `--topic` is an index lookup on a million entries), the
    language the text said kept beside the one in force (so a config change needs no detection),
    and the config each source's entries were classified with."""
    db.execute(
        "CREATE TABLE entry_topics (topic TEXT NOT NULL, seq INTEGER NOT NULL, "
        "PRIMARY KEY (topic, seq)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX entry_topics_seq ON entry_topics (seq)")
    db.execute(
        "CREATE TRIGGER entries_topics_ad AFTER DELETE ON entries BEGIN "
        "DELETE FROM entry_topics WHERE seq = old.seq; END"
    )
    db.execute(
        "INSERT OR IGNORE INTO entry_topics (topic, seq) "
        "SELECT value, seq FROM entries, json_each(entries.topics)"
    )
    entries = db.table("entries")
    entries.add_column("text_lang", str, not_null_default="und")
    entries.add_column("text_lang_source", str, not_null_default="detected")
    db.execute(
        "UPDATE entries SET text_lang = lang, text_lang_source = coalesce(lang_source, 'detected')"
    )
    db.table("sources").add_column("classified_with", str)
    entries.create_index(["lang", "published"])


def _crossposts_v3(db: sqlite_utils.Database) -> None:
    """v3: what finds the copies of an article in other feeds (canonical URL, title key, LSH bands
    of a text signature, all indexed), the cluster an entry belongs to, whether it is the
    cluster's canonical copy, and each source's position in the config (which breaks ties)."""
    entries = db.table("entries")
    entries.add_column("canonical_url", str)
    entries.add_column("title_key", str)
    entries.add_column("cluster", int)
    entries.add_column("canonical", int, not_null_default=1)
    entries.create_index(["canonical_url"])
    entries.create_index(["title_key"])
    entries.create_index(["cluster"])
    entries.create_index(["canonical", "published", "id"], index_name="entries_canonical_newest")
    db.table("sources").add_column("position", int)
    db.execute(
        "CREATE TABLE entry_bands (band INTEGER NOT NULL, seq INTEGER NOT NULL, "
        "PRIMARY KEY (band, seq)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX entry_bands_seq ON entry_bands (seq)")
    db.execute(
        "CREATE TRIGGER entries_bands_ad AFTER DELETE ON entries BEGIN "
        "DELETE FROM entry_bands WHERE seq = old.seq; END"
    )
    # the full-text index follows title and text only: sqlite-utils' trigger fires on any
    # update, and re-indexing a whole article to flip its `canonical` flag or its topics cost
    # more than the rest of ingest put together
    db.execute("DROP TRIGGER entries_au")
    db.execute(
        "CREATE TRIGGER entries_au AFTER UPDATE OF title, text ON entries BEGIN "
        "INSERT INTO entries_fts (entries_fts, rowid, title, text) "
        "VALUES ('delete', old.rowid, old.title, old.text); "
        "INSERT INTO entries_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text); END"
    )


def _source_health_v4(db: sqlite_utils.Database) -> None:
    """v4: when a failing source may be tried again, and the URL that answered 410 Gone."""
    sources = db.table("sources")
    sources.add_column("skip_until", str)
    sources.add_column("gone_url", str)


def _prune_and_digests_v5(db: sqlite_utils.Database) -> None:
    """v5: identities of pruned entries (so a fetch never brings them back), and each digest's
    mark (the last entry it sent, by insertion order)."""
    db.execute(
        "CREATE TABLE tombstones (source TEXT NOT NULL, key TEXT NOT NULL, pruned TEXT NOT NULL, "
        "PRIMARY KEY (source, key)) WITHOUT ROWID"
    )
    db.table("digests").create(
        {"name": str, "mark": int, "sent": str}, pk="name", not_null={"mark", "sent"}
    )


def _text_indexed_by_writes_v6(db: sqlite_utils.Database) -> None:
    """v6: new entries reach the full-text index in one statement per source (writes.save), not
    through a trigger per row, which cost more than twice as much (0.43 against 1.0 s for the
    6,000 entries of benchmarks/peers.py)."""
    db.execute("DROP TRIGGER entries_ai")


def _language_in_the_newest_index_v7(db: sqlite_utils.Database) -> None:
    """v7: the language joins the index of canonical copies newest first. With it, SQLite plans
    `list --lang en --topic webassembly` (8,696 of 1,000,000 entries) from the (lang, published)
    index, checking the topic before reading a row: 7.9 → 6.0 ms (benchmarks/bench_list.py)."""
    db.execute("DROP INDEX entries_canonical_newest")
    db.table("entries").create_index(
        ["canonical", "published", "id", "lang"], index_name="entries_canonical_newest"
    )


def _excerpt_crossposts_v8(db: sqlite_utils.Database) -> None:
    """v8: what the excerpt rules of cross-posts keep per entry (the link its text names as where
    it was first published, the words its source repeats at either end, whether its title is one
    the source gives several items, whether its link is private, whether it is short enough for
    the excerpt rule), and `meta`, which records the version of the rules the stored copies were
    found under, so that new rules re-examine them once (update.rematch)."""
    entries = db.table("entries")
    entries.add_column("origin_url", str)
    for column in ("lead", "trail", "generic_title", "private_url", "excerpt"):
        entries.add_column(column, int, not_null_default=0)
    entries.create_index(["origin_url"])
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")


def _summaries_v9(db: sqlite_utils.Database) -> None:
    """v9: the feed's own summary beside a fuller text, the excerpt when the text begins with
    something else; NULL for what was stored before."""
    db.table("entries").add_column("summary", str)


def _undoable_prune_v10(db: sqlite_utils.Database) -> None:
    """v10: the trash of the last prune, the rows as they were, until the next prune or a purge
    (store/trash.py). Their columns are those of the tables they copy: a step that adds a column
    to entries, entry_topics or entry_bands adds it to its trash too."""
    for table, trash in (
        ("entries", "pruned_entries"),
        ("entry_topics", "pruned_topics"),
        ("entry_bands", "pruned_bands"),
    ):
        db.execute(f"CREATE TABLE {trash} AS SELECT * FROM {table} WHERE 0")


def _authors_by_name_v11(db: sqlite_utils.Database) -> None:
    """v11: no new column; authors stored with their e-mail address are stored by name, as a
    fetch now writes them (store/writes.py)."""
    from archfeed.store.writes import authors_by_name

    authors_by_name(db.conn)


def _item_memos_v12(db: sqlite_utils.Database) -> None:
    """v12: each source's items as its last fetch read them (parse/items.py), so that a changed
    feed hands feedparser only its new items; clusters indexed with their canonical flag."""
    # a rowid table: a memo of a few kB fits its leaf pages, where WITHOUT ROWID would keep
    # ~1 kB of it there and spill the rest to an overflow page of its own
    db.execute(
        "CREATE TABLE item_memos (source TEXT NOT NULL, digest TEXT NOT NULL, memo BLOB NOT NULL, "
        "PRIMARY KEY (source, digest))"
    )
    # and a cluster's canonical copy found without reading its other members (clusters.elect)
    db.execute("DROP INDEX idx_entries_cluster")
    db.execute("CREATE INDEX entries_cluster_canonical ON entries (cluster, canonical)")


def _read_state_v13(db: sqlite_utils.Database) -> None:
    """v13: when an article was read (NULL: unread), the same on every copy of it
    (store/reads.py), and in the trash beside it; canonical copies by read state, newest first.
    With it `list --unread` on 1,000,000 entries, the oldest 1% unread, reads the unread rows
    alone: 983 → 0.2 ms (benchmarks/bench_list.py). A partial index of the unread rows is never
    chosen over entries_canonical_newest, whose `canonical = ?` SQLite rates higher without
    ANALYZE; `lang` last, as there, so that `--unread --lang` is read from the index too."""
    for table in ("entries", "pruned_entries"):
        db.table(table).add_column("read_at", str)
    db.table("entries").create_index(
        ["canonical", "read_at", "published", "id", "lang"], index_name="entries_unread_newest"
    )


def _polite_fetching_v14(db: sqlite_utils.Database) -> None:
    """v14: what each source's last answer asked of the next fetch (update/polite.py), in
    seconds: `fresh_for`, how long its Cache-Control or Expires call it fresh, and `ttl`, how
    long its feed asks between fetches (`<ttl>`, `<sy:updatePeriod>`). NULL: it said nothing, or
    was fetched before the upgrade (then only the config's min_interval and interval count)."""
    for column in ("fresh_for", "ttl"):
        db.table("sources").add_column(column, float)


_STEPS: list[Callable[[sqlite_utils.Database], None]] = [
    _schema_v1,
    _topics_and_text_language_v2,
    _crossposts_v3,
    _source_health_v4,
    _prune_and_digests_v5,
    _text_indexed_by_writes_v6,
    _language_in_the_newest_index_v7,
    _excerpt_crossposts_v8,
    _summaries_v9,
    _undoable_prune_v10,
    _authors_by_name_v11,
    _item_memos_v12,
    _read_state_v13,
    _polite_fetching_v14,
]
