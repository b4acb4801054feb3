"""The frozen dataclasses that cross module boundaries.

Owns: the shapes of settings, sources, stored entries, source health, screens and list filters;
and, in models/pipeline.py, those of a fetch (fetched bodies, parsed entries, classifications,
cross-post keys, reports), which are imported on first use: `list` and `show` never build them
(Python 3.11 compiles six methods a dataclass at import, ~1 ms each class). Never does I/O, never
imports anything outside the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # in __all__: `from archfeed.models import FetchResult` types as it runs
    from archfeed.models.pipeline import (
        Article,
        Change,
        Classified,
        DedupKeys,
        Evidence,
        FetchResult,
        Memos,
        ParsedEntry,
        ParsedFeed,
        Prepared,
        SourceReport,
        Validators,
    )

__all__ = [
    "Article",
    "Change",
    "Classified",
    "Config",
    "Copy",
    "DedupKeys",
    "EntryDetail",
    "Evidence",
    "FetchResult",
    "Filter",
    "LangSource",
    "Listing",
    "Memos",
    "ParsedEntry",
    "ParsedFeed",
    "Prepared",
    "Screen",
    "Settings",
    "Source",
    "SourceHealth",
    "SourceReport",
    "StoredEntry",
    "TopicRule",
    "Validators",
]

_PIPELINE = frozenset(
    (
        "Article",
        "Change",
        "Classified",
        "DedupKeys",
        "Evidence",
        "FetchResult",
        "Memos",
        "ParsedEntry",
        "ParsedFeed",
        "Prepared",
        "SourceReport",
        "Validators",
    )
)


def __getattr__(name: str) -> Any:
    """A fetch's shapes, from models/pipeline.py the first time one is asked for."""
    if name in _PIPELINE:
        from archfeed.models import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'archfeed.models' has no attribute {name!r}")


@dataclass(frozen=True)
class Settings:
    db: Path | None = None
    excerpt: int = 150
    concurrency: int = 16
    timeout: float = 20.0
    max_bytes: int = 10_000_000
    languages: tuple[str, ...] = ()
    # no source on a server is fetched more often (update/polite.py)
    min_interval: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class Source:
    name: str
    url: str  # an http(s) URL, or a file:// URL already resolved to an absolute path
    topics: tuple[str, ...] = ()
    lang: str | None = None
    enabled: bool = True
    position: int = 0  # order in the config: breaks ties between copies of one article
    interval: timedelta | None = None  # `interval`: fetched no more often than this

    @property
    def is_remote(self) -> bool:
        return self.url.startswith(("http://", "https://"))


@dataclass(frozen=True)
class TopicRule:
    name: str
    keywords: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """A [[mute]] or [[keep]] table: each condition given must hold (any of its values), on the
    sources it names (all when none). `fields`: (field, phrases or None, regex or None) for
    title, text, author, url and category; phrases are whole words, any case, as topic
    keywords."""

    kind: str  # "mute" or "keep"
    label: str  # its name, else "[[mute]] #2 (line 31)": what `list --muted` shows
    sources: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    fields: tuple[tuple[str, tuple[str, ...], str | None], ...] = ()


@dataclass(frozen=True)
class Muting:
    """The config's rules as a query applies them (store/rules.py); `hidden`: select what they
    hide instead of what they leave."""

    rules: tuple[Rule, ...]
    hidden: bool = False


@dataclass(frozen=True)
class Config:
    path: Path | None
    settings: Settings = field(default_factory=Settings)
    sources: tuple[Source, ...] = ()
    topics: tuple[TopicRule, ...] = ()
    rules: tuple[Rule, ...] = ()  # [[mute]] and [[keep]], in the file's order

    def topic_names(self) -> list[str]:
        """The topics the user named: [topics.*] rules in their order, then sources' topics."""
        names = [rule.name for rule in self.topics]
        names += [topic for source in self.sources for topic in source.topics]
        return names


class LangSource(StrEnum):
    """How an entry's language was decided; stored, and shown by `show` as `lang_source`."""

    CONFIG = "config"  # the source's `lang` in the config
    DECLARED = "declared"  # the feed's own declaration, which the text did not contradict
    DETECTED = "detected"  # from the text
    NOT_DETECTED = ""  # of a text never examined: its source's `lang` decided


@dataclass(frozen=True)
class SourceHealth:
    """What the database knows of a source's fetches: `archfeed sources`, and the backoff."""

    name: str
    url: str
    last_fetch: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    failures: int = 0
    skip_until: datetime | None = None
    gone_url: str | None = None  # the URL that answered 410 Gone
    moved_to: str | None = None
    entries: int = 0
    last_new: datetime | None = None
    # what the last answer asked, in seconds (update/polite.py): its Cache-Control or Expires,
    # and its feed's <ttl> or <sy:updatePeriod>
    fresh_for: float | None = None
    ttl: float | None = None


@dataclass(frozen=True)
class Copy:
    source: str
    url: str | None
    title: str


@dataclass(frozen=True)
class StoredEntry:
    id: str
    source: str
    title: str
    url: str | None
    text: str
    author: str | None
    published: datetime | None  # None: the feed gave no date it could read
    first_seen: datetime
    lang: str
    topics: tuple[str, ...]
    also_at: tuple[Copy, ...] = ()
    summary: str | None = None  # the feed's own summary beside the text, when it gave one
    read: bool = False  # the article (any copy of it) was read: `open`, `mark read`
    muted_by: str | None = None  # `list --muted`: the rule that hides it


@dataclass(frozen=True)
class EntryDetail:
    """What `show` prints beyond a listed entry."""

    entry: StoredEntry
    lang_source: LangSource
    categories: tuple[str, ...]
    updated: datetime
    source_url: str | None
    canonical: bool


@dataclass(frozen=True)
class Screen:
    """What a table is drawn for: a terminal or not, its colours (rich's names: "standard",
    "256", "truecolor"; None: none), how wide (None: ask the terminal), and whether it takes
    hyperlinks."""

    terminal: bool = False
    colours: str | None = None
    width: int | None = None
    zone: tzinfo | None = None  # the reader's time zone for tables; None: UTC
    now: datetime | None = None  # what ages ("35 min") are counted from; None: no ages
    links: bool = False  # titles as OSC 8 hyperlinks to their (safe) links


@dataclass(frozen=True)
class Listing:
    """What a table of entries shows beyond the entries: how many characters of each id make it
    unique in the database (at least 6, as `show` wants), and the topics the user configured
    (source topics and [topics.*] rules), shown before raw feed categories."""

    id_chars: int = 16
    configured: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Filter:
    sources: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None
    limit: int | None = None
    all_copies: bool = False
    after_seq: int | None = None  # digests: entries stored after this one…
    upto_seq: int | None = None  # …and up to this one, in insertion order
    read: bool | None = None  # only read articles (True), only unread ones (False), or both
    muting: Muting | None = None  # the config's [[mute]] and [[keep]] rules, when it has any
