"""A feed's dates, in the forms real feeds write them.

Owns: reading a date string into UTC: feedparser's own handlers first (RFC 822 and its many
deviations, W3C and ISO 8601, and the national forms it knows), then the forms they miss that
blogs and CMSs print ("Friday, January 29, 2021 04:42 PM", "29.01.2021 16:42"). Never guesses
between day-first and month-first: a date that could be read both ways is not read.
"""

from __future__ import annotations

import calendar
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
