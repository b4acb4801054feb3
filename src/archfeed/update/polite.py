"""Polite fetching: when a source may be fetched again, by what its server and its feed asked and
by the pace the config sets.

Owns: the wait after a source's last fetch: its server's word (Cache-Control, Expires: fetch reads
them) or its feed's (`<ttl>`, `<sy:updatePeriod>`: parse reads them), whichever is longer, capped
at a day; the source's `interval`; `[settings].min_interval` for a source on a server; and the
words of a source not due. The config's part is applied when asked, never stored, so that an
edit counts on the next run. Never fetches, stores or prints, and never holds back a failing
source: its next try is update.next_try's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from archfeed.models import Settings, Source, SourceHealth
from archfeed.text import iso

ADVICE_CAP = timedelta(days=1)  # a server's max-age of a year must not silence a feed for a year


def next_fetch(
    source: Source, health: SourceHealth | None, settings: Settings
) -> tuple[datetime, str] | None:
    """From when a fetch without --force fetches `source` again, and what set that time; None
    when the next fetch does (never fetched, its url changed since, nothing asks it to wait) or
    none will (gone: its url answered 410). A failing source waits for its next try alone."""
    if health is None or health.url != source.url or health.last_fetch is None:
        return None
    if health.failures:
        gone = health.gone_url == source.url
        return (health.skip_until, "its next try") if health.skip_until and not gone else None
    own = source.interval or timedelta(0)
    waits = [(own, f"its interval is {_span(own.total_seconds())}")]
    if source.is_remote:  # a file costs nobody anything: only its interval holds it back
        least = settings.min_interval
        waits.append((least, f"min_interval is {_span(least.total_seconds())}"))
        waits += [_asked(health.fresh_for, "its server"), _asked(health.ttl, "its feed")]
    wait, why = max(waits, key=lambda pair: pair[0])  # of equal waits the first: the config's
    return (health.last_fetch + wait, why) if wait else None


def not_due(
    source: Source, health: SourceHealth | None, settings: Settings, now: datetime
) -> str | None:
    """What the report says of a source not due at `now`: when it will be, and why; None when it
    is due."""
    due = next_fetch(source, health, settings)
    if due is None or due[0] <= now:
        return None
    return f"not due until {iso(due[0])} ({due[1]}; --force fetches it now)"


def _asked(seconds: float | None, who: str) -> tuple[timedelta, str]:
    """A server's or a feed's wait, capped (the seconds may be past what a timedelta holds)."""
    cap = ADVICE_CAP.total_seconds()
    capped = f", capped at {_span(cap)}" if seconds and seconds > cap else ""
    asked = timedelta(seconds=min(seconds or 0.0, cap))
    return asked, f"{who} asks for {_span(seconds or 0.0)}{capped}"


def _span(wait: float) -> str:
    """Seconds as the config writes a wait, in its largest whole unit (`10min`, `6h`, `2d`), else
    in seconds; past a day, in days."""
    seconds = round(wait)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds / 86400:.0f}d" if seconds > 86400 else f"{seconds}s"
