"""How the store keeps times: RFC 3339 text in UTC, and the mark of a post that gives no date.

Owns: UNDATED and the reading of stored times. A post whose feed gives no date it can read is
stored as published at UNDATED, the earliest time there is: it sorts after every dated post
(lists are newest first), never matches --since or --until, and reads back as None (JSON
`published: null`). Never writes: writes.py does.
"""

from __future__ import annotations

from datetime import datetime

from archfeed.text import parse_iso

UNDATED = "0001-01-01T00:00:00Z"


def stored_time(value: str) -> datetime | None:
    """A stored `published`; None for a post that gave no date."""
    return None if value == UNDATED else parse_iso(value)
