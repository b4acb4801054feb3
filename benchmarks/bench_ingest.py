"""Ingest cost per entry as the database grows: cross-post detection must stay index lookups.

    python benchmarks/bench_ingest.py [--sizes 1000,100000] [--batch 1000]

For each size N: fill a fresh database with N entries (sources of 1,000 generated articles each,
through the real pipeline: classify, dedup keys, candidate lookup, one transaction per source),
then time the ingest of one more source of `--batch` new entries, a tenth of them copies of stored
articles under other titles. Prints µs per entry at each size and the ratio between the largest
and the smallest. Texts are generated from a fixed seed with a Zipf-like vocabulary, so shingles
collide as in real prose and candidate lookups do real work.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archfeed.classify import fingerprints
from archfeed.models import Config, FetchResult, ParsedEntry, ParsedFeed, Settings, Source
from archfeed.store import Store
from archfeed.update import store_prepared, unchanged_hashes
from archfeed.update.worker import prepare_feed

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    letters = "etaoinshrdlucmfwypvbgkqjxz"
    return ["".join(rng.choices(letters, k=rng.randint(2, 9))) for _ in range(size)]


class Generator:
    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)  # noqa: S311 -- a fixed seed for the same texts every run
        self.words = _vocabulary(self.rng)
        # Zipf-like weights: the few common words carry most of the text, as in prose
        self.weights = [1 / (rank + 1) for rank in range(len(self.words))]
        self.count = 0

    def text(self, length: int) -> str:
        return " ".join(self.rng.choices(self.words, self.weights, k=length))

    def entry(self, body: str | None = None) -> ParsedEntry:
        self.count += 1
        text = body or self.text(self.rng.randint(150, 500))
        return ParsedEntry(
            key=f"https://gen.example/{self.count}",
            url=f"https://gen.example/{self.count}",
            title=f"{self.text(6)} {self.count}",
            text=text,
            author=None,
            published=NOW - timedelta(minutes=self.count),
            categories=(),
        )


def _ingest(config: Config, store: Store, source: Source, entries: list[ParsedEntry]) -> float:
    """What fetch does for a feed once its body arrived: the worker's half (what the source
    repeats, hash, classify, dedup keys) and the database half (candidates, one transaction),
    both timed."""
    result = FetchResult(source.name, status=200, body=b"", body_hash=source.name)
    prints = fingerprints((source,), ())
    started = time.perf_counter()
    known, skip = unchanged_hashes(store, source.name)
    prepared = prepare_feed(
        ParsedFeed(source.name, "en", tuple(entries)), source, (), ("en",), skip
    )
    store_prepared(store, source, prints[source.name], result, prepared, known, NOW)
    return time.perf_counter() - started


def measure(size: int, batch: int, folder: Path) -> float:
    gen = Generator()
    # `lang` set: generated words are no language, and detection has its own benchmark
    sources = [
        Source(f"s{i}", f"https://s{i}.example/feed", lang="en", position=i)
        for i in range(size // 1000 + 2)
    ]
    config = Config(path=None, settings=Settings(languages=("en",)), sources=tuple(sources))
    with Store(folder / f"bench-{size}.db") as store:
        stored: list[str] = []
        for index in range(size // 1000):
            entries = [gen.entry() for _ in range(1000)]
            stored.extend(entry.text for entry in entries[::97])
            _ingest(config, store, sources[index], entries)
        fresh = [gen.entry(gen.rng.choice(stored) if i % 10 == 0 else None) for i in range(batch)]
        elapsed = _ingest(config, store, sources[-1], fresh)
    return elapsed / batch * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="stored entries before the batch")
    parser.add_argument("--batch", type=int, default=1000, help="entries in the timed batch")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            results[size] = measure(size, args.batch, Path(folder))
            print(f"{size:>9,} stored: {results[size]:7.0f} µs per new entry", flush=True)
    print(
        f"ratio {max(sizes):,} / {min(sizes):,}: {results[max(sizes)] / results[min(sizes)]:.2f}×"
    )


if __name__ == "__main__":
    main()
