"""Where feeds are parsed: in worker processes beside the fetching, or inline for small runs.

Owns: the process pool (started from a clean forkserver, never forked from a process whose
fetch threads hold locks), the limits each worker runs under (address space, and a time limit per
feed), and handing results back in completion order. Never parses, classifies or stores anything
itself: it runs update/worker.py:prepare().
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent import futures
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from archfeed.models import Prepared

POOL_MIN_SOURCES = 4  # below this, starting workers costs more than it saves
WORKER_MEMORY = 1536 * 1024 * 1024  # address space of a worker: a hostile feed gets MemoryError
FEED_SECONDS = 30  # one feed's parsing, at most
BACKLOG = 8  # feeds handed to workers and not yet stored


def _start_worker(parent: int) -> None:
    """Limits, and a watch on the fetch that started this worker: a worker's own parent is the
    forkserver, so nothing else would end it when the fetch is interrupted or killed."""
    import resource
    import threading
    import time

    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))

    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _guarded(work: Callable[..., Prepared], *args: Any) -> Prepared:
    """Run one feed's work under a time limit; what escapes it becomes that feed's error."""
    import signal

    def expired(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"parsing took more than {FEED_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, FEED_SECONDS)
    try:
        return work(*args)
    except (MemoryError, TimeoutError) as exc:
        return Prepared(error=f"parser stopped: {type(exc).__name__}: {exc}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_LIVE: set[ProcessPoolExecutor] = set()


def stop_all() -> None:
    """End every worker now (Ctrl-C, an error): kill them, then let the pool notice and clean up
    its queues, so that nothing outlives the fetch and nothing is reported leaked."""
    for pool in list(_LIVE):
        _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    _LIVE.discard(pool)
    processes = getattr(pool, "_processes", None) or {}  # no public way to reach the workers
    for process in list(processes.values()):
        process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _start_forkserver() -> None:
    """The forkserver, started with Ctrl-C ignored (a disposition a new process inherits) and
    its stderr on /dev/null, as are the workers it forks: a terminal's Ctrl-C reaches the whole
    process group, and a forkserver interrupted while it imported archfeed, or cut off by the
    stopping fetch in the middle of a request (EOFError), printed a traceback behind `archfeed:
    interrupted`. What a worker has to say reaches the fetch as its result; the fetch stops them
    itself (stop_all, and each worker's watch on it)."""
    import signal
    from multiprocessing import forkserver

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet, stderr = os.open(os.devnull, os.O_WRONLY), os.dup(2)
    try:
        os.dup2(quiet, 2)
        forkserver.ensure_running()
    finally:
        os.dup2(stderr, 2)
        os.close(stderr)
        os.close(quiet)
        signal.signal(signal.SIGINT, previous)


class Parsers:
    """submit() a feed's work; ready() yields (tag, Prepared) as they complete."""

    def __init__(self, sources: int) -> None:
        self.pool: ProcessPoolExecutor | None = None
        self.pending: list[tuple[Any, Future[Prepared]]] = []
        self.done: list[tuple[Any, Prepared]] = []
        workers = os.cpu_count() or 1
        if sources >= POOL_MIN_SOURCES and workers > 1:
            import multiprocessing

            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["archfeed.update"])
            _start_forkserver()
            self.pool = ProcessPoolExecutor(
                workers, context, initializer=_start_worker, initargs=(os.getpid(),)
            )
            _LIVE.add(self.pool)

    def __enter__(self) -> Parsers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is None:
            return
        if exc == (None, None, None):
            _LIVE.discard(self.pool)
            self.pool.shutdown(wait=True)
        else:
            _stop(self.pool)

    def submit(self, tag: Any, work: Callable[..., Prepared], *args: Any) -> None:
        if self.pool is not None:
            try:
                self.pending.append((tag, self.pool.submit(_guarded, work, *args)))
                return
            except BrokenProcessPool:  # workers could not start, or died: carry on without them
                _stop(self.pool)
                self.pool = None
        self.done.append((tag, work(*args)))

    def ready(self, wait: bool = False) -> Iterator[tuple[Any, Prepared]]:
        """What has finished; with `wait`, everything. When more feeds wait for a worker than
        BACKLOG, it also waits for the first to finish: parsed feeds must not pile up in memory
        faster than the database takes them."""
        while self.done:
            yield self.done.pop(0)
        if not wait and len(self.pending) > BACKLOG:
            futures.wait(
                [future for _, future in self.pending], return_when=futures.FIRST_COMPLETED
            )
        still = []
        for tag, future in self.pending:
            if wait or future.done():
                yield tag, _outcome(future)
            else:
                still.append((tag, future))
        self.pending = still


def _outcome(future: Future[Prepared]) -> Prepared:
    try:
        return future.result()
    except Exception as exc:  # a worker that died (killed, out of memory) fails its feeds only
        return Prepared(error=f"parser worker failed: {type(exc).__name__}: {exc}")
