"""Precision and recall of cross-post detection on a labelled set, ingested through the CLI.

    python benchmarks/bench_crossposts.py [tests/data/crossposts_short.json ...] [--misses]

Each set (the format of tests/data/crossposts*.json: "cases" of entries expected to be one
article or not, optional "filler" and "feeds") becomes one RSS file per source, fetched together by
`archfeed fetch` into a fresh database. Prints, per set, the copy pairs merged and missed and the
false merges; `--misses` names them. The tests hold the same figures to their goals
(tests/test_crossposts_e2e.py); this prints them for a note.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SETS = sorted((ROOT / "tests" / "data").glob("crossposts*.json"))
Pair = frozenset[tuple[str, str]]


def rss(title: str, items: list[dict[str, Any]]) -> str:
    body = "".join(
        "<item>"
        f"<title>{escape(item['title'])}</title><link>{escape(item['url'])}</link>"
        f"<guid>{escape(item['url'])}</guid>"
        f"<pubDate>{format_datetime(datetime.fromisoformat(item['published']))}</pubDate>"
        f"<description>{escape(item['html'])}</description>"
        + "".join(f"<category>{escape(c)}</category>" for c in item.get("categories", []))
        + "</item>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title>{body}</channel></rss>"
    )


def write_feeds(labelled: dict[str, Any], folder: Path) -> list[tuple[str, Path]]:
    """One feed file per source, in name order: (source, path)."""
    entries = [e for case in labelled["cases"] for e in case["entries"]]
    entries += labelled.get("filler", [])
    titles = {feed["source"]: feed["title"] for feed in labelled.get("feeds", [])}
    by_source: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_source.setdefault(entry["source"], []).append(entry)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for source in sorted(by_source):
        path = folder / f"{source}.xml"
        path.write_text(rss(titles.get(source, source), by_source[source]), encoding="utf-8")
        files.append((source, path))
    return files


def pairs(groups: list[list[tuple[str, str]]]) -> set[Pair]:
    return {frozenset(pair) for group in groups for pair in itertools.combinations(group, 2)}


def truth(labelled: dict[str, Any]) -> set[Pair]:
    return pairs(
        [
            [(e["source"], e["url"]) for e in case["entries"]]
            for case in labelled["cases"]
            if case["expect"] == "same"
        ]
    )


def merged(db: Path) -> set[Pair]:
    clusters: dict[int, list[tuple[str, str]]] = {}
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT source, url, cluster FROM entries WHERE cluster IS NOT NULL")
        for source, url, cluster in rows:
            clusters.setdefault(cluster, []).append((source, url))
    return pairs(list(clusters.values()))


def evaluate(path: Path, folder: Path, archfeed: str) -> tuple[set[Pair], set[Pair]]:
    """(truth, merged) for one labelled set, fetched into a fresh database under `folder`."""
    labelled = json.loads(path.read_text(encoding="utf-8"))
    files = write_feeds(labelled, folder / "feeds")
    config = folder / "feeds.toml"
    config.write_text(
        "".join(f'[[source]]\nname = "{name}"\nurl = "{file}"\n\n' for name, file in files),
        encoding="utf-8",
    )
    db = folder / "archfeed.db"
    env = {**os.environ, "HOME": str(folder)}
    subprocess.run(
        [archfeed, "-q", "--config", str(config), "--db", str(db), "fetch"], check=True, env=env
    )
    return truth(labelled), merged(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, default=DEFAULT_SETS)
    parser.add_argument("--misses", action="store_true", help="name the missed and false pairs")
    args = parser.parse_args()
    archfeed = os.environ.get("ARCHFEED_BIN") or str(Path(sys.executable).parent / "archfeed")
    for path in args.sets:
        with tempfile.TemporaryDirectory() as scratch:
            expected, found = evaluate(path, Path(scratch), archfeed)
        hits, false = expected & found, found - expected
        print(
            f"{path.name}: {len(hits)}/{len(expected)} copy pairs merged "
            f"(recall {len(hits) / max(len(expected), 1):.1%}), {len(false)} false merges"
        )
        if args.misses:
            for label, group in (("missed", expected - found), ("false", false)):
                for pair in sorted(map(sorted, group)):
                    print(f"  {label}: {pair[0][0]} {pair[0][1]}  ~  {pair[1][0]} {pair[1][1]}")


if __name__ == "__main__":
    main()
