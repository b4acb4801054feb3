"""How writes reach the database file: transactions, batches of them, one fetch at a time.

Owns: BEGIN/COMMIT/ROLLBACK and savepoints, the batching of many small writes into one commit,
the OS lock that keeps two fetches apart, and SQLite's errors turned into words a user can act
on. Never knows what is written: the rest of the store does.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from archfeed.errors import StoreError

BATCH_SECONDS = 0.25  # inside Transactions.batched(): how much work one commit may hold
BATCH_CACHE_KIB = -16384  # SQLite's page cache inside batched(), in KiB (negative: KiB, not pages)


class Transactions:
    def __init__(self, conn: sqlite3.Connection, path: Path, busy_timeout: float) -> None:
        self.conn = conn
        self.path = path
        self.busy_timeout = busy_timeout
        self.monotonic = time.monotonic  # what a batch's age is measured with
        self._batch_started: float | None = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: a failure, Ctrl-C or a full disk rolls the whole of it back. Inside
        batched(), a savepoint of the batch's transaction."""
        if self._batch_started is not None:
            with self._savepoint():
                yield self.conn
            if self.monotonic() - self._batch_started >= BATCH_SECONDS:
                self._commit()
                self._batch_started = self.monotonic()
            return
        self._begin()
        try:
            yield self.conn
        except sqlite3.OperationalError as exc:
            self._rollback()
            raise self.explain(exc) from None
        except BaseException:
            self._rollback()
            raise
        self._commit()

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Commit the transactions made inside it together, every BATCH_SECONDS, rather than
        each on its own: a commit per source cost a cold fetch of 200 feeds (benchmarks/peers.py)
        0.7 s of its 3 s of writes. Each transaction stays all or nothing (a savepoint); when a
        fetch is interrupted, what earlier commits hold stays, and the sources whose writes were
        not committed yet are fetched again next time, since their ETags went with them."""
        self._batch_started = self.monotonic()
        # a fetch writes its pages once and seldom reads them again: with a 16 MiB page cache
        # instead of 64, a cold fetch of 1,000 feeds peaked at 116 MB instead of 169, as fast
        cache = self.conn.execute("PRAGMA cache_size").fetchone()[0]
        self.conn.execute(f"PRAGMA cache_size = {BATCH_CACHE_KIB}")
        try:
            yield
        finally:
            self._batch_started = None
            if self.conn.in_transaction:
                self._commit()
            self.conn.execute(f"PRAGMA cache_size = {int(cache)}")

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        if not self.conn.in_transaction:
            self._begin()
        self.conn.execute("SAVEPOINT write")
        try:
            yield
        except BaseException as exc:
            if self.conn.in_transaction:  # SQLite may have rolled back already (a full disk)
                self.conn.execute("ROLLBACK TO write")
                self.conn.execute("RELEASE write")
            if isinstance(exc, sqlite3.OperationalError):
                raise self.explain(exc) from None
            raise
        self.conn.execute("RELEASE write")

    def _begin(self) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self.explain(exc) from None

    def _commit(self) -> None:
        try:
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._rollback()
            raise self.explain(exc) from None

    def _rollback(self) -> None:
        if self.conn.in_transaction:  # SQLite may have rolled back already (a full disk)
            self.conn.execute("ROLLBACK")

    def explain(self, exc: sqlite3.OperationalError) -> Exception:
        return explain(self.path, exc, self.busy_timeout)


# SQLite's primary result codes (https://sqlite.org/rescode.html); an extended code carries its
# primary one in its low byte (SQLITE_READONLY_DBMOVED is 1032 = 8 | 4 << 8)
_BUSY, _LOCKED, _READONLY, _IOERR, _FULL, _CANTOPEN = 5, 6, 8, 10, 13, 14


def explain(path: Path, exc: sqlite3.OperationalError, busy_timeout: float) -> Exception:
    """What the user can act on, told by SQLite's result code, as a StoreError (exit 1)."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in (_BUSY, _LOCKED):
        return StoreError(
            f"the database {path} stayed locked for {busy_timeout:g} s",
            hint="another archfeed run is probably writing to it; try again when it ends",
        )
    if code == _READONLY:
        return StoreError(
            f"the database {path} is read-only",
            hint="check the permissions of the file and of its folder, or pass another --db",
        )
    if code == _CANTOPEN:
        return StoreError(
            f"cannot open the database {path}",
            hint="its folder must exist and take files (not /proc); or pass another --db",
        )
    if code in (_FULL, _IOERR):
        return StoreError(
            f"cannot write the database {path}: {exc}",
            hint="free some space on its disk; what was being written was rolled back",
        )
    return exc


@contextmanager
def fetch_lock(path: Path, wait: float, on_wait: Callable[[str, float], None]) -> Iterator[None]:
    """One fetch at a time per database: a second one says so (`on_wait`, given the holder's
    pid), waits up to `wait` seconds, then gives up with a clear error. An OS lock, so a killed
    fetch never leaves it held; the holder's pid is written in the lock file for the next one."""
    try:
        import fcntl
    except ImportError:  # not on Windows: SQLite's own locking still keeps the data sound
        yield
        return
    with (path.parent / f"{path.name}.lock").open("a+") as handle:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    handle.seek(0)
                    on_wait(handle.read(20).strip() or "unknown", wait)
                    told = True
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"another archfeed fetch has been writing to {path} for "
                        f"more than {wait:g} s",
                        hint="let it finish, then run fetch again",
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
