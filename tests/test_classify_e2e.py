"""Language and topics as a user sees them: fetched, stored, filtered, counted, and classified
again when the config changes, without fetching again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from archfeed.classify import topics_of
from archfeed.models import Source, TopicRule
from conftest import FIXTURES, Cli

RULES = """
[topics.architecture]
keywords = ["event sourcing", "cqrs"]

[topics.databases]
keywords = ["postgres"]
categories = ["postgresql"]
"""


def _config(cli: Cli, feeds: Path, extra_source: str = "", rules: str = RULES) -> None:
    cli.config.write_text(
        f"""
[settings]
languages = ["en", "ru"]

[[source]]
name = "community"
url = "{feeds / "mixed-en.xml"}"
topics = ["architecture"]

[[source]]
name = "hub"
url = "{feeds / "mixed-ru.xml"}"
topics = ["backend"]
{extra_source}
{rules}""",
        encoding="utf-8",
    )


@pytest.fixture
def fetched(cli: Cli, tmp_path: Path) -> tuple[Cli, Path]:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    for name in ("mixed-en.xml", "mixed-ru.xml"):
        shutil.copy(FIXTURES / name, feeds / name)
    _config(cli, feeds)
    done = cli.fetch()
    assert done.returncode == 0, done.stderr
    return cli, feeds


def _titles(entries: list[dict[str, object]]) -> set[object]:
    return {entry["title"] for entry in entries}


def test_lang_and_topic_filters_return_exactly_the_right_entries(fetched: tuple[Cli, Path]) -> None:
    cli, _ = fetched
    entries = cli.list_json("--lang", "ru", "--topic", "architecture")
    assert _titles(entries) == {
        "Как мы ушли от микросервисов обратно к монолиту",  # in an English feed: detected ru
        "Event sourcing в биллинге: что пошло не так",  # architecture by keyword rule
    }
    for entry in entries:
        assert entry["lang"] == "ru"
        assert entry["topics"] == sorted(entry["topics"])
    assert _titles(cli.list_json("--lang", "en")) == {
        "Designing idempotent consumers",
        "Go generics in practice",
        "Why we rewrote our API gateway in Rust",  # in a Russian feed: detected en
    }
    # OR within an option, AND across options
    assert len(cli.list_json("-l", "ru", "-l", "en")) == 6
    assert len(cli.list_json("-t", "databases", "-t", "go")) == 2
    assert _titles(cli.list_json("-t", "databases", "-l", "en")) == set()
    # unknown values are not errors: they match nothing
    assert cli.list_json("--lang", "xx") == []
    assert cli.list_json("--topic", "no-such-topic") == []


def test_topics_of_an_entry(fetched: tuple[Cli, Path]) -> None:
    cli, _ = fetched
    by_title = {e["title"]: e for e in cli.list_json()}
    assert by_title["Индексы в PostgreSQL для тех, кто устал гадать"]["topics"] == [
        "backend",
        "databases",
        "postgresql",
    ]
    assert by_title["Event sourcing в биллинге: что пошло не так"]["topics"] == [
        "architecture",
        "backend",
        "архитектура",
    ]
    assert by_title["Go generics in practice"]["topics"] == ["architecture", "go"]


def test_langs_and_topics_count_entries(fetched: tuple[Cli, Path]) -> None:
    cli, _ = fetched
    langs = cli.run("langs", "--format", "json")
    assert json.loads(langs.stdout) == [{"lang": "en", "entries": 3}, {"lang": "ru", "entries": 3}]
    plain = cli.run("topics", "--lang", "ru")
    assert plain.stdout.splitlines()[:2] == ["architecture\t2", "backend\t2"]
    assert "databases\t1" in plain.stdout.splitlines()
    stored = dict(cli.rows("SELECT title, lang_source FROM entries"))
    assert stored["Why we rewrote our API gateway in Rust"] == "detected"


def test_editing_the_config_reclassifies_without_fetching(fetched: tuple[Cli, Path]) -> None:
    cli, feeds = fetched
    shutil.rmtree(feeds)  # nothing can be fetched again
    _config(
        cli,
        feeds,
        extra_source='lang = "ru"',
        rules=RULES + '\n[topics.rust]\nkeywords = ["rust"]\n',
    )
    done = cli.run("topics", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert "classified 6 stored entries again" in done.stderr
    assert {"topic": "rust", "entries": 1} in json.loads(done.stdout)
    hub = cli.list_json("--source", "hub")
    assert {entry["lang"] for entry in hub} == {"ru"}  # the source's lang forces it
    assert "classified" not in cli.run("langs").stderr  # once, not on every command
    _config(cli, feeds)  # and back: the detected language returns, with no detection
    assert _titles(cli.list_json("--lang", "en", "--source", "hub")) == {
        "Why we rewrote our API gateway in Rust"
    }


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("Go 1.22 ships range-over-func", True),
        ("What google learned from SRE", False),
        ("gopher conference notes", False),
        ("Tuning the dead\n letter   queue", True),
        ("a dead letter in the queue", False),
        ("GO: the runtime", True),
    ],
)
def test_keywords_match_whole_words_and_phrases(text: str, matches: bool) -> None:
    rules = (
        TopicRule("go-lang", keywords=("go",)),
        TopicRule("dlq", keywords=("dead letter queue",)),
    )
    found = topics_of((), text, "", Source(name="s", url="https://s.example/f"), rules)
    assert bool(found) == matches


def test_categories_become_slugs_and_map_to_rules() -> None:
    rules = (TopicRule("security", categories=("appsec",)),)
    found = topics_of(
        ("#Micro Services", "AppSec"), "t", "", Source(name="s", url="https://s/f"), rules
    )
    assert found == ("appsec", "micro-services", "security")
