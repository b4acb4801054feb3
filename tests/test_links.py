"""Titles as OSC 8 hyperlinks: only when asked for or on a real terminal, only to safe http(s)
links (checked on the bytes written), and read rows told from unread ones with or without
colour."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from archfeed.text.links import LINK_MAX, web_link
from conftest import Cli

SAFE = "https://anna.example/posts/queues"
HOSTILE = {
    "escape": "https://evil.example/a\x1b]8;;https://phish.example/\x1b\\",
    "bell": "https://evil.example/b\x07",
    "string terminator": "https://evil.example/c\x9c",
    "javascript": "javascript:alert(1)",
}
OSC8 = re.compile(r"\x1b\]8;[^;\x1b\x07]*;([^\x1b\x07]*)(?:\x1b\\|\x07)")


@pytest.fixture
def linked(cli: Cli, tmp_path: Path) -> Cli:
    items = [{"id": "safe", "title": "Job queues in PostgreSQL", "url": SAFE,
              "content_text": "Workers take a job with SKIP LOCKED.",
              "date_published": "2025-02-03T10:00:00Z"}]  # fmt: skip
    for n, (kind, url) in enumerate(HOSTILE.items()):
        items.append({"id": kind, "title": f"Hostile link: {kind}", "url": url,
                      "content_text": "Looks like any other post.",
                      "date_published": f"2025-02-0{n + 4}T10:00:00Z"})  # fmt: skip
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": items}
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed), encoding="utf-8")
    cli.write_config([("blog", str(path))])
    assert cli.fetch().returncode == 0
    return cli


def _links(output: str) -> list[str]:
    return OSC8.findall(output)


def test_a_terminal_gets_links_to_safe_urls_only(linked: Cli) -> None:
    shown = linked.run("list", terminal=True, env={"TERM": "xterm-256color"})
    assert shown.returncode == 0, shown.stderr
    assert set(_links(shown.stdout)) == {SAFE, ""}  # "" closes each link
    for kind in HOSTILE:
        assert f"Hostile link: {kind}" in shown.stdout  # shown, as text without a link
    for byte in ("\x07", "\x9c", "phish", "javascript:"):
        assert byte not in shown.stdout


@pytest.mark.parametrize(
    ("args", "terminal", "term", "linked_titles"),
    [
        ((), True, "xterm", True),
        ((), True, "dumb", False),  # auto: never on TERM=dumb
        (("--format", "table"), False, "xterm", False),  # auto: never in a pipe
        (("--format", "table", "--hyperlinks", "always"), False, "xterm", True),
        (("--hyperlinks", "never"), True, "xterm", False),
        (("--hyperlinks", "always", "--format", "json"), False, "xterm", False),  # data: never
    ],
)
def test_links_only_when_asked_for_or_on_a_terminal(
    linked: Cli, args: tuple[str, ...], terminal: bool, term: str, linked_titles: bool
) -> None:
    shown = linked.run("list", *args, terminal=terminal, env={"TERM": term})
    assert shown.returncode == 0, shown.stderr
    assert (SAFE in _links(shown.stdout)) is linked_titles
    assert ("\x1b]8;" in shown.stdout) is linked_titles


def test_links_without_colour_are_the_only_escape_sequences(linked: Cli) -> None:
    shown = linked.run("list", "--hyperlinks", "always", terminal=True, env={"NO_COLOR": "1"})
    assert _links(shown.stdout)
    assert "\x1b[" not in OSC8.sub("", shown.stdout)  # no SGR: NO_COLOR holds


def test_a_bad_hyperlinks_value_is_a_usage_error(linked: Cli) -> None:
    done = linked.run("list", "--hyperlinks", "sometimes")
    assert done.returncode == 2
    assert "--hyperlinks takes auto, always, never" in done.stderr


def test_read_rows_are_dim_and_unread_rows_bright_or_marked(linked: Cli) -> None:
    (safe,) = [e["id"] for e in linked.list_json() if e["url"] == SAFE]
    assert linked.run("mark", "read", safe).returncode == 0
    coloured = linked.run("list", terminal=True, env={"TERM": "xterm-256color"}).stdout
    assert re.search(r"\x1b\[2m(\x1b\]8;[^\x1b]*\x1b\\)?Job queues in PostgreSQL", coloured)
    assert re.search(r"\x1b\[1mHostile link: bell", coloured)
    plain = linked.run("list", "--format", "table").stdout
    assert "* Hostile link: bell" in plain.replace("\xa0", " ")
    assert "* Job queues" not in plain.replace("\xa0", " ")
    assert "Job queues in PostgreSQL" in plain


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://habr.com/ru/articles/1/", "https://habr.com/ru/articles/1/"),
        ("https://пример.рф/статья?q=я",
         "https://xn--e1afmkfd.xn--p1ai/%D1%81%D1%82%D0%B0%D1%82%D1%8C%D1%8F?q=%D1%8F"),
        ("HTTP://Example.com/a", "http://Example.com/a"),
        ("ftp://example.com/a", None),
        ("data:text/html,<script>", None),
        ("https://example.com/a b", None),
        ("https://example.com/\u202eevil", None),
        ("https:///nohost", None),
        ("https://example.com/" + "a" * LINK_MAX, None),
        (None, None),
    ],
)  # fmt: skip
def test_web_link_takes_http_urls_made_inert(url: str | None, link: str | None) -> None:
    assert web_link(url) == link


def test_the_bytes_the_entry_point_writes_hold_no_hostile_link(linked: Cli) -> None:
    """Through the installed entry point, on the bytes of stdout: the one safe link, and no
    ESC of a feed's, no BEL, no C1 string terminator (UTF-8 C2 9C, or raw), no javascript:."""
    done = subprocess.run(linked.command("list", "--format", "table", "--hyperlinks", "always"),
                          capture_output=True, env=linked.env, timeout=30, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    raw = done.stdout
    assert b"\x1b]8;" in raw and SAFE.encode() in raw
    links = re.findall(rb"\x1b\]8;[^;]*;([^\x1b]*)\x1b\\", raw)
    assert set(links) == {SAFE.encode(), b""}
    for hostile in (b"\x07", b"\xc2\x9c", b"\x9c", b"phish", b"javascript:"):
        assert hostile not in raw
