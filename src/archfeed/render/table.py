"""The table `list` draws on a terminal: which columns fit the width, and how each row reads.

Owns: the layout (the title and its excerpt get the room first; the other columns shrink,
abbreviate or drop in the order of `_SHRINK`, none ever below its shortest useful form), dates
for a person (local time, recent ones as an age), the topics worth showing (configured ones first,
three at most, then +N), and the line under an excerpt (the link's host, the other copies'
sources). Never reads the database, the environment or the clock: Screen and Listing carry them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from archfeed.render.terminal import NO_BREAK, console, draw, feed_text
from archfeed.text import clean

if TYPE_CHECKING:
    from rich.text import Text

    from archfeed.models import Listing, Screen, StoredEntry

UNDATED = "undated"
TOPICS_SHOWN = 3
GAP = 3  # between two columns: a space of padding on each side, and the divider
SOURCE_WIDTH = (8, 22)  # shortest and widest
TOPICS_WIDTH = 24
# the title column's due, before any other column is given room: ~half the width, 30 to 56
TITLE_SHARE, TITLE_MIN, TITLE_DUE = 0.45, 30, 56


@dataclass(frozen=True)
class Layout:
    """The columns beside the title, and how wide each is (0: dropped)."""

    id: int
    date: str  # "full" (2026-12-01 21:42), "short" (12-01 21:42) or "day" (12-01)
    date_width: int
    source: int
    lang: int
    topics: int
    title: int


_DATE_FORMATS = {"full": "%Y-%m-%d %H:%M", "short": "%m-%d %H:%M", "day": "%m-%d"}
# in this order, until the title has its due: topics, language, the year, the source's length,
# then the time of day
_SHRINK = ("topics", "lang", "short", "source", "day")


def layout(width: int, ids: int, dates: dict[str, int], sources: int, langs: int, topics: int
           ) -> Layout:  # fmt: skip
    """The columns for a table `width` cells wide: `ids` the id's length, `dates` the widest
    date in each form, the others the widest cell of their column (0 when empty)."""
    due = min(max(TITLE_MIN, int(width * TITLE_SHARE)), TITLE_DUE)
    form, source, topics = "full", min(sources, SOURCE_WIDTH[1]), min(topics, TOPICS_WIDTH)

    def left() -> int:  # for the title
        shown = (ids, dates[form], source, langs, topics)
        return width - sum(cells + GAP for cells in shown if cells)

    for step in _SHRINK:
        if left() >= due:
            break
        if step == "topics":
            topics = 0
        elif step == "lang":
            langs = 0
        elif step == "source":
            source = max(min(SOURCE_WIDTH[0], sources), source - (due - left()))
        else:
            form = step
    return Layout(ids, form, dates[form], source, langs, topics, max(left(), 1))


def when(published: datetime | None, screen: Screen, form: str) -> str:
    """A date as a person reads it: an age when recent (`35 min`, `5 h`, `yesterday`), else the
    local date and time in `form`."""
    if published is None:
        return UNDATED
    local = published.astimezone(screen.zone or UTC)
    if screen.now is not None:
        age = screen.now - published
        if timedelta(0) <= age < timedelta(hours=1):
            return f"{age.seconds // 60} min"
        if timedelta(0) <= age < timedelta(hours=24):
            return f"{age.seconds // 3600} h"
        today = screen.now.astimezone(screen.zone or UTC).date()
        if form != "day" and local.date() == today - timedelta(days=1):
            return "yesterday"
    return local.strftime(_DATE_FORMATS[form])


def shown_topics(topics: Sequence[str], configured: frozenset[str]) -> str:
    """The configured topics first, then the feed's categories; three at most, then `+N`."""
    ranked = sorted(topics, key=lambda topic: (topic not in configured, topic))
    rest = len(ranked) - TOPICS_SHOWN
    return " ".join(ranked[:TOPICS_SHOWN]) + (f" +{rest}" if rest > 0 else "")


def where(entry: StoredEntry) -> str:
    """The line under an excerpt: the link's host, where else the article appeared, and (with
    `--muted`) the rule that hides it."""
    host = (urlsplit(entry.url).hostname or "") if entry.url else ""
    parts = [clean(host.removeprefix("www."))] if host else []
    others = list(dict.fromkeys(copy.source for copy in entry.also_at))
    if others:
        parts.append("also at " + ", ".join(others))
    if entry.muted_by:  # `list --muted`: what hides it
        parts.append(f"muted by {entry.muted_by}")
    return " · ".join(parts)


def write(entries: Sequence[StoredEntry], summaries: Sequence[str], out: IO[str],
          screen: Screen, listing: Listing) -> None:  # fmt: skip
    """The table of `entries`, each with its excerpt (`summaries`, in the same order)."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    rows = [_cells(entry, listing) for entry in entries]
    widest = {key: max(_width(row[key]) for row in rows) for key in ("source", "lang", "topics")}
    dates = {
        form: max(len(when(e.published, screen, form)) for e in entries) for form in _DATE_FORMATS
    }
    # the width rich will draw at (COLUMNS, else the terminal's own); no column narrower than
    # its header
    plan = layout(screen.width or console(out, screen).width, listing.id_chars, dates,
                  max(widest["source"], 6), max(widest["lang"], 4),
                  max(widest["topics"], 6) if widest["topics"] else 0)  # fmt: skip
    # without colours, no style at all (NO_COLOR, TERM=dumb): only a hyperlink, when asked for
    tone = (lambda style: style) if screen.colours else (lambda style: "")
    table = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False, leading=1,
                  header_style=tone("table.header"))  # fmt: skip

    def column(header: str, width: int, **style: Any) -> None:
        table.add_column(header, min_width=width, max_width=width, **style)

    column("id", plan.id, style=tone("yellow"), no_wrap=True)
    column("date", plan.date_width, style=tone("cyan"), no_wrap=True)
    column("source", plan.source, style=tone("magenta"), no_wrap=True, overflow="ellipsis")
    if plan.lang:
        column("lang", plan.lang, no_wrap=True)
    if plan.topics:
        column("topics", plan.topics, style=tone("green"), overflow="fold")
    table.add_column("title", ratio=1, overflow="fold")  # a CJK line has no space to wrap at
    for entry, row, text in zip(entries, rows, summaries, strict=True):
        body: list[Text] = [_title(entry, screen)]
        if text:
            body.append(feed_text(text, style=tone("dim")))
        if row["where"]:
            body.append(Text(row["where"], style=tone("dim italic"), no_wrap=True,
                             overflow="ellipsis"))  # fmt: skip
        date = when(entry.published, screen, plan.date)
        cells = [feed_text(entry.id[: plan.id]), feed_text(date), feed_text(row["source"])]
        if plan.lang:
            cells.append(feed_text(row["lang"]))
        if plan.topics:
            cells.append(feed_text(row["topics"]))
        table.add_row(*cells, Group(*body))
    draw(out, screen, table)


# before an unread title where no colour can tell it from a read one; held to the title's first
# word, as a line of CJK (one long word) would leave it alone on a line
UNREAD_MARK = "*" + NO_BREAK


def _title(entry: StoredEntry, screen: Screen) -> Text:
    """An unread title bright (or marked, without colours), a read one dim; a link to the
    entry's URL when the screen takes links and the URL is safe to hand a terminal."""
    from rich.style import Style

    from archfeed.text.links import web_link

    link = web_link(entry.url) if screen.links else None
    if screen.colours:
        return feed_text(entry.title, Style(dim=entry.read, bold=not entry.read, link=link))
    title = entry.title if entry.read else UNREAD_MARK + entry.title
    return feed_text(title, style=Style(link=link) if link else "")


def _cells(entry: StoredEntry, listing: Listing) -> dict[str, str]:
    return {
        "source": entry.source,
        "lang": entry.lang,
        "topics": shown_topics(entry.topics, listing.configured),
        "where": where(entry),
    }


def _width(value: str) -> int:
    from rich.cells import cell_len

    return cell_len(value)
