"""`prune` is hard to get wrong: units a reader cannot misread, a minimum age, it says what goes
and asks (or wants --yes), and the last prune can be undone until the next one or --purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conftest import Cli, Clock, rss

START = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def aged(cli: Cli) -> Cli:
    """Three entries stored on 10 January and two on 20 April (100 days later), all read (prune
    keeps unread ones: tests/test_read_state.py); now is 20 April."""
    old = cli.root / "old.xml"
    old.write_bytes(rss("old", [(f"o-{n}", f"Old post {n}", f"Old text {n}.") for n in range(3)]))
    new = cli.root / "new.xml"
    new.write_bytes(rss("new", [(f"n-{n}", f"New post {n}", f"New text {n}.") for n in range(2)]))
    cli.write_config([("old", str(old))])
    cli.clock = clock = Clock(START)
    assert cli.fetch().returncode == 0
    clock.advance(timedelta(days=100))
    cli.write_config([("old", str(old)), ("new", str(new))])
    assert cli.fetch().returncode == 0
    assert cli.count() == 5
    assert cli.run("mark", "read", "--all").returncode == 0
    return cli


def _clock(cli: Cli) -> Clock:
    assert isinstance(cli.clock, Clock)
    return cli.clock


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("6m", "'m' could be minutes or months: write 6min or 6mo"),
        ("9999999d", "at most 100y"),
        ("6 months", "min, h, d, w, mo, y"),
    ],
)
def test_a_duration_a_reader_could_misread_is_refused_with_a_hint(
    aged: Cli, value: str, hint: str
) -> None:
    for args in (("prune", "--older-than", value, "--yes"), ("list", "--since", value)):
        done = aged.run(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith("archfeed: error: "), done.stderr
        assert hint in done.stderr
        assert "this is a bug" not in done.stderr
    assert aged.count() == 5


def test_months_and_years_are_what_a_reader_means(aged: Cli) -> None:
    assert "would delete 3 entries" in aged.run("prune", "--older-than", "3mo", "--dry-run").stderr
    assert "nothing to prune" in aged.run("prune", "--older-than", "1y", "--dry-run").stderr
    # every post is dated 2025-02-03, 14½ months before now
    assert len(aged.list_json("--since", "15mo")) == 5
    assert len(aged.list_json("--since", "14mo")) == 0


def test_a_young_cut_off_needs_force(aged: Cli) -> None:
    for value in ("2d", "0d", "30min"):
        done = aged.run("prune", "--older-than", value, "--yes")
        assert done.returncode == 2, done.stderr
        assert "add --force" in done.stderr
    assert aged.count() == 5
    _clock(aged).advance(timedelta(minutes=1))
    forced = aged.run("prune", "--older-than", "0d", "--yes", "--force")
    assert forced.returncode == 0, forced.stderr
    assert aged.count() == 0


def test_without_a_terminal_prune_wants_yes_and_says_what_it_would_delete(aged: Cli) -> None:
    refused = aged.run("prune", "--older-than", "30d")
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[0] == (
        "archfeed: error: prune would delete 3 entries first seen from 2026-01-10 to 2026-01-10 "
        "(before 2026-03-21T09:00:00Z): confirm with --yes"
    )
    assert aged.count() == 5


def test_at_a_terminal_prune_asks_and_no_is_the_default(aged: Cli) -> None:
    for answer in (b"\n", b"n\n", b"whatever\n", b""):
        kept = aged.run("prune", "--older-than", "30d", asking=True, stdin=answer)
        assert kept.returncode == 0, kept.stderr
        assert "delete 3 entries first seen from 2026-01-10" in kept.stderr
        assert "[y/N]" in kept.stderr
        assert kept.stderr.rstrip().endswith("nothing deleted")
        assert aged.count() == 5
    done = aged.run("prune", "--older-than", "30d", asking=True, stdin=b"y\n")
    assert done.returncode == 0, done.stderr
    assert aged.count() == 2


def test_the_last_prune_can_be_undone_whole(aged: Cli) -> None:
    before = {e["id"]: e for e in aged.list_json()}
    searched = [e["id"] for e in aged.list_json("--search", "old")]
    assert aged.run("prune", "--older-than", "30d", "--yes").returncode == 0
    assert aged.count() == 2
    assert aged.fetch("--force").returncode == 0
    assert aged.count() == 2, "a forced fetch brought a pruned entry back"

    undone = aged.run("prune", "--undo")

    assert undone.returncode == 0, undone.stderr
    assert "brought back 3 entries first seen from 2026-01-10 to 2026-01-10" in undone.stderr
    assert {e["id"]: e for e in aged.list_json()} == before
    assert [e["id"] for e in aged.list_json("--search", "old")] == searched
    assert aged.rows("SELECT count(*) FROM tombstones") == [(0,)]
    assert aged.fetch("--force").returncode == 0
    assert aged.count() == 5, "an entry brought back was stored twice"
    again = aged.run("prune", "--undo")
    assert again.returncode == 1
    assert "cannot be undone any more" in again.stderr


def test_a_purge_or_the_next_prune_makes_the_last_one_final(aged: Cli) -> None:
    assert aged.run("prune", "--older-than", "30d", "--yes").returncode == 0
    purged = aged.run("prune", "--purge")
    assert purged.returncode == 0, purged.stderr
    assert "purged 3 entries" in purged.stderr
    assert aged.rows("SELECT count(*) FROM pruned_entries") == [(0,)]
    assert aged.run("prune", "--undo").returncode == 1
    assert aged.count() == 2

    _clock(aged).advance(timedelta(days=60))
    assert aged.run("prune", "--older-than", "30d", "--yes").returncode == 0
    assert aged.count() == 0
    assert aged.run("prune", "--undo").returncode == 0
    assert aged.count() == 2  # the second prune's two; the first's three stay gone


def test_prune_takes_one_action(aged: Cli) -> None:
    for args in ((), ("--undo", "--purge"), ("--older-than", "30d", "--undo")):
        done = aged.run("prune", *args)
        assert done.returncode == 2, done.stderr
        assert "one of --older-than, --undo or --purge" in done.stderr


def test_entries_stored_after_pruning_the_newest_still_reach_the_digest(aged: Cli) -> None:
    """A prune of the newest entries once let the next ones take their numbers, which the
    digest's mark had passed: they were never sent."""
    assert aged.run("digest").stdout  # the mark passes all five
    _clock(aged).advance(timedelta(minutes=1))
    assert aged.run("prune", "--older-than", "0d", "--yes", "--force").returncode == 0
    assert aged.count() == 0
    late = aged.root / "late.xml"
    late.write_bytes(rss("late", [("l-1", "Late post", "Stored after the prune.")]))
    aged.write_config([("late", str(late))])
    assert aged.fetch().returncode == 0
    assert "Late post" in aged.run("digest").stdout
    assert aged.run("prune", "--undo").returncode == 0
    assert aged.count() == 6
    assert len({e["id"] for e in aged.list_json("--all")}) == 6
