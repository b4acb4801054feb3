"""`add` and `remove` as a user runs them: a page's feeds found on 127.0.0.1, one chosen, one
[[source]] table appended (every other byte kept, a symlink still a link), `--dry-run`, a feed
the config has already, and `remove` leaving the stored entries to `prune`."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from conftest import Cli, FeedServer, rss

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Anna writes (Atom)</title><id>urn:a</id>
<updated>2025-02-05T10:00:00Z</updated>
<entry><title>Sagas</title><id>urn:a:1</id><link href="https://anna.example/sagas"/>
<updated>2025-02-05T10:00:00Z</updated><summary>Compensations.</summary></entry></feed>"""

ORIGINAL = """# my feeds
[settings]
excerpt = 200   # wider than the default

[[source]]
name = "first"
url = "https://first.example/feed.xml"
"""


def _page(server: FeedServer) -> str:
    rss_body = rss("anna", [("q", "Job queues", "SKIP LOCKED."), ("o", "Outbox", "Again.")])
    server.feed("/feed.xml", rss_body)
    server.feed("/atom.xml", ATOM, content_type="application/atom+xml")
    html = (
        b"<html><head><title>Anna</title>"
        b'<link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml">'
        b'<link rel="alternate" type="application/atom+xml" title="Atom" href="/atom.xml">'
        b"</head><body>hello</body></html>"
    )
    return server.feed("/blog/", html, content_type="text/html; charset=utf-8")


@pytest.fixture
def configured(cli: Cli) -> Cli:
    cli.config.write_text(ORIGINAL, encoding="utf-8")
    return cli


def test_add_appends_one_block_for_the_first_feed_of_a_page(
    configured: Cli, server: FeedServer
) -> None:
    page = _page(server)
    done = configured.run("add", page, "--topic", "architecture")
    assert done.returncode == 0, done.stderr
    text = configured.config.read_text(encoding="utf-8")
    assert text.startswith(ORIGINAL)  # every byte, comment and blank line as it was
    added = text[len(ORIGINAL) :]
    assert added.count("[[source]]") == 1
    assert added.strip() in done.stdout  # the block it wrote is printed
    sources = tomllib.loads(text)["source"]
    assert sources[-1] == {"name": "anna", "url": server.url("/feed.xml"),
                           "topics": ["architecture"]}  # fmt: skip
    assert "2 feeds:" in done.stderr and "Anna writes (Atom)" in done.stderr
    assert "(2 entries, newest 2025-02-03)" in done.stderr
    assert configured.run("check").returncode == 0
    assert configured.fetch("--source", "anna").returncode == 0
    assert len(configured.list_json("--source", "anna")) == 2


def test_add_pick_and_the_prompt_choose_another_feed(configured: Cli, server: FeedServer) -> None:
    page = _page(server)
    picked = configured.run("add", page, "--pick", "2", "--dry-run")
    assert picked.returncode == 0, picked.stderr
    assert f'url = "{server.url("/atom.xml")}"' in picked.stdout
    assert 'name = "anna-writes-atom"' in picked.stdout
    asked = configured.run("add", page, "--dry-run", asking=True, stdin=b"9\n2\n")
    assert "which one? [1-2, default 1]" in asked.stderr
    assert f'url = "{server.url("/atom.xml")}"' in asked.stdout
    assert configured.config.read_text(encoding="utf-8") == ORIGINAL  # --dry-run: nothing
    too_far = configured.run("add", page, "--pick", "3")
    assert too_far.returncode == 2
    assert "the page offers 2 feed(s)" in too_far.stderr


def test_add_keeps_a_symlinked_config_a_symlink_and_its_mode(
    cli: Cli, server: FeedServer, tmp_path: Path
) -> None:
    real = tmp_path / "dotfiles" / "feeds.toml"
    real.parent.mkdir()
    real.write_text(ORIGINAL, encoding="utf-8")
    real.chmod(0o640)
    cli.config.symlink_to(real)
    done = cli.run("add", server.feed("/only.xml", rss("only", [("1", "One", "Text.")])))
    assert done.returncode == 0, done.stderr
    assert cli.config.is_symlink() and cli.config.resolve() == real
    assert real.read_text(encoding="utf-8").startswith(ORIGINAL)
    assert '[[source]]\nname = "only"' in real.read_text(encoding="utf-8")
    assert real.stat().st_mode & 0o777 == 0o640


def test_a_feed_already_in_the_config_is_not_added_twice(
    configured: Cli, server: FeedServer
) -> None:
    feed = server.feed("/feed.xml", rss("anna", [("q", "Job queues", "SKIP LOCKED.")]))
    assert configured.run("add", feed).returncode == 0
    before = configured.config.read_bytes()
    again = configured.run("add", feed + "?utm_source=twitter")
    assert again.returncode == 0, again.stderr
    assert "already in the config, as 'anna'" in again.stderr
    assert configured.config.read_bytes() == before
    via_page = configured.run("add", _page(server))  # the page's first feed is that one too
    assert "already in the config, as 'anna'" in via_page.stderr
    assert configured.config.read_bytes() == before


def test_add_without_a_feed_or_a_config_says_what_to_do(
    cli: Cli, configured: Cli, server: FeedServer
) -> None:
    nothing = server.feed("/plain/", b"<html><body>no feeds</body></html>", "text/html")
    done = configured.run("add", nothing)
    assert done.returncode != 0
    assert "archfeed: error:" in done.stderr and "hint:" in done.stderr
    assert configured.config.read_text(encoding="utf-8") == ORIGINAL
    assert configured.run("add", "ftp://x.example/feed").returncode == 2
    os.remove(configured.config)
    missing = configured.run("add", server.url("/plain/"))
    assert missing.returncode == 2
    assert "archfeed init" in missing.stderr


def test_remove_takes_the_block_out_and_leaves_the_entries_to_prune(
    configured: Cli, server: FeedServer
) -> None:
    feed = server.feed("/feed.xml", rss("anna", [("q", "Job queues", "SKIP LOCKED.")]))
    assert configured.run("add", feed, "--name", "anna").returncode == 0
    assert configured.fetch("--source", "anna").returncode == 0
    done = configured.run("remove", "anna")
    assert done.returncode == 0, done.stderr
    assert configured.config.read_text(encoding="utf-8") == ORIGINAL
    assert 'name = "anna"' in done.stdout
    assert "its 1 stored entries stay until 'archfeed prune'" in done.stderr
    assert len(configured.list_json()) == 1
    typo = configured.run("remove", "frist")
    assert typo.returncode == 2
    assert "did you mean 'first'?" in typo.stderr
