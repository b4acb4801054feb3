"""Cross-posts: the keys that find an entry's copies, and the decision that two entries are one
article.

Owns: the rules of DESIGN §4 for "the same article in two feeds". Pure: never
does I/O; the store indexes what `keys()` computes, and update.py asks `same_article()` about the
candidates the store finds. Beside it: urls.py (canonical links, private hosts), boilerplate.py
(what is not the article). Precision beats recall: every rule that could merge two different
articles has a guard, because a false merge hides an article from the reader.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from datetime import timedelta
from difflib import SequenceMatcher
from functools import lru_cache

from archfeed.dedup.boilerplate import Sibling, siblings, visible, words
from archfeed.dedup.urls import canonical_url, is_private
from archfeed.models import Article, DedupKeys

__all__ = ["RULES", "Sibling", "canonical_url", "keys", "same_article", "siblings", "title_key"]

# The version of the rules below: a database whose copies were found under other rules has them
# found again, once (update.rematch)
RULES = "2"

SHINGLE = 3  # words per shingle (_grams() spells the three out, for speed)
BINS = 64  # one-permutation MinHash: each shingle hash falls into one of 64 bins
# bins per LSH band, so 16 bands: a pair at Jaccard 0.7 shares a band with p ≈ 0.99, at 0.6 with
# p ≈ 0.9, and two unrelated texts that share common phrases (J ≈ 0.05) with p ≈ 1e-4; two rows
# made every entry a candidate of ~4% of the database
ROWS = 4
SIGNATURE_WORDS = 300
MIN_WORDS = 40  # below this, whole-text similarity says nothing: the opening rule decides
RETITLED_MIN_WORDS = 150  # unrelated titles: only a whole article, not a shared intro, merges
CONTAINED = 0.9  # same title: the shorter text's shingles found in the longer (summary vs full)

# The opening rule, for excerpts: the shorter text, all of it, is how the longer one begins
OPENING_MIN_WORDS = 12  # and at least this many of its words are shared…
OPENING_MIN_LETTERS = 60  # …holding at least this many letters (a Russian word is longer)
RETITLED_OPENING_WORDS = 20  # the same, when the titles share nothing: a copy retitled, not an
RETITLED_OPENING_LETTERS = 100  # intro or a first sentence that several articles share
OPENING_MAX_WORDS = 120  # a longer text is an article, not an excerpt: the Jaccard rules decide
OPENING_COVER = 0.85  # share of the shorter text's words found in order (a typo, an emoji line)
OPENING_SLACK = 12  # words the longer one may have before the shared start (its own note)
OPENING_WINDOW = timedelta(days=30)  # the copies' publication dates, unless the titles agree
OPENING_CHARS = 3000  # what is read of a text for its opening: more than OPENING_MAX_WORDS
ANCHOR_WORDS = 24  # the opening words whose shingles give the anchors
ANCHORS = 4  # the smallest shingle hashes of those: a 12-word excerpt of a 24-word opening
# shares one with p ≈ 0.93, an identical opening all four
ANCHOR_BAND = 16  # anchors are indexed beside the 16 LSH bands in entry_bands, as "band" 16

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


def title_key(title: str) -> str:
    return " ".join(words(title))


def shingles(tokens: list[str]) -> set[str]:
    if len(tokens) < SHINGLE:
        return {" ".join(tokens)}
    return set(_grams(tokens))


def _grams(tokens: list[str]) -> Iterator[str]:
    """Every run of three words, in order, repeats included."""
    return map(" ".join, zip(tokens, tokens[1:], tokens[2:], strict=False))


def keys(
    url: str | None,
    title: str,
    text: str,
    origin: str | None = None,
    sibling: Sibling = Sibling(),  # noqa: B008 -- frozen, so one shared default is safe
) -> DedupKeys:
    """What the store indexes and keeps of an entry. `origin` is the link its text names as where
    it was first published; `sibling` what its source repeats (boilerplate.siblings)."""
    # the signature only finds candidates (same_article compares whole texts), and the opening
    # of an article finds its copies as well as all of it, at a fixed cost
    tokens = _first_words(text, SIGNATURE_WORDS)
    # a shingle twice gives the same CRC twice: no set needed
    bands = _bands(_grams(tokens)) if len(tokens) >= MIN_WORDS else ()
    opening = _opening(text, 0, sibling.trail)
    # anchors of the whole opening find copies that carry the source's intro too, those after it
    # the copies that do not
    anchors = _anchors(opening) | _anchors(opening[sibling.lead :])
    return DedupKeys(
        canonical_url(url), title_key(title), bands, tuple(sorted(anchors)), canonical_url(origin),
        sibling.lead, sibling.trail, sibling.generic_title, is_private(url),
    )  # fmt: skip


def _first_words(text: str, count: int) -> list[str]:
    """words(text)[:count], reading no more of a long text than those words need."""
    chars = count * 8
    while True:
        head = text[:chars]
        tokens = words(head)
        # only the last word can be cut short by the slice
        if len(tokens) > count or len(head) == len(text):
            return tokens[:count]
        chars *= 2


def _opening(text: str, lead: int, trail: int) -> list[str]:
    """The visible words an excerpt begins with; the end of a long text is far away."""
    if len(text) > OPENING_CHARS:
        return visible(text[:OPENING_CHARS], lead)
    return visible(text, lead, trail)


def _anchors(opening: list[str]) -> set[int]:
    if len(opening) < OPENING_MIN_WORDS:
        return set()
    hashes = sorted({zlib.crc32(gram.encode()) for gram in _grams(opening[:ANCHOR_WORDS])})
    return {value | ANCHOR_BAND << 32 for value in hashes[:ANCHORS]}


def _bands(grams: Iterable[str]) -> tuple[int, ...]:
    """LSH bands of a one-permutation MinHash: one CRC per shingle, the minimum in each bin,
    ROWS bins to a band. An empty bin borrows from the next filled one ("rotation"
    densification), so a 200-word text still fills every band, the same way in every copy."""
    empty = 1 << 32  # above any CRC-32
    # in descending order, the last value written to a bin is its minimum
    lowest = {
        value % BINS: value
        for value in sorted(map(zlib.crc32, map(str.encode, grams)), reverse=True)
    }
    if not lowest:
        return ()
    minima = [lowest.get(slot, empty) for slot in range(BINS)]
    for slot in range(BINS):
        if minima[slot] == empty:
            distance = next(d for d in range(1, BINS) if minima[(slot + d) % BINS] != empty)
            minima[slot] = -(minima[(slot + distance) % BINS] * BINS + distance)  # never a CRC
    return tuple(
        # band number and a hash of its minima in one 37-bit integer: an SQLite INTEGER
        zlib.crc32(repr((band, *minima[band * ROWS : (band + 1) * ROWS])).encode()) | band << 32
        for band in range(BINS // ROWS)
    )


def same_article(one: Article, two: Article) -> bool:
    """Are these two entries, from two sources, copies of one article?"""
    if one.source == two.source:
        return False  # a feed repeating itself is its own business, not a cross-post
    if one.keys.canonical_url and one.keys.canonical_url == two.keys.canonical_url:
        return True
    if one.lang != two.lang and "und" not in (one.lang, two.lang):
        return False  # a translation is another article
    if _cites(one.keys, two.keys) or _cites(two.keys, one.keys):
        return True  # "Originally published at <the other copy>"
    if _counted_apart(one, two):
        return False  # "part 1" and "part 2", issue #41 and #42, "Part one" and "Part two"
    return _same_text(one, two) or _same_opening(one, two)


def _cites(copy: DedupKeys, original: DedupKeys) -> bool:
    return bool(copy.origin_url) and copy.origin_url == original.canonical_url


def _counted_apart(one: Article, two: Article) -> bool:
    """Titles that count differently: another part, issue or version. A number only one title
    has is no count when the other copy's text has it too ("We removed 900 sidecars" over "Every
    one of our 900 pods…"); a part number (under 10) or a part in words always counts."""
    if one.keys.generic_title or two.keys.generic_title:
        return False  # a headline of the source's says nothing of the article
    a, b = _counts(one.keys.title_key), _counts(two.keys.title_key)
    if a == b:
        return False
    return not (_explained(set(a) - set(b), two.text) and _explained(set(b) - set(a), one.text))


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
    return numbers <= set(_opening(text, 0, 0))


def _same_title(one: Article, two: Article) -> bool:
    specific = not (one.keys.generic_title or two.keys.generic_title)
    return specific and one.keys.title_key == two.keys.title_key


def _same_text(one: Article, two: Article) -> bool:
    (count_a, a), (count_b, b) = _profile(one.text), _profile(two.text)
    shorter = min(count_a, count_b)
    same_title = _same_title(one, two)
    if shorter < MIN_WORDS or (not same_title and shorter < RETITLED_MIN_WORDS):
        return False
    if len(a & b) / len(a | b) >= _threshold(shorter):
        return True
    # the same title, one copy a summary of the other: its every sentence inside the longer one
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return same_title and len(small & large) / len(small) >= CONTAINED


@lru_cache(maxsize=512)
def _profile(text: str) -> tuple[int, frozenset[str]]:
    """Word count and shingles of a text, kept for the candidates compared one after another."""
    tokens = words(text)
    return len(tokens), frozenset(shingles(tokens))


def _threshold(length: int) -> float:
    """Jaccard of word 3-gram shingles a copy must reach: stricter for shorter texts, where a
    shared paragraph weighs more. A 10-word footer on a 150-word article leaves ~0.88."""
    if length < 100:
        return 0.8
    if length < 400:
        return 0.7
    return 0.6


def _same_opening(one: Article, two: Article) -> bool:
    """The excerpt rule: the shorter text, once what its source repeats is set aside, is the
    opening of the longer one, numbers and all, up to small edits; under unrelated titles (a
    copy retitled, or another article with the same intro) it must say more."""
    a, b = _openings(one, two)
    if len(a) > len(b):
        a, b = b, a
    if not OPENING_MIN_WORDS <= len(a) <= OPENING_MAX_WORDS:
        return False
    window = b[: len(a) + OPENING_SLACK]
    matcher = SequenceMatcher(None, a, window, autojunk=False)
    blocks = [m for m in matcher.get_matching_blocks() if m.size]
    matched = [word for m in blocks for word in a[m.a : m.a + m.size]]
    if not _close_in_time(one, two):
        return False
    if _related_titles(one, two):
        least, letters = OPENING_MIN_WORDS, OPENING_MIN_LETTERS
    else:
        # a retitled copy's titles both speak of what it says; an intro that several articles
        # share ("Hi, I'm Anna, a backend engineer…") says nothing of their titles
        said = {word[:_STEM] for word in matched}
        titles = (_title_stems(one.keys.title_key), _title_stems(two.keys.title_key))
        if not all(stems & said for stems in titles):
            return False
        least, letters = RETITLED_OPENING_WORDS, RETITLED_OPENING_LETTERS
    if len(matched) < max(least, OPENING_COVER * len(a)) or sum(map(len, matched)) < letters:
        return False
    return blocks[0].b <= OPENING_SLACK and not _numbers_differ(matcher, a, window)


def _close_in_time(one: Article, two: Article) -> bool:
    """Copies are cross-posted within days; a post that quotes another's opening weeks later is a
    follow-up. The same title over the same opening needs no such proof."""
    if _same_title(one, two) or one.published is None or two.published is None:
        return True
    return abs(one.published - two.published) <= OPENING_WINDOW


def _numbers_differ(matcher: SequenceMatcher[str], a: list[str], b: list[str]) -> bool:
    """A version, a count or a date that differs is another article from the same template; a
    number written out in words in one copy ("40 минут", "сорок минут") is an edit. What the
    longer text has before or after the shared span is not compared."""
    codes = matcher.get_opcodes()
    while codes and codes[0][0] == "insert":
        codes.pop(0)
    while codes and codes[-1][0] == "insert":
        codes.pop()
    for tag, a1, a2, b1, b2 in codes:
        if tag == "equal":
            continue
        mine, theirs = _digits(a[a1:a2]), _digits(b[b1:b2])
        if tag != "replace" and (mine or theirs):
            return True  # a number only one side has, in the shared span
        if mine and theirs and mine != theirs:
            return True
    return False


def _digits(tokens: list[str]) -> list[str]:
    return [word for word in tokens if word.isdigit()]


def _openings(one: Article, two: Article) -> tuple[list[str], list[str]]:
    """Both openings without what their sources repeat; when the two begin with the same
    repeated words (a series' intro in one source only), both lose them."""
    a = _opening(one.text, 0, one.keys.trail)
    b = _opening(two.text, 0, two.keys.trail)
    lead = max(one.keys.lead, two.keys.lead)
    if lead and a[:lead] == b[:lead]:
        return a[lead:], b[lead:]
    return a[one.keys.lead :], b[two.keys.lead :]


_STEM = 5  # letters compared of a title word: "миграция" and "миграции", "deletes" and "delete"


def _related_titles(one: Article, two: Article) -> bool:
    """Titles that could name one article: the same, sharing two words of substance (one when a
    title has no more), or one of them a headline the source gives any item."""
    if one.keys.generic_title or two.keys.generic_title or _same_title(one, two):
        return True
    a, b = _title_stems(one.keys.title_key), _title_stems(two.keys.title_key)
    shared = len(a & b)
    return shared >= 2 or (shared >= 1 and min(len(a), len(b)) <= 2)


def _title_stems(key: str) -> set[str]:
    return {word[:_STEM] for word in key.split() if len(word) >= 4}
