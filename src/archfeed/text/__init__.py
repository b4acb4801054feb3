"""Pure text functions: HTML to plain text, control-character stripping, excerpts, slugs, times.

Owns: every transformation of untrusted feed text into inert plain text; the names and codes
derived from what a user or an OPML file wrote (slugs, a source's default name, language codes);
the parsing of durations and dates typed by the user, and the one format (RFC 3339, UTC) every
time is stored and printed in; links.py beside it: links and XML values made safe to hand on.
Never does I/O and imports only the standard library.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from html import unescape
from pathlib import PurePath
from urllib.parse import urlsplit

# Characters that can steer a terminal or reorder what a reader sees: C0/C1 controls (ESC starts
# ANSI and OSC sequences, BEL rings), bidi embeddings/overrides/isolates, invisible zero-width
# characters, and Unicode tag characters. ZWJ/ZWNJ stay: scripts and emoji need them. Halves of
# UTF-16 pairs (a JSON Feed's "\ud800") and the noncharacters U+FFFE/U+FFFF are no text at all:
# no UTF-8 encoder, XML document or terminal takes them.
_UNSAFE_CLASS = (
    "\x00-\x08\x0b\x0c\x0e-\x1d\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ud800-\udfff\ufeff\ufff9-\ufffb\ufffe\uffff"
    "\U000e0000-\U000e007f"
)
_UNSAFE = re.compile(f"[{_UNSAFE_CLASS}\x1e]")
_UNSAFE_BUT_RS = re.compile(f"[{_UNSAFE_CLASS}]")  # \x1e stays: it marks paragraphs below
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table td th tr ul".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})


def has_control(name: str) -> bool:
    """Whether a name the user gave holds what `clean` would strip, or a tab or line break: a
    name is printed raw, in TSV rows and terminals."""
    return has_unsafe(name) or any(c in name for c in "\t\n\r")


def has_unsafe(text: str) -> bool:
    """Whether `text` holds what `clean` strips as unsafe (whitespace aside)."""
    return bool(_UNSAFE.search(text))


def clean(text: str) -> str:
    """Remove unsafe characters and collapse whitespace to single spaces; a no-break space stays
    (it holds French « guillemets », "10 000" or "Fig. 3" to their words)."""
    return _collapsed(_UNSAFE.sub("", text))


def _collapsed(safe: str) -> str:
    if "\xa0" not in safe and "\u202f" not in safe:
        return " ".join(safe.split())  # split(): 3× faster than a \s+ regex
    # split() would take them for spaces: hidden as control characters, which _UNSAFE has just
    # removed, so none of them can be the text's own; one that touches a plain space, or a run of
    # them alone (HTML's &nbsp; spacers), holds nothing together and goes
    hidden = safe.replace("\xa0", "\x00").replace("\u202f", "\x01").split()
    words = [_NO_BREAK_RUN.sub("\x00", stripped) for word in hidden
             if (stripped := word.strip("\x00\x01"))]  # fmt: skip
    return " ".join(words).replace("\x00", "\xa0").replace("\x01", "\u202f")


_NO_BREAK_RUN = re.compile("[\x00\x01]{2,}")  # two no-break spaces hold words as one does


# Tags are removed by regular expressions rather than html.parser, which cost three times as much
# (0.23 against 0.08 ms per 3 kB body of benchmarks/genfeeds.py). A tag never spans a "<", and
# a hidden element ends at its end tag or the end of the text, so the scans stay linear whatever
# the body: 200 kB of "<a " or of "<" take 30–80 ms.
_ATTRS = r"""(?:[^<>"']|"[^"<]*"|'[^'<]*')*"""  # quoted values may hold ">"
_HIDDEN = re.compile(
    rf"<({'|'.join(sorted(_SKIP_TAGS))})(?![\w-]){_ATTRS}>.*?(?:</\1[^<>]*>|\Z)|<!--.*?(?:-->|\Z)",
    re.IGNORECASE | re.DOTALL,
)  # an element whose content is not text, up to its end tag (or the end, when unclosed)
_BLOCK = re.compile(rf"</?(?:{'|'.join(sorted(_BLOCK_TAGS))})(?![\w-]){_ATTRS}>", re.IGNORECASE)
# a tag, an unclosed tag cut short by the next one (`<a href="x" <b>`), a declaration
_TAG = re.compile(rf"</?[A-Za-z](?:{_ATTRS}>|[^<>]*>|[^<>]*(?=<[A-Za-z/!?]))|<[!?][^<>]*>")


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment on one line: tags dropped (block tags leave a space),
    entities decoded, whitespace collapsed. For titles, names, summaries."""
    return clean(_untagged(html, " "))


PARAGRAPH = "\n\n"  # between the paragraphs of an entry's text, as `show` prints them


def html_to_paragraphs(html: str) -> str:
    """An article's plain text: as html_to_text, but each block (p, li, h2, br…) a paragraph of
    its own, the paragraphs joined by PARAGRAPH."""
    # \x1e stands for a block boundary: the unsafe characters but it go in one pass over the
    # whole text, then each paragraph's whitespace is collapsed
    parts = _UNSAFE_BUT_RS.sub("", _untagged(html, "\x1e")).split("\x1e")
    return PARAGRAPH.join(filter(None, (_collapsed(part) for part in parts)))


def _untagged(html: str, block: str) -> str:
    """`html` without its tags, each block tag replaced by `block`, entities decoded."""
    text = _TAG.sub("", _BLOCK.sub(block, _HIDDEN.sub("", html))) if "<" in html else html
    return unescape(text) if "&" in text else text


def plain_paragraphs(text: str) -> str:
    """Plain text (text/plain content, JSON Feed's content_text): blank lines part paragraphs."""
    return PARAGRAPH.join(filter(None, (clean(part) for part in _BLANK_LINE.split(text))))


_BLANK_LINE = re.compile(r"\n\s*\n")


def flat(text: str) -> str:
    """An entry's text on one line: what excerpts, hashes and one-line formats read."""
    return text.replace(PARAGRAPH, " ") if PARAGRAPH in text else text


def excerpt(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters, at a word boundary when one is near, ending in …;
    on one line, whatever paragraphs it had."""
    text = flat(text)
    if limit <= 0 or len(text) <= limit:
        return text if limit > 0 else ""
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if (
        space >= limit * 0.6
    ):  # a boundary near the end; otherwise cut mid-word rather than lose much
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


_SLUG_JUNK = re.compile(r"[^\w]+")


def slugify(label: str) -> str:
    """`#Micro Services` → `micro-services`; letters of every script are kept."""
    return _SLUG_JUNK.sub("-", clean(label).lower()).replace("_", "-").strip("-")


NAME_MAX = 60  # characters of a source's name
_LANG_CODE = re.compile(r"[a-z]{2,3}")
_FEED_NOISE = ("feed", "rss", "atom", "index.xml", "feed.xml", "rss.xml", "atom.xml")


def is_lang_code(value: str) -> bool:
    """An ISO 639-1 or -3 code as the config and OPML take it: `en`, `ru`, `fil`."""
    return _LANG_CODE.fullmatch(value) is not None


@lru_cache(maxsize=256)
def phrases(words: tuple[str, ...]) -> re.Pattern[str]:
    """Whole words or phrases, any case: `go` matches "Go 1.22" but never "google"; a phrase
    matches across any run of whitespace (topic keywords, mute and keep rules)."""
    alternatives = "|".join(r"\s+".join(map(re.escape, word.split())) for word in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def did_you_mean(name: str, names: Iterable[str], otherwise: str) -> str:
    """The hint for a name that is none of `names`: the nearest of them, if one is near."""
    import difflib

    near = difflib.get_close_matches(name, sorted(names), n=1)
    return f"did you mean {near[0]!r}?" if near else otherwise


def source_name(url: str, label: str = "") -> str:
    """A source's name when the user gave none: its label as a slug (an OPML outline's title),
    else its host and path without the usual feed suffixes (`example.com/blog/feed.xml` →
    `example-com-blog`), else its file's name."""
    name = slugify(label)[:NAME_MAX].strip("-")
    if name:
        return name
    parts = urlsplit(url)
    if parts.scheme == "file":
        return slugify(PurePath(parts.path).stem)[:NAME_MAX].strip("-") or "file"
    path = parts.path.strip("/")
    for noise in _FEED_NOISE:
        path = path.removesuffix(noise).strip("/")
    host = parts.netloc.lower().removeprefix("www.")
    return slugify(f"{host} {path}")[:NAME_MAX].strip("-") or "source"


_DURATION = re.compile(r"^\s*(\d{1,9})\s*([a-z]+)\s*$", re.IGNORECASE)
# months and years as a reader means them in "older than 6 months": 30 and 365 days
_UNIT_DAYS = {"min": 1 / 1440, "h": 1 / 24, "d": 1, "w": 7, "mo": 30, "y": 365}
MAX_DURATION = timedelta(days=100 * 365)
DURATION_HINT = "a number and one of min, h, d, w, mo, y: 90min, 36h, 7d, 12w, 6mo, 1y"


def parse_duration(value: str) -> timedelta | None:
    """`90min`, `36h`, `7d`, `2w`, `6mo`, `1y` → a timedelta, up to 100 years; anything else,
    `6m` among them (minutes or months? each reader has their own), → None."""
    match = _DURATION.match(value)
    if not match or match.group(2).lower() not in _UNIT_DAYS:
        return None
    days = int(match.group(1)) * _UNIT_DAYS[match.group(2).lower()]
    return timedelta(days=days) if days <= MAX_DURATION.days else None


def ambiguous_unit(value: str) -> bool:
    """`6m`: the one unit the user must be asked about, rather than told is wrong."""
    match = _DURATION.match(value)
    return match is not None and match.group(2).lower() == "m"


def parse_when(value: str, now: datetime) -> datetime | None:
    """A user's time: ISO date or date-time (UTC unless it says otherwise), or a duration back
    from `now`. None when it is neither."""
    delta = parse_duration(value)
    if delta is not None:
        return now - delta
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


_NAME_AND_ADDRESS = re.compile(r"(.*?)\s*[(<]\s*(.*?)\s*[)>]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def person(text: str) -> str | None:
    """A person by name, however the name and address are written: "Jo Doe (jo@x.org)",
    "jo@x.org (Jo Doe)" and "Jo Doe <jo@x.org>" are all "Jo Doe", so that a feed that changes
    how it writes its authors changes no entry; an e-mail address alone stays what it is."""
    both = _NAME_AND_ADDRESS.fullmatch(text)
    if both:
        first, second = both.groups()
        named = [part for part in (first, second) if part and not _EMAIL.fullmatch(part)]
        return named[0] if named else first or second or None
    return text or None


def iso(when: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, to the second: how every time is stored and printed."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    """A time that iso() wrote (or any RFC 3339 time), in UTC."""
    return datetime.fromisoformat(value).astimezone(UTC)


def shared_openings(rows: Sequence[tuple[str, ...]]) -> list[int]:
    """For each row of words, how many of its first words some other row begins with too.
    Sorting makes it O(n log n): a row's longest shared opening is the one it shares with a
    neighbour in sorted order."""
    order = sorted(range(len(rows)), key=rows.__getitem__)
    best = [0] * len(rows)
    for left, right in itertools.pairwise(order):
        shared = _common_prefix(rows[left], rows[right])
        best[left] = max(best[left], shared)
        best[right] = max(best[right], shared)
    return best


def _common_prefix(one: tuple[str, ...], two: tuple[str, ...]) -> int:
    count = 0
    for a, b in zip(one, two, strict=False):
        if a != b:
            break
        count += 1
    return count
