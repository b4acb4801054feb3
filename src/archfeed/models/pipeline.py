"""The shapes of a fetch: fetched bodies, parsed entries, their classification and cross-post
keys, what a worker hands back and what a source's fetch reports.

Owns: those frozen dataclasses, imported through archfeed.models on first use. Never does I/O,
never imports anything outside the standard library and archfeed.models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from archfeed.models import LangSource


@dataclass(frozen=True)
class Validators:
    """What a previous fetch told us about a source, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True)
class FetchResult:
    source: str
    status: int | None  # HTTP status; None for local files and transport failures
    body: bytes | None  # None when not modified or failed
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    final_url: str | None = None
    permanent_redirect: str | None = None  # where a 301/308 pointed, to tell the user
    error: str | None = None
    retry_after: float | None = None  # seconds, from a 429/503
    unreachable: bool = False  # the network failed, not the source (fetch/failures.py)
    body_hash: str | None = None
    elapsed: float = 0.0
    # seconds the answer is fresh for by its Cache-Control or Expires (fetch/caching.py); None:
    # its headers say nothing
    fresh_for: float | None = None

    @property
    def not_modified(self) -> bool:
        return self.error is None and self.body is None


@dataclass(frozen=True)
class ParsedEntry:
    key: str  # identity within its source: guid/id, else link, else a hash of title and date
    url: str | None
    title: str
    text: str  # plain text of the content (or summary), whole
    author: str | None
    published: datetime | None  # UTC
    categories: tuple[str, ...]
    origin: str | None = None  # where the body says it was first published
    summary: str | None = None  # the feed's own summary beside a fuller text, when it has one
    # the identity earlier versions gave it, when that differs (a link its document repeats):
    # kept while the entry is stored under it, so that an upgrade duplicates nothing
    alias: str | None = None


@dataclass(frozen=True)
class Memos:
    """What the next fetch of a document reuses of its items (parse/items.py): the memo of each
    item parsed this time, by its digest, and the digests known before that it no longer has;
    `forget_all`: its items could not be told apart, none is kept."""

    new: tuple[tuple[str, bytes], ...] = ()
    gone: tuple[str, ...] = ()
    forget_all: bool = False


FORGET_ALL = Memos(forget_all=True)


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    language: str | None  # as declared by the feed
    entries: tuple[ParsedEntry, ...]
    warning: str | None = None  # the feed was ill-formed but something could be read
    memos: Memos = FORGET_ALL
    ttl: float | None = None  # seconds it asks between fetches: <ttl>, <sy:updatePeriod>


@dataclass(frozen=True)
class Evidence:
    """What an entry's classification is decided from, beside the config: the text's language,
    found once and stored, so that a config change classifies again without detecting again."""

    title: str
    text: str
    categories: tuple[str, ...]
    text_lang: str  # "" while NOT_DETECTED
    text_lang_source: LangSource


@dataclass(frozen=True)
class Classified:
    lang: str
    lang_source: LangSource
    topics: tuple[str, ...]
    text_lang: str  # what the text said, kept so that a config change needs no new detection
    text_lang_source: LangSource  # DECLARED, DETECTED or NOT_DETECTED


@dataclass(frozen=True)
class DedupKeys:
    """What the store keeps of an entry to find its copies in other feeds and to decide."""

    canonical_url: str | None
    title_key: str
    bands: tuple[int, ...]  # LSH bands of a MinHash signature of the text; empty when too short
    anchors: tuple[int, ...] = ()  # hashes of the opening's shingles; empty when it is too short
    probes: tuple[int, ...] = ()  # the anchors to look up: an article's looks for excerpts only
    origin_url: str | None = None  # canonical URL of where the text says it was first published
    lead: int = 0  # opening words the source repeats in other items: not evidence
    trail: int = 0  # closing words the source repeats in other items
    generic_title: bool = False  # a title the source gives several items, or its own name
    private: bool = False  # a link no other reader can open (localhost, a private address)
    excerpt: bool = False  # short enough for the excerpt rule: an article is compared by bands


@dataclass(frozen=True)
class Article:
    """An entry as the cross-post decision sees it."""

    source: str
    title: str
    text: str
    lang: str
    keys: DedupKeys
    published: datetime | None = None  # UTC; None: unknown


@dataclass(frozen=True)
class Change:
    """A new or changed entry as the store takes it."""

    entry: ParsedEntry
    classified: Classified
    content_hash: str
    keys: DedupKeys
    copies: tuple[int, ...] = ()  # seqs of stored entries in other sources: the same article


@dataclass(frozen=True)
class Prepared:
    """A parsed feed's new and changed entries, ready to store: what a parser worker returns
    (their copies are found by the main process, which has the database)."""

    changes: tuple[Change, ...] = ()
    warning: str | None = None
    error: str | None = None
    memos: Memos = FORGET_ALL
    ttl: float | None = None  # the feed's own, as ParsedFeed.ttl


@dataclass(frozen=True)
class SourceReport:
    source: str
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    not_modified: bool = False
    error: str | None = None
    status: int | None = None
    warning: str | None = None
    skipped: str | None = None  # why it was not fetched this time (backing off, gone)
    not_due: str | None = None  # when it is due, and why: not fetched, as asked (update/polite.py)
    moved_to: str | None = None  # a permanent redirect the config should follow
    gone: bool = False  # skipped because its url answered 410 Gone

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def stored(self) -> bool:
        """Fetched, and its answer (entries, or "not modified") kept."""
        return self.error is None and self.skipped is None and self.not_due is None

    @property
    def needs_the_user(self) -> bool:
        """Failed, gone or moved: said even under --quiet, since the config must change or a
        feed died."""
        return self.failed or self.gone or self.moved_to is not None
