"""[[mute]] and [[keep]] rules as a user writes them: each field, a regex, languages and topics,
rules limited to sources, keep-only sources, `list --muted`, rules that apply at once to what was
stored before them, cross-posts (hidden only when every copy is), and a bad rule as a config
error with its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Cli

ITEMS = [
    # guid, title, link, author, categories, text
    ("1", "Sponsored: the best AI tools", "https://blog.example/1", "Ad Desk", ["promo"],
     "Buy these tools today."),
    ("2", "Job queues in PostgreSQL", "https://blog.example/2", "Anna", ["databases"],
     "Workers take jobs with SKIP LOCKED and retry with backoff."),
    ("3", "Top 10 Kubernetes tricks", "https://listicles.example/3", "Bot", ["kubernetes"],
     "Number seven will surprise you."),
    ("4", "Как мы перевели биллинг на очереди", "https://blog.example/4", "Иван", ["backend"],
     "Мы перевели биллинг на очереди и не потеряли ни одного платежа."),
]  # fmt: skip


# the aggregator's copy of "Job queues" is dated first: it is the canonical copy, the one listed
_DAYS = {"a1": "1", "a2": "6", "2": "2"}


def _rss(channel: str, items: list[tuple[str, str, str, str, list[str], str]]) -> str:
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>"
        f"<author>{author}</author>{''.join(f'<category>{c}</category>' for c in cats)}"
        f"<pubDate>{_DAYS.get(guid, guid)} Feb 2025 10:00:00 +0000</pubDate>"
        f"<description>{text}</description>"
        "</item>"
        for guid, title, link, author, cats, text in items
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{channel}</title>'
            f"<link>https://{channel}.example/</link>{body}</channel></rss>")  # fmt: skip


@pytest.fixture
def stored(cli: Cli, tmp_path: Path) -> Cli:
    (tmp_path / "blog.xml").write_text(_rss("blog", ITEMS), encoding="utf-8")
    agg: list[tuple[str, str, str, str, list[str], str]] = [("a1", "Job queues in PostgreSQL", "https://blog.example/2?utm_source=agg", "Anna",
            [], "Workers take jobs."), ("a2", "Weekly links", "https://agg.example/2", "Ed", [],
            "Links of the week.")]  # fmt: skip
    (tmp_path / "agg.xml").write_text(_rss("agg", agg), encoding="utf-8")
    _config(cli, "")
    done = cli.fetch()
    assert done.returncode == 0, done.stderr
    return cli


def _config(cli: Cli, rules: str) -> None:
    cli.config.write_text(
        f'[[source]]\nname = "blog"\nurl = "{cli.root / "blog.xml"}"\n\n'
        f'[[source]]\nname = "agg"\nurl = "{cli.root / "agg.xml"}"\n\n{rules}',
        encoding="utf-8",
    )


def _titles(cli: Cli, *args: str) -> set[str]:
    return {entry["title"] for entry in cli.list_json(*args)}


ALL = {title for _, title, *_ in ITEMS} | {"Weekly links"}


@pytest.mark.parametrize(
    ("rule", "hidden"),
    [
        ('title = ["sponsored"]', "Sponsored: the best AI tools"),
        ('title = ["top 10"]', "Top 10 Kubernetes tricks"),  # a phrase
        ('text = ["surprise you"]', "Top 10 Kubernetes tricks"),
        ('author = "Ad Desk"', "Sponsored: the best AI tools"),
        ('url = ["listicles.example"]', "Top 10 Kubernetes tricks"),
        ('category = ["promo"]', "Sponsored: the best AI tools"),
        ('title_regex = "^Sponsored:"', "Sponsored: the best AI tools"),
        ('lang = ["ru"]', "Как мы перевели биллинг на очереди"),
        ('topic = ["kubernetes"]', "Top 10 Kubernetes tricks"),
        ('sources = ["agg"]\ntitle = ["weekly"]', "Weekly links"),
    ],
)
def test_a_mute_rule_on_each_field_hides_what_it_matches(
    stored: Cli, rule: str, hidden: str
) -> None:
    _config(stored, f"[[mute]]\n{rule}\n")
    assert _titles(stored) == ALL - {hidden}
    muted = stored.list_json("--muted")
    assert [entry["title"] for entry in muted] == [hidden]
    assert muted[0]["muted_by"].startswith("[[mute]] #1 (line ")


def test_whole_words_only_and_a_rule_limited_to_sources(stored: Cli) -> None:
    _config(
        stored, '[[mute]]\ntitle = ["tool"]\n\n[[mute]]\nsources = ["agg"]\ntitle = ["sponsored"]\n'
    )
    assert _titles(stored) == ALL  # "tool" is not "tools"; blog's sponsored post is not agg's


def test_a_keep_rule_hides_the_rest_of_its_source(stored: Cli) -> None:
    _config(
        stored, '[[keep]]\nname = "only databases"\nsources = ["blog"]\ncategory = ["databases"]\n'
    )
    assert _titles(stored) == {"Job queues in PostgreSQL", "Weekly links"}  # agg: untouched
    reasons = {e["title"]: e["muted_by"] for e in stored.list_json("--muted")}
    assert reasons["Top 10 Kubernetes tricks"] == "not kept by the [[keep]] rules of blog"


def test_rules_apply_at_once_to_entries_stored_before_them(stored: Cli) -> None:
    _config(stored, '[[mute]]\nname = "no listicles"\ntitle = ["top 10"]\n')
    assert "Top 10 Kubernetes tricks" not in _titles(stored)
    counts = json.loads(stored.run("topics", "--format", "json").stdout)
    assert "kubernetes" not in {row["topic"] for row in counts}
    _config(stored, "")  # the rule removed: the entry is back, never deleted
    assert "Top 10 Kubernetes tricks" in _titles(stored)


def test_a_cross_post_is_hidden_only_when_every_copy_is(stored: Cli) -> None:
    """Muting the aggregator's author hides its copy, not the article: the blog's copy is not
    muted. Muting the article's title hides both."""
    listed = {e["title"]: e["source"] for e in stored.list_json()}
    assert listed["Job queues in PostgreSQL"] == "agg"  # the copy the rule will mute is listed
    _config(stored, '[[mute]]\nsources = ["agg"]\nauthor = ["Anna"]\n')
    assert "Job queues in PostgreSQL" in _titles(stored)
    assert stored.list_json("--muted") == []  # the article is not hidden
    _config(stored, '[[mute]]\ntitle = ["job queues"]\n')
    assert "Job queues in PostgreSQL" not in _titles(stored)
    assert "Job queues in PostgreSQL" not in _titles(stored, "--all")


def test_digest_and_counts_take_the_rules(stored: Cli) -> None:
    _config(stored, '[[mute]]\nlang = ["ru"]\n')
    digest = stored.run("digest", "--format", "json", "--dry-run")
    titles = {e["title"] for g in json.loads(digest.stdout)["groups"] for e in g["entries"]}
    assert "Как мы перевели биллинг на очереди" not in titles and titles
    langs = json.loads(stored.run("langs", "--format", "json").stdout)
    assert [row["lang"] for row in langs] == ["en"]


def test_check_says_which_rules_match_nothing(stored: Cli) -> None:
    _config(
        stored, '[[mute]]\nname = "typo"\nauthor = ["Ad Dekс"]\n\n[[mute]]\ntitle = ["sponsored"]\n'
    )
    done = stored.run("check")
    assert done.returncode == 0, done.stderr
    assert "warning: typo matches no stored entry" in done.stderr
    assert "[[mute]] #2" not in done.stderr
    assert "2 mute and keep rules" in done.stderr


@pytest.mark.parametrize(
    ("rules", "says", "line"),
    [
        ('[[mute]]\ntitle_regex = "(unclosed"\n', "'title_regex' is not a regular expression", 10),
        ('[[mute]]\nsources = ["blgo"]\ntitle = ["x"]\n', "did you mean 'blog'?", 10),
        ('[[mute]]\ntitel = ["x"]\n', "unknown key 'titel'", 10),
        ('[[mute]]\nsources = ["blog"]\n', "a [[mute]] needs a condition", 9),
        ('[[keep]]\nlang = ["english"]\n', "'english' is not an ISO 639-1 code", 10),
    ],
)
def test_a_bad_rule_is_a_config_error_with_its_line(
    stored: Cli, rules: str, says: str, line: int
) -> None:
    _config(stored, rules)  # the rule's table starts on line 9, below the two sources
    for args in (("check",), ("list",)):
        done = stored.run(*args)
        assert done.returncode == 2, done.stderr
        assert says in done.stderr
        assert f"(line {line})" in done.stderr
