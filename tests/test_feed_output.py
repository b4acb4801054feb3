"""`list` and `digest` as feeds (issue 19): Atom 1.0 and JSON Feed 1.1 documents of the filtered
view, read back by an XML parser, by feedparser, against a JSON Schema of JSON Feed 1.1 and by
archfeed itself, with a hostile feed's titles in them."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from calendar import timegm
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import feedparser
import jsonschema
import pytest

from archfeed import __version__
from conftest import Cli, Clock, make_cli, parse_iso, rss

NOW = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
A = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
COPY_SOURCE = "{urn:archfeed:feed}source"
TAG = "tag:archfeed,2026:"
SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8")
)

BLOG = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Ada's blog</title><id>urn:ada</id>
<updated>2025-03-03T00:00:00Z</updated>
<entry><id>urn:ada:es</id><title>Event sourcing in practice</title>
<link href="https://blog.example/posts/event-sourcing"/>
<published>2025-03-01T09:00:00Z</published><updated>2025-03-01T09:00:00Z</updated>
<author><name>Ada Lovelace</name></author><category term="CQRS"/>
<summary>Storing every change as an event gives you an audit log for free, but replaying a million
events on start-up does not come free.</summary></entry>
<entry><id>urn:ada:notes</id><title>Notes without a date</title>
<link href="https://blog.example/notes"/>
<summary>Loose notes about queues and retries that their author never dated.</summary></entry>
</feed>
"""
# the blog's article again, under a tracking parameter: one article, the blog's copy canonical
DEVTO = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>dev</title><link>https://dev.example/</link>
<item><title>Event sourcing in practice</title><guid>dev-1</guid>
<link>https://blog.example/posts/event-sourcing?utm_source=devto</link>
<pubDate>Sun, 02 Mar 2025 10:00:00 +0000</pubDate><description>Storing every change as an event
gives you an audit log for free, but replaying a million events on start-up does not come free.
</description></item>
<item><title>Hexagonal architecture, explained</title><link>https://dev.example/hex</link>
<guid>dev-2</guid><pubDate>Tue, 04 Mar 2025 10:00:00 +0000</pubDate>
<description>Ports and adapters keep the domain apart from the database and the web framework.
</description></item>
</channel></rss>
"""
HABR = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Хабр</title><link>https://habr.example/</link>
<item><title>Архитектура микросервисов: уроки за пять лет</title><guid>habr-1</guid>
<link>https://habr.example/ru/articles/1/</link><pubDate>Wed, 05 Mar 2025 08:00:00 +0000</pubDate>
<description>Мы разделили монолит на двадцать сервисов и узнали, почему это было ошибкой для
небольшой команды.</description></item>
<item><title>Кэширование в Redis без боли</title><guid>habr-2</guid>
<link>https://habr.example/ru/статьи/2/</link><pubDate>Thu, 06 Mar 2025 08:00:00 +0000</pubDate>
<description>Как мы перестали терять данные при перезапуске кэша и что для этого понадобилось.
</description></item>
</channel></rss>
""".encode()
SCRIPT_TITLE = "<script>alert('x')</script> & ]]> <![CDATA[ x ]]>"
ESCAPES_TITLE = (
    "ESC\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 BEL\x07 C1\x9b31m FFFE \ufffe "
    "FFFF \uffff RLO\u202eevil"
)
ESCAPES_SHOWN = "ESC]8;;https://evil.exampleclick]8;; BEL C131m FFFE FFFF RLOevil"
UNSAFE = "\x1b\x07\x9b\ufffe\uffff\u202e"
HOSTILE = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "hostile",
        "items": [
            {
                "id": "h1",
                "url": "https://hostile.example/1",
                "title": SCRIPT_TITLE,
                "content_text": "Body with \x1b[31mred\x1b[0m, a bell \x07 and \ufffe.",
                "authors": [{"name": "Eve <eve@evil.example> & co"}],
                "tags": ["<b>bold</b>", "a&b"],
                "date_published": "2025-03-07T12:00:00Z",
            },
            {
                "id": "h2",
                "url": "javascript:alert(1)",
                "title": ESCAPES_TITLE,
                "content_text": "x",
                "date_published": "2025-03-08T12:00:00Z",
            },
        ],
    }
).encode()
FEEDS = {"blog.xml": BLOG, "devto.xml": DEVTO, "habr.xml": HABR, "hostile.json": HOSTILE}
CONFIG = "".join(f'[[source]]\nname = "{name.split(".")[0]}"\nurl = "feeds/{name}"\n\n'
                 for name in FEEDS) + """
[topics.architecture]
keywords = ["architecture", "архитектура"]
"""  # fmt: skip


def _fetched(root: Path) -> Cli:
    root.mkdir(exist_ok=True)
    cli = make_cli(root)
    cli.clock = Clock(NOW)
    (root / "feeds").mkdir()
    for name, body in FEEDS.items():
        (root / "feeds" / name).write_bytes(body)
    cli.config.write_text(CONFIG, encoding="utf-8")
    done = cli.fetch()
    assert done.returncode == 0, done.stderr
    return cli


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """The four feeds, fetched once for the tests that only read."""
    return _fetched(tmp_path_factory.mktemp("view"))


@pytest.fixture
def fetched(tmp_path: Path) -> Cli:
    return _fetched(tmp_path)


def _out(cli: Cli, *args: str) -> str:
    done = cli.run(*args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def _atom(cli: Cli, *args: str) -> ET.Element:
    return ET.fromstring(_out(cli, "list", "--format", "atom", *args))  # well-formed, or raises


def _jsonfeed(cli: Cli, *args: str, command: str = "list") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_out(cli, command, "--format", "jsonfeed", *args))
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    return document


def _text(element: ET.Element, tag: str) -> str | None:
    found = element.find(A + tag)
    return None if found is None else found.text


def _in_xml(text: str | None) -> str | None:
    """`text` as XML 1.0 can carry it: list's JSON keeps the noncharacters U+FFFE and U+FFFF
    (and the spaces either side of one become one)."""
    return text and re.sub(" +", " ", text.replace("\ufffe", "").replace("\uffff", ""))


def _dated(entry: dict[str, Any]) -> str:
    """The date a feed gives an entry: when published, else (undated) when first seen."""
    return str(entry["published"] or entry["first_seen"])


def test_the_fixtures_hold_a_cross_post_a_russian_article_and_an_undated_one(view: Cli) -> None:
    listed = view.list_json()
    (crossed,) = [e for e in listed if e["also_at"]]
    assert (crossed["source"], crossed["also_at"][0]["source"]) == ("blog", "devto")
    assert {e["lang"] for e in listed if e["source"] == "habr"} == {"ru"}
    assert [e["title"] for e in listed if e["published"] is None] == ["Notes without a date"]


def test_atom_is_well_formed_and_says_what_list_json_says(view: Cli) -> None:
    listed = view.list_json()
    feed = _atom(view)
    assert feed.tag == A + "feed"
    assert (_text(feed, "id"), _text(feed, "title")) == (TAG + "list", "archfeed")
    assert _text(feed, "updated") == max(_dated(e) for e in listed)
    entries = feed.findall(A + "entry")
    assert [_text(item, "id") for item in entries] == [TAG + "entry/" + e["id"] for e in listed]
    for item, entry in zip(entries, listed, strict=True):
        assert _text(item, "title") == _in_xml(entry["title"])
        links = item.findall(A + "link")
        alternate = [
            unquote(link.get("href", "")) for link in links if link.get("rel") == "alternate"
        ]
        assert alternate == ([entry["url"]] if entry["url"] else [])
        # links as text.web_link gives them: http(s) in printable ASCII (a Russian path encoded)
        assert all(str(link.get("href")).isascii() for link in links)
        related = [(link.get("href"), link.get("title"), link.get(COPY_SOURCE))
                   for link in links if link.get("rel") == "related"]  # fmt: skip
        assert related == [(c["url"], c["title"], c["source"]) for c in entry["also_at"]]
        assert _text(item, "published") == entry["published"]
        assert _text(item, "updated") == _dated(entry)
        assert item.get(XML_LANG) == entry["lang"]
        assert [c.get("term") for c in item.findall(A + "category")] == entry["topics"]
        author = item.find(A + "author")
        assert (None if author is None else _text(author, "name")) == entry["author"]
        assert _text(item, "summary") == _in_xml(entry["excerpt"])
        source = item.find(A + "source")
        assert source is not None and _text(source, "title") == entry["source"]
        # RFC 4287 4.1.2: an entry has an author, or its source has; not archfeed, never made up
        credited = source.find(A + "author")
        assert (None if credited is None else _text(credited, "name")) == (
            None if entry["author"] else entry["source"]
        )
        # RFC 4287 4.1.1.1: without an alternate link, the excerpt is its content too
        assert _text(item, "content") == (None if entry["url"] else _text(item, "summary"))
    generator = feed.find(A + "generator")
    assert generator is not None and (generator.text, generator.get("version")) == (
        "archfeed",
        __version__,
    )


def test_feedparser_reads_the_atom_feed_as_list_json_says(view: Cli) -> None:
    listed = view.list_json()
    parsed = feedparser.parse(_out(view, "list", "--format", "atom").encode())
    assert (parsed.bozo, parsed.version) == (False, "atom10")
    assert parsed.feed.id == TAG + "list"
    assert [item.id for item in parsed.entries] == [TAG + "entry/" + e["id"] for e in listed]
    for item, entry in zip(parsed.entries, listed, strict=True):
        assert item.title == _in_xml(entry["title"])
        alternate = [
            unquote(link.href) for link in item.get("links", []) if link.rel == "alternate"
        ]
        assert alternate == ([entry["url"]] if entry["url"] else [])
        related = [link.href for link in item.get("links", []) if link.rel == "related"]
        assert related == [copy["url"] for copy in entry["also_at"]]
        assert item.get("published") == entry["published"]
        if entry["published"]:
            assert datetime.fromtimestamp(timegm(item.published_parsed), UTC) == parse_iso(
                entry["published"]
            )
        assert item.updated == _dated(entry)
        assert item.title_detail.language == entry["lang"]
        assert [tag.term for tag in item.get("tags", [])] == entry["topics"]
        assert item.get("author") == entry["author"]


def test_the_json_feed_passes_the_schema_and_says_what_list_json_says(view: Cli) -> None:
    listed = view.list_json()
    feed = _jsonfeed(view)
    assert feed["title"] == "archfeed"
    assert feed["_archfeed"] == {"id": TAG + "list", "updated": max(_dated(e) for e in listed)}
    assert [item["id"] for item in feed["items"]] == [TAG + "entry/" + e["id"] for e in listed]
    for item, entry in zip(feed["items"], listed, strict=True):
        assert item["title"] == _in_xml(entry["title"])
        assert (unquote(item["url"]) if "url" in item else None) == entry["url"]
        assert str(item.get("url", "")).isascii()
        assert item.get("date_published") == entry["published"]
        assert item["date_modified"] == _dated(entry)
        assert item["language"] == entry["lang"]
        assert item.get("tags", []) == entry["topics"]
        assert item.get("authors") == ([{"name": entry["author"]}] if entry["author"] else None)
        assert item["summary"] == item["content_text"] == _in_xml(entry["excerpt"])
        assert item["_archfeed"] == {"source": entry["source"], "also_at": entry["also_at"]}
    # the schema is no formality: a feed item without an id, or with neither content, fails it
    for broken in ({"content_text": ""}, {"id": "x"}, {"id": "x", "content_text": "", "tags": "a"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**feed, "items": [broken]}, SCHEMA)


@pytest.mark.parametrize("fmt", ["atom", "jsonfeed"])
def test_the_feed_reads_back_through_archfeed(view: Cli, tmp_path: Path, fmt: str) -> None:
    """Written as the README's recipe writes it: by the installed command, into a file, which a
    second archfeed subscribes to."""
    published = tmp_path / f"stream.{fmt}"
    with published.open("wb") as out:
        done = subprocess.run(view.command("list", "--format", fmt), stdout=out,
                              stderr=subprocess.PIPE, env=view.env, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (tmp_path / "reader").mkdir()
    reader = make_cli(tmp_path / "reader")
    reader.config.write_text(
        f'[[source]]\nname = "stream"\nurl = "{published}"\n', encoding="utf-8"
    )
    fetched = reader.fetch()
    assert fetched.returncode == 0, fetched.stderr
    assert f"stream: {len(view.list_json())} new" in fetched.stderr

    def seen(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted((_in_xml(e["title"]), e["url"] and unquote(e["url"]), _dated(e), e["topics"])
                      for e in entries)  # fmt: skip

    assert seen(reader.list_json()) == seen(view.list_json())


def test_hostile_titles_come_out_as_inert_text(view: Cli) -> None:
    atom = _out(view, "list", "--format", "atom", "--source", "hostile")
    assert "<script" not in atom and "]]>" not in atom and "javascript:" not in atom
    assert not set(UNSAFE) & set(atom)
    titles = [_text(item, "title") for item in ET.fromstring(atom).findall(A + "entry")]
    assert titles == [ESCAPES_SHOWN, SCRIPT_TITLE]
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; ]]&gt; &lt;![CDATA[" in atom
    raw = _out(view, "list", "--format", "jsonfeed", "--source", "hostile")
    assert not set(UNSAFE) & set(raw)
    assert not {c for c in raw if c < " " and c != "\n"}  # json.dumps escapes C0; none left
    feed = _jsonfeed(view, "--source", "hostile")
    assert [item["title"] for item in feed["items"]] == [ESCAPES_SHOWN, SCRIPT_TITLE]
    assert "url" not in feed["items"][0]  # javascript: is no link
    assert feed["items"][1]["content_text"] == "Body with [31mred[0m, a bell and ."


def test_ids_never_change_between_runs_or_databases(fetched: Cli, tmp_path: Path) -> None:
    first = {fmt: _out(fetched, "list", "--format", fmt) for fmt in ("atom", "jsonfeed")}
    fetched.clock = Clock(NOW + timedelta(days=3))
    assert fetched.fetch().returncode == 0
    # dated by its newest entry, not by the run: nothing new, the same bytes
    assert {fmt: _out(fetched, "list", "--format", fmt) for fmt in first} == first
    again = _fetched(tmp_path / "again")  # another database, from the same feeds
    assert [item["id"] for item in _jsonfeed(again)["items"]] == [
        item["id"] for item in json.loads(first["jsonfeed"])["items"]
    ]


def test_lang_and_topic_give_only_those(view: Cli) -> None:
    args = ("--lang", "ru", "--topic", "architecture")
    feed = _atom(view, *args)
    listed = view.list_json(*args)
    assert [e["title"] for e in listed] == ["Архитектура микросервисов: уроки за пять лет"]
    assert [_text(item, "id") for item in feed.findall(A + "entry")] == [
        TAG + "entry/" + listed[0]["id"]
    ]
    assert len(view.list_json("--lang", "ru")) == 2 and len(view.list_json(*args[2:])) == 2
    assert _text(feed, "title") == "archfeed: topic architecture, lang ru"
    assert _text(feed, "id") == TAG + "list?topic=architecture&lang=ru"
    jsonfeed = _jsonfeed(view, *args)
    assert [item["title"] for item in jsonfeed["items"]] == [listed[0]["title"]]
    assert jsonfeed["_archfeed"]["id"] == TAG + "list?topic=architecture&lang=ru"


def test_the_feed_is_named_by_its_filters_but_not_by_its_time_window(view: Cli) -> None:
    """`--since 7d` moves every run: a feed whose id moved would be a new feed to its readers."""
    args = ("--source", "blog", "--search", "event", "--unread", "--all")
    feed = _atom(view, *args, "--since", "2025-01-01", "--until", "2025-12-31", "--limit", "5")
    assert _text(feed, "title") == "archfeed: source blog, search event, state unread, copies all"
    assert _text(feed, "id") == TAG + "list?source=blog&search=event&state=unread&copies=all"
    assert [_text(item, "title") for item in feed.findall(A + "entry")] == [
        "Event sourcing in practice"
    ]
    assert _text(_atom(view, *args), "id") == _text(feed, "id")
    spaced = _atom(view, "--search", "a&b c", "--topic", "architecture", "--topic", "cqrs")
    assert _text(spaced, "title") == "archfeed: topic architecture or cqrs, search a&b c"
    assert _text(spaced, "id") == TAG + "list?topic=architecture&topic=cqrs&search=a%26b%20c"


def test_an_empty_view_is_an_empty_feed_dated_now(view: Cli) -> None:
    feed = _atom(view, "--lang", "zz")
    assert feed.findall(A + "entry") == []
    assert _text(feed, "updated") == "2025-04-01T12:00:00Z"
    assert _jsonfeed(view, "--lang", "zz")["items"] == []


def test_a_feed_holds_every_entry_unless_limit_says(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    (tmp_path / "bulk.xml").write_bytes(
        rss("bulk", [(f"b-{n}", f"Post number {n}", f"Text of post {n}.") for n in range(60)])
    )
    cli.write_config([("bulk", "bulk.xml")])
    assert cli.fetch().returncode == 0
    assert len(_atom(cli).findall(A + "entry")) == 60  # not the table's 50
    assert len(_jsonfeed(cli)["items"]) == 60
    assert len(_atom(cli, "--limit", "3").findall(A + "entry")) == 3


def test_digest_as_a_feed_and_dry_run_keeps_the_mark(fetched: Cli) -> None:
    listed = fetched.list_json()
    dry = _out(fetched, "digest", "--format", "atom", "--dry-run")
    feed = ET.fromstring(dry)
    assert _text(feed, "id") == TAG + "digest/default"
    assert _text(feed, "title") == 'archfeed digest "default"'
    ids = [_text(item, "id") for item in feed.findall(A + "entry")]
    # every entry is new, in list's order (newest first, the undated last), not by topic
    assert ids == [TAG + "entry/" + e["id"] for e in listed]
    assert _out(fetched, "digest", "--format", "atom", "--dry-run") == dry  # the mark stayed
    named = _jsonfeed(fetched, "--name", "team ru", "--lang", "ru", "--dry-run", command="digest")
    assert named["_archfeed"]["id"] == TAG + "digest/team%20ru"
    assert {item["language"] for item in named["items"]} == {"ru"}
    sent = _jsonfeed(fetched, command="digest")
    assert [item["id"] for item in sent["items"]] == ids
    assert _out(fetched, "digest", "--format", "atom") == ""  # nothing new since
