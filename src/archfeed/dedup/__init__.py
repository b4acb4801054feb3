"""Cross-posts: the keys that find an entry's copies, and the decision that two entries are one
article.

Owns: the rules of docs/design.md ("Cross-posts") for "the same article in two feeds". Pure: never
does I/O; the store indexes what `keys()` computes, and update.py asks `same_article()` about the
candidates the store finds. Beside it: urls.py (canonical links, private hosts), boilerplate.py
(what is not the article), titles.py (what titles say), excerpts.py (the excerpt rule). Precision
beats recall: every rule that could merge two different articles has a guard, because a false merge
hides an article from the reader."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from functools import lru_cache

from archfeed.dedup import titles
from archfeed.dedup.boilerplate import Sibling, head, siblings, whole, words
from archfeed.dedup.excerpts import anchor_rows, anchors, grams, is_excerpt, opening, same_opening
from archfeed.dedup.titles import key as title_key
from archfeed.dedup.urls import canonical_url, is_private
from archfeed.models import Article, DedupKeys

__all__ = [
    "RULES", "Sibling", "canonical_url", "forget", "keys", "same_article", "siblings", "title_key",
]  # fmt: skip

# The version of the rules below: a database whose copies were found under other rules has them
# found again, once (update.rematch)
RULES = "2"

SHINGLE = 3  # words per shingle (grams() spells the three out, for speed)
BINS = 64  # one-permutation MinHash: each shingle hash falls into one of 64 bins
# bins per LSH band, so 16 bands: a pair at Jaccard 0.7 shares a band with p ≈ 0.99, at 0.6 with
# p ≈ 0.9, and two unrelated texts that share common phrases (J ≈ 0.05) with p ≈ 1e-4; two rows
# made every entry a candidate of ~4% of the database
ROWS = 4
SIGNATURE_WORDS = 300  # of the opening (boilerplate.HEAD_CHARS): what the signature reads
MIN_WORDS = 40  # below this, whole-text similarity says nothing: the opening rule decides
RETITLED_MIN_WORDS = 150  # unrelated titles: only a whole article, not a shared intro, merges
CONTAINED = 0.9  # same title: the shorter text's shingles found in the longer (summary vs full)


def shingles(tokens: list[str]) -> set[str]:
    if len(tokens) < SHINGLE:
        return {" ".join(tokens)}
    return set(grams(tokens))


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
    # of an article finds its copies as well as all of it, at a fixed cost; both read the words
    # that belong to the article, once
    start = opening(text, sibling.trail)
    # a shingle twice gives the same CRC twice: no set needed
    bands = _bands(grams(start[:SIGNATURE_WORDS])) if len(start) >= MIN_WORDS else ()
    # anchors of the whole opening find copies that carry the source's intro too, those after it
    # the copies that do not
    found = anchors(start) | (anchors(start[sibling.lead :]) if sibling.lead else set())
    excerpt = is_excerpt(start, sibling.lead)
    rows, probes = anchor_rows(found, excerpt)
    return DedupKeys(
        canonical_url(url), title_key(title), bands, rows, probes, canonical_url(origin),
        sibling.lead, sibling.trail, sibling.generic_title, is_private(url), excerpt,
    )  # fmt: skip


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
    if titles.counted_apart(one, two):
        return False  # "part 1" and "part 2", issue #41 and #42, "Part one" and "Part two"
    return _same_text(one, two) or same_opening(one, two)


def _cites(copy: DedupKeys, original: DedupKeys) -> bool:
    return bool(copy.origin_url) and copy.origin_url == original.canonical_url


def _same_text(one: Article, two: Article) -> bool:
    (count_a, a), (count_b, b) = _profile(one.text), _profile(two.text)
    shorter = min(count_a, count_b)
    same_title = titles.same(one, two)
    if shorter < MIN_WORDS or (not same_title and shorter < RETITLED_MIN_WORDS):
        return False
    if len(a & b) / len(a | b) >= _threshold(shorter):
        return True
    # the same title, one copy a summary of the other: its every sentence inside the longer one
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return same_title and len(small & large) / len(small) >= CONTAINED


def forget() -> None:
    """Drop the words kept of one feed's texts (read for what the source repeats, then for each
    entry's keys): kept past their feed, up to 2,048 texts and their words stayed in every
    worker (82 MB a worker at peak on benchmarks/peers.py; 17 MB when they go)."""
    whole.cache_clear()
    head.cache_clear()


@lru_cache(maxsize=128)
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
