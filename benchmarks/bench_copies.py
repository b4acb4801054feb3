"""Many copies of one article: does storing one more copy cost more as its cluster grows?

    python benchmarks/bench_copies.py [--sources 625] [--entries 20] [--copies 1 25 625]
                                      [--runs 1] [--scratch /tmp/archfeed-bench/copies]

For each cluster size C, writes `--sources` local RSS files in which every article appears in C
of them (blocks of C sources carry the same `--entries` articles: the same title, text and link,
each copy with its own tracking parameters and guid), then times `archfeed fetch` into a fresh
database and `archfeed list --all --format jsonl` of the result. The total number of entries is
the same for every C, so a flat "ms per copy" means a copy's cost does not grow with its
cluster, and a flat "list µs per output kB" means `list --all` is linear in what it prints.
Bytes written are the whole process tree's (`ru_oublock` of the children, 512-byte blocks as
Linux counts them when pages are dirtied), beside the database's size after the fetch.
archfeed is `$ARCHFEED_BIN`, default the `archfeed` beside this Python.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from genfeeds import BASE_DATE, Generator  # the peers benchmark's prose


def write(folder: Path, sources: int, entries: int, copies: int) -> Path:
    """The feeds and their config; returns the config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    prose = Generator(seed=7)
    articles = [
        [
            (
                f"Notes on service {block}-{n}: " + " ".join(prose.words("en", 4)),
                prose.body("en"),
                BASE_DATE - timedelta(hours=block * entries + n),
            )
            for n in range(entries)
        ]
        for block in range(-(-sources // copies))
    ]
    lines = ['[settings]\nlanguages = ["en"]\n']
    for source in range(sources):
        block = source // copies
        items = "".join(
            f"<item><title>{escape(title)}</title>"
            f"<link>https://origin{block}.example.org/post/{n}?utm_source=s{source}</link>"
            f"<guid isPermaLink='false'>s{source}-{n}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape(body)}</description></item>\n"
            for n, (title, body, when) in enumerate(articles[block])
        )
        feed = folder / f"s{source:05d}.xml"
        feed.write_text(
            f"<rss version='2.0'><channel><title>s{source}</title>\n{items}</channel></rss>\n",
            encoding="utf-8",
        )
        lines.append(f'[[source]]\nname = "s{source:05d}"\nurl = "{feed}"\n')
    config = folder / "feeds.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    return config


def timed(argv: list[str], env: dict[str, str], out: Path | None = None) -> tuple[float, int]:
    """(wall seconds, bytes the process tree wrote) of one whole command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_oublock
    start = time.perf_counter()
    with Path(out or os.devnull).open("wb") as sink:
        subprocess.run(argv, env=env, stdout=sink, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    return wall, (resource.getrusage(resource.RUSAGE_CHILDREN).ru_oublock - before) * 512


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=int, default=625)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 25, 625])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--scratch", type=Path, default=Path(tempfile.gettempdir()) / "archfeed-bench" / "copies"
    )
    args = parser.parse_args()
    archfeed = os.environ.get("ARCHFEED_BIN") or str(Path(sys.executable).with_name("archfeed"))
    total = args.sources * args.entries
    print(f"{args.sources} sources × {args.entries} entries = {total} copies; medians of "
          f"{args.runs} run(s); archfeed: {archfeed}\n")  # fmt: skip
    print(
        "| copies of each article | fetch s | ms per copy | MB written | database MB "
        "| written ÷ database | `list --all --format jsonl` s | output MB | list µs per output kB |"
    )
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for copies in args.copies:
        folder = args.scratch / f"c{copies}"
        shutil.rmtree(folder, ignore_errors=True)
        config = write(folder, args.sources, args.entries, copies)
        fetches, lists = [], []
        for run in range(args.runs):
            db = folder / f"run{run}.db"
            env = {**os.environ, "NO_COLOR": "1"}
            base = [archfeed, "--config", str(config), "--db", str(db)]
            wall, written = timed([archfeed, "-q", *base[1:], "fetch"], env)
            size = sum(p.stat().st_size for p in folder.glob(f"run{run}.db*"))
            fetches.append((wall, written, size))
            listed = folder / "list.jsonl"
            lists.append((timed([*base, "list", "--all", "--format", "jsonl"], env, listed)[0],
                          listed.stat().st_size))  # fmt: skip
        wall, written, size = (statistics.median(f[i] for f in fetches) for i in range(3))
        list_s, out = (statistics.median(x[i] for x in lists) for i in range(2))
        print(f"| {copies} | {wall:.2f} | {wall / total * 1000:.2f} | {written / 1e6:.0f} "
              f"| {size / 1e6:.0f} | {written / size:.1f} | {list_s:.2f} | {out / 1e6:.1f} "
              f"| {list_s * 1e6 / (out / 1e3):.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
