"""Read state as a user lives it: `open` and `mark` read articles, `--unread`/`--read` filter
them, JSON says `read`, and the state belongs to the article: it survives re-fetches and
updates, a new copy of a read article arrives read, and `prune` keeps what is unread."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import Cli, Clock

LINK = "https://anna.example/posts/{slug}"


def _feed(channel: str, items: list[tuple[str, str, str]], date: str = "03 Feb 2025") -> str:
    """An RSS feed of (guid, title, link) items."""
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>"
        f"<pubDate>Mon, {date} 10:00:00 +0000</pubDate>"
        f"<description>{title}: notes on running it in production.</description></item>"
        for guid, title, link in items
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{channel}</title>'
            f"<link>https://{channel}.example/</link>{body}</channel></rss>")  # fmt: skip


BLOG = [
    ("q", "Job queues in PostgreSQL", LINK.format(slug="queues")),
    ("s", "Sagas without a framework", LINK.format(slug="sagas")),
    ("o", "The outbox pattern, again", LINK.format(slug="outbox")),
]


@pytest.fixture
def blog(cli: Cli, tmp_path: Path) -> Path:
    cli.clock = Clock(datetime(2025, 3, 1, 12, tzinfo=UTC))
    path = tmp_path / "blog.xml"
    path.write_text(_feed("blog", BLOG), encoding="utf-8")
    cli.write_config([("blog", str(path))])
    assert cli.fetch().returncode == 0
    return path


def _state(cli: Cli, *args: str) -> dict[str, bool]:
    return {entry["title"]: entry["read"] for entry in cli.list_json("--all", *args)}


def _id(cli: Cli, title: str, source: str = "blog") -> str:
    (found,) = [e["id"] for e in cli.list_json("--all", "--source", source) if e["title"] == title]
    return str(found)


def _browser(tmp_path: Path) -> tuple[str, Path]:
    """A BROWSER command that writes the arguments it was given to a file."""
    seen = tmp_path / "browser-saw.json"
    script = tmp_path / "browser.py"
    script.write_text(
        f"import json, sys\nopen({str(seen)!r}, 'w').write(json.dumps(sys.argv[1:]))\n",
        encoding="utf-8",
    )
    return f"{sys.executable} {script} %s", seen


def test_open_hands_the_link_to_the_browser_and_marks_the_article_read(
    cli: Cli, blog: Path, tmp_path: Path
) -> None:
    command, seen = _browser(tmp_path)
    assert set(_state(cli).values()) == {False}  # everything starts unread
    entry_id = _id(cli, "Sagas without a framework")
    done = cli.run("open", entry_id[:7], env={"BROWSER": command})
    assert done.returncode == 0, done.stderr
    assert json.loads(seen.read_text(encoding="utf-8")) == [LINK.format(slug="sagas")]
    assert _state(cli) == {"Job queues in PostgreSQL": False, "Sagas without a framework": True,
                           "The outbox pattern, again": False}  # fmt: skip
    assert [e["title"] for e in cli.list_json("--unread")] == [
        "Job queues in PostgreSQL", "The outbox pattern, again"]  # fmt: skip
    assert [e["title"] for e in cli.list_json("--read")] == ["Sagas without a framework"]


def test_open_through_the_entry_point_never_uses_a_shell(
    cli: Cli, blog: Path, tmp_path: Path
) -> None:
    """BROWSER is split into words, not given to a shell: a `;` in it is an argument."""
    command, seen = _browser(tmp_path)
    cli.env["BROWSER"] = command + " ; touch " + str(tmp_path / "shell-ran")
    done = cli.spawn("open", _id(cli, "Job queues in PostgreSQL"))
    assert done.returncode == 0, done.stderr
    assert json.loads(seen.read_text(encoding="utf-8"))[0] == LINK.format(slug="queues")
    assert not (tmp_path / "shell-ran").exists()
    assert _state(cli)["Job queues in PostgreSQL"] is True


def test_open_print_prints_the_link_and_a_failing_browser_marks_nothing(
    cli: Cli, blog: Path
) -> None:
    entry_id = _id(cli, "The outbox pattern, again")
    failing = cli.run("open", entry_id, env={"BROWSER": f"{sys.executable} -c exit(3) %s"})
    assert failing.returncode == 1
    assert "archfeed: error: no web browser opened" in failing.stderr
    assert "--print" in failing.stderr
    assert _state(cli)["The outbox pattern, again"] is False
    printed = cli.run("open", "--print", entry_id)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == LINK.format(slug="outbox") + "\n"
    assert _state(cli)["The outbox pattern, again"] is True


@pytest.mark.parametrize("link", ["javascript:alert(1)", "file:///etc/passwd"])
def test_open_refuses_a_link_that_is_not_http(cli: Cli, tmp_path: Path, link: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(_feed("bad", [("x", "Looks fine", link)]), encoding="utf-8")
    cli.write_config([("bad", str(path))])
    assert cli.fetch().returncode == 0
    command, seen = _browser(tmp_path)
    (entry,) = cli.list_json()
    done = cli.run("open", entry["id"], env={"BROWSER": command})
    assert done.returncode == 1
    assert "cannot be opened" in done.stderr
    assert not seen.exists()
    assert cli.list_json()[0]["read"] is False


def test_mark_by_id_by_filter_and_back(cli: Cli, blog: Path) -> None:
    queues = _id(cli, "Job queues in PostgreSQL")
    done = cli.run("mark", "read", queues[:6], _id(cli, "Sagas without a framework"))
    assert done.returncode == 0, done.stderr
    assert "marked 2 articles read" in done.stderr
    assert _state(cli)["The outbox pattern, again"] is False
    again = cli.run("mark", "read", queues)
    assert "nothing to mark" in again.stderr
    unread = cli.run("mark", "unread", "--all", "--search", "sagas")
    assert "marked 1 article unread" in unread.stderr
    assert _state(cli) == {"Job queues in PostgreSQL": True, "Sagas without a framework": False,
                           "The outbox pattern, again": False}  # fmt: skip
    every = cli.run("mark", "read", "--all")
    assert "marked 2 articles read" in every.stderr
    assert set(_state(cli).values()) == {True}
    assert cli.list_json("--unread") == []


def test_mark_read_all_older_than_a_week(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "blog.xml"
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    cli.clock = Clock(now)
    old = _feed("blog", BLOG[:2], date="03 Feb 2025")
    new = _feed("blog", BLOG[2:], date="28 Feb 2025").split("<item>", 1)[1]
    path.write_text(old.replace("</channel>", "<item>" + new.split("</channel>")[0] + "</channel>"),
                    encoding="utf-8")  # fmt: skip
    cli.write_config([("blog", str(path))])
    assert cli.fetch().returncode == 0
    done = cli.run("mark", "read", "--all", "--until", "7d")
    assert done.returncode == 0, done.stderr
    assert _state(cli) == {"Job queues in PostgreSQL": True, "Sagas without a framework": True,
                           "The outbox pattern, again": False}  # fmt: skip


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["mark", "read"], "mark needs ids, or --all"),
        (["mark", "read", "abcdef01", "--all"], "not both"),
        (["mark", "seen", "abcdef01"], "mark takes 'read' or 'unread'"),
        (["mark", "read", "abc"], "too short for an entry id"),
        (["mark", "read", "abcdef01", "--lang", "en"], "filters choose what --all marks"),
        (["mark", "read", "--all", "--source", "blgo"], "did you mean 'blog'?"),
    ],
)
def test_mark_mistakes_are_usage_errors(cli: Cli, blog: Path, args: list[str], says: str) -> None:
    done = cli.run(*args)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert set(_state(cli).values()) == {False}


def test_an_unknown_id_is_an_error_and_marks_nothing(cli: Cli, blog: Path) -> None:
    queues = _id(cli, "Job queues in PostgreSQL")
    done = cli.run("mark", "read", queues, "ffffffffff")
    assert done.returncode == 1
    assert "no entry with an id starting 'ffffffffff'" in done.stderr
    assert set(_state(cli).values()) == {False}


def test_read_state_survives_a_refetch_that_updates_the_entry(cli: Cli, blog: Path) -> None:
    assert cli.run("mark", "read", _id(cli, "Job queues in PostgreSQL")).returncode == 0
    items = [("q", "Job queues in PostgreSQL, revised", LINK.format(slug="queues")), *BLOG[1:]]
    blog.write_text(_feed("blog", items), encoding="utf-8")
    done = cli.fetch()
    assert "1 updated" in done.stderr, done.stderr
    assert _state(cli)["Job queues in PostgreSQL, revised"] is True
    assert cli.fetch("--force").returncode == 0
    assert _state(cli)["Job queues in PostgreSQL, revised"] is True


def test_a_new_copy_of_a_read_article_arrives_read(cli: Cli, blog: Path, tmp_path: Path) -> None:
    """The same article from an aggregator: one article, already read; marking either copy
    unread makes the article unread."""
    assert cli.run("mark", "read", _id(cli, "Sagas without a framework")).returncode == 0
    mirror = tmp_path / "mirror.xml"
    mirror.write_text(_feed("mirror", [("m1", "Sagas without a framework",
                                        LINK.format(slug="sagas") + "?utm_source=rss"),
                                       ("m2", "Something else entirely", "https://m.example/2")],
                            date="01 Feb 2025"), encoding="utf-8")  # fmt: skip
    cli.write_config([("blog", str(blog)), ("mirror", str(mirror))])
    done = cli.fetch()
    assert "1 duplicates" in done.stderr or "1 duplicate" in done.stderr, done.stderr
    # published earlier, the mirror's copy is now the one listed: read, as the article is
    listed = {(e["title"], e["source"], e["read"]) for e in cli.list_json()}
    assert ("Sagas without a framework", "mirror", True) in listed
    assert ("Something else entirely", "mirror", False) in listed
    assert {e["source"]: e["read"] for e in cli.list_json("--all", "--search", "sagas")} == {
        "blog": True, "mirror": True}  # fmt: skip
    copy = _id(cli, "Sagas without a framework", source="mirror")
    assert cli.run("mark", "unread", copy).returncode == 0
    assert {e["source"]: e["read"] for e in cli.list_json("--all", "--search", "sagas")} == {
        "blog": False, "mirror": False}  # fmt: skip


def test_prune_keeps_unread_entries_unless_asked(cli: Cli, blog: Path) -> None:
    clock = cli.clock
    assert isinstance(clock, Clock)
    assert cli.run("mark", "read", _id(cli, "Job queues in PostgreSQL")).returncode == 0
    clock.advance(timedelta(days=100))
    done = cli.run("prune", "--older-than", "90d", "--yes")
    assert done.returncode == 0, done.stderr
    assert "keeping 2 unread entries" in done.stderr
    assert "deleted 1 entries" in done.stderr
    assert sorted(_state(cli)) == ["Sagas without a framework", "The outbox pattern, again"]
    undone = cli.run("prune", "--undo")
    assert undone.returncode == 0, undone.stderr
    assert _state(cli)["Job queues in PostgreSQL"] is True  # back as it was: read
    everything = cli.run("prune", "--older-than", "90d", "--yes", "--include-unread")
    assert "deleted 3 entries" in everything.stderr, everything.stderr
    assert cli.count() == 0


def test_digest_and_counts_take_unread(cli: Cli, blog: Path) -> None:
    assert cli.run("mark", "read", _id(cli, "Job queues in PostgreSQL")).returncode == 0
    digest = cli.run("digest", "--unread", "--format", "json", "--dry-run")
    assert digest.returncode == 0, digest.stderr
    titles = {e["title"] for group in json.loads(digest.stdout)["groups"] for e in group["entries"]}
    assert titles == {"Sagas without a framework", "The outbox pattern, again"}
    langs = cli.run("langs", "--read", "--format", "json")
    assert json.loads(langs.stdout) == [{"lang": "en", "entries": 1}]
