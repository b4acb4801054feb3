"""The store's commits and upgrades: in Store.batched() many writes share a commit, yet each stays
all or nothing; an older database keeps what it holds through a schema upgrade."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archfeed import store as store_package
from archfeed.store import Store, transactions
from conftest import FIXTURES, Cli

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def marks(path: Path) -> dict[str, int]:
    """What another process would read: a connection of its own."""
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT name, mark FROM digests"))


def test_a_failed_write_in_a_batch_loses_only_itself(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as store:
        with pytest.raises(RuntimeError), store.batched():
            store.advance_digest("first", 1, NOW)
            with store._transaction() as conn:
                conn.execute("INSERT INTO digests (name, mark, sent) VALUES ('broken', 2, 'x')")
                raise RuntimeError("a source's write failed half-way")
        assert marks(tmp_path / "a.db") == {"first": 1}


def test_a_batch_commits_as_it_goes(tmp_path: Path) -> None:
    ticks = [100.0]
    with Store(tmp_path / "b.db") as store:
        store._writes.monotonic = lambda: ticks[0]
        with store.batched():
            store.advance_digest("first", 1, NOW)
            assert marks(tmp_path / "b.db") == {}  # not committed: readers see the last commit
            ticks[0] += transactions.BATCH_SECONDS * 0.9
            store.advance_digest("second", 2, NOW)  # still inside the batch's time
            assert marks(tmp_path / "b.db") == {}
            ticks[0] += transactions.BATCH_SECONDS * 0.2
            store.advance_digest("third", 3, NOW)  # the batch's time is up: this write commits
            assert marks(tmp_path / "b.db") == {"first": 1, "second": 2, "third": 3}
            store.advance_digest("fourth", 4, NOW)
        assert len(marks(tmp_path / "b.db")) == 4


def test_a_v5_database_keeps_its_search_and_indexes_new_entries(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """v6 indexes new text from writes.save instead of a trigger: what the trigger indexed before
    the upgrade is still found, and so is what a fetch stores after it."""
    current = store_package.SCHEMA_VERSION
    monkeypatch.setattr(store_package, "SCHEMA_VERSION", 5)
    with Store(cli.db) as old:
        old.conn.execute(
            "INSERT INTO entries (id, source, key, title, text, published, first_seen, updated, "
            "content_hash) VALUES ('0123456789abcdef', 'old', 'k', 'Zanzibar notes', 'quokka', "
            "'2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', 'h')"
        )
    monkeypatch.undo()  # the fetch below is this version's archfeed
    cli.write_config([("blog", str(FIXTURES / "rss2.xml"))])
    assert cli.fetch().returncode == 0
    assert cli.rows("PRAGMA user_version") == [(current,)]
    assert [e["title"] for e in cli.list_json("--search", "quokka")] == ["Zanzibar notes"]
    assert cli.list_json("--search", "outbox")  # a word of the fixture's first entry
    assert cli.rows("INSERT INTO entries_fts (entries_fts) VALUES ('integrity-check')") == []


def test_authors_stored_with_their_address_are_not_updated_by_the_upgrade(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """v11: before it, "jo@x.org (Jo Doe)" was stored as it was written and hashed with it; now
    a fetch writes "Jo Doe". The upgrade stores the name and the hash a fetch would give, so the
    first fetch after it counts no entry as updated."""
    from dataclasses import replace

    from archfeed.parse import parse
    from archfeed.store import writes
    from archfeed.store.writes import entry_hash

    items = "".join(
        f"<item><guid>{n}</guid><title>Post {n}</title><author>jo@x.org (Jo Doe)</author>"
        f"<description>Text {n}.</description>"
        f"<pubDate>Mon, 0{n} Feb 2025 10:00:00 +0000</pubDate></item>"
        for n in (1, 2)
    )
    feed = cli.root / "jo.xml"
    feed.write_text(f'<rss version="2.0"><channel><title>jo</title>{items}</channel></rss>')
    cli.write_config([("jo", str(feed))])
    current = store_package.SCHEMA_VERSION
    monkeypatch.setattr(store_package, "SCHEMA_VERSION", 10)
    # nor did it keep item memos (v12)
    monkeypatch.setattr(store_package.Store, "memos", lambda self, source: {})
    monkeypatch.setattr(writes, "_keep_memos", lambda conn, source, memos: None)
    with Store(cli.db) as old:  # with the v14 columns a fetch writes, for this one fetch
        for column in ("fresh_for", "ttl"):
            old.conn.execute(f"ALTER TABLE sources ADD COLUMN {column} REAL")
    assert cli.fetch().returncode == 0
    # as the previous version stored them: the author as written, the hash made with it
    with sqlite3.connect(cli.db) as conn:
        for column in ("fresh_for", "ttl"):  # nor did it have v14's columns
            conn.execute(f"ALTER TABLE sources DROP COLUMN {column}")
        for entry in parse(feed.read_bytes(), None, str(feed)).entries:
            written = replace(entry, author="jo@x.org (Jo Doe)")
            conn.execute(
                "UPDATE entries SET author = ?, content_hash = ? WHERE key = ?",
                (written.author, entry_hash(written), entry.key),
            )
    conn.close()
    stored = {author for (author,) in cli.rows("SELECT author FROM entries")}
    assert stored == {"jo@x.org (Jo Doe)"}
    monkeypatch.undo()
    again = cli.fetch("--force")
    assert "jo: 0 new, 0 updated" in again.stderr
    assert cli.rows("PRAGMA user_version") == [(current,)]
    assert [e["author"] for e in cli.list_json()] == ["Jo Doe", "Jo Doe"]
