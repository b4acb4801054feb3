"""OPML in and out: outlines become sources and topics, hostile files are refused, new sources are
written as TOML that loads, and the config survives a round trip through OPML."""

from __future__ import annotations

import shutil
import tomllib
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archfeed import opml
from archfeed.config import load
from archfeed.errors import ArchfeedError
from archfeed.models import Source
from conftest import Cli, assert_no_traceback, make_cli

EXAMPLE = Path(__file__).resolve().parents[1] / "feeds.example.toml"

OPML_1 = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<opml version="1.0">
  <head><title>mySubscriptions</title></head>
  <body>
    <outline title="Scripting News" type="rss" xmlUrl="http://scripting.com/rss.xml"
             htmlUrl="http://scripting.com/"/>
    <outline title="Caf\xe9 Tech" xmlUrl="https://cafe.example/feed"/>
  </body>
</opml>
"""

OPML_2 = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Subscriptions</title><dateCreated>Mon, 01 Jan 2024 00:00:00 GMT</dateCreated></head>
  <body>
    <outline text="Engineering">
      <outline text="Databases &amp; Storage">
        <outline type="rss" text="Postgres Weekly" xmlUrl="https://postgresweekly.com/rss"
                 category="/SQL/Postgres,news"/>
      </outline>
      <outline type="atom" text="Martin Fowler" title="ignored when text is there"
               xmlUrl="https://martinfowler.com/feed.atom" htmlUrl="https://martinfowler.com"/>
    </outline>
    <outline text="Security" title="Security">
      <outline type="rss" text="Krebs" xmlUrl="https://krebsonsecurity.com/feed/"/>
    </outline>
    <outline type="rss" text="Krebs" xmlUrl="https://krebsonsecurity.com/feed/"
             category="news"/>
    <outline type="rss" text="Krebs" xmlUrl="https://krebs-mirror.example/feed/"/>
    <outline type="link" text="Just a link" url="https://example.com/"/>
  </body>
</opml>
"""


def _read(data: bytes) -> list[Source]:
    return list(opml.read(data, "test.opml").sources)


def _opml(outlines: str, version: str = "2.0") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<opml version="{version}"><head/>'
        f"<body>{outlines}</body></opml>"
    ).encode()


# -- reading -----------------------------------------------------------------------------------


def test_opml_1_outlines_become_sources_named_by_their_titles() -> None:
    sources = _read(OPML_1)
    assert [(s.name, s.url, s.topics) for s in sources] == [
        ("scripting-news", "http://scripting.com/rss.xml", ()),
        ("café-tech", "https://cafe.example/feed", ()),
    ]


def test_opml_2_folders_and_categories_become_topics() -> None:
    by_url = {s.url: s for s in _read(OPML_2)}
    assert by_url["https://postgresweekly.com/rss"].topics == (
        "engineering",
        "databases-storage",
        "sql",
        "postgres",
        "news",
    )
    assert by_url["https://postgresweekly.com/rss"].name == "postgres-weekly"
    assert by_url["https://martinfowler.com/feed.atom"].topics == ("engineering",)
    assert by_url["https://martinfowler.com/feed.atom"].name == "martin-fowler"


def test_a_feed_in_two_folders_is_one_source_with_both_topics() -> None:
    sources = _read(OPML_2)
    krebs = [s for s in sources if s.url == "https://krebsonsecurity.com/feed/"]
    assert len(krebs) == 1
    assert krebs[0].topics == ("security", "news")


def test_names_are_made_unique_and_outlines_without_xmlurl_are_not_feeds() -> None:
    sources = _read(OPML_2)
    assert len(sources) == 4
    names = [s.name for s in sources]
    assert len(set(names)) == len(names)
    assert "krebs" in names
    assert "krebs-2" in names


def test_feeds_nest_at_any_depth() -> None:
    deep = "".join(f'<outline text="folder {n}">' for n in range(200))
    data = _opml(deep + '<outline text="x" xmlUrl="https://x.example/feed"/>' + "</outline>" * 200)
    (source,) = _read(data)
    assert source.topics == tuple(f"folder-{n}" for n in range(200))


def test_an_outline_without_a_title_is_named_from_its_url_as_the_config_names_it(
    tmp_path: Path,
) -> None:
    url = "https://www.blog.example/posts/feed.xml"
    (source,) = _read(_opml(f'<outline xmlUrl="{url}"/>'))
    assert source.name == "blog-example-posts"
    config = tmp_path / "feeds.toml"
    config.write_text(f'[[source]]\nurl = "{url}"\n', encoding="utf-8")
    assert [s.name for s in load(config).sources] == [source.name]


def test_non_http_urls_are_skipped_with_a_warning_each() -> None:
    data = _opml(
        '<outline text="Local" xmlUrl="file:///etc/passwd"/>'
        '<outline text="Script" xmlUrl="javascript:alert(1)"/>'
        '<outline text="Empty" xmlUrl=""/>'
        '<outline text="No host" xmlUrl="https:///feed"/>'
        '<outline text="Newline" xmlUrl="https://a.example/&#10;feed"/>'
        '<outline text="Good" xmlUrl=" https://good.example/feed "/>'
    )
    result = opml.read(data, "test.opml")
    assert [s.url for s in result.sources] == ["https://good.example/feed"]
    assert len(result.warnings) == 5
    assert all(w.startswith("test.opml: skipped outline") for w in result.warnings)
    assert "'Local'" in result.warnings[0]
    assert "not an http(s) URL" in result.warnings[0]
    assert "has no host" in result.warnings[3]


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">]>'
        b'<opml version="2.0"><body><outline text="&a;" xmlUrl="https://x.example/"/></body></opml>',
        b'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "file:///etc/passwd"><opml/>',
        b"<!doctype opml><opml/>",
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE opml [<!ENTITY a "a">]><opml/>'.encode(
            "utf-16"
        ),
    ],
    ids=["entities", "external", "lower-case", "utf-16"],
)
def test_a_dtd_is_refused(data: bytes) -> None:
    with pytest.raises(ArchfeedError, match="OPML with a DTD is not accepted"):
        opml.read(data, "hostile.opml")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<opml><body><outline></body></opml>", "not well-formed XML"),
        (b"", "not well-formed XML"),
        (b"\xff\xfe\x00garbage", "not well-formed XML"),
        (b"<rss version='2.0'><channel/></rss>", "not an OPML file"),
        (b"<opml version='2.0'><head/></opml>", "needs a <body>"),
    ],
)
def test_malformed_files_are_clear_errors(data: bytes, message: str) -> None:
    with pytest.raises(ArchfeedError, match=message) as caught:
        opml.read(data, "bad.opml")
    assert caught.value.message.startswith("bad.opml: ")


def test_additions_skip_known_urls_and_rename_clashing_names() -> None:
    existing = [
        Source("krebs", "https://KrebsOnSecurity.com/feed/"),
        Source("martin-fowler", "https://other.example/feed"),
        Source("martin-fowler-2", "https://third.example/feed"),
    ]
    new = opml.additions(existing, _read(OPML_2))
    assert [(s.name, s.url) for s in new] == [
        ("postgres-weekly", "https://postgresweekly.com/rss"),
        ("martin-fowler-3", "https://martinfowler.com/feed.atom"),
        ("krebs-2", "https://krebs-mirror.example/feed/"),
    ]


# -- writing -----------------------------------------------------------------------------------


def test_write_is_opml_2_in_config_order_and_reads_back() -> None:
    sources = [
        Source("b-second", "https://b.example/feed?x=1&y=<2>", ("architecture", "cloud")),
        Source("a-first", "https://a.example/feed", (), lang="ru", enabled=False),
        Source('quote"and&amp', "https://c.example/feed\x01", ("news",)),
    ]
    text = opml.write(sources, "My <feeds>", now=datetime(2026, 1, 31, 8, 0, tzinfo=UTC))
    root = ET.fromstring(text.encode())
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "My <feeds>"
    assert root.findtext("head/dateCreated") == "Sat, 31 Jan 2026 08:00:00 GMT"
    outlines = root.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [
        "https://b.example/feed?x=1&y=<2>",
        "https://a.example/feed",
        "https://c.example/feed",  # a character XML cannot hold is dropped
    ]
    assert outlines[0].attrib["category"] == "architecture,cloud"
    assert outlines[0].attrib["type"] == "rss"
    assert outlines[2].attrib["text"] == 'quote"and&amp'
    back = _read(text.encode())
    assert [(s.url, s.topics, s.lang, s.enabled) for s in back][:2] == [
        ("https://b.example/feed?x=1&y=<2>", ("architecture", "cloud"), None, True),
        ("https://a.example/feed", (), "ru", False),
    ]


def test_write_of_nothing_is_still_a_document() -> None:
    root = ET.fromstring(opml.write([], "empty", datetime(2026, 1, 31, tzinfo=UTC)).encode())
    assert root.findall("body/outline") == []


# -- TOML blocks -------------------------------------------------------------------------------


def test_toml_blocks_load_as_sources() -> None:
    sources = [
        Source("plain", "https://a.example/feed", ("architecture", "cloud")),
        Source('we"ird\\name\n\t\x7f\x00', 'https://b.example/"q"\\', (), lang="ru", enabled=False),
    ]
    data = tomllib.loads(opml.toml_blocks(sources))
    assert data["source"] == [
        {"name": "plain", "url": "https://a.example/feed", "topics": ["architecture", "cloud"]},
        {
            "name": 'we"ird\\name\n\t\x7f\x00',
            "url": 'https://b.example/"q"\\',
            "lang": "ru",
            "enabled": False,
        },
    ]


_names = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@given(
    st.lists(
        st.tuples(_names, _names, st.lists(_names, max_size=3), st.booleans()),
        max_size=5,
    )
)
def test_toml_blocks_round_trip_any_string(raw: list[tuple[str, str, list[str], bool]]) -> None:
    sources = [Source(n, u, tuple(t), enabled=e) for n, u, t, e in raw]
    data = tomllib.loads(opml.toml_blocks(sources))
    back = data.get("source", [])
    assert [
        (s["name"], s["url"], tuple(s.get("topics", ())), s.get("enabled", True)) for s in back
    ] == [(s.name, s.url, s.topics, s.enabled) for s in sources]


# -- the command line --------------------------------------------------------------------------


def _example(cli: Cli) -> Path:
    shutil.copy(EXAMPLE, cli.config)
    return cli.config


def _pairs(sources: object) -> set[tuple[str, tuple[str, ...]]]:
    assert isinstance(sources, tuple)
    return {(s.url, tuple(sorted(s.topics))) for s in sources}


def test_import_prints_new_blocks_and_skips_urls_already_present(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    cli.write_config([("krebs", "https://krebsonsecurity.com/feed/")])
    (tmp_path / "subs.opml").write_bytes(OPML_2)
    before = cli.config.read_bytes()
    done = cli.run("opml", "import", "subs.opml")
    assert done.returncode == 0, done.stderr
    assert_no_traceback(done)
    printed = tomllib.loads(done.stdout)["source"]
    assert [s["url"] for s in printed] == [
        "https://postgresweekly.com/rss",
        "https://martinfowler.com/feed.atom",
        "https://krebs-mirror.example/feed/",
    ]
    assert printed[2]["name"] == "krebs-2"  # "krebs" is taken by the config
    assert "3 new source(s)" in done.stderr
    assert cli.config.read_bytes() == before  # without --write nothing changes


def test_import_write_appends_and_keeps_the_existing_text(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    original = _example(cli).read_bytes()
    (tmp_path / "subs.opml").write_bytes(OPML_2)
    done = cli.run("opml", "import", "subs.opml", "--write")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "added 3 source(s)" in done.stderr  # Martin Fowler's feed is in the example already
    assert "1 already there" in done.stderr
    written = cli.config.read_bytes()
    assert written.startswith(original)  # comments and all, byte for byte
    assert b"\n# imported from subs.opml on " in written[len(original) :]
    checked = cli.run("check")
    assert checked.returncode == 0, checked.stderr
    config = load(cli.config)
    assert len(config.sources) == 16 + 3
    assert config.sources[-1].url == "https://krebs-mirror.example/feed/"
    again = cli.run("opml", "import", "subs.opml", "--write")
    assert again.returncode == 0
    assert "nothing new" in again.stderr
    assert cli.config.read_bytes() == written


def test_import_write_through_a_symlink_keeps_the_link_and_the_mode(tmp_path: Path) -> None:
    """A config kept in a dotfiles repository and linked into place: the new text goes to the
    link's target, the link stays a link, and the file keeps its mode (0600 here); the date of
    the import comes from the clock."""
    cli = make_cli(tmp_path)
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "feeds.toml"
    shutil.copy(EXAMPLE, real)
    real.chmod(0o600)
    cli.config.symlink_to(real)
    (tmp_path / "subs.opml").write_bytes(OPML_2)
    cli.clock = lambda: datetime(2026, 7, 14, 9, 30, tzinfo=UTC)

    done = cli.run("opml", "import", "subs.opml", "--write")

    assert done.returncode == 0, done.stderr
    assert cli.config.is_symlink()
    assert cli.config.resolve() == real.resolve()
    assert real.stat().st_mode & 0o7777 == 0o600
    assert b"\n# imported from subs.opml on 2026-07-14\n" in real.read_bytes()
    assert len(load(cli.config).sources) == 16 + 3
    assert sorted(p.name for p in dotfiles.iterdir()) == ["feeds.toml"]  # no temporary left


def test_import_write_that_would_break_the_config_changes_nothing(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    cli.config.write_text("source = []  # an inline array cannot take [[source]] tables\n")
    original = cli.config.read_bytes()
    (tmp_path / "subs.opml").write_bytes(OPML_1)
    done = cli.run("opml", "import", "subs.opml", "--write")
    assert done.returncode == 2
    assert_no_traceback(done)
    assert "left it unchanged" in done.stderr
    assert cli.config.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feeds.toml", "home", "subs.opml"]


def test_import_errors_exit_2(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    cli.write_config([])
    missing = cli.run("opml", "import", "missing.opml")
    assert missing.returncode == 2
    assert "archfeed: error: no such file: missing.opml" in missing.stderr
    (tmp_path / "hostile.opml").write_bytes(b'<!DOCTYPE x [<!ENTITY a "b">]><opml/>')
    hostile = cli.run("opml", "import", "hostile.opml")
    assert hostile.returncode == 2
    assert "OPML with a DTD is not accepted" in hostile.stderr
    for done in (missing, hostile):
        assert_no_traceback(done)


def test_export_then_import_gives_back_the_example_sources(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    example = load(_example(cli))
    exported = cli.run("opml", "export")
    assert exported.returncode == 0, exported.stderr
    root = ET.fromstring(exported.stdout.encode())
    assert len(root.findall("body/outline")) == len(example.sources)
    (tmp_path / "export.opml").write_text(exported.stdout, encoding="utf-8")

    (tmp_path / "other").mkdir()
    empty = make_cli(tmp_path / "other")
    empty.config.write_text("", encoding="utf-8")
    done = empty.run("opml", "import", str(tmp_path / "export.opml"), "--write")
    assert done.returncode == 0, done.stderr
    imported = load(empty.config)
    assert _pairs(imported.sources) == _pairs(example.sources)
    assert [s.name for s in imported.sources] == [s.name for s in example.sources]
    assert [s.lang for s in imported.sources] == [s.lang for s in example.sources]


def test_export_includes_disabled_sources_and_leaves_out_local_files(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    cli.config.write_text(
        '[[source]]\nname = "off"\nurl = "https://off.example/feed"\nenabled = false\n\n'
        '[[source]]\nname = "local"\nurl = "feed.xml"\n',
        encoding="utf-8",
    )
    done = cli.run("opml", "export")
    assert done.returncode == 0, done.stderr
    (outline,) = ET.fromstring(done.stdout.encode()).findall("body/outline")
    assert outline.get("xmlUrl") == "https://off.example/feed"
    assert "left out 1 local source(s)" in done.stderr
