"""Store.batched(): many writes share a commit, yet each stays all or nothing."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archfeed.store import Store, transactions

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def marks(path: Path) -> dict[str, int]:
    """What another process would read: a connection of its own."""
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT name, mark FROM digests"))


def test_a_failed_write_in_a_batch_loses_only_itself(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.db")
    with pytest.raises(RuntimeError), store.batched():
        store.advance_digest("first", 1, NOW)
        with store._transaction() as conn:
            conn.execute("INSERT INTO digests (name, mark, sent) VALUES ('broken', 2, 'x')")
            raise RuntimeError("a source's write failed half-way")
    assert marks(tmp_path / "a.db") == {"first": 1}
    store.close()


def test_a_batch_commits_as_it_goes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transactions, "BATCH_SECONDS", 0.05)
    store = Store(tmp_path / "b.db")
    with store.batched():
        store.advance_digest("first", 1, NOW)
        assert marks(tmp_path / "b.db") == {}  # not committed yet: readers see the last commit
        time.sleep(0.06)
        store.advance_digest("second", 2, NOW)  # the batch's time is up: this write commits
        assert marks(tmp_path / "b.db") == {"first": 1, "second": 2}
        store.advance_digest("third", 3, NOW)
    assert marks(tmp_path / "b.db") == {"first": 1, "second": 2, "third": 3}
    store.close()
