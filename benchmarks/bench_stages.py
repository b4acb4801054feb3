"""Where a cold fetch's CPU goes: each stage of ingesting peers.py's feeds, in one process.

    python benchmarks/bench_stages.py [--feeds 200] [--entries 30] [--set short] [--set long]

Generates the feeds peers.py fetches (genfeeds.py, into a scratch folder), then ingests every
one into a fresh database through the same functions `fetch` runs (parse, then the worker's half,
then the store's half), serially, with each stage's functions wrapped in a timer: feedparser
itself, the rest of parsing (HTML to text, identities, dates, memos), the cross-post signature
(`dedup.siblings` and `dedup.keys`), classification (language and topics), finding copies among
the stored entries, and storing (one transaction per source). Prints ms per entry for each
stage; the CPU of a real `fetch` beyond their sum is fetching, moving results between
processes, starting the workers and the command itself (peers.py's "cold CPU s").
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser

from archfeed import dedup, parse, store, update
from archfeed.classify import fingerprints
from archfeed.config import load
from archfeed.models import FetchResult
from archfeed.update import worker

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genfeeds  # peers.py's feeds

NOW = datetime(2026, 1, 1, tzinfo=UTC)
STAGES = ("feedparser", "rest of parsing", "signature", "classification", "finding copies",
          "storing")  # fmt: skip


class Timers:
    def __init__(self) -> None:
        self.spent = dict.fromkeys(STAGES, 0.0)

    def wrap(self, owner: Any, name: str, stage: str) -> None:
        """Time every call of owner.name as `stage` (not counting what it calls that is timed
        as another stage: feedparser inside parse)."""
        real: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            before = dict(self.spent)
            started = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                inner = sum(self.spent[s] - before[s] for s in STAGES if s != stage)
                self.spent[stage] += time.perf_counter() - started - inner

        setattr(owner, name, timed)


def ingest(folder: Path, timers: Timers) -> int:
    """Every feed of the folder into a fresh database; returns the entries stored."""
    config = load(folder / "feeds.toml")
    prints = fingerprints(config.sources, config.topics)
    expected = config.settings.languages
    stored = 0
    with store.Store(folder / "stages.db") as db:
        for source in config.sources:
            path = folder / source.url.rsplit("/", 1)[1]
            body = path.read_bytes()
            result = FetchResult(source.name, status=200, body=body, body_hash=source.name)
            known, skip = update.unchanged_hashes(db, source.name)
            args = [body, None, source.url, source, config.topics, expected, skip]
            if "memos" in inspect.signature(worker.prepare).parameters:  # since 2026-12-03
                args.append({})
            prepared = worker.prepare(*args)
            report = update.store_prepared(
                db, source, prints[source.name], result, prepared, known, NOW
            )
            stored += report.new
    return stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--set", action="append", choices=("short", "long"), dest="sets")
    args = parser.parse_args()
    timers = Timers()
    timers.wrap(feedparser, "parse", "feedparser")
    timers.wrap(parse, "parse", "rest of parsing")
    timers.wrap(dedup, "siblings", "signature")
    timers.wrap(dedup, "keys", "signature")
    timers.wrap(worker, "classify", "classification")
    # Store.copies since 2026-12-03; before it, the candidates and same_article apart
    for name in ("copies",) if hasattr(store.Store, "copies") else ("candidates", "same_article"):
        timers.wrap(store.Store if name != "same_article" else dedup, name, "finding copies")
    timers.wrap(store.Store, "save", "storing")
    print("| feed set | entries | " + " | ".join(STAGES) + " | sum |")
    print("|---|--:|" + "--:|" * (len(STAGES) + 1))
    for name in args.sets or ["short", "long"]:
        words = genfeeds.SHORT if name == "short" else genfeeds.LONG
        timers.spent = dict.fromkeys(STAGES, 0.0)
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            genfeeds.write(folder, args.feeds, args.entries, args.seed, "http://x.invalid", words)
            stored = ingest(folder, timers)
        per = {stage: spent * 1000 / stored for stage, spent in timers.spent.items()}
        cells = " | ".join(f"{per[s]:.3f}" for s in STAGES)
        print(f"| {name} | {stored} | {cells} | {sum(per.values()):.3f} |", flush=True)


if __name__ == "__main__":
    main()
