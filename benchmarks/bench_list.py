"""`list` on a large database: the query alone and the command end to end, against the goals.

    python benchmarks/bench_list.py [--entries 1000000] [--db /tmp/archfeed-1m.db] [--runs 7]

Builds the database once (reused while DB.complete says it is whole and of the same size):
archfeed's own Store creates the schema, then bulk INSERTs fill entries (every NOT NULL column),
entry_topics, sources and entries_fts (indexes and the full-text trigger are dropped during the
load and made again from their own SQL, as a bulk load does; no ANALYZE, as archfeed runs none).
Dates spread over 3 years; languages en 70%, ru 20%, the rest de/fr/es/uk/zh/ja; 30 topics with
a Zipf-like spread, 1-3 per entry; titles and short texts from genfeeds.py's vocabularies; 1% of
entries are later copies of another (cluster set, canonical = 0), the rest canonical with no
cluster; every entry is read but the oldest 1%. Then times, median of `--runs`: the query
in-process (Store.entries, as `list` calls it) and the commands through a subprocess, with a
common and a rare topic and search word and no filter, each with and without ten [[mute]] and
[[keep]] rules (RULES), `--unread` and `--read`, and `archfeed --version`.
archfeed is `$ARCHFEED_BIN`, default the one beside this Python.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import genfeeds

from archfeed.config import load
from archfeed.models import Filter, Muting
from archfeed.store import Store

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)
SOURCES = 2000
TOPICS = (
    "architecture backend databases security devops kubernetes postgres kafka rust golang python "
    "distributed-systems performance observability cloud microservices testing api networking "
    "frontend machine-learning career sre data-engineering java dotnet mobile linux compilers "
    "webassembly"
).split()
LANGS = ("en", "ru", "de", "fr", "es", "uk", "zh", "ja")
LANG_WEIGHTS = (70, 20, 3, 2, 2, 1, 1, 1)
COPY_EVERY = 100  # entry i (i % 100 == 1) is a later copy of entry i - 1
RARE_WORD, RARE_SHARE = "zstd", 1 / 2000  # a word in few texts, for a selective search
# ten rules of every kind, as a user with a noisy feed list writes them: what `list` reads with
# them active is measured beside it without
RULES = """
[[source]]
name = "src0007"
url = "https://src0007.example.org/feed"

[[mute]]
title = ["top 10", "sponsored", "giveaway"]
[[mute]]
title_regex = "(?i)^(ad|promo)[:|]"
[[mute]]
author = ["Author 13", "Author 42"]
[[mute]]
url = ["src0003.example.org"]
[[mute]]
text = ["crypto airdrop"]
[[mute]]
category = ["sponsored"]
[[mute]]
lang = ["ja"]
topic = ["frontend"]
[[mute]]
sources = ["src0007"]
title = ["kafka"]
[[mute]]
topic = ["blockchain"]
[[keep]]
sources = ["src0007"]
title = ["postgresql", "sqlite"]
"""
SEARCHES = ("postgres", RARE_WORD)  # "postgres" finds the titles and texts naming PostgreSQL
WORDS = {**genfeeds.WORDS, "uk": genfeeds.WORDS["ru"], "zh": genfeeds.TECH, "ja": genfeeds.TECH}


def rows(count: int, seed: int) -> Iterator[tuple[tuple[object, ...], list[str]]]:
    """(entries columns, topics) for every entry, oldest first."""
    rng = random.Random(seed)  # noqa: S311 -- a fixed seed: the same database every build
    topic_cum = list(itertools.accumulate(1 / (rank + 1) ** 1.3 for rank in range(len(TOPICS))))
    pools: dict[str, list[str]] = {}
    for lang, words in WORDS.items():  # sentences made once, texts drawn from them
        cum = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
        pools[lang] = []
        for _ in range(4000):
            sentence = rng.choices(words, cum_weights=cum, k=rng.randint(6, 14))
            if rng.random() < 0.3:
                sentence[rng.randrange(len(sentence))] = rng.choice(genfeeds.TECH)
            pools[lang].append(" ".join(sentence).capitalize() + ".")
    step = SPAN / count
    previous: tuple[str, str, list[str]] = ("", "", [])
    for i in range(count):
        seq = i + 1
        published = NOW - SPAN + step * i + timedelta(seconds=rng.randint(0, 3600))
        stamp = f"{published:%Y-%m-%dT%H:%M:%SZ}"
        seen = f"{published + timedelta(minutes=rng.randint(1, 120)):%Y-%m-%dT%H:%M:%SZ}"
        source = f"src{rng.randrange(SOURCES):04d}"
        lang = rng.choices(LANGS, LANG_WEIGHTS)[0]
        topics = sorted(set(rng.choices(TOPICS, cum_weights=topic_cum, k=rng.randint(1, 3))))
        words = rng.choice(pools[lang]).rstrip(".").split()[: rng.randint(3, 7)]
        title = f"{rng.choice(genfeeds.TECH)}: {' '.join(words)}"
        text = " ".join(rng.choices(pools[lang], k=rng.randint(3, 9)))
        if rng.random() < RARE_SHARE:
            text += f" Compressed with {RARE_WORD}."
        cluster, canonical = None, 1
        if i % COPY_EVERY == 1:  # a later copy of the previous entry, from another source
            title, text, topics = previous
            cluster, canonical = i, 0
        elif i % COPY_EVERY == 0 and i + 1 < count:
            previous, cluster = (title, text, topics), seq
        url = f"https://{source}.example.org/p/{seq}"
        id_ = f"{(seq * 0x9E3779B97F4A7C15 + seed) % 2**64:016x}"  # a bijection: unique ids
        yield (
            seq, id_, source, url, url, title, text, f"Author {seq % 997}", stamp, seen, seen,
            lang, "detected", lang, "detected", json.dumps(topics), json.dumps(topics[:1]),
            f"{seq:032x}", url, title.lower(), cluster, canonical,
        ), topics  # fmt: skip


READ = "all but the oldest 1%"  # the read state the database is built with

INSERT = (
    "INSERT INTO entries (seq, id, source, key, url, title, text, author, published, first_seen, "
    "updated, lang, lang_source, text_lang, text_lang_source, topics, categories, content_hash, "
    "canonical_url, title_key, cluster, canonical) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def build(db: Path, count: int, seed: int) -> None:
    for suffix in ("", "-wal", "-shm", ".complete"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with Store(db):  # archfeed's schema, migrated to the current version
        pass
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode = DELETE", "journal_mode = OFF", "synchronous = OFF",
                   "cache_size = -2000000", "temp_store = MEMORY"):  # fmt: skip
        conn.execute(f"PRAGMA {pragma}")
    saved = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND ((type = 'index' "
        "AND tbl_name IN ('entries', 'entry_topics')) OR name = 'entries_ai')"
    ).fetchall()
    for kind, name, _ in saved:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO sources (name, url, added, failures, position) VALUES (?, ?, ?, 0, ?)",
        [(f"src{n:04d}", f"https://src{n:04d}.example.org/feed", "2023-01-01T00:00:00Z", n)
         for n in range(SOURCES)],
    )  # fmt: skip
    topic_rows: list[tuple[str, int]] = []

    def entries() -> Iterator[tuple[object, ...]]:
        for n, (row, topics) in enumerate(rows(count, seed), 1):
            topic_rows.extend((topic, n) for topic in topics)
            if n % 250_000 == 0:
                print(f"  {n:,} entries", file=sys.stderr, flush=True)
            yield row

    conn.executemany(INSERT, entries())
    # a reader who has read everything but the oldest 1%: the worst case for --unread, whose
    # matches are the last rows of a newest-first scan
    conn.execute("UPDATE entries SET read_at = first_seen WHERE seq > ?", (count // 100,))
    topic_rows.sort()
    conn.executemany("INSERT INTO entry_topics (topic, seq) VALUES (?, ?)", topic_rows)
    conn.execute(
        "INSERT INTO entries_fts (rowid, title, text) SELECT seq, title, text FROM entries"
    )
    conn.execute("INSERT INTO entries_fts (entries_fts) VALUES ('optimize')")
    for _, _, sql in saved:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    Path(f"{db}.complete").write_text(json.dumps({"entries": count, "seed": seed, "read": READ}))


Run = Callable[[], object]


def _with_and_without_rules(
    label: str, where: Filter, argv: tuple[str, ...], query: Callable[[Filter], Run],
    command: Callable[..., Run], muting: Muting | None, ruled: Path, goal: float,
) -> list[tuple[str, Run, float]]:  # fmt: skip
    """A list's cases: the query and the command, then both again with the ten RULES active."""
    return [
        (f"query: {label}", query(where), goal),
        (f"end to end: list {label}", command(*argv), 250),
        (f"query, ten rules: {label}", query(replace(where, muting=muting)), goal),
        (f"end to end, ten rules: list {label}", command("--config", str(ruled), *argv), 250),
    ]


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median, max) in ms, after one untimed call."""
    call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "archfeed-1m.db")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    marker = Path(f"{args.db}.complete")
    wanted = {"entries": args.entries, "seed": args.seed, "read": READ}
    if not (args.db.exists() and marker.exists() and json.loads(marker.read_text()) == wanted):
        print(f"building {args.db} ({args.entries:,} entries)…", file=sys.stderr, flush=True)
        started = time.perf_counter()
        build(args.db, args.entries, args.seed)
        print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with Store(args.db) as store:
        counts = dict(store.conn.execute("SELECT topic, count(*) FROM entry_topics GROUP BY topic"))
        common, rare = max(counts, key=counts.__getitem__), min(counts, key=counts.__getitem__)
        hits = "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH ?"
        words = {w: store.conn.execute(hits, (f'"{w}"*',)).fetchone()[0] for w in SEARCHES}
        binary = os.environ.get("ARCHFEED_BIN", str(Path(sys.executable).parent / "archfeed"))
        env = {**os.environ, "XDG_CONFIG_HOME": tempfile.mkdtemp()}  # no user config is read
        cwd = tempfile.mkdtemp()  # and no ./feeds.toml

        def command(*argv: str) -> Callable[[], object]:
            full = [binary, "--db", str(args.db), *argv]
            return lambda: subprocess.run(full, cwd=cwd, env=env, capture_output=True, check=True)

        def query(where: Filter) -> Callable[[], object]:
            return lambda: store.entries(where, text_chars=151)

        ruled = Path(tempfile.mkdtemp()) / "rules.toml"
        ruled.write_text(RULES, encoding="utf-8")
        muting = Muting(load(ruled).rules)

        cases: list[tuple[str, Callable[[], object], float]] = []
        for topic in (common, rare):
            label = f"--lang en --topic {topic} ({counts[topic]:,} entries with it)"
            where = Filter(langs=("en",), topics=(topic,), limit=50)
            argv = ("list", "--lang", "en", "--topic", topic, "--limit", "50", "--format", "json")
            cases += _with_and_without_rules(label, where, argv, query, command, muting, ruled, 10)
        for word, found in words.items():
            label = f"--search {word} ({found:,} entries match)"
            argv = ("list", "--search", word, "--limit", "50", "--format", "json")
            cases += _with_and_without_rules(label, Filter(search=word, limit=50), argv, query,
                                             command, muting, ruled, 50)  # fmt: skip
        argv = ("list", "--limit", "50", "--format", "json")
        cases += _with_and_without_rules("(no filter)", Filter(limit=50), argv, query, command,
                                         muting, ruled, 10)  # fmt: skip
        for flag, read in (("--unread", False), ("--read", True)):
            label = f"{flag} (the oldest 1% unread)"
            cases.append((f"query: {label}", query(Filter(read=read, limit=50)), 10))
            argv = ("list", flag, "--limit", "50", "--format", "json")
            cases.append((f"end to end: list {label}", command(*argv), 250))
        cases.append(("end to end: archfeed --version", command("--version"), 120))
        print(
            f"{args.entries:,} entries in {args.db}; median of {args.runs} runs after one warm-up\n"
        )
        print("| what | median ms | max ms | goal ms | met |\n|---|--:|--:|--:|---|")
        for label, call, goal in cases:
            median, worst = timed(call, args.runs)
            print(f"| {label} | {median:.1f} | {worst:.1f} | ≤ {goal:g} | "
                  f"{'met' if median <= goal else 'MISSED'} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
