"""What is not the article: the tails feeds append to an excerpt, the mark of a cut, an "Update:"
line, and the openings, endings and titles a source repeats across its own items.

Owns: that knowledge as data (the phrase lists below) and the two functions that apply it: the
words of an entry that may count as evidence (`visible`), and what one source repeats (`siblings`).
Never decides that two entries are one article: dedup/__init__.py does, on what is left.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from archfeed.text import shared_openings

# Tails that feeds add after an excerpt, matched at the end of the text (case-insensitive), as
# many times as they stack ("… Read more » Comments"). Each is written as it is seen in feeds.
TAILS = (
    r"read more",
    r"read the (?:full|whole|rest of the) (?:article|story|post)(?: (?:on|at) .{1,80})?",
    r"continue reading(?: (?:on|at) [\w .-]{1,40})?",  # Medium: "Continue reading on Medium »"
    r"keep reading",
    r"the post .{1,300} (?:appeared|first appeared) (?:first )?on .{1,120}",  # WordPress
    r"запись .{1,300} впервые появилась .{1,120}",  # WordPress in Russian
    r"(?:this (?:post|article) was )?(?:originally|first) (?:published|posted) (?:at|on|in) .+",
    r"cross-?posted (?:from|to) .{1,200}",
    r"(?:\d+ )?comments?",
    r"читать (?:далее|дальше|полностью|продолжение)",
    r"подробнее(?: [\w .-]{1,40})?",
    r"(?:впервые|первоначально) опубликован\w* .{1,200}",
    r"(?:\d+ )?комментари\w*",
)
_TAIL = re.compile(rf"(?:{'|'.join(TAILS)})[\s\W]*", re.IGNORECASE | re.DOTALL)
# how a tail above begins: only where one of these stands is a tail tried, since trying every
# pattern at every position cost 100 µs per text
_TAIL_HEAD = re.compile(
    # the lookahead rejects most positions at once: 23 µs per 800 characters instead of 104
    r"(?<!\w)(?=[rcktзoфпчвf\d])(?:read|continue|keep|the post|запись|this (?:post|article)"
    r"|originally|first|cross|comment|\d+ comment|читать|подробнее|впервые|первоначально"
    r"|(?:\d+ )?комментари)",
    re.IGNORECASE,
)
_CUT = re.compile(r"\[\s*(?:…|\.\.\.)\s*\]|\(\s*(?:…|\.\.\.)\s*\)|…|\.\.\.+")
# after the last cut, the feed's own lines ("Tell me in the comments below", "Follow for more"):
# a cut followed by more than this many words is the writer's "…", not the feed's
AFTER_CUT = 40
# a note put before the article, up to its first full stop: an update, or where it first appeared
_NOTE = re.compile(
    r"^\W*(?:update[sd]?|upd|edit(?:ed)?|обновлено|обновление|апдейт"
    r"|(?:originally|first) (?:published|posted)|cross-?post(?:ed)?(?: from)?"
    r"|(?:this|это) (?:is a )?(?:cross-?post|кросс-?пост)|кросс-?пост"
    r"|(?:впервые|первоначально) опубликован\w*)\b"
    # up to the end of its sentence: a full stop before a capital, not the one in "Node.js 22.9"
    r".{0,300}?[.!?]\s+(?=[\"'«“]?[A-ZА-ЯЁ])",
    re.IGNORECASE | re.DOTALL,
)
_WORD = re.compile(r"\w+")
MAX_TAILS = 4  # tails that stack at the end of one excerpt
_TAIL_REACH = 500  # characters: the longest tail above (WordPress's, with a long title), and more


def words(text: str) -> list[str]:
    """Lower-case words: the unit of every text comparison (ё is е: Russian writes both)."""
    return _WORD.findall(text.lower().replace("ё", "е"))


def visible(text: str, lead: int = 0, trail: int = 0, complete: bool = True) -> list[str]:
    """The words of an excerpt that belong to the article: without the tails a feed appends, an
    "Update:" or "Originally published at" note before it, the word a cut may have halved, and
    the `lead` and `trail` words its source repeats in other items. `complete=False`: `text` is the
    beginning of a longer one, so it has no tail and no cut."""
    if not complete:
        return words(_NOTE.sub("", text))[lead:]
    # tails are looked for in the last characters only: a search over a whole 200 kB body
    # would try every pattern at every position
    body, end = text[:-_TAIL_REACH], text[-_TAIL_REACH:]
    for _ in range(MAX_TAILS):
        start = _tail_start(end)
        if start is None:
            break
        end = end[:start]
    cut = _last_cut(end)
    text = _NOTE.sub("", body + (end[: cut.start()] if cut else end))
    tokens = words(text)
    if cut and tokens:
        tokens.pop()  # "as easy as adding a tra…": the last word may be cut short
    return tokens[lead : len(tokens) - trail] if lead + trail < len(tokens) else []


def _last_cut(text: str) -> re.Match[str] | None:
    """The mark of the cut that ends an excerpt, when only a few words follow it."""
    cut = None
    for cut in _CUT.finditer(text):  # noqa: B007 -- the last one is wanted
        pass
    if cut and len(_WORD.findall(text, cut.end())) > AFTER_CUT:
        return None
    return cut


def _tail_start(text: str) -> int | None:
    """Where the first tail that runs to the end of `text` begins, if one does."""
    for head in _TAIL_HEAD.finditer(text):
        if _TAIL.fullmatch(text, head.start()):
            return head.start()
    return None


@lru_cache(maxsize=1024)
def whole(text: str) -> tuple[str, ...]:
    """visible(text), kept: a short text is read for what its source repeats, for its keys and
    as each candidate compared in turn."""
    return tuple(visible(text))


@lru_cache(maxsize=1024)
def head(text: str) -> tuple[str, ...]:
    """The visible words of the first HEAD_CHARS characters of a text, for a text longer than
    that (its tail is far away); read once for what its source repeats and for its keys."""
    return tuple(visible(text[:HEAD_CHARS], complete=False))


@dataclass(frozen=True)
class Sibling:
    """What one entry shares with the other items of its source."""

    lead: int = 0  # opening words another item of the source starts with too
    trail: int = 0  # closing words another item ends with too
    generic_title: bool = False  # a title the source gives several items, or its own name


LEAD_MIN = 3  # a shared opening shorter than this is chance ("How to"), not a template
_EDGE = 60  # words read at each end of an item: longer shared templates are whole texts
# what is read of the beginning of a long text: enough for the ~300 words its signature reads
# (dedup.SIGNATURE_WORDS), and for more than an excerpt (excerpts.OPENING_MAX_WORDS)
HEAD_CHARS = 2400


def siblings(titles: Sequence[str], texts: Sequence[str], feed_title: str = "") -> list[Sibling]:
    """For each item of one source (a feed document, or every stored entry of a source), what it
    shares with the others: a series' intro, a site's standard first line, a fixed footer, a
    headline used for several items. Sorting makes it O(n log n): an item's longest shared
    opening is the one it shares with a neighbour in sorted order."""
    # both ends read as visible() reads them; of a long text only the beginning (nothing reads
    # its ending: its opening stops first), so that a 200 kB body costs no more than an excerpt
    ends = [whole(text) if len(text) <= HEAD_CHARS else () for text in texts]
    heads = [
        (head(text) if len(text) > HEAD_CHARS else end)[:_EDGE]
        for text, end in zip(texts, ends, strict=True)
    ]
    tails = [tuple(reversed(end[-_EDGE:])) for end in ends]
    leads = shared_openings(heads)
    trails = shared_openings(tails)
    title_keys = [" ".join(words(title)) for title in titles]
    counts: dict[str, int] = {}
    for key in title_keys:
        counts[key] = counts.get(key, 0) + 1
    own = " ".join(words(feed_title))
    return [
        Sibling(
            lead if lead >= LEAD_MIN else 0,
            trail,
            bool(key) and (counts[key] > 1 or _names_feed(key, own)),
        )
        for lead, trail, key in zip(leads, trails, title_keys, strict=True)
    ]


def _names_feed(title_key: str, feed_key: str) -> bool:
    """A headline made of the feed's own name ("Tech News", "Latest Architecture news from Tech
    News") says nothing about the article."""
    if not feed_key:
        return False
    if title_key == feed_key:
        return True
    return feed_key.count(" ") >= 1 and f" {feed_key} " in f" {title_key} "
