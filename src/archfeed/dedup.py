"""Cross-posts: canonical URLs, text signatures, and the decision that two entries are one article.

Owns: the rules of DESIGN §4 for "the same article in two feeds". Pure: never does I/O; the store
indexes what `keys()` computes, and update.py asks `same_article()` about the candidates the
store finds. Precision beats recall: every rule that could merge two different articles has a
guard, because a false merge hides an article from the reader.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from archfeed.models import Article, DedupKeys

# query parameters that say who sent the reader, never which page they read
_TRACKING = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "ref", "ref_src",
                       "igshid", "yclid", "_hsenc", "_hsmi", "mkt_tok"})  # fmt: skip
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\d+")

SHINGLE = 3  # words per shingle (_grams() spells the three out, for speed)
BINS = 64  # one-permutation MinHash: each shingle hash falls into one of 64 bins
# bins per LSH band, so 16 bands: a pair at Jaccard 0.7 shares a band with p ≈ 0.99, at 0.6 with
# p ≈ 0.9, and two unrelated texts that share common phrases (J ≈ 0.05) with p ≈ 1e-4; two rows
# made every entry a candidate of ~4% of the database
ROWS = 4
SIGNATURE_WORDS = 300
MIN_WORDS = 40  # below this, texts ("Comments", a one-line blurb) never merge two entries
RETITLED_MIN_WORDS = 150  # different titles: only a whole article, not a shared intro, merges
CONTAINED = 0.9  # same title: the shorter text's shingles found in the longer (summary vs full)


def canonical_url(url: str | None) -> str | None:
    """DESIGN §4: https, lower-case host without `www.` or a default port, no fragment, no
    tracking parameters (utm_*, fbclid, gclid, mc_*, ref, Medium's `source=rss…`), the rest
    sorted, no trailing slash."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    if parts.port and str(parts.port) not in _DEFAULT_PORTS.values():
        host = f"{host}:{parts.port}"
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(key, value)
    )
    path = parts.path.rstrip("/")
    return urlunsplit(("https", host, path, urlencode(query), ""))


def _is_tracking(key: str, value: str) -> bool:
    key = key.lower()
    # Medium appends ?source=rss----<feed id>---4 to every link of a feed
    return (
        key.startswith("utm_") or key in _TRACKING or (key == "source" and value.startswith("rss"))
    )


def words(text: str) -> list[str]:
    """Lower-case words: the unit of every text comparison. (Accents stay: two copies of one
    article spell alike, and folding them cost more than the rest of the comparison.)"""
    return _WORD.findall(text.lower())


def title_key(title: str) -> str:
    return " ".join(words(title))


def shingles(tokens: list[str]) -> set[str]:
    if len(tokens) < SHINGLE:
        return {" ".join(tokens)}
    return set(_grams(tokens))


def _grams(tokens: list[str]) -> Iterator[str]:
    """Every run of three words, in order, repeats included."""
    return map(" ".join, zip(tokens, tokens[1:], tokens[2:], strict=False))


def keys(url: str | None, title: str, text: str) -> DedupKeys:
    # the signature only finds candidates (same_article compares whole texts), and the opening
    # of an article finds its copies as well as all of it, at a fixed cost
    tokens = _first_words(text, SIGNATURE_WORDS)
    # a shingle twice gives the same CRC twice: no set needed
    bands = _bands(_grams(tokens)) if len(tokens) >= MIN_WORDS else ()
    return DedupKeys(canonical_url(url), title_key(title), bands)


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
    if one.canonical_url and one.canonical_url == two.canonical_url:
        return True
    return _same_text(one, two)


def _same_text(one: Article, two: Article) -> bool:
    if one.lang != two.lang and "und" not in (one.lang, two.lang):
        return False  # a translation is another article
    if _numbers(one.title) != _numbers(two.title):
        return False  # "part 1" and "part 2", issue #41 and #42
    (count_a, a), (count_b, b) = _profile(one.text), _profile(two.text)
    shorter = min(count_a, count_b)
    same_title = title_key(one.title) == title_key(two.title)
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


def _numbers(title: str) -> tuple[str, ...]:
    return tuple(_NUMBER.findall(title))
