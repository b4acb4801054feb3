"""The cron and scripting story: digest, prune, CSV and Markdown, as a cron job or a script
uses them."""

from __future__ import annotations

import csv
import io
import json
import shlex
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from archfeed.render import ENTRY_KEYS
from conftest import FIXTURES, Cli, Clock

CONFIG = """
[[source]]
name = "community"
url = "{feeds}/mixed-en.xml"
topics = ["architecture"]

[[source]]
name = "hub"
url = "{feeds}/mixed-ru.xml"
topics = ["backend"]

[[source]]
name = "hostile"
url = "{feeds}/jsonfeed.json"

[topics.databases]
keywords = ["postgres", "postgresql"]
"""


@pytest.fixture
def feeds(tmp_path: Path) -> Path:
    folder = tmp_path / "feeds"
    folder.mkdir()
    for name in ("mixed-en.xml", "mixed-ru.xml", "jsonfeed.json", "rss2.xml"):
        shutil.copy(FIXTURES / name, folder / name)
    return folder


@pytest.fixture
def fetched(cli: Cli, feeds: Path) -> Cli:
    cli.config.write_text(CONFIG.format(feeds=feeds), encoding="utf-8")
    done = cli.fetch()
    assert done.returncode == 0, done.stderr
    return cli


def _add_source(cli: Cli, feeds: Path) -> None:
    text = cli.config.read_text(encoding="utf-8")
    cli.config.write_text(
        text + f'\n[[source]]\nname = "late"\nurl = "{feeds}/rss2.xml"\n', encoding="utf-8"
    )


def test_digest_twice_prints_nothing_the_second_time(fetched: Cli, feeds: Path) -> None:
    first = fetched.run("digest")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith('archfeed digest "default": 9 new')
    # grouped by topic: the rule first, then the sources' topics, then "other"
    headings = [line for line in first.stdout.splitlines() if line and set(line) == {"="}]
    assert len(headings) == 4
    assert first.stdout.index("databases (") < first.stdout.index("architecture (")
    assert first.stdout.index("backend (") < first.stdout.index("other (")
    second = fetched.run("digest")
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "")
    # something new arrives: only it is in the next digest
    _add_source(fetched, feeds)
    assert fetched.fetch().returncode == 0
    third = fetched.run("digest", "--format", "json")
    assert json.loads(third.stdout)["count"] == 3
    assert fetched.run("digest").stdout == ""


def test_names_marks_dry_run_and_filters(fetched: Cli) -> None:
    assert fetched.run("digest", "--dry-run").stdout
    assert fetched.run("digest", "--dry-run").stdout  # the mark did not move
    ru = json.loads(
        fetched.run("digest", "--name", "ru", "--lang", "ru", "--format", "json").stdout
    )
    assert {e["lang"] for g in ru["groups"] for e in g["entries"]} == {"ru"}
    assert fetched.run("digest", "--name", "ru").stdout == ""  # its own mark
    assert fetched.run("digest", "--name", "other").stdout  # a new name starts from everything
    old = fetched.run("digest", "--name", "recent", "--since", "2030-01-01")
    assert (old.returncode, old.stdout) == (0, "")


@pytest.mark.parametrize("target", ["/dev/full", "closed-pipe"])
def test_a_failed_write_keeps_the_mark(fetched: Cli, target: str) -> None:
    if target == "/dev/full":
        if not Path("/dev/full").exists():
            pytest.skip("no /dev/full here")
        with Path("/dev/full").open("w") as full:
            done = subprocess.run(fetched.command("digest"), stdout=full, stderr=subprocess.PIPE,
                                  text=True, env=fetched.env, timeout=30)  # fmt: skip
        code, err = done.returncode, done.stderr
    else:
        proc = subprocess.Popen(fetched.command("digest"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=fetched.env)  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader went away before the digest was written
        err = proc.stderr.read()
        code = proc.wait(timeout=30)
    assert code == 1, err
    assert "archfeed: error: could not write the digest" in err
    assert "mark was not moved" in err
    assert fetched.run("digest").stdout.startswith('archfeed digest "default": 9 new')


def test_a_reader_that_quits_after_one_line_keeps_the_mark(fetched: Cli) -> None:
    """`digest | head -1`: the whole digest fits the pipe's buffer, so every write succeeds;
    head reads it, prints one line and quits before the end. The README promises a resend."""
    shell = " ".join(shlex.quote(part) for part in fetched.command("digest"))
    done = subprocess.run(f"{shell} | head -1", shell=True, capture_output=True, text=True,
                          env=fetched.env, timeout=30)  # fmt: skip
    assert done.stdout.startswith('archfeed digest "default": 9 new'), done.stdout
    assert len(done.stdout.splitlines()) == 1
    assert "mark was not moved" in done.stderr
    assert fetched.run("digest").stdout.startswith('archfeed digest "default": 9 new')
    whole = subprocess.run(f"{shell} | cat", shell=True, capture_output=True, text=True,
                           env=fetched.env, timeout=30)  # fmt: skip
    assert whole.returncode == 0, whole.stderr
    assert fetched.run("digest").stdout == ""  # a reader that took it all moved it


class _FetchBeside(io.StringIO):
    """A digest's stdout while a fetch beside it stores one more entry, as the first line is
    written: after the digest chose its entries, before it moves its mark."""

    def __init__(self, db: Path) -> None:
        super().__init__()
        self.db = db
        self.stored = False

    def write(self, text: str) -> int:
        if not self.stored:
            self.stored = True
            with sqlite3.connect(self.db) as conn:
                conn.execute(
                    "INSERT INTO entries (id, source, key, title, text, published, first_seen, "
                    "updated, content_hash) VALUES ('00112233445566ff', 'hub', 'late', "
                    "'Stored while the digest was written', 'text', '2026-01-01T00:00:00Z', "
                    "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'h')"
                )
        return super().write(text)


def test_entries_stored_while_a_digest_is_written_wait_for_the_next(fetched: Cli) -> None:
    beside = _FetchBeside(fetched.db)
    first = fetched.run("digest", "--format", "json", stdout=beside)
    assert first.returncode == 0, first.stderr
    assert beside.stored, "the digest wrote nothing: this test checks nothing"
    assert "Stored while" not in first.stdout
    late = json.loads(fetched.run("digest", "--format", "json").stdout)
    assert late["count"] == 1
    assert [e["title"] for g in late["groups"] for e in g["entries"]] == [
        "Stored while the digest was written"
    ]


def test_text_reads_well_as_a_mail_body(fetched: Cli) -> None:
    body = fetched.run("digest").stdout
    message = EmailMessage()
    message["Subject"] = "archfeed digest"
    message["To"] = "me@example.org"
    message.set_content(body)
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert parsed.get_content() == body
    for line in body.splitlines():
        assert len(line) <= 72 or line.strip().startswith("http"), line
    assert "\x1b" not in body and "\u202e" not in body


def test_html_escapes_everything_and_markdown_is_inert(fetched: Cli) -> None:
    page = fetched.run("digest", "--format", "html", "--dry-run").stdout
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert "onerror" not in page.lower() or "&lt;" in page
    assert "<style" not in page.lower() and "http" in page  # inline styles only, links kept
    markdown = fetched.run("digest", "--format", "markdown", "--dry-run").stdout
    assert markdown.startswith("# archfeed digest")
    assert "[bold red]" not in markdown  # escaped as \\[bold red\\]


def test_prune_keeps_identities_so_fetch_brings_nothing_back(cli: Cli, feeds: Path) -> None:
    """One source stored 100 days before the others: prune --older-than 30d deletes its
    entries alone, and a forced fetch does not bring them back."""
    cli.config.write_text(CONFIG.format(feeds=feeds), encoding="utf-8")
    cli.clock = clock = Clock(datetime(2026, 1, 10, tzinfo=UTC))
    assert cli.fetch("--source", "community").returncode == 0
    clock.advance(timedelta(days=100))
    assert cli.fetch().returncode == 0
    total = cli.count()
    assert cli.run("mark", "read", "--all").returncode == 0  # prune keeps what is unread
    dry = cli.run("prune", "--older-than", "30d", "--dry-run")
    assert dry.stderr == (
        "would delete 3 entries first seen from 2026-01-10 to 2026-01-10 "
        "(before 2026-03-21T00:00:00Z)\n"
    )
    assert cli.count() == total
    done = cli.run("prune", "--older-than", "30d", "--yes")
    assert done.returncode == 0, done.stderr
    assert "deleted 3 entries" in done.stderr
    assert cli.count() == total - 3
    assert cli.rows("SELECT DISTINCT source FROM tombstones") == [("community",)]
    again = cli.fetch("--force")
    assert again.returncode == 0
    assert cli.count() == total - 3  # nothing came back
    assert cli.rows("SELECT count(*) FROM entries_fts")[0][0] == total - 3


def test_csv_has_the_json_keys_and_defuses_formulas(fetched: Cli) -> None:
    conn_rows = fetched.run("list", "--format", "csv")
    table = list(csv.reader(io.StringIO(conn_rows.stdout)))
    assert tuple(table[0]) == ENTRY_KEYS
    assert len(table) == 1 + len(fetched.list_json())
    for row in table[1:]:
        assert not row[1].startswith(("=", "+", "-", "@"))
    listed = fetched.list_json()
    assert {row[0] for row in table[1:]} == {e["id"] for e in listed}


def test_markdown_list_is_a_bulleted_list(fetched: Cli) -> None:
    lines = fetched.run("list", "--format", "markdown").stdout.splitlines()
    items = [line for line in lines if line.startswith("- ")]
    assert len(items) == len(fetched.list_json())
    assert all(line.startswith("- **") for line in items)


def test_a_digest_is_dated_by_the_clock_and_its_mark_by_the_run(fetched: Cli) -> None:
    fetched.clock = Clock(datetime(2026, 5, 1, 7, 0, tzinfo=UTC))
    document = json.loads(fetched.run("digest", "--format", "json").stdout)
    assert document["generated"] == "2026-05-01T07:00:00Z"
    assert fetched.rows("SELECT name, sent FROM digests") == [("default", "2026-05-01T07:00:00Z")]
    text = fetched.run("digest", "--name", "weekly", "--dry-run").stdout
    assert text.startswith('archfeed digest "weekly": 9 new, 2026-05-01 07:00 UTC')
