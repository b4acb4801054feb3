"""Hostile feed text (terminal escapes, bidi, zero-width, rich markup, scripts, a huge title):
inert in every output format."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    ENTRY_KEYS,
    JSON_FEED,
    ONE_ITEM,
    Cli,
    FeedServer,
    Route,
    _Handler,
    make_cli,
    run_bytes,
    source_line,
    sources_json,
)

# -- hostile text ---------------------------------------------------------------------------------

ESCAPES = (
    "\x1b[31mred\x1b[0m "  # CSI: colour
    "\x1b]0;pwned\x07 "  # OSC 0: window title
    "\x1b]52;c;cHduZWQ=\x07 "  # OSC 52: clipboard
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\ "  # OSC 8: hyperlink
    "bell\x07 \x9b31mC1\x9b0m "  # BEL, C1 CSI
    "\u202eevil\u202c \u2066iso\u2069 zero\u200bwidth word\u2060joiner"
    " tab\there cr\rlf\nls\u2028nel\x85end"
)
MARKUP = "[bold red]x[/] [link=https://evil]y[/link]"
BODY_HTML = (
    "<p>Body " + ESCAPES + "</p><script>alert(1)</script>"
    "<img src=x onerror=alert(2)><a href='javascript:alert(3)'>a link</a>"
    "<style>p{color:red}</style>&lt;script&gt;escaped&lt;/script&gt; done"
)
LONG_TITLE = "Zyzzyva " + " ".join(f"word{i % 97}" for i in range(800))[:4992]
FORBIDDEN = (
    "\x00", "\x1b", "\x07", "\x9b", "\x85", "\u202e", "\u202c", "\u2066", "\u2069", "\u200b",
    "\u2060",
)  # fmt: skip
ESCAPED = ("\\u001b", "\\u0007", "\\u009b", "\\u202e", "\\u202E", "\\u2066", "\\u200b")
JS_URLS = (
    "javascript:alert(document.cookie)",
    " JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
)


def hostile_json_feed() -> bytes:
    items: list[dict[str, Any]] = [
        {
            "id": "hostile-json-1",
            "url": "https://evil.example/post\x1b]0;pwned\x07?q=\u202eyes",
            "title": MARKUP + " Title " + ESCAPES,
            "content_html": BODY_HTML,
            "date_published": "2025-02-03T10:00:00Z",
            "authors": [{"name": "Mallory \x1b]0;pwned\x07 \u202etoor\u202c"}],
            "tags": ["\x1b[31mtag", "[bold]cat[/bold]", "\u202eevil", "zero\u200bwidth"],
        },
        *(
            {
                "id": f"hostile-js-{index}",
                "url": url,
                "title": f"Script-scheme link {index}",
                "content_text": "A link that must not be passed on.",
                "date_published": f"2025-02-0{index + 1}T09:00:00Z",
            }
            for index, url in enumerate(JS_URLS)
        ),
    ]
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Hostile \x1b]0;x\x07",
            "items": items,
        }
    ).encode()


def long_json_feed() -> bytes:
    item = {
        "id": "long-1",
        "url": "https://long.example/1",
        "title": LONG_TITLE,
        "content_text": "A title longer than any screen. " * 40,
        "date_published": "2025-02-03T11:00:00Z",
    }
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [item]}).encode()


# entities for what XML 1.0 allows: C1, bidi, zero-width; double-escaped HTML in the description
HOSTILE_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hostile RSS &#x202E;</title><link>https://rss.example/</link>
<item><title>RSS [bold red]x[/] [link=https://evil]y[/link] &#x9B;31mC1 &#x202E;evil&#x202C;
&#x2066;iso&#x2069; zero&#x200B;width word&#x2060;joiner</title>
<link>javascript&#58;alert(1)</link><guid isPermaLink="false">hostile-rss-1</guid>
<pubDate>Mon, 03 Feb 2025 08:00:00 +0000</pubDate>
<author>m@evil.example (Mallory &#x202E;toor)</author>
<category>&#x202E;evil</category><category>[bold]cat[/bold]</category>
<description>&lt;p&gt;Excerpt &#x9B;31m &#x202E;rev &amp;#x1B;]0;pwned&amp;#x07; &amp;#x202E;ent
&amp;#155;c1&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;
</description></item>
</channel></rss>
"""
# ESC and BEL as character references are not well-formed XML 1.0: feedparser's loose parser
LOOSE_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Loose</title><link>https://loose.example/</link>
<item><title>Loose &#x1B;]0;pwned&#x07; &#27;[31mred&#7; title</title>
<link>https://loose.example/1</link><guid>loose-1</guid>
<pubDate>Mon, 03 Feb 2025 07:00:00 +0000</pubDate>
<description>Loose &#x1B;[2J body &#155;31m</description></item>
</channel></rss>
"""

TextFilled = tuple[Cli, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def hostile_text(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TextFilled]:
    """One database with the hostile feeds fetched over HTTP, and `list --format json` of it."""
    srv = FeedServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        cli = make_cli(tmp_path_factory.mktemp("hostile-text"))
        cli.write_config(
            [
                ("json", srv.feed("/hostile.json", hostile_json_feed(), JSON_FEED)),
                ("rss", srv.feed("/hostile.xml", HOSTILE_RSS)),
                ("loose", srv.feed("/loose.xml", LOOSE_RSS)),
                ("long", srv.feed("/long.json", long_json_feed(), JSON_FEED)),
            ]
        )
        done = run_bytes(cli, "fetch")
        assert done.returncode == 0, done.stderr
        inert(done.stderr, "fetch stderr")
        entries = cli.list_json("--excerpt", "1000")
    finally:
        srv.stop.set()
        srv.shutdown()
        srv.server_close()
        thread.join(5)
    assert len(entries) == 4 + len(JS_URLS)
    yield cli, entries


def inert(out: bytes, what: str) -> str:
    """The output decoded, after checking that nothing in it can steer a terminal or reorder text."""
    assert b"\x1b" not in out, (what, out[:300])
    assert b"\x07" not in out, what
    text = out.decode("utf-8")  # strictly: no stray bytes either
    for char in FORBIDDEN:
        assert char not in text, (what, repr(char))
    return text


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def inert_json(out: bytes, what: str, lines: bool = False) -> list[Any]:
    text = inert(out, what)
    for escape in ESCAPED:
        assert escape not in text, (what, escape)
    docs = [json.loads(line) for line in text.splitlines()] if lines else [json.loads(text)]
    for string in strings_in(docs):
        for char in FORBIDDEN:
            assert char not in string, (what, repr(char), string[:200])
        assert not string.lower().startswith(("javascript:", "data:")), (what, string)
    return docs


def by_title_prefix(entries: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    found = [e for e in entries if e["title"].startswith(prefix)]
    assert len(found) == 1, (prefix, [e["title"][:60] for e in entries])
    return found[0]


def test_hostile_text_is_clean_in_stored_fields(hostile_text: TextFilled) -> None:
    _, entries = hostile_text
    main = by_title_prefix(entries, MARKUP)
    assert set(main) == ENTRY_KEYS
    # the visible words survive; what steers the terminal does not
    for word in ("red", "pwned", "click", "bell", "C1", "evil", "iso", "zerowidth", "wordjoiner"):
        assert word in main["title"], (word, main["title"])
    assert "tab here cr lf ls nelend" in main["title"]  # \t \r \n U+2028: a space; NEL: none
    assert main["url"] is None  # a link with escapes or a direction mark in it is no link at all
    assert main["author"] is not None and main["author"].startswith("Mallory")
    assert "alert(" not in main["excerpt"]  # <script> and onerror never become text
    assert "onerror" not in main["excerpt"]
    assert "p{color" not in main["excerpt"]
    assert "<script>escaped</script>" in main["excerpt"]  # escaped text is text, printed as such
    assert "a link" in main["excerpt"]
    rss_entry = by_title_prefix(entries, "RSS [bold red]x[/]")
    assert rss_entry["url"] is None  # javascript&#58; is still javascript:
    assert "pwned" in rss_entry["excerpt"]
    assert "alert(" not in rss_entry["excerpt"]
    loose = by_title_prefix(entries, "Loose")
    assert "pwned" in loose["title"]
    for index in range(len(JS_URLS)):
        assert by_title_prefix(entries, f"Script-scheme link {index}")["url"] is None
    long = by_title_prefix(entries, "Zyzzyva")["title"]
    assert len(LONG_TITLE) == 5000
    print(f"\n5,000-character title stored as {len(long)} characters")
    assert long == LONG_TITLE or (long.endswith("…") and LONG_TITLE.startswith(long[:-1]))


@pytest.mark.parametrize("fmt", ["table", "plain", "json", "jsonl", "csv", "markdown"])
def test_hostile_text_is_inert_in_list(hostile_text: TextFilled, fmt: str) -> None:
    cli, entries = hostile_text
    done = run_bytes(cli, "list", "--format", fmt, "--excerpt", "1000")
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    if fmt in ("json", "jsonl"):
        docs = inert_json(done.stdout, fmt, lines=fmt == "jsonl")
        listed = docs[0] if fmt == "json" else docs
        assert [e["id"] for e in listed] == [e["id"] for e in entries]
        return
    text = inert(done.stdout, fmt)
    assert "javascript:" not in text.lower()
    assert "alert(" not in text
    if fmt == "plain":
        lines = text.splitlines()
        assert len(lines) == len(entries)  # no line break smuggled into a title
        assert all(len(line.split("\t")) == 6 for line in lines)
        assert MARKUP in text
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) == len(entries) + 1
        assert {row[1] for row in rows[1:]} == {e["title"] for e in entries}
    elif fmt == "markdown":
        assert len([line for line in text.splitlines() if line.startswith("- **")]) == len(entries)
        assert not re.search(r"(?<!\\)<script", text)  # `\<script\>`: literal text
        assert "[bold red]x[/]" not in text  # escaped: \\[bold red\\]x\\[/\\]
    else:
        assert "[bold red]x[/]" in text  # rich markup prints literally
        assert "[link=https://evil]y[/link]" in text


def test_hostile_text_table_on_a_colour_terminal(hostile_text: TextFilled) -> None:
    """With colour forced, rich's own SGR styles are the only escape sequences in the table."""
    cli, _ = hostile_text
    colour = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}
    done = run_bytes(cli, "list", "--format", "table", "--excerpt", "1000", env=colour)
    assert done.returncode == 0, done.stderr
    assert b"\x1b[" in done.stdout, "colour was not forced: this test checks nothing"
    assert b"\x1b]" not in done.stdout  # no OSC: no title, clipboard or hyperlink
    text = inert(re.sub(rb"\x1b\[[0-9;]*m", b"", done.stdout), "table in colour")
    assert "[bold red]x[/]" in text
    shown = run_bytes(cli, "show", by_title_prefix(hostile_text[1], MARKUP)["id"], env=colour)
    assert shown.returncode == 0, shown.stderr
    assert b"\x1b]" not in shown.stdout
    inert(re.sub(rb"\x1b\[[0-9;]*m", b"", shown.stdout), "show in colour")


@pytest.mark.parametrize("fmt", ["table", "plain", "json"])
def test_hostile_text_is_inert_in_show(hostile_text: TextFilled, fmt: str) -> None:
    cli, entries = hostile_text
    for entry in entries:
        done = run_bytes(cli, "show", entry["id"], "--format", fmt)
        assert done.returncode == 0, done.stderr
        what = f"show {fmt} {entry['title'][:30]!r}"
        if fmt == "json":
            (detail,) = inert_json(done.stdout, what)
            assert detail["id"] == entry["id"]
            assert set(detail) >= ENTRY_KEYS
            assert detail["url"] == entry["url"]
            continue
        text = inert(done.stdout, what)
        assert "javascript:" not in text.lower(), what
        assert "alert(" not in text, what
        assert "onerror" not in text, what
        if entry["title"].startswith(MARKUP):
            assert "[bold red]x[/]" in text
        if entry["title"].startswith("Zyzzyva"):
            assert len(text.splitlines()) < 80, (what, len(text.splitlines()))


@pytest.mark.parametrize("command", ["sources", "topics", "langs"])
@pytest.mark.parametrize("fmt", ["table", "plain", "json"])
def test_hostile_text_is_inert_in_counts_and_sources(
    hostile_text: TextFilled, command: str, fmt: str
) -> None:
    cli, _ = hostile_text
    done = run_bytes(cli, command, "--format", fmt)
    assert done.returncode == 0, done.stderr
    if fmt == "json":
        (rows,) = inert_json(done.stdout, f"{command} json")
        assert rows
        if command == "topics":  # hostile categories became plain slugs
            for row in rows:
                assert re.fullmatch(r"[\w-]+", row["topic"]), row
    else:
        assert inert(done.stdout, f"{command} {fmt}").strip()


def test_huge_title_does_not_explode_the_table(hostile_text: TextFilled) -> None:
    cli, _ = hostile_text
    done = run_bytes(cli, "list", "--format", "table", "--source", "long")
    assert done.returncode == 0, done.stderr
    text = inert(done.stdout, "long table")
    lines = text.splitlines()
    print(f"\n5,000-character title: {len(lines)} table lines at COLUMNS=200")
    assert "Zyzzyva" in text
    assert 3 < len(lines) < 80
    assert max(len(line) for line in lines) <= 200


def raw(data: bytes) -> Route:
    """A route that writes `data` as the whole response: status line and headers included."""

    def write(h: _Handler) -> None:
        h.wfile.write(data)

    return write


def leaks(out: bytes) -> list[str]:
    """The terminal-steering or text-reordering characters in `out`, raw or JSON-escaped."""
    found = [repr(b) for b in (b"\x1b", b"\x07") if b in out]
    text = out.decode("utf-8", errors="replace")
    found += [repr(c) for c in FORBIDDEN if c in text]
    return found + [e for e in ESCAPED if e in text]


def test_hostile_location_headers_are_inert(cli: Cli, server: FeedServer) -> None:
    """A Location with raw control bytes fails cleanly; one with UTF-8 C1 and bidi bytes is
    followed, and the moved-to URL is shown percent-encoded."""
    port = server.server_address[1]
    location = b"http://127.0.0.1:%d/landing\xc2\x9b31m\xe2\x80\xaeevil" % port
    landing = server.feed("/landing%C2%9B31m%E2%80%AEevil", ONE_ITEM)
    escape = b"http://127.0.0.1:%d/x\x1b]0;pwned\x07" % port
    cli.write_config(
        [
            (
                "utf8",
                server.route(
                    "/utf8", raw(b"HTTP/1.0 301 Moved\r\nLocation: %s\r\n\r\n" % location)
                ),
            ),
            (
                "escape",
                server.route(
                    "/escape", raw(b"HTTP/1.0 301 Moved\r\nLocation: %s\r\n\r\n" % escape)
                ),
            ),
        ]
    )

    done = run_bytes(cli, "fetch")

    assert done.returncode == 3, done.stderr
    assert leaks(done.stderr) == [], done.stderr
    stderr = done.stderr.decode()
    assert source_line(stderr, "escape").startswith("escape: failed: ")
    assert source_line(stderr, "utf8") == (
        f"utf8: 1 new, 0 updated; moved permanently: update your config to {landing}"
    )
    for fmt in ("table", "plain", "json"):
        shown = run_bytes(cli, "sources", "--format", fmt)
        assert shown.returncode == 0
        assert leaks(shown.stdout) == [], (fmt, shown.stdout)
    assert sources_json(cli)["utf8"]["moved_to"] == landing


HOSTILE_REASON = b"\x1b]0;pwned\x07Oops \x1b[2J \xc2\x9b31m \xe2\x80\xaeevil"


def test_hostile_reason_phrase_is_inert(cli: Cli, server: FeedServer) -> None:
    """h11 accepts ESC and BEL in a reason phrase. Found here: `HTTP/1.0 500 \\x1b]0;pwned\\x07`
    once reached fetch's report line and `sources` (table, plain; \\u001b in json) raw: an OSC
    window-title sequence from any server. Fixed in 921bac7 (server words cleaned like feed
    text)."""
    response = b"HTTP/1.0 500 %s\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nno"
    cli.write_config([("reason", server.route("/reason", raw(response % HOSTILE_REASON)))])

    done = run_bytes(cli, "fetch")

    assert done.returncode == 1, done.stderr
    assert source_line(done.stderr.decode(), "reason").startswith("reason: failed: HTTP 500")
    outputs = {"fetch stderr": done.stderr}
    for fmt in ("table", "plain", "json"):
        outputs[f"sources {fmt}"] = run_bytes(cli, "sources", "--format", fmt).stdout
    found = {what: leaks(out) for what, out in outputs.items() if leaks(out)}
    assert found == {}


def test_halves_of_utf16_pairs_and_noncharacters_are_dropped_not_fatal(
    cli: Cli, tmp_path: Path
) -> None:
    """A JSON Feed may escape half a UTF-16 pair ("\\ud800"): no UTF-8 encoder takes one, and it
    once failed the whole source. It goes, as U+FFFE and U+FFFF do, and the entry is stored."""
    feed = (
        '{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [{"id": "1", '
        '"url": "https://x.example/1", "title": "Half \\ud800 a pair \\ufffe here", '
        '"content_text": "Text \\udc00 too.", "date_published": "2025-02-03T10:00:00Z"}]}'
    )
    path = tmp_path / "feed.json"
    path.write_text(feed, encoding="utf-8")
    cli.write_config([("json", str(path))])
    done = cli.fetch()
    assert done.returncode == 0, done.stderr
    (entry,) = cli.list_json()
    assert entry["title"] == "Half a pair here"
    assert entry["excerpt"] == "Text too."
