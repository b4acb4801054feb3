"""Titles as the cross-post rules read them: their key, whether two could name one article, and
whether they count apart (another part, issue or version).

Owns: number words and the words that count parts of a series, as data. Never reads a text
beyond its opening, and never decides alone: dedup/__init__.py does.
"""

from __future__ import annotations

import re

from archfeed.dedup.boilerplate import words
from archfeed.models import Article

_NUMBER = re.compile(r"\d+")
_SMALL = 10  # a number of a title below this may be a part's: never explained by a text
# counted parts of a series, spelled out: "Part one", "Часть вторая", "(II)"
_ORDINALS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve first second third fourth "
    "fifth sixth seventh eighth ninth tenth final last один одна два две три четыре пять первый "
    "первая первое второй вторая второе третий третья третье четвертый четвертая пятый пятая "
    "последняя заключительная".split()
)
_SERIES = frozenset(
    "part parts chapter episode ep issue vol volume step lesson day week часть части глава "
    "серия эпизод выпуск шаг урок день неделя".split()
)
_ROMAN = frozenset("ii iii iv vi vii viii ix xi xii".split())
# a number that marks a part, an issue or a version: "Part 2", "#42", "№ 7", "(2/3)", "2 of 3",
# "v2", "2.3.1", "(II)", "Part two"
_PART = re.compile(
    rf"(?:\b(?:{'|'.join(sorted(_SERIES))})|[#№])\s*\d+|\d+\s*(?:/|of|из)\s*\d+|\bv\d+"
    rf"|\d+\.\d+|\b(?:{'|'.join(sorted(_ROMAN))})\b"
    rf"|\b(?:{'|'.join(sorted(_SERIES))})\W+(?:{'|'.join(sorted(_ORDINALS))})\b"
    rf"|\b(?:{'|'.join(sorted(_ORDINALS))})\W+(?:{'|'.join(sorted(_SERIES))})\b",
    re.IGNORECASE,
)
# words of four letters or more that say nothing of what a title is about
_FUNCTION = frozenset(
    "this that with from your what when have into about will them they their which than then "
    "there these those were been over just more most some also only very after before where "
    "этот эта это эти если чтобы когда было были будет почему зачем тогда только через после "
    "свой свои наши ваши".split()
)
STEM = 5  # letters compared of a title word: "миграция" and "миграции", "deletes" and "delete"
_TEXT_CHARS = 3000  # what is read of a text for the numbers that explain a title


def key(title: str) -> str:
    return " ".join(words(title))


def same(one: Article, two: Article) -> bool:
    specific = not (one.keys.generic_title or two.keys.generic_title)
    return specific and one.keys.title_key == two.keys.title_key


def related(one: Article, two: Article) -> bool:
    """Titles that could name one article: the same, sharing two words of substance (one when a
    title has no more), or one of them a headline the source gives any item. An untitled item's
    title, its text's first words, is related to nothing but itself."""
    if one.keys.generic_title or two.keys.generic_title or same(one, two):
        return True
    if derived(one) or derived(two):
        return False
    a, b = stems(one.keys.title_key), stems(two.keys.title_key)
    shared = len(a & b)
    return shared >= 2 or (shared >= 1 and min(len(a), len(b)) <= 2)


def stems(key: str) -> set[str]:
    return {word[:STEM] for word in key.split() if len(word) >= 4 and word not in _FUNCTION}


def derived(article: Article) -> bool:
    """A title made of the text's first words: what a feed item without a title is given."""
    key = article.keys.title_key.split()
    start = words(article.text[: len(article.title) + 200])
    return len(key) >= 3 and key[:-1] == start[: len(key) - 1]


def counted_apart(one: Article, two: Article) -> bool:
    """Titles that count differently: another part, issue or version. When both count, a number
    only one has is no count if the other copy's text has it too ("We removed 900 sidecars" over
    "Every one of our 900 pods…"); a part number (under 10) or a part in words always counts.
    When only one counts (a retitled copy adds "across 12 services"), it must mark a part, an
    issue or a version."""
    if one.keys.generic_title or two.keys.generic_title:
        return False  # a headline of the source's says nothing of the article
    a, b = _counts(one.keys.title_key), _counts(two.keys.title_key)
    if a == b:
        return False
    if a and b:
        return not (_explained(set(a) - set(b), two.text) and _explained(set(b) - set(a), one.text))
    return bool(_PART.search((one if a else two).title))


def _counts(key: str) -> tuple[str, ...]:
    """The numbers of a title, and its parts in words or roman numerals ("Part two", "(II)",
    "Часть вторая"): a number word counts only beside a word that counts parts."""
    tokens = key.split()
    return tuple(
        word for at, word in enumerate(tokens)
        if _NUMBER.fullmatch(word) or word in _ROMAN
        or (word in _ORDINALS and not _SERIES.isdisjoint(tokens[max(at - 1, 0) : at + 2]))
    )  # fmt: skip


def _explained(numbers: set[str], text: str) -> bool:
    if not numbers:
        return True
    if not all(_NUMBER.fullmatch(n) and int(n) >= _SMALL for n in numbers):
        return False
    return numbers <= set(words(text[:_TEXT_CHARS]))
