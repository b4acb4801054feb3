"""Language detection against labelled sets of realistic dev-blog entries (tests/data/*.tsv)."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from archfeed.classify.language import detect
from labelled import HELD_OUT, HELD_OUT_FLOOR, LANGUAGE_SETS

DATA = Path(__file__).parent / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def _accuracy(rows: list[dict[str, str]]) -> tuple[float, list[str]]:
    wrong = []
    for row in rows:
        found, _ = detect(row["title"], row["excerpt"], None, ("en", "ru"))
        if found != row["lang"]:
            wrong.append(f"{row['lang']}→{found}: {row['title']}")
    return 1 - len(wrong) / len(rows), wrong


@pytest.fixture(scope="module", params=LANGUAGE_SETS)
def labelled(request: pytest.FixtureRequest) -> Iterator[list[dict[str, str]]]:
    if not (DATA / request.param).exists():
        pytest.skip(f"{request.param} not written yet")
    yield _rows(request.param)


def test_the_main_set_is_as_large_and_varied_as_required() -> None:
    rows = _rows("languages.tsv")
    assert len(rows) >= 200
    assert len({row["lang"] for row in rows}) >= 9
    assert sum(row["group"] == "ru-mixed" for row in rows) >= 40
    assert sum(row["lang"] == "uk" for row in rows) >= 20
    assert sum(row["group"] == "short" and not row["excerpt"] for row in rows) >= 20


def test_overall_accuracy_is_at_least_97_percent(labelled: list[dict[str, str]]) -> None:
    accuracy, wrong = _accuracy(labelled)
    assert accuracy >= 0.97, wrong


def test_the_held_out_set_loses_no_ground() -> None:
    """The goal is 98 %; this is what the rules reached on text none of them was fitted to."""
    accuracy, wrong = _accuracy(_rows(HELD_OUT))
    assert accuracy >= HELD_OUT_FLOOR, wrong


def test_each_language_of_the_world_set_is_told_apart_from_its_neighbours() -> None:
    """Twelve languages a rule could take for a neighbour (Danish, Norwegian and Swedish; Czech
    and Croatian for English or Spanish; Vietnamese for French; Persian and Arabic; short texts in
    other scripts forced to English): at most one miss in each language's 19 entries."""
    rows = _rows("languages_world.tsv")
    for lang in sorted({row["lang"] for row in rows}):
        accuracy, wrong = _accuracy([row for row in rows if row["lang"] == lang])
        assert accuracy >= 0.94, (lang, wrong)


def test_russian_full_of_english_terms_is_russian(labelled: list[dict[str, str]]) -> None:
    mixed = [row for row in labelled if row["group"] == "ru-mixed"]
    if not mixed:
        pytest.skip("this set has no Russian full of English terms")
    accuracy, wrong = _accuracy(mixed)
    assert accuracy >= 0.90, wrong


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        ("Как мы перенесли Kafka consumers на Kubernetes", "ru"),
        ("Rate limiting в Go: token bucket vs sliding window", "ru"),
        ("Як ми мігрували на Kubernetes", "uk"),
        ("Kafka vs RabbitMQ", "en"),
        ("Rustで作るWebサーバー", "ja"),
        ("Go泛型入门", "zh"),
        ("淺談 API 閘道的設計", "zh"),
        ("Kubernetes für Einsteiger", "de"),
        # a word of its own script among product names: "Kotlin or Flutter?" in Hindi, "An
        # introduction to Kotlin Multiplatform" in Persian; a Greek letter is no Greek word
        ("Kotlin या Flutter?", "hi"),
        ("معرفی Kotlin Multiplatform", "fa"),
        ("λ calculus for working programmers", "en"),
        ("TypeScript 5.5'te neler var?", "tr"),
        ("", "und"),
        ("1234 5678", "und"),
    ],
)
def test_titles_alone(title: str, lang: str) -> None:
    assert detect(title, "")[0] == lang


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        ("Sådan har vi genereret og distribueret nye nøgler til alle udviklere", "da"),
        ("Slik har vi generert og distribuert nye nøkler til alle utviklere", "no"),
        ("Så har vi genererade och distribuerade nya nycklar till alla utvecklare", "sv"),
    ],
)
def test_neighbours_that_share_their_words_are_told_apart_by_their_spellings(
    title: str, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Danish and Norwegian share "har", "vi", "og", "til", "alle": their spellings differ, and
    tell them apart without langdetect (~2 ms a call even among the three)."""

    def no_model(*_: object, **__: object) -> None:
        raise AssertionError("langdetect was asked")

    monkeypatch.setattr("archfeed.classify.language.ngrams.guess", no_model)
    assert detect(title, "")[0] == lang


def test_declared_language_settles_what_the_text_cannot() -> None:
    assert detect("Kafka vs RabbitMQ", "", declared="de") == ("de", "declared")
    assert detect("", "", declared="fr") == ("fr", "declared")
    # but never overrides what the text says
    assert detect("Как мы перенесли Kafka на Kubernetes", "", declared="en")[0] == "ru"
    assert detect("Why we moved off Kafka and what it cost us", "", declared="ru")[0] == "en"


def test_same_answer_in_threads_and_in_a_fresh_process() -> None:
    rows = _rows("languages.tsv")[:80]
    sample = [(row["title"], row["excerpt"]) for row in rows]
    here = [detect(t, x)[0] for t, x in sample]
    with ThreadPoolExecutor(8) as pool:
        threaded = list(pool.map(lambda pair: detect(*pair)[0], sample))
    assert threaded == here
    code = (
        "import csv, sys\n"
        "from archfeed.classify.language import detect\n"
        f"rows = list(csv.DictReader(open({str(DATA / 'languages.tsv')!r}, encoding='utf-8'),"
        " delimiter='\\t', quoting=csv.QUOTE_NONE))[:80]\n"
        "print(' '.join(detect(r['title'], r['excerpt'])[0] for r in rows))\n"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert fresh.stdout.split() == here
