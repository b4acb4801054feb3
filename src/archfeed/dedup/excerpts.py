"""The excerpt rule: an entry whose text is how another's begins is a copy of it, and the anchors
that find such entries.

Owns: how an opening is compared (aligned word by word, small edits allowed, numbers kept) and how
much it must say under related or unrelated titles. Never looks past a text's opening, and never
decides alone: dedup/__init__.py asks it after the URL and whole-text rules.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from datetime import timedelta
from difflib import SequenceMatcher

from archfeed.dedup import titles
from archfeed.dedup.boilerplate import HEAD_CHARS, head, whole
from archfeed.models import Article

# The opening rule: the shorter text, all of it, is how the longer one begins
OPENING_MIN_WORDS = 12  # and at least this many of its words are shared…
OPENING_MIN_LETTERS = 60  # …holding at least this many letters (a Russian word is longer)
RETITLED_OPENING_WORDS = 20  # the same, when the titles share nothing: a copy retitled, not an
RETITLED_OPENING_LETTERS = 100  # intro or a first sentence that several articles share
OPENING_MAX_WORDS = 120  # a longer text is an article, not an excerpt: the Jaccard rules decide
OPENING_COVER = 0.85  # share of the shorter text's words found in order (a typo, an emoji line)
OPENING_SLACK = 12  # words the longer one may have before the shared start under one title…
OPENING_PREFIX = 3  # …and under two that are not a source's headline (a heading: more is a
# lead-in to a quote)
OPENING_WINDOW = timedelta(days=30)  # the copies' publication dates, unless the titles agree
ANCHOR_WORDS = 24  # the opening words whose shingles give the anchors
ANCHORS = 4  # the smallest shingle hashes of those: a 12-word excerpt of a 24-word opening
# shares one with p ≈ 0.93, an identical opening all four
ARTICLE_ANCHORS = 2  # of those, an article's: a 12-word excerpt shares one with p ≈ 0.71, a
# 24-word one all of them, at half the index rows in full-text feeds
# anchors are indexed beside the 16 LSH bands in entry_bands, as "band" 16 (an excerpt's) or 17
ANCHOR_BAND = 16


def grams(tokens: Sequence[str]) -> Iterator[str]:
    """Every run of three words, in order, repeats included."""
    return map(" ".join, zip(tokens, tokens[1:], tokens[2:], strict=False))


def opening(text: str, trail: int) -> tuple[str, ...]:
    """The visible words a text begins with (without its source's `trail` words when it is short
    enough to end there); the end of a long text is far away."""
    if len(text) > HEAD_CHARS:
        return head(text)
    start = whole(text)
    return start[: len(start) - trail] if trail < len(start) else ()


def anchors(start: Sequence[str]) -> set[int]:
    """The ANCHORS smallest hashes of the shingles of an opening: index keys a copy shares."""
    if len(start) < OPENING_MIN_WORDS:
        return set()
    return set(
        sorted({zlib.crc32(gram.encode()) for gram in grams(start[:ANCHOR_WORDS])})[:ANCHORS]
    )


def anchor_rows(hashes: set[int], excerpt: bool) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The index rows of an entry's anchors, and those it looks up. The excerpt rule needs one
    of the two to be an excerpt, so an article's anchors are filed apart from an excerpt's, and
    an article looks only for excerpts: two articles are never candidates by their openings
    alone (their bands find them), which keeps full-text feeds at the cost of one lookup."""
    if not excerpt:  # an excerpt of 24 words or more has all of them: two is enough
        hashes = set(sorted(hashes)[:ARTICLE_ANCHORS])
    own = ANCHOR_BAND if excerpt else ANCHOR_BAND + 1
    rows = tuple(sorted(value | own << 32 for value in hashes))
    probes = [value | ANCHOR_BAND << 32 for value in hashes]
    if excerpt:
        probes += [value | (ANCHOR_BAND + 1) << 32 for value in hashes]
    return rows, tuple(sorted(probes))


def is_excerpt(start: Sequence[str], lead: int) -> bool:
    """Short enough, once its source's lead is set aside, for the excerpt rule to apply."""
    return len(start) - lead <= OPENING_MAX_WORDS + OPENING_SLACK


def same_opening(one: Article, two: Article) -> bool:
    """The excerpt rule: the shorter text, once what its source repeats is set aside, is the
    opening of the longer one, numbers and all, up to small edits; under unrelated titles (a
    copy retitled, or another article with the same intro) it must say more."""
    if not (one.keys.excerpt or two.keys.excerpt) or not _close_in_time(one, two):
        return False  # two articles (not worth reading their openings), or weeks apart
    a, b = _openings(one, two)
    if len(a) > len(b):
        a, b = b, a
    if not OPENING_MIN_WORDS <= len(a) <= OPENING_MAX_WORDS:
        return False
    window = b[: len(a) + OPENING_SLACK]
    matcher = SequenceMatcher(None, a, window, autojunk=False)
    blocks = [m for m in matcher.get_matching_blocks() if m.size]
    matched = [word for m in blocks for word in a[m.a : m.a + m.size]]
    if titles.related(one, two):
        least, letters = OPENING_MIN_WORDS, OPENING_MIN_LETTERS
    else:
        # a retitled copy's titles both speak of what it says; an intro that several articles
        # share ("Hi, I'm Anna, a backend engineer…") says nothing of their titles
        # (a title made of the text's own first words, an untitled item's, speaks of nothing)
        said = {word[: titles.STEM] for word in matched}
        for article in (one, two):
            if not titles.stems(article.keys.title_key) & said or titles.derived(article):
                return False
        least, letters = RETITLED_OPENING_WORDS, RETITLED_OPENING_LETTERS
    if len(matched) < max(least, OPENING_COVER * len(a)) or sum(map(len, matched)) < letters:
        return False
    # words of its own before the shared opening: a heading at most, unless the titles agree or
    # one is the source's headline ("Spotted on medium.com:"); under two titles a longer lead-in
    # ("Two months ago I wrote:") introduces a quote
    generic = one.keys.generic_title or two.keys.generic_title
    before = OPENING_SLACK if generic or titles.same(one, two) else OPENING_PREFIX
    return blocks[0].b <= before and not _numbers_differ(matcher, a, window)


def _close_in_time(one: Article, two: Article) -> bool:
    """Copies are cross-posted within days; a post that quotes another's opening weeks later is a
    follow-up. The same title over the same opening needs no such proof."""
    if titles.same(one, two) or one.published is None or two.published is None:
        return True
    return abs(one.published - two.published) <= OPENING_WINDOW


def _numbers_differ(matcher: SequenceMatcher[str], a: Sequence[str], b: Sequence[str]) -> bool:
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


def _digits(tokens: Sequence[str]) -> list[str]:
    return [word for word in tokens if word.isdigit()]


def _openings(one: Article, two: Article) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Both openings without what their sources repeat; when the two begin with the same
    repeated words (a series' intro in one source only), both lose them."""
    a = opening(one.text, one.keys.trail)
    b = opening(two.text, two.keys.trail)
    lead = max(one.keys.lead, two.keys.lead)
    if lead and a[:lead] == b[:lead]:
        return a[lead:], b[lead:]
    return a[one.keys.lead :], b[two.keys.lead :]
