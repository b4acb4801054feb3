"""Language detection: accuracy per language and microseconds per entry on the labelled sets.

    python benchmarks/bench_classify.py [--repeat N]

Reads the labelled sets of tests/data: languages.tsv (the set the rules were written against),
then languages_holdout.tsv, languages_world.tsv, languages_fresh.tsv, languages_final.tsv,
languages_last.tsv, languages_next.tsv and languages_held.tsv, each written by a helper who had
seen neither the rules nor the sets before it (the README says which were tuned against
afterwards; languages_held.tsv never was). Times classify() as fetch calls it for a new entry
(language and topics), after warm-up calls that load langdetect's profiles; those one-time
loads are reported on their own lines.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from archfeed.classify import classify, ngrams
from archfeed.models import ParsedEntry, Source, TopicRule

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from labelled import HELD_OUT, LANGUAGE_SETS  # the tests' own list of sets

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
RULES = (
    TopicRule("security", ("oauth", "jwt", "xss", "ssrf"), ("appsec", "infosec")),
    TopicRule("databases", ("postgresql", "postgres", "sqlite", "mysql"), ("database",)),
)
SOURCE = Source(name="bench", url="https://example.org/feed", topics=("architecture",))


def _entries(name: str) -> list[tuple[str, str, ParsedEntry]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        (row["lang"], row["group"],
         ParsedEntry(key=str(i), url=None, title=row["title"], text=row["excerpt"], author=None,
                     published=None, categories=()))
        for i, row in enumerate(rows)
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over each set")
    args = parser.parse_args()
    # what the first entry that needs langdetect pays, once per process: Latin-script text
    # needs the profiles of the languages written in Latin letters, other text all of them
    for what, among in (("Latin-script", ngrams.LATIN_SCRIPT), ("all", frozenset())):
        started = time.perf_counter()
        ngrams.guess("warm-up", (), among=among)
        print(
            f"one-time load of {what} langdetect profiles: "
            f"{(time.perf_counter() - started) * 1000:.0f} ms"
        )
    for name in (*LANGUAGE_SETS, HELD_OUT):
        if not (DATA / name).exists():
            continue
        entries = _entries(name)
        right: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for lang, group, entry in entries:
            found = classify(entry, SOURCE, None, RULES, ("en", "ru")).lang
            for key in (lang, f"[{group}]", "[all]"):
                total[key] += 1
                right[key] += found == lang
        passes = []
        for _ in range(args.repeat):
            begin = time.perf_counter()
            for _, _, entry in entries:
                classify(entry, SOURCE, None, RULES, ("en", "ru"))
            passes.append((time.perf_counter() - begin) / len(entries) * 1e6)
        print(
            f"\n{name}: {len(entries)} entries, median {statistics.median(passes):.0f} µs per "
            f"entry over {args.repeat} passes (min {min(passes):.0f}, max {max(passes):.0f})"
        )
        for key in sorted(total, key=lambda k: (k.startswith("["), -total[k], k)):
            print(f"  {key:12} {right[key]:4}/{total[key]:<4} {right[key] / total[key]:7.1%}")


if __name__ == "__main__":
    main()
