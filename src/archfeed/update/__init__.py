"""The pipelines that combine the middle modules: fetching sources into the store, and bringing
stored classifications up to date after a config change.

Owns: choosing which sources to fetch (those not due wait: polite.py), skipping what did not
change, turning each source's outcome into a SourceReport, and deciding when stored entries need
classifying again. One source's failure is recorded and never stops the others. Never prints and
holds no SQL, HTTP or feedparser code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from archfeed.classify import decide, fingerprints
from archfeed.errors import OfflineError, UsageError
from archfeed.models import (
    Article,
    Config,
    FetchResult,
    Prepared,
    Source,
    SourceHealth,
    SourceReport,
)
from archfeed.store import Fetched, Known, Store
from archfeed.text import did_you_mean, iso
from archfeed.update import polite

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
            hint=did_you_mean(unknown[0], by_name, "'archfeed check' lists the source names"),
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
            (seq, decide(source, evidence, config.topics, expected))
            for seq, evidence in store.evidence(name)
        ]
        store.reclassify(name, prints[name], rows)
        done += len(rows)
    return done


def needs_rematch(store: Store) -> bool:
    """Were the stored copies found under other rules than this version's?"""
    from archfeed import dedup  # dedup, the parser pool, the workers: only when a fetch needs them

    return store.matched_with() != dedup.RULES


def rematch(store: Store) -> tuple[int, int]:
    """Find the copies of every stored entry again, under this version's rules (the step after
    an upgrade whose rules differ: needs_rematch), from the stored texts alone: nothing is
    downloaded. What a source repeats is read from all its stored entries, as a fetch reads it
    from one document. Returns (entries examined, how many are copies of another)."""
    from archfeed import dedup
    from archfeed.parse.entries import origin_link

    stored = store.matching_inputs()
    by_source: dict[str, list[tuple[int, str | None, str, str, str, datetime | None]]] = {}
    for seq, source, url, title, text, lang, when in stored:
        by_source.setdefault(source, []).append((seq, url, title, text, lang, when))
    rows = []
    for source, entries in by_source.items():
        shared = dedup.siblings([e[2] for e in entries], [e[3] for e in entries])
        for (seq, url, title, text, lang, when), sibling in zip(entries, shared, strict=True):
            keys = dedup.keys(url, title, text, origin_link(text, url or ""), sibling)
            rows.append((seq, Article(source, title, text, lang, keys, when)))
    rows.sort(key=lambda row: row[0])
    return len(rows), store.rematch(rows, dedup.same_article, dedup.RULES)


def run(  # noqa: PLR0915 -- three of them imports, deferred: `sources` needs none
    config: Config,
    store: Store,
    sources: Sequence[Source],
    clock: Callable[[], datetime],
    force: bool = False,
    on_report: Callable[[SourceReport], None] | None = None,
) -> list[SourceReport]:
    """Fetch `sources` into the store, each source's writes all or nothing; `clock` dates what
    is stored and decides which sources wait (failing, or not due: polite.py); `force` fetches
    them all. The config's classification must be applied to the stored entries first
    (reclassify)."""
    from archfeed.fetch import fetch_all  # httpx: only the fetch command pays for it
    from archfeed.update.pool import Parsers
    from archfeed.update.worker import prepare

    now = clock()
    health = store.health()
    reports: list[SourceReport] = []
    due = []
    for source in sources:
        fetched = health.get(source.name)
        reason = None if force else _skip_reason(source, fetched, now)
        wait = None if force or reason else polite.not_due(source, fetched, config.settings, now)
        if reason:
            reports.append(SourceReport(source.name, skipped=reason, gone=reason == _GONE))
        elif wait:  # a move is said until the config follows it, fetched this time or not
            moved = fetched.moved_to if fetched else None
            reports.append(SourceReport(source.name, not_due=wait, moved_to=moved))
        else:
            due.append(source)
    by_name = {source.name: source for source in due}
    prints = fingerprints(due, config.topics)
    unreached: list[FetchResult] = []  # failed at the network: held until every answer is in

    def finish(
        result: FetchResult,
        prepared: Prepared | None,
        known: Mapping[str, Known],
        hold: bool = True,
    ) -> None:
        if result.unreachable and hold:
            unreached.append(result)
            return
        source = by_name[result.source]
        failures = health[source.name].failures if source.name in health else 0
        now = clock()
        error = result.error or (prepared.error if prepared else None)
        if error:
            report = _failed(store, source, result, error, now, failures)
        elif prepared is None:  # not modified: nothing to parse, and its feed asks what it asked
            ttl = health[source.name].ttl if source.name in health else None
            store.save(Fetched(source, prints[source.name], result, now, ttl=ttl))
            report = SourceReport(source.name, not_modified=True, status=result.status)
        else:
            report = store_prepared(
                store, source, prints[source.name], result, prepared, known, now
            )
        reports.append(replace(report, moved_to=result.permanent_redirect))
        if on_report:
            on_report(reports[-1])

    with Parsers(len(due)) as parsers, store.batched():
        for result in fetch_all(due, store.validators(), config.settings, force):
            if result.error or result.body is None:
                finish(result, None, {})
            else:
                source = by_name[result.source]
                known, skip = unchanged_hashes(store, source.name)
                parsers.submit(
                    (replace(result, body=None), known),  # the worker has the body
                    prepare, result.body, result.content_type, result.final_url or source.url,
                    source, config.topics, config.settings.languages, skip,
                    store.memos(source.name),
                )  # fmt: skip
            for (done, known), prepared in parsers.ready():
                finish(done, prepared, known)
        for (done, known), prepared in parsers.ready(wait=True):
            finish(done, prepared, known)
        if unreached and len(unreached) == len(due):
            # no source could be reached: the machine is offline, and no source is to blame
            raise OfflineError(
                "offline? no source could be reached",
                hint="check the network connection; no source was marked as failing",
            )
        for result in unreached:  # others answered: these sources failed on their own
            finish(result, None, {}, hold=False)
    order = {source.name: index for index, source in enumerate(sources)}
    return sorted(reports, key=lambda report: order[report.source])


_GONE = "gone (410); change its url in the config, or remove it"


def _skip_reason(source: Source, health: SourceHealth | None, now: datetime) -> str | None:
    """Why a source is not fetched this time: gone for good, or backing off after failures."""
    if health is None or health.url != source.url:
        return None  # a new url starts with a clean slate
    if health.gone_url and health.gone_url == source.url:
        return _GONE
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


def _failed(
    store: Store, source: Source, result: FetchResult, error: str, now: datetime, failures: int
) -> SourceReport:
    store.record_failure(
        source, result, error, now, next_try(failures + 1, result.retry_after, now)
    )
    return SourceReport(source.name, error=error, status=result.status)


def store_prepared(
    store: Store,
    source: Source,
    classified_with: str,
    result: FetchResult,
    prepared: Prepared,
    known: Mapping[str, Known],
    now: datetime,
) -> SourceReport:
    """The database half: find each entry's copies among the stored ones, then store the lot, all
    or nothing."""
    from archfeed import dedup

    changes = []
    for change in prepared.changes:
        entry = change.entry
        # dated as the store will date it: undated, or dated in the future, is now
        when = entry.published if entry.published and entry.published <= now else now
        me = Article(
            source.name, entry.title, entry.text, change.classified.lang, change.keys, when
        )
        changes.append(replace(change, copies=store.copies(me, dedup.same_article)))
    new, updated, duplicates = store.save(
        Fetched(source, classified_with, result, now, changes, known, prepared.memos, prepared.ttl)
    )
    return SourceReport(
        source.name, new=new, updated=updated, duplicates=duplicates, status=result.status,
        warning=prepared.warning,
    )  # fmt: skip


def unchanged_hashes(store: Store, source: str) -> tuple[dict[str, Known], dict[str, str]]:
    """The stored entries of a source, and what a worker needs to skip: their hashes, and the
    identities of pruned entries."""
    from archfeed.update.worker import TOMBSTONE

    known = store.known(source)
    skip = {key: old.content_hash for key, old in known.items()}
    skip.update(dict.fromkeys(store.tombstones(source), TOMBSTONE))
    return known, skip
