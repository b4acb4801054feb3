"""What every feed format's entries go through on their way out of parse: identity, safe links,
bounds, categories, language codes, and the link a body names as where it was first published.

Owns: the entry identity of docs/design.md ("Identity") and the limits on hostile feed text.
Never reads a document: parse/__init__.py (RSS, Atom, RDF) and parse/jsonfeed.py (JSON Feed) do.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

from archfeed.models import ParsedEntry
from archfeed.text import clean, excerpt, has_unsafe, person, shared_openings

_SAFE_SCHEMES = frozenset({"http", "https"})
_UNTITLED_LENGTH = 80
_MAX_TITLE, _MAX_AUTHOR, _MAX_CATEGORY, _MAX_CATEGORIES = 300, 200, 100, 32
_MAX_URL, _MAX_TEXT = 2048, 200_000


def author_name(value: Any, detail: Any = None) -> str | None:
    """A person as every format writes them, by name (text.person): Atom's and JSON Feed's
    name field first, else the one string RSS gives."""
    name = clean(str(detail.get("name") or "")) if isinstance(detail, dict) else ""
    return name or person(clean(str(value or "")))


def shaped(
    *,
    guid: str | None,
    url: str | None,
    title: str,
    raw_date: Any,
    text: str,
    author: str | None,
    published: datetime | None,
    tags: Iterable[Any],
    origin: str | None,
) -> ParsedEntry:
    """An entry as every format makes it: its identity, a title when it has none, its categories
    as clean text, within the bounds."""
    key = identity(guid, url, title, raw_date, text)
    return bounded(
        ParsedEntry(
            key=key,
            url=url,
            title=title or untitled(text, url),
            text=text,
            author=author,
            published=published,
            categories=categories(tags),
            origin=origin,
            alias=key if key == url and not (guid and guid.strip()) else None,  # see apart()
        )
    )


def apart(entries: Iterable[ParsedEntry]) -> tuple[ParsedEntry, ...]:
    """A document's entries with identities of their own. An entry without a guid is known by
    its link, but a link the document gives several entries (a project's news page, linked from
    every item) is no identity: those entries are told apart by their title and date, and keep
    the link as their alias (update/worker.py lets a stored entry keep it). An entry whose
    link is its own keeps it as its identity, with no alias."""
    found = list(entries)
    by_link: dict[str, int] = {}
    for entry in found:
        if entry.alias:
            by_link[entry.alias] = by_link.get(entry.alias, 0) + 1
    return tuple(
        replace(entry, key=f"{entry.alias}#{_title_and_date(entry)}")
        if entry.alias and by_link[entry.alias] > 1
        else replace(entry, alias=None)
        for entry in found
    )


_OPENING_WORDS = 24  # where an advertising line or a standard first line would be
_OPENING_CHARS = 1000  # what holds 24 words, a tracking link among them
_URL_TOKEN = re.compile(r"^[(<\[]?https?://", re.IGNORECASE)
_REPEATED_BY = 3  # items that must open alike for it to be the source's, not a coincidence
_OPENING_MIN = 5  # words of a shared opening with no link in it
_ENDS_A_SENTENCE = re.compile(r"[.!?:…]$")
_FIGURE = re.compile(r"^[$€£¥]?\d[\d.,]*[+%€$]?$")  # 15.50, 2700+, 9.2.0, €12
_RUN_ON = 12  # words a shared sentence may run on for before its end: a version, a name
_SUMMARY_MAX = 2000  # characters of what is left: enough for any excerpt


def without_shared_openings(entries: Sequence[ParsedEntry]) -> tuple[ParsedEntry, ...]:
    """The entries, each whose text opens as several others of its document do ("Annons:
    https://track…", a series' standard first line) given the rest of its text as its summary,
    unless it has one of its own: the excerpt is the post's, not the source's. An opening is
    the source's when at least three items (or every item, in a document of two) share it and it
    holds a link or five words; links count as one word whatever they are, since a tracking link
    differs in every item. The text itself stays whole."""
    # the head of each text only: a body may be 200 kB, an opening is a few words
    tokens = [entry.text[:_OPENING_CHARS].split()[:_OPENING_WORDS] for entry in entries]
    shapes = [tuple(_shape(token) for token in row) for row in tokens]
    shared = shared_openings(shapes)
    need = min(_REPEATED_BY, len(shapes))
    if need < 2 or not any(shared):
        return tuple(entries)
    # how many items begin with each opening, of every length some item shares
    counts: dict[tuple[str, ...], int] = {}
    for shape in shapes:
        for length in range(1, min(len(shape), max(shared)) + 1):
            counts[shape[:length]] = counts.get(shape[:length], 0) + 1
    out = []
    for entry, shape, most, row in zip(entries, shapes, shared, tokens, strict=True):
        # the longest opening it shares with enough others, that says something
        length = next(
            (n for n in range(most, 0, -1)
             if counts[shape[:n]] >= need and ("<url>" in shape[:n] or n >= _OPENING_MIN)),
            0,
        )  # fmt: skip
        length = _to_a_boundary(row, length) if length else 0
        if length and len(row) > length and not entry.summary:
            rest = " ".join(entry.text[: _OPENING_CHARS + _SUMMARY_MAX].split()[length:])
            out.append(replace(entry, summary=rest[:_SUMMARY_MAX]))
        else:
            out.append(entry)
    return tuple(out)


def _to_a_boundary(row: list[str], length: int) -> int:
    """Where the opening of `length` words really ends, or 0 when no end is near: a shared
    sentence that runs on into a version or a name ("…the QEMU 9.2.0 release.", "…story from
    Jo Doe.") ends where its sentence does; one that ends on a label ("Price:") or a link
    takes the figures after it along, which differ in every item."""
    last = row[length - 1]
    if not (_ENDS_A_SENTENCE.search(last) or _URL_TOKEN.match(last)):
        ends = (
            n + 1
            for n in range(length, min(len(row), length + _RUN_ON))
            if _ENDS_A_SENTENCE.search(row[n])
        )
        return next(ends, 0)
    while length < len(row) and _FIGURE.match(row[length]):
        length += 1
    return length


def _shape(token: str) -> str:
    return "<url>" if _URL_TOKEN.match(token) else token.casefold()


def _title_and_date(entry: ParsedEntry) -> str:
    basis = f"{entry.title}\x00{entry.published.isoformat() if entry.published else ''}"
    return hashlib.sha1(basis.encode(), usedforsecurity=False).hexdigest()[:16]


def bounded(entry: ParsedEntry) -> ParsedEntry:
    """Feed text is hostile: a 5,000-character title or a thousand categories is an attack or a
    bug, never something to show in full."""
    url = entry.url if entry.url and len(entry.url) <= _MAX_URL else None
    origin = entry.origin if entry.origin and len(entry.origin) <= _MAX_URL else None
    return replace(
        entry,
        url=url,
        origin=origin,
        title=excerpt(entry.title, _MAX_TITLE),
        text=entry.text[:_MAX_TEXT],
        author=excerpt(entry.author, _MAX_AUTHOR) if entry.author else None,
        categories=tuple(excerpt(c, _MAX_CATEGORY) for c in entry.categories[:_MAX_CATEGORIES]),
    )


def identity(guid: str | None, url: str | None, title: str, date: Any, text: str) -> str:
    """docs/design.md, "Identity": the guid/id, else the link, else a hash of title and date (and
    of the text when there is neither, so that untitled undated items stay apart)."""
    if guid and guid.strip():
        return guid.strip()
    if url:
        return url
    basis = f"{title}\x00{date or ''}" if title or date else f"\x00\x00{text}"
    return "sha1:" + hashlib.sha1(basis.encode(), usedforsecurity=False).hexdigest()


def safe_url(value: Any, base_url: str) -> str | None:
    """An absolute http(s) URL, or None: a `javascript:` or `data:` link is never passed on, nor
    one holding a control, invisible or direction character (an escape sequence, a spoofed
    host), which no real URL has: no part of it is taken for a link."""
    if not isinstance(value, str) or not value.strip() or has_unsafe(value):
        return None
    url = clean(urljoin(base_url, value.strip()) if base_url.startswith("http") else value.strip())
    return url if urlsplit(url).scheme.lower() in _SAFE_SCHEMES else None


def categories(terms: Iterable[Any]) -> tuple[str, ...]:
    cleaned = (clean(str(term)) for term in terms if term)
    return tuple(dict.fromkeys(term for term in cleaned if term))


def language(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower().replace("_", "-").split("-")[0][:3] or None


def untitled(text: str, url: str | None) -> str:
    return excerpt(text, _UNTITLED_LENGTH) or url or "(untitled)"


# What a copy says of where it was first published ("Originally published at <a href=…>", Medium's
# import footer, WordPress's "The post <a href=…>…</a> appeared first on", "Впервые опубликовано
# в <a href=…>"), up to the link: an anchor's href, or a URL written out. Not "Оригинал:", which
# is how a translation names its source: another article.
_ORIGIN_PHRASE = (
    r"(?:originally|first) (?:published|posted)|cross-?posted from|first appeared"
    r"|(?:впервые|первоначально) опубликован\w*|(?:re-?posted|republished) from"
    r"|верси\w+ (?:поста|статьи|публикации) из"
)
# a word every phrase of _ORIGIN holds, lowercased
_ORIGIN_MARKERS = ("publish", "posted", "appeared", "опубликован", "появилась", "верси")
_ORIGIN = re.compile(
    # the lookahead turns most positions away at once: 558 µs per 2.3 kB body without it
    r"(?<!\w)(?=[ofcrtвпз])(?:"
    rf"(?:{_ORIGIN_PHRASE})[^<]{{0,80}}?(?:<a\s[^<>]*?href\s*=\s*[\"']([^\"'<>]+)"
    rf"|\b(https?://[^\s<>\"']+[\w/]))"
    r"|(?:the post|запись) <a\s[^<>]*?href\s*=\s*[\"']([^\"'<>]+)[\"'][^<>]*>[^<]{1,300}</a>"
    r"\s*(?:appeared|first appeared|впервые появилась))",
    re.IGNORECASE,
)


def origin_link(body: str, base_url: str) -> str | None:
    """The last link a body names as the article's first publication (a footer comes last)."""
    tail = body[-20_000:]  # footers are near the end
    lowered = tail.lower()
    if not any(marker in lowered for marker in _ORIGIN_MARKERS):
        return None  # most bodies: one pass of str.lower, not the regex (1.1 ms per 20 kB)
    found = None
    for match in _ORIGIN.finditer(tail):
        found = next(group for group in match.groups() if group)
    return safe_url(unescape(found), base_url) if found else None
