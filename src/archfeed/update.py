"""The pipelines that combine the middle modules: fetching sources into the store, and bringing
stored classifications up to date after a config change.

Owns: choosing which sources to fetch, skipping what did not change, turning each source's outcome
into a SourceReport, and deciding when stored entries need classifying again. One source's failure
is recorded and never stops the others. Never prints and holds no SQL, HTTP or feedparser code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from archfeed import dedup
from archfeed.classify import classify, decide, fingerprints
from archfeed.errors import FeedError, UsageError
from archfeed.models import (
    Article,
    Config,
    FetchResult,
    ParsedFeed,
    Source,
    SourceHealth,
    SourceReport,
)
from archfeed.store import Change, Known, Store, entry_hash
from archfeed.text import iso

BACKOFF_FIRST = timedelta(minutes=30)
BACKOFF_CAP = timedelta(days=1)
RETRY_AFTER_CAP = timedelta(days=7)


def select(config: Config, names: Sequence[str]) -> list[Source]:
    """The enabled sources, or exactly the named ones (disabled or not)."""
    if not names:
        return [source for source in config.sources if source.enabled]
    by_name = {source.name: source for source in config.sources}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise UsageError(
            f"no source named {', '.join(repr(n) for n in unknown)} in {config.path}",
            hint="'archfeed check' lists the source names",
        )
    return [by_name[name] for name in dict.fromkeys(names)]


def reclassify(config: Config, store: Store) -> int:
    """Classify again the stored entries of every source whose topics, language or the topic
    rules changed since they were classified; no text is detected or downloaded again. Returns
    how many entries changed hands; 0 (one small query) when the config did not change."""
    prints = fingerprints(config.sources, config.topics)
    by_name = {source.name: source for source in config.sources}
    expected = config.settings.languages
    done = 0
    for name in store.stale(prints):
        source = by_name[name]
        rows = [
            (id_, decide(source, lang, how, categories, title, text, config.topics, expected))
            for id_, lang, how, categories, title, text in store.classification_inputs(name)
        ]
        store.reclassify(name, prints[name], rows)
        done += len(rows)
    return done


def run(
    config: Config,
    store: Store,
    sources: Sequence[Source],
    force: bool = False,
    on_report: Callable[[SourceReport], None] | None = None,
) -> list[SourceReport]:
    from archfeed.fetch import fetch_all  # httpx: only the fetch command pays for it

    reclassify(config, store)
    now = datetime.now(UTC)
    health = store.health()
    reports: list[SourceReport] = []
    due = []
    for source in sources:
        reason = None if force else _skip_reason(source, health.get(source.name), now)
        if reason:
            reports.append(SourceReport(source.name, skipped=reason))
        else:
            due.append(source)
    by_name = {source.name: source for source in due}
    prints = fingerprints(due, config.topics)
    for result in fetch_all(due, store.validators(), config.settings, force):
        source = by_name[result.source]
        failures = health[source.name].failures if source.name in health else 0
        report = _ingest(config, store, source, prints[source.name], result, failures)
        report = replace(report, moved_to=result.permanent_redirect)
        reports.append(report)
        if on_report:
            on_report(report)
    order = {source.name: index for index, source in enumerate(sources)}
    return sorted(reports, key=lambda report: order[report.source])


def _skip_reason(source: Source, health: SourceHealth | None, now: datetime) -> str | None:
    """Why a source is not fetched this time: gone for good, or backing off after failures."""
    if health is None:
        return None
    if health.gone_url and health.gone_url == source.url:
        return "gone (410); change its url in the config, or remove it"
    if health.skip_until and health.skip_until > now:
        return (f"skipped after {health.failures} failed fetches in a row; next try after "
                f"{iso(health.skip_until)} (--force tries now)")  # fmt: skip
    return None


def next_try(failures: int, retry_after: float | None, now: datetime) -> datetime:
    """When a source that has now failed `failures` times in a row may be tried again: a delay
    doubling per failure from BACKOFF_FIRST up to BACKOFF_CAP, and never before its server's
    Retry-After (itself capped at a week)."""
    delay: timedelta = min(BACKOFF_FIRST * 2 ** min(failures - 1, 16), BACKOFF_CAP)
    if retry_after:
        delay = max(delay, timedelta(seconds=min(retry_after, RETRY_AFTER_CAP.total_seconds())))
    return now + delay


def _ingest(
    config: Config,
    store: Store,
    source: Source,
    classified_with: str,
    result: FetchResult,
    failures: int,
) -> SourceReport:
    from archfeed.parse import parse  # feedparser: only the fetch command pays for it

    now = datetime.now(UTC).replace(microsecond=0)
    if result.error:
        return _failed(store, source, result, result.error, now, failures)
    if result.body is None:
        store.save(source, classified_with, result, (), {}, now)
        return SourceReport(source.name, not_modified=True, status=result.status)
    try:
        feed = parse(result.body, result.content_type, result.final_url or source.url)
    except FeedError as exc:
        return _failed(store, source, result, exc.message, now, failures)
    except Exception as exc:  # a parser crash on hostile input is that source's error alone
        problem = f"parser failed: {type(exc).__name__}: {exc}"
        return _failed(store, source, result, problem, now, failures)
    return store_feed(config, store, source, classified_with, result, feed, now)


def store_feed(
    config: Config,
    store: Store,
    source: Source,
    classified_with: str,
    result: FetchResult,
    feed: ParsedFeed,
    now: datetime,
) -> SourceReport:
    """Classify a parsed feed's new and changed entries, find their copies, store them."""
    known = store.known(source.name)
    changes = _changes(config, store, source, feed, known)
    new, updated, copies = store.save(source, classified_with, result, changes, known, now)
    return SourceReport(
        source.name, new=new, updated=updated, duplicates=copies, status=result.status,
        warning=feed.warning,
    )  # fmt: skip


def _failed(
    store: Store, source: Source, result: FetchResult, error: str, now: datetime, failures: int
) -> SourceReport:
    store.record_failure(
        source, result, error, now, next_try(failures + 1, result.retry_after, now)
    )
    return SourceReport(source.name, error=error, status=result.status)


def _changes(
    config: Config, store: Store, source: Source, feed: ParsedFeed, known: Mapping[str, Known]
) -> list[Change]:
    """New and changed entries only (an unchanged entry is neither classified nor written), each
    with the stored entries of other sources that are copies of the same article."""
    seen = store.tombstones(source.name)  # pruned: never brought back
    changes = []
    for entry in feed.entries:
        if entry.key in seen:  # pruned, or twice in one feed (the first one counts)
            continue
        seen.add(entry.key)
        digest = entry_hash(entry)
        old = known.get(entry.key)
        if old and old.content_hash == digest:
            continue
        classified = classify(
            entry, source, feed.language, config.topics, config.settings.languages
        )
        keys = dedup.keys(entry.url, entry.title, entry.text)
        me = Article(source.name, entry.title, entry.text, classified.lang, keys.canonical_url)
        copies = tuple(
            seq
            for seq, other in store.candidates(source.name, keys)
            if dedup.same_article(me, other)
        )
        changes.append(Change(entry, classified, digest, keys, copies))
    return changes
