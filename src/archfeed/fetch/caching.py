"""How long a server says its answer stays fresh: what polite fetching waits for (update/polite.py).

Owns: reading Cache-Control, Expires, Date and Age into seconds, as a private cache reads them
(RFC 9111, 4.2.1 and 4.2.3). Never fetches, and never decides what the seconds do to a source:
update does, and caps them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

_SECONDS = re.compile(r"[0-9]{1,15}")  # longer is no number a server means


def fresh_for(headers: Mapping[str, str]) -> float | None:
    """Seconds the answer with these headers is fresh for; None when they say nothing. `max-age`
    is the directive for a private client like archfeed (RFC 9111, 5.2.2.10, has a private cache
    ignore `s-maxage`, which is a shared cache's), so `s-maxage` counts only on its own, as the
    server's word on how often it wants the document asked for; then `Expires` against the
    answer's own `Date`, so that a clock set wrong on either side changes nothing. `no-store`
    and `no-cache` mean ask every time: 0. Less the `Age` a cache on the way reports."""
    directives = _directives(headers.get("cache-control", ""))
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    lifetime = _seconds(directives.get("max-age"))
    if lifetime is None:
        lifetime = _seconds(directives.get("s-maxage"))
    if lifetime is None and "expires" in headers:
        lifetime = _until_expires(headers["expires"], headers.get("date"))
    if lifetime is None:
        return None
    return max(0.0, lifetime - (_seconds(headers.get("age")) or 0.0))


def _directives(value: str) -> dict[str, str]:
    """Cache-Control's directives by lower-case name, a value's quotes removed. Split at every
    comma, in one pass over a header a hostile server may make long: a comma inside a quoted
    value (`no-cache="a, b"`) only makes a name no directive has."""
    found: dict[str, str] = {}
    for part in value.split(","):
        name, _, argument = part.partition("=")
        found.setdefault(name.strip().lower(), argument.strip().strip('"'))  # the first, as caches
    return found


def _seconds(value: str | None) -> float | None:
    if value is None or not _SECONDS.fullmatch(value.strip()):
        return None
    return float(value.strip())


def _until_expires(expires: str, date: str | None) -> float:
    """Expires less Date; an Expires that is no date ("0", "-1") has expired already (RFC 9111,
    5.3). Without a Date, the answer is as old as its arrival, by the system clock."""
    end = _when(expires)
    if end is None:
        return 0.0
    start = _when(date) if date else None
    return end - (start if start is not None else time.time())


def _when(value: str) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
