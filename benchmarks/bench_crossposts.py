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
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from labelled import Pair, merged, truth, write_feeds  # noqa: E402 -- the tests' own helpers

DEFAULT_SETS = sorted((ROOT / "tests" / "data").glob("crossposts*.json"))


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
