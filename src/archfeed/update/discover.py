"""Feed discovery for `archfeed add URL`: from a web page's address (or a feed's) to the feeds
it offers, each checked to be one and described.

Owns: the order in which feeds are looked for (the address itself, the page's alternate links,
its feed links, the usual paths), checking each candidate by fetching and parsing it, and the
errors that say what was tried. Never prompts, never writes the config (the CLI does), and holds
no HTTP or HTML code: fetch.fetch_all downloads, parse reads pages and feeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from archfeed.errors import FeedError, UsageError
from archfeed.fetch import fetch_all
from archfeed.models import FetchResult, ParsedFeed, Settings, Source
from archfeed.parse import parse
from archfeed.parse.links import PageLinks, feed_links, is_html
from archfeed.text import clean, excerpt

# where sites keep a feed they do not link to, under the page's path and at the site's root
COMMON_PATHS = ("feed", "feed/", "rss", "rss.xml", "atom.xml", "index.xml", "feed.xml", "feed.json")
_TITLE_MAX = 200  # characters: a feed's title is shown in a prompt and written to the config
_REASONS_SHOWN = 3  # failed candidates a hint names


@dataclass(frozen=True)
class Candidate:
    url: str  # as linked, or where permanent redirects led
    title: str  # plain text; "" when the feed has none
    entries: int
    newest: datetime | None  # the latest date of an entry, UTC; None: no entry is dated


@dataclass(frozen=True)
class Discovery:
    page_url: str  # the address given, after redirects
    candidates: tuple[Candidate, ...]  # never empty, in the page's order, each feed once
    tried: tuple[str, ...]  # every address fetched, the page first


def discover(url: str, settings: Settings) -> Discovery:
    """The feeds at `url` (http or https): the address itself when it is a feed; else the feeds
    of the page's `<link rel="alternate">`, else of its feed-looking links, else at the usual
    paths; each group tried only when the one before it gave no feed. Raises UsageError for
    another kind of address, FeedError when the page cannot be fetched or offers no feed."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"not a web address: {url!r}", hint="give an http(s) address: https://example.com/blog"
        )
    [page] = fetch_all([Source(name="page", url=url)], {}, settings, force=True)
    if page.error or page.body is None:
        raise FeedError(f"cannot fetch {url}: {page.error}", hint=_fetch_hint(page))
    final = page.final_url or url
    feed = _feed(page, final)
    if feed is not None:
        return Discovery(final, (_candidate(url, page, feed),), (url,))
    links = feed_links(page.body, page.content_type, final)
    tried = [url]
    seen = {url, final}  # the page is no feed: it is never fetched again as one
    failed: list[str] = []  # why each alternate is no feed, for the hint
    for group in (links.alternates, links.anchors, _common(final)):
        todo = [link for link in group if link not in seen]
        seen.update(todo)
        tried += todo
        found, reasons = _checked(todo, settings)
        if found:
            return Discovery(final, found, tuple(tried))
        if group is links.alternates:  # what was left out of `todo` is the page itself
            failed = [f"{clean(link)}: {reasons.get(link, 'the page itself')}" for link in group]
    raise FeedError(f"no feed found at {clean(final)}", hint=_not_found_hint(final, links, failed))


def _checked(
    urls: Sequence[str], settings: Settings
) -> tuple[tuple[Candidate, ...], dict[str, str]]:
    """The feeds among `urls`, fetched at once and in their order, each final address once;
    and why each of the others is none, by its URL."""
    fetched = fetch_all(
        [Source(name=str(index), url=link) for index, link in enumerate(urls)],
        {},
        settings,
        force=True,
    )
    feeds: dict[int, tuple[str, Candidate]] = {}  # by index: the order of `urls`
    reasons: dict[str, str] = {}
    for result in fetched:  # each body parsed as it comes, and let go
        index = int(result.source)
        final = result.final_url or urls[index]
        feed = _feed(result, final)
        if feed is None:
            reasons[urls[index]] = result.error or "not a feed"
        else:
            feeds[index] = (final, _candidate(urls[index], result, feed))
    found: dict[str, Candidate] = {}
    for index in sorted(feeds):
        final, candidate = feeds[index]
        found.setdefault(final, candidate)  # /feed and /feed/ redirected to one: the first
    return tuple(found.values()), reasons


def _feed(result: FetchResult, base_url: str) -> ParsedFeed | None:
    """The feed a fetch brought, or None: an error, an HTML page, a document with nothing in it."""
    if result.error or result.body is None or is_html(result.body):
        return None
    try:
        feed = parse(result.body, result.content_type, base_url)
    except Exception:  # FeedError, or a parser crash on hostile input: that candidate's alone
        return None
    return feed if feed.title or feed.entries else None


def _candidate(link: str, result: FetchResult, feed: ParsedFeed) -> Candidate:
    dates = [entry.published for entry in feed.entries if entry.published]
    return Candidate(
        url=result.permanent_redirect or link,  # a temporary redirect may change again
        title=excerpt(clean(feed.title), _TITLE_MAX),  # clean: whatever parse returns stays inert
        entries=len(feed.entries),
        newest=max(dates, default=None),
    )


def _common(page_url: str) -> list[str]:
    """COMMON_PATHS in the page's folder (a path whose last part has no dot is a folder), then
    at the site's root; each once."""
    path = urlsplit(page_url).path or "/"
    last = path.rsplit("/", 1)[-1]
    folder = urljoin(page_url, path if not last or "." in last else f"{path}/")  # no query
    under = [urljoin(folder, name) for name in COMMON_PATHS]
    return list(dict.fromkeys(under + [urljoin(page_url, f"/{name}") for name in COMMON_PATHS]))


def _fetch_hint(page: FetchResult) -> str:
    if page.unreachable:
        return "check the address's host name and the network connection"
    return "check the address in a browser"


def _not_found_hint(page_url: str, links: PageLinks, failed: Sequence[str]) -> str:
    """What was looked for, and why the alternate links were no feeds."""
    alternates = "; ".join(failed[:_REASONS_SHOWN]) if failed else "none on the page"
    if len(failed) > _REASONS_SHOWN:
        alternates += f"; {len(failed) - _REASONS_SHOWN} more"
    anchors = f"{len(links.anchors)}, none a feed" if links.anchors else "none"
    paths = ", ".join(f"/{name}" for name in COMMON_PATHS)
    return (
        f'looked for <link rel="alternate"> feeds ({alternates}), feed links ({anchors}), and '
        f"{paths} in the page's folder and on {clean(urlsplit(page_url).netloc)}; "
        "give the feed's own address if you know it"
    )
