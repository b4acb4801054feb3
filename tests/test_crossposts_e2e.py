"""Cross-posts as a user sees them: one row per article with where else it appeared; precision
and recall of the decision on the labelled set tests/data/crossposts.json."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES, Cli
from labelled import merged, rss, truth, write_feeds

DATA = Path(__file__).parent / "data" / "crossposts.json"


def _ingest(
    cli: Cli, folder: Path, entries: list[dict[str, Any]], order: list[str]
) -> subprocess.CompletedProcess[str]:
    """One feed file per source, the sources in `order` in the config, then fetch."""
    folder.mkdir(exist_ok=True)
    by_source: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_source.setdefault(entry["source"], []).append(entry)
    for source, items in by_source.items():
        (folder / f"{source}.xml").write_text(rss("t", items), encoding="utf-8")
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


SETS = sorted(DATA.parent.glob("crossposts*.json"))


@pytest.mark.parametrize("path", SETS, ids=lambda path: path.stem)
def test_labelled_sets_precision_100_recall_95(cli: Cli, tmp_path: Path, path: Path) -> None:
    """Each labelled set: one feed per source (filler included), fetched together."""
    labelled = json.loads(path.read_text(encoding="utf-8"))
    files = write_feeds(labelled, tmp_path / "feeds")
    cli.write_config([(source, str(file)) for source, file in files])
    done = cli.fetch()
    assert done.returncode == 0, done.stderr
    expected, found = truth(labelled), merged(cli.db)
    false_merges = found - expected
    assert not false_merges, sorted(map(sorted, false_merges))
    recall = len(expected & found) / len(expected)
    assert recall >= 0.95, (recall, sorted(map(sorted, expected - found)))
    for case in labelled["cases"]:  # the copy shown is one a reader can open
        if "canonical" in case:
            urls = [e["url"] for e in case["entries"]]
            shown = cli.rows(
                f"SELECT url FROM entries WHERE canonical = 1 AND url IN ({', '.join('?' * len(urls))})",
                tuple(urls),
            )
            assert shown == [(case["canonical"],)], case["id"]


def test_an_aggregators_generic_headline_is_one_row_with_also_at(cli: Cli) -> None:
    """The digest this project started from: one article, once under its own title and once
    under an aggregator's headline for every item, both with the same opening."""
    cli.write_config(
        [
            ("blog", str(FIXTURES / "softdelete-blog.xml")),
            ("technews", str(FIXTURES / "softdelete-technews.xml")),
        ]
    )
    assert cli.fetch().returncode == 0
    listed = cli.list_json()
    assert len(listed) == 4  # 5 entries, one of them a copy
    soft = [e for e in listed if "Soft Delete" in e["title"] + e["excerpt"]]
    assert [e["title"] for e in soft] == [
        "Why Soft Deletes Are Breaking Your SaaS Database (And How to Fix It)"
    ]
    assert [(c["source"], c["url"]) for c in soft[0]["also_at"]] == [
        ("technews", "https://technews.example/r/8841?utm_source=rss")
    ]
    # the aggregator's other items under the same headline are other articles
    assert sum(e["title"] == "Latest Architecture news from Tech News" for e in listed) == 1


def _entry(source: str, url: str, title: str, html: str, day: int) -> dict[str, Any]:
    return {"source": source, "url": url, "title": title, "html": html,
            "published": f"2026-11-{day:02d}T08:00:00+00:00"}  # fmt: skip


def test_the_copy_shown_is_one_a_reader_can_open(cli: Cli, tmp_path: Path) -> None:
    """A feed generated on the author's laptop links to localhost; its copy on a public host is
    the one shown, though published later."""
    entries = [
        _entry("laptop", "http://localhost:1313/posts/raft/", "Raft in 300 lines", ARTICLE, 1),
        _entry("blog", "https://anna.example/posts/raft/", "Raft in 300 lines", ARTICLE, 2),
    ]
    _ingest(cli, tmp_path / "feeds", entries, ["laptop", "blog"])
    listed = cli.list_json()
    assert [(e["url"], [c["url"] for c in e["also_at"]]) for e in listed] == [
        ("https://anna.example/posts/raft/", ["http://localhost:1313/posts/raft/"])
    ]


def test_a_copy_that_names_its_original_is_merged_with_it(cli: Cli, tmp_path: Path) -> None:
    footer = '<p>Originally published at <a href="https://anna.example/queues/">my blog</a>.</p>'
    entries = [
        _entry("blog", "https://anna.example/queues", "Queues", ARTICLE, 1),
        _entry(
            "medium",
            "https://medium.com/@anna/q-1f",
            "A title of its own",
            "<p>Another short note.</p>" + footer,
            3,
        ),
    ]
    _ingest(cli, tmp_path / "feeds", entries, ["blog", "medium"])
    listed = cli.list_json()
    assert [(e["source"], [c["source"] for c in e["also_at"]]) for e in listed] == [
        ("blog", ["medium"])
    ]


def test_an_upgraded_database_finds_its_old_duplicates_without_downloading(
    cli: Cli, tmp_path: Path
) -> None:
    """A database of schema 7, whose copies were found under the old rules (the soft-delete
    pair was two rows), is re-examined once by the next fetch, from the stored texts alone."""
    cli.write_config(
        [
            ("blog", str(FIXTURES / "softdelete-blog.xml")),
            ("technews", str(FIXTURES / "softdelete-technews.xml")),
        ]
    )
    assert cli.fetch().returncode == 0
    conn = sqlite3.connect(cli.db)
    with conn:  # back to what schema 7 held: no v8 to v10 columns or tables, no clusters
        conn.execute("UPDATE entries SET cluster = NULL, canonical = 1")
        conn.execute("DELETE FROM entry_bands WHERE band >= 16 << 32")
        conn.execute("DROP INDEX idx_entries_origin_url")
        v8 = ("origin_url", "lead", "trail", "generic_title", "private_url", "excerpt")
        for column in (*v8, "summary"):  # and v9's
            conn.execute(f"ALTER TABLE entries DROP COLUMN {column}")
        conn.execute("DROP TABLE meta")
        for trash in ("pruned_entries", "pruned_topics", "pruned_bands"):  # and v10's
            conn.execute(f"DROP TABLE {trash}")
        conn.execute("DROP TABLE item_memos")  # and v12's
        conn.execute("DROP INDEX entries_cluster_canonical")
        conn.execute("CREATE INDEX idx_entries_cluster ON entries (cluster)")
        conn.execute("DROP INDEX entries_unread_newest")  # and v13's
        conn.execute("ALTER TABLE entries DROP COLUMN read_at")
        for column in ("fresh_for", "ttl"):  # and v14's
            conn.execute(f"ALTER TABLE sources DROP COLUMN {column}")
        conn.execute("PRAGMA user_version = 7")
    conn.close()
    assert len(cli.list_json()) == 5  # the old duplicates; reading never writes
    again = cli.fetch()
    assert again.returncode == 0, again.stderr
    assert "finding cross-posts again" in again.stderr
    assert "1 of 5 stored entries are copies of another" in again.stderr
    assert "blog: not modified" in again.stderr and "technews: not modified" in again.stderr
    # v14's columns are back, written by the fetch: files ask nothing of the next one
    assert cli.rows("SELECT fresh_for, ttl FROM sources") == [(None, None), (None, None)]
    listed = cli.list_json()
    assert len(listed) == 4
    assert [len(e["also_at"]) for e in listed if e["source"] == "blog" and e["also_at"]] == [1]
    assert "stored entries" not in cli.fetch().stderr  # once


def test_both_topic_plans_give_the_same_answer(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--topic` is answered by one of two plans, chosen by the topic's size (store/query.py):
    each plan, forced for every topic, finds the same articles, the copies' topics included."""
    from archfeed.store import query

    labelled = json.loads(DATA.read_text(encoding="utf-8"))
    files = write_feeds(labelled, tmp_path / "feeds")
    rules = "".join(
        f'[topics.{name}]\nkeywords = ["{word}"]\n'
        for name, word in [("databases", "postgres"), ("queues", "kafka"), ("python", "python"),
                           ("k8s", "kubernetes"), ("rust", "rust")]
    )  # fmt: skip
    cli.write_config([(source, str(file)) for source, file in files], extra=rules)
    assert cli.fetch().returncode == 0
    assert cli.rows("SELECT count(DISTINCT cluster) FROM entries")[0][0] > 5

    def answers() -> list[Any]:
        found: list[Any] = [cli.list_json("--topic", topic) for topic in TOPICS]
        found += [cli.list_json("--topic", topic, "--all") for topic in TOPICS]
        found.append(cli.list_json("--topic", "databases", "--topic", "queues"))
        found.append(json.loads(cli.run("topics", "--format", "json").stdout))
        return found

    TOPICS = ("databases", "queues", "python", "k8s", "rust", "nothing-has-it")
    monkeypatch.setattr(query, "RARE_TOPIC", 10**9)  # every topic is rare: its own entries
    rare = answers()
    monkeypatch.setattr(query, "RARE_TOPIC", 1)  # every topic is common: newest first
    common = answers()
    assert rare == common
    assert sum(len(found) for found in rare[: len(TOPICS)]) > 10, "too few to tell the plans apart"
