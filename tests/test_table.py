"""The table `list` draws on a terminal (render/table.py): the title gets the room first at every
width, an id to act on, where the article is and where else, and time for a person."""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len

from archfeed.models import Screen
from archfeed.render import table
from archfeed.store import Store
from conftest import Cli, Clock

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2025, 2, 4, 9, 30, tzinfo=UTC)
TITLES = {
    "latin": "Event sourcing in practice: what we learned running it for three years in prod",
    "cyrillic": "Как мы перевели биллинг на event sourcing и не потеряли ни одного платежа",
    "cjk": "分布式系统中的一致性问题以及我们在生产环境中如何通过重试和幂等性来解决它们",
}
CATEGORIES = "".join(f"<category>{c}</category>" for c in
                     ("ds", "ps3", "kotlin", "jvm", "backend", "cloud", "event-sourcing"))  # fmt: skip


def _item(guid: str, title: str, when: str, link: str) -> str:
    return (
        f"<item><guid>{guid}</guid><title>{title}</title><link>{link}</link>"
        f"<pubDate>{when}</pubDate>{CATEGORIES}"
        f"<description>{title}. Notes from the team on how it went.</description></item>"
    )


@pytest.fixture
def shown(cli: Cli) -> Cli:
    """Three articles in three scripts, one of them cross-posted to a second source, on a
    fixed clock in Berlin: one 35 minutes old, one 5 hours, one from last week."""
    dates = ("Tue, 04 Feb 2025 08:55:00 +0000", "Tue, 04 Feb 2025 04:10:00 +0000",
             "Mon, 27 Jan 2025 10:00:00 +0000")  # fmt: skip
    items = [
        _item(name, title, when, f"https://www.dev.to/team/{name}")
        for (name, title), when in zip(TITLES.items(), dates, strict=True)
    ]
    main = cli.root / "blog.xml"
    main.write_text(f"<rss version='2.0'><channel><title>b</title>{''.join(items)}</channel></rss>")
    copy = cli.root / "medium.xml"
    copy.write_text(
        "<rss version='2.0'><channel><title>m</title>"
        + _item("m1", TITLES["latin"], dates[0], "https://medium.com/@team/latin?utm_source=rss")
        + "</channel></rss>"
    )
    cli.write_config(
        [("engineering-blog-of-a-company", str(main)), ("medium", str(copy))],
        extra='[topics.architecture]\nkeywords = ["event sourcing"]\n',
    )
    cli.clock = Clock(NOW)
    assert cli.fetch().returncode == 0
    cli.env["TZ"] = "Europe/Berlin"
    return cli


def _table(cli: Cli, width: int) -> str:
    done = cli.run("list", "--format", "table", env={"COLUMNS": str(width)}, terminal=True)
    assert done.returncode == 0, done.stderr
    return re.sub(r"\x1b\[[0-9;]*m", "", done.stdout)


def _columns(header: str) -> dict[str, tuple[int, int]]:
    """Each column's (start, end) in cells, from the header line and its rule."""
    names = header.split()
    starts = [header.index(name) for name in names]
    ends = [*starts[1:], 10_000]
    return dict(zip(names, zip(starts, ends, strict=True), strict=True))


def _title_column(drawn: str) -> str:
    """The text of the title column, its lines joined: by cells, as a terminal shows them."""
    lines = drawn.splitlines()
    start = _columns(lines[0])["title"][0]
    cut = []
    for line in lines[2:]:
        cells, index = 0, 0
        while index < len(line) and cells < start:
            cells += cell_len(line[index])
            index += 1
        cut.append(line[index:].strip())
    return "".join(cut)


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_every_title_is_whole_and_every_line_fits_at_every_width(shown: Cli, width: int) -> None:
    drawn = _table(shown, width)
    assert all(cell_len(line) <= width for line in drawn.splitlines()), drawn
    column = _title_column(drawn)
    for title in TITLES.values():
        assert title.replace(" ", "") in column.replace(" ", ""), (width, drawn)
    columns = _columns(drawn.splitlines()[0])
    assert list(columns)[:3] == ["id", "date", "source"]
    least = {"id": 6, "date": 5, "source": 8, "lang": 4, "topics": 6}
    for name, (start, end) in columns.items():
        if name != "title":
            assert end - start - table.GAP >= least[name], (name, drawn)
    title_start, _ = columns["title"]
    assert width - title_start >= min(table.TITLE_DUE, max(30, int(width * 0.45))), drawn


def test_columns_give_way_to_the_title_in_their_stated_order() -> None:
    dates = {"full": 16, "short": 11, "day": 5}
    wide = table.layout(200, 6, dates, 29, 4, 30)
    assert (wide.topics, wide.lang, wide.date, wide.source) == (24, 4, "full", 22)
    mid = table.layout(120, 6, dates, 29, 4, 30)
    assert (mid.topics, mid.lang, mid.date) == (0, 4, "full")
    narrow = table.layout(80, 6, dates, 29, 4, 30)
    assert (narrow.topics, narrow.lang, narrow.date) == (0, 0, "short")
    assert narrow.title >= 36
    tight = table.layout(60, 6, dates, 29, 4, 30)
    assert (tight.date, tight.source) == ("day", 8)
    assert tight.title >= 30


def test_a_70_character_title_is_whole_at_80_columns(shown: Cli) -> None:
    drawn = _table(shown, 80)
    assert TITLES["latin"][:70].replace(" ", "") in _title_column(drawn).replace(" ", "")
    assert "…" not in _title_column(drawn).split("Notesfrom")[0]


def test_the_id_shown_is_the_one_show_accepts(shown: Cli) -> None:
    drawn = _table(shown, 100)
    short = drawn.splitlines()[2].split()[0]
    assert 6 <= len(short) < 16
    done = shown.run("show", short)
    assert done.returncode == 0, done.stderr
    assert TITLES["latin"] in done.stdout


def test_under_the_excerpt_the_host_and_the_other_copies(shown: Cli) -> None:
    drawn = _table(shown, 120)
    assert "dev.to · also at medium" in drawn
    assert "www.dev.to" not in drawn
    assert shown.list_json()[0]["url"] == "https://www.dev.to/team/latin"


def test_dates_are_ages_or_local_times(shown: Cli) -> None:
    drawn = _table(shown, 120)
    assert "35 min" in drawn and "5 h" in drawn
    assert "2025-01-27 11:00" in drawn  # 10:00 UTC is 11:00 in Berlin
    tokyo = shown.run("list", "--format", "table", env={"COLUMNS": "120", "TZ": "Asia/Tokyo"})
    assert "2025-01-27 19:00" in tokyo.stdout
    plain = shown.run("list", "--format", "plain").stdout
    assert "2025-01-27T10:00:00Z" in plain


def test_ages_and_yesterday() -> None:
    zone = Screen(zone=UTC, now=NOW)
    assert table.when(NOW - timedelta(minutes=35), zone, "full") == "35 min"
    assert table.when(NOW - timedelta(hours=5, minutes=59), zone, "full") == "5 h"
    assert table.when(NOW - timedelta(hours=30), zone, "full") == "yesterday"
    assert table.when(NOW - timedelta(days=3), zone, "short") == "02-01 09:30"
    assert table.when(None, zone, "full") == "undated"


def test_topics_worth_showing_come_first_then_a_count() -> None:
    topics = ("backend", "cloud", "ds", "architecture", "jvm", "ps3")
    assert (
        table.shown_topics(topics, frozenset({"architecture"})) == "architecture backend cloud +3"
    )
    assert table.shown_topics(("ds",), frozenset()) == "ds"


def test_the_topics_column_shows_configured_topics_first(shown: Cli) -> None:
    drawn = _table(shown, 200)
    assert "architecture" in drawn and "+" in drawn
    listed = shown.list_json()
    assert len(listed[0]["topics"]) > 3  # JSON keeps them all


def test_plain_gains_the_id_as_a_sixth_field(shown: Cli) -> None:
    lines = shown.run("list", "--format", "plain").stdout.splitlines()
    ids = [entry["id"] for entry in shown.list_json()]
    assert [line.split("\t")[5] for line in lines] == ids
    assert all(len(line.split("\t")) == 6 for line in lines)


def test_an_id_is_cut_where_it_becomes_unique(tmp_path: Path) -> None:
    db = tmp_path / "ids.db"
    with Store(db) as store:
        store.conn.executemany(
            "INSERT INTO entries (id, source, key, title, text, published, first_seen, updated, "
            "content_hash) VALUES (?, 's', ?, 't', 'x', '2025-01-01T00:00:00Z', "
            "'2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z', 'h')",
            [("abcdef0123456789", "1"), ("abcdef0199999999", "2"), ("ffffff0000000000", "3")],
        )
        assert store.id_chars(["ffffff0000000000"], 6) == 6
        assert store.id_chars(["abcdef0123456789"], 6) == 9
        assert store.id_chars(["abcdef0123456789", "ffffff0000000000"], 6) == 9
    sqlite3.connect(db).close()


@pytest.mark.parametrize("width", [60, 120])
def test_the_table_as_it_was_reviewed(shown: Cli, width: int) -> None:
    """Golden renderings, looked at by eye when they change: ARCHFEED_GOLDEN=write rewrites."""
    drawn = _table(shown, width)
    golden = GOLDEN / f"table-{width}.txt"
    if os.environ.get("ARCHFEED_GOLDEN") == "write":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(drawn, encoding="utf-8")
    assert drawn == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("width", "headers"),
    [(60, ["name", "next fetch", "state"]),
     (200, ["name", "last fetch", "next fetch", "status", "entries", "last new", "failures",
            "state"])],
)  # fmt: skip
def test_sources_leave_out_columns_rather_than_fold_a_name(
    cli: Cli, width: int, headers: list[str]
) -> None:
    names = ["devto-architecture", "habr-architecture", "engineering-blog-of-acme"]
    cli.write_config([(name, f"https://{name}.example/feed") for name in names])
    drawn = cli.run("sources", "--format", "table", env={"COLUMNS": str(width)}).stdout
    lines = drawn.splitlines()
    assert lines[0].split() == " ".join(headers).split()
    for name in names:
        assert any(line.startswith(name + " ") for line in lines), drawn
    assert max(map(len, lines)) <= width
