"""Cross-posts as a user sees them: one row per article with where else it appeared; precision
and recall of the decision on the labelled set tests/data/crossposts.json."""

from __future__ import annotations

import itertools
import json
import subprocess
from datetime import datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

import pytest

from conftest import Cli

DATA = Path(__file__).parent / "data" / "crossposts.json"


def _rss(items: list[dict[str, Any]]) -> str:
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
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'


def _ingest(
    cli: Cli, folder: Path, entries: list[dict[str, Any]], order: list[str]
) -> subprocess.CompletedProcess[str]:
    """One feed file per source, the sources in `order` in the config, then fetch."""
    folder.mkdir(exist_ok=True)
    by_source: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_source.setdefault(entry["source"], []).append(entry)
    for source, items in by_source.items():
        (folder / f"{source}.xml").write_text(_rss(items), encoding="utf-8")
    cli.write_config(
        [(source, str(folder / f"{source}.xml")) for source in order if source in by_source]
    )
    done = cli.fetch()
    assert done.returncode == 0, done.stderr
    return done


ARTICLE = (
    "<p>We moved our job queue from Redis lists to PostgreSQL with SKIP LOCKED, and the move "
    "removed a whole class of lost jobs. The queue table holds one row per job with its payload, "
    "its state and the time it may run. Workers take a job with a single statement that selects "
    "the oldest runnable row, locks it and skips rows other workers already hold, so no two "
    "workers ever run the same job and no coordinator is needed.</p><p>Retries are rows too: a "
    "failed job gets a new run-at time with exponential backoff and jitter, and a job that failed "
    "ten times moves to a dead table where a human looks at it. Because the job and the business "
    "change it makes commit in one transaction, a crash can no longer leave a charge without its "
    "receipt. Throughput was the worry: on one modest instance we measured eleven thousand jobs a "
    "second, far more than we need, and vacuum keeps the table small when jobs are deleted as "
    "they finish. The price is one more thing the database does, and we watch its load.</p>"
)


@pytest.fixture
def copies(cli: Cli, tmp_path: Path) -> Cli:
    entries: list[dict[str, Any]] = [
        {
            "source": "blog",
            "url": "https://anna.example/queues-in-postgres",
            "title": "Job queues in PostgreSQL",
            "html": ARTICLE,
            "published": "2024-03-01T08:00:00+00:00",
            "categories": ["postgres"],
        },
        {
            "source": "devto",
            "url": "https://dev.example/anna/job-queues-in-postgresql-3kd9",
            "title": "Why we moved our job queue into Postgres",
            "published": "2024-03-02T08:00:00+00:00",
            "html": ARTICLE + "<p>Originally published at anna.example.</p>",
            "categories": ["architecture"],
        },
        {
            "source": "medium",
            "url": "https://anna.example/queues-in-postgres/?utm_source=rss&utm_medium=feed",
            "title": "Job queues in PostgreSQL",
            "html": "<div>" + ARTICLE + "</div>",
            "published": "2024-03-03T08:00:00+00:00",
        },
        {
            "source": "devto",
            "url": "https://dev.example/bob/other",
            "title": "Something else entirely",
            "html": "<p>Unrelated short note about Rust lifetimes and borrowing rules.</p>",
            "published": "2024-03-04T08:00:00+00:00",
        },
    ]
    _ingest(cli, tmp_path / "feeds", entries, ["blog", "devto", "medium"])
    return cli


def test_one_row_per_article_with_where_else_it_appeared(copies: Cli) -> None:
    listed = copies.list_json()
    assert len(listed) == 2
    article = next(e for e in listed if e["source"] == "blog")  # the earliest published copy
    assert sorted((c["source"], c["url"]) for c in article["also_at"]) == [
        ("devto", "https://dev.example/anna/job-queues-in-postgresql-3kd9"),
        ("medium", "https://anna.example/queues-in-postgres/?utm_source=rss&utm_medium=feed"),
    ]
    assert article["topics"] == ["architecture", "postgres"]  # the topics of all its copies
    assert len(copies.list_json("--all")) == 4
    assert len(copies.list_json("--topic", "architecture")) == 1  # found by a copy's topic
    detail = json.loads(copies.run("show", article["id"][:8], "--format", "json").stdout)
    assert len(detail["also_at"]) == 2
    assert detail["text"].startswith("We moved our job queue")


def test_fetch_counts_duplicates_and_refetching_changes_nothing(
    copies: Cli, tmp_path: Path
) -> None:
    before = copies.rows("SELECT id, canonical, cluster FROM entries ORDER BY id")
    again = copies.fetch("--force")
    assert again.returncode == 0
    assert copies.rows("SELECT id, canonical, cluster FROM entries ORDER BY id") == before
    # an updated copy is updated in place: no new row, the same canonical copy
    feed = tmp_path / "feeds" / "medium.xml"
    feed.write_text(
        feed.read_text(encoding="utf-8").replace("far more than we need", "plenty"),
        encoding="utf-8",
    )
    updated = copies.fetch()
    assert "medium: 0 new, 1 updated" in updated.stderr
    assert copies.count() == 4
    assert copies.rows("SELECT id, canonical, cluster FROM entries ORDER BY id") == before


def test_summary_line_counts_duplicates(cli: Cli, tmp_path: Path) -> None:
    entries: list[dict[str, Any]] = [
        {
            "source": "a",
            "url": "https://x.example/p",
            "title": "T one two three",
            "html": ARTICLE,
            "published": "2024-01-01T00:00:00+00:00",
        },
        {
            "source": "b",
            "url": "http://X.example/p/#top",
            "title": "Other",
            "html": "<p>x</p>",
            "published": "2024-01-02T00:00:00+00:00",
        },
    ]
    done = _ingest(cli, tmp_path / "f", entries, ["a", "b"])
    assert "1 new, 0 updated, 1 duplicates" in done.stderr  # whichever source came second
    assert "total: 2 sources, 2 new, 0 updated, 1 duplicates" in done.stderr
    listed = cli.list_json()
    assert len(listed) == 1
    assert listed[0]["source"] == "a"


def test_ties_are_broken_by_source_order_in_the_config(cli: Cli, tmp_path: Path) -> None:
    same_time = "2024-05-05T05:05:05+00:00"
    entries: list[dict[str, Any]] = [
        {
            "source": "first",
            "url": "https://y.example/a",
            "title": "A",
            "html": ARTICLE,
            "published": same_time,
        },
        {
            "source": "second",
            "url": "https://y.example/a?utm_campaign=x",
            "title": "A",
            "html": ARTICLE,
            "published": same_time,
        },
    ]
    _ingest(cli, tmp_path / "f", entries, ["second", "first"])
    assert [e["source"] for e in cli.list_json()] == ["second"]


def _pairs(groups: list[list[tuple[str, str]]]) -> set[frozenset[tuple[str, str]]]:
    return {frozenset(pair) for group in groups for pair in itertools.combinations(group, 2)}


@pytest.mark.skipif(not DATA.exists(), reason="tests/data/crossposts.json not written yet")
def test_labelled_set_precision_100_recall_95(cli: Cli, tmp_path: Path) -> None:
    cases = json.loads(DATA.read_text(encoding="utf-8"))["cases"]
    entries = [entry for case in cases for entry in case["entries"]]
    order = sorted({entry["source"] for entry in entries})
    _ingest(cli, tmp_path / "feeds", entries, order)
    truth = _pairs(
        [[(e["source"], e["url"]) for e in c["entries"]] for c in cases if c["expect"] == "same"]
    )
    clusters: dict[int, list[tuple[str, str]]] = {}
    for source, url, cluster in cli.rows(
        "SELECT source, url, cluster FROM entries WHERE cluster IS NOT NULL"
    ):
        clusters.setdefault(cluster, []).append((source, url))
    merged = _pairs(list(clusters.values()))
    false_merges = merged - truth
    missed = truth - merged
    assert not false_merges, sorted(map(sorted, false_merges))
    recall = len(truth & merged) / len(truth)
    assert recall >= 0.95, (recall, sorted(map(sorted, missed)))
