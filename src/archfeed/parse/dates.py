"""A feed's dates, in the forms real feeds write them, and how often it asks to be read.

Owns: reading a date string into UTC: feedparser's own handlers first (RFC 822 and its many
deviations, W3C and ISO 8601, and the national forms it knows), then the forms they miss that
blogs and CMSs print ("Friday, January 29, 2021 04:42 PM", "29.01.2021 16:42"). Never guesses
between day-first and month-first: a date that could be read both ways is not read. And a
feed's own word on how often to fetch it: RSS `<ttl>`, the syndication module's `<sy:updatePeriod>`
and `<sy:updateFrequency>`.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime
from typing import Any

import feedparser.datetimes

# what feedparser's handlers do not read; %B and %A are English month and day names (the C
# locale, which Python starts in), the names these forms are written with in English feeds
_LENIENT = (
    "%A, %B %d, %Y %I:%M %p", "%A, %B %d, %Y %H:%M", "%A, %B %d, %Y", "%A, %d %B %Y %H:%M",
    "%B %d, %Y %I:%M %p", "%B %d, %Y %H:%M", "%B %d, %Y", "%b %d, %Y %I:%M %p", "%b %d, %Y",
    "%d %B %Y %H:%M", "%d %B %Y", "%d %b %Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
)  # fmt: skip
_EARLIEST, _LATEST = 1970, 2200  # outside these, a "date" is a counter or a typo


def read_date(value: Any) -> datetime | None:
    """`value` as a UTC time, or None when it is no date any handler can read. A time without a
    zone is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = " ".join(value.split())
    return _feedparser(text) or _plausible(_lenient(text))


def from_struct(parsed: Any) -> datetime | None:
    """A time.struct_time in UTC, as feedparser gives them (`published_parsed`)."""
    try:
        return _plausible(datetime.fromtimestamp(calendar.timegm(parsed), UTC)) if parsed else None
    except (ValueError, OverflowError, OSError):
        return None


def _plausible(when: datetime | None) -> datetime | None:
    return when if when and _EARLIEST <= when.year < _LATEST else None


def _feedparser(text: str) -> datetime | None:
    # its registry of handlers; feedparser exports it under no other name
    return from_struct(feedparser.datetimes._parse_date(text))


def _lenient(text: str) -> datetime | None:
    for form in _LENIENT:
        try:
            return datetime.strptime(text, form).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


_COUNT = re.compile(r"[0-9]{1,9}")  # longer is no count a feed means
_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400,
            "yearly": 365 * 86400}  # fmt: skip


def asked_interval(feed: Any) -> float | None:
    """Seconds the feed asks between fetches, None when it does not say: `<ttl>` (minutes), or
    `<sy:updatePeriod>` divided by `<sy:updateFrequency>` (1 when absent); the longer of the two
    when it gives both. A zero, negative or unreadable value says nothing."""
    asked = []
    ttl = str(feed.get("ttl") or "").strip()
    if _COUNT.fullmatch(ttl) and int(ttl):
        asked.append(int(ttl) * 60.0)
    period = _PERIODS.get(str(feed.get("sy_updateperiod") or "").strip().lower())
    frequency = str(feed.get("sy_updatefrequency") or "1").strip()
    if period and _COUNT.fullmatch(frequency) and int(frequency):
        asked.append(period / int(frequency))
    return max(asked, default=None)
