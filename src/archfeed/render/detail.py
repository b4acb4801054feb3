"""Renderings of one entry in full (`show`), of the sources' health (`sources`) and of counts
(`topics`, `langs`).

Owns: how those look in each format. Never reads the database; feed text reaches rich only as
`Text`, never as markup.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from archfeed.render import UNDATED, entry_object, write_json
from archfeed.render.terminal import console, draw, feed_text
from archfeed.text import PARAGRAPH, iso, parse_iso

if TYPE_CHECKING:
    from archfeed.models import EntryDetail, Screen, Source, SourceHealth

FORMATS = ("table", "plain", "json")


def _known(fmt: str) -> None:
    """Each writer here draws a table for anything but json and plain: any other format is a bug
    of the caller's (cli/app.py chooses among FORMATS), never a silent table."""
    if fmt not in FORMATS:
        raise ValueError(f"no such format: {fmt!r}")


def detail_object(detail: EntryDetail) -> dict[str, Any]:
    """`show --format json`: the entry object of `list`, with the whole text and what else is
    known (a superset: every key of the list contract is there, meaning the same)."""
    entry = detail.entry
    return {
        **entry_object(entry, len(entry.text)),
        "text": entry.text,
        "lang_source": detail.lang_source,
        "categories": list(detail.categories),
        "updated": iso(detail.updated),
        "canonical": detail.canonical,
    }


def write_detail(detail: EntryDetail, fmt: str, out: IO[str], screen: Screen) -> None:
    _known(fmt)
    entry = detail.entry
    if fmt == "json":
        write_json(detail_object(detail), out)
        return
    fields = [
        ("id", entry.id),
        ("source", entry.source + (f" ({detail.source_url})" if detail.source_url else "")),
        ("url", entry.url or "-"),
        ("published", iso(entry.published) if entry.published else UNDATED),
        ("first seen", iso(entry.first_seen)),
        ("updated", iso(detail.updated)),
        ("language", f"{entry.lang} ({detail.lang_source})"),
        ("topics", ", ".join(entry.topics) or "-"),
        ("categories", ", ".join(detail.categories) or "-"),
        ("author", entry.author or "-"),
    ]
    fields += [("also at", f"{c.source}: {c.title} <{c.url or '-'}>") for c in entry.also_at]
    if fmt == "plain":
        out.write(entry.title + "\n\n")
        out.writelines(f"{name}: {value}\n" for name, value in fields)
        paragraphs = entry.text.split(PARAGRAPH)
        out.write(
            "\n" + PARAGRAPH.join(textwrap.fill(p, screen.width or 72) for p in paragraphs) + "\n"
        )
        return
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="cyan", no_wrap=True)
    grid.add_column()
    for name, value in fields:
        grid.add_row(feed_text(name), feed_text(value))
    title, text = feed_text(entry.title, style="bold"), feed_text(entry.text)
    draw(out, screen, title, grid, "", text)


def source_object(
    source: Source, health: SourceHealth | None, next_fetch: datetime | None = None
) -> dict[str, Any]:
    """`sources --format json`: one object per configured source; `next_fetch`: from when a
    fetch fetches it again (update/polite.py), None when the next one does or none will."""
    from archfeed.models import SourceHealth

    h = health or SourceHealth(source.name, source.url)
    return {
        "name": source.name,
        "url": source.url,
        "enabled": source.enabled,
        "last_fetch": iso(h.last_fetch) if h.last_fetch else None,
        "status": h.last_status,
        "entries": h.entries,
        "last_new": iso(h.last_new) if h.last_new else None,
        "failures": h.failures,
        "last_error": h.last_error,
        "next_try": iso(h.skip_until) if h.skip_until and h.failures else None,
        "moved_to": h.moved_to,
        "gone": bool(h.gone_url and h.gone_url == source.url),
        "next_fetch": iso(next_fetch) if next_fetch else None,
    }


def _source_state(item: dict[str, Any]) -> str:
    if item["gone"]:
        return "gone (410): change or remove its url"
    if item["moved_to"]:
        return f"moved: update your config to {item['moved_to']}"
    if item["failures"]:
        state = f"failing ({item['failures']}× in a row): {item['last_error']}"
        return state + (f"; next try after {item['next_try']}" if item["next_try"] else "")
    return "ok" if item["last_fetch"] else "never fetched"


_TIMES = frozenset({"last_fetch", "next_fetch", "last_new"})  # never wrapped in the table


# what a narrow table of sources leaves out first: its name, times and state stay
_SOURCES_DROPPED = ("last_new", "failures", "status", "entries", "last_fetch")


def write_sources(rows: Sequence[dict[str, Any]], fmt: str, out: IO[str], screen: Screen) -> None:
    _known(fmt)
    if fmt == "json":
        write_json(list(rows), out)
        return
    # plain: next_fetch after the state, so that the fields before it keep their places
    plain = ("name", "last_fetch", "status", "entries", "last_new", "failures")
    columns = ("name", "last_fetch", "next_fetch", "status", "entries", "last_new", "failures")

    def shown(item: dict[str, Any], column: str) -> str:
        value = item[column]
        if value is None:
            return "-"
        if fmt == "table" and column in _TIMES:  # local, recent ones as ages, as in `list`
            from archfeed.render.table import when

            due = column == "next_fetch" and screen.now and parse_iso(value) <= screen.now
            return "due" if due else when(parse_iso(value), screen, "full")
        return str(value)

    if fmt == "plain":
        out.writelines("\t".join([*(shown(item, c) for c in plain), _source_state(item),
                                  shown(item, "next_fetch")]) + "\n" for item in rows)  # fmt: skip
        return
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table

    cells = [
        {**{c: shown(item, c) for c in columns}, "state": _source_state(item)} for item in rows
    ]
    kept = [*columns, "state"]
    # every column as wide as its header and its widest cell (the state, which may wrap, at
    # most 16), or, on a narrow screen, the columns of least use left out first: a name or a
    # time folded is no use
    width = screen.width or console(out, screen).width
    for column in _SOURCES_DROPPED:
        widest = {c: max(len(c), *(cell_len(row[c]) for row in cells)) for c in kept}
        needed = (min(n, 16) if c == "state" else n for c, n in widest.items())
        if sum(n + 3 for n in needed) <= width:
            break
        kept.remove(column)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in kept:
        table.add_column(column.replace("_", " "), overflow="fold",
                         no_wrap=column in _TIMES or column == "name",  # a name is typed whole
                         ratio=1 if column == "state" else None)  # fmt: skip
    for values in cells:
        table.add_row(*(feed_text(values[column]) for column in kept))
    draw(out, screen, table)


def write_counts(
    rows: Sequence[tuple[str, int]], key: str, fmt: str, out: IO[str], screen: Screen
) -> None:
    """Entries per topic or language: `[{"topic": "x", "entries": 3}, …]` in JSON, `x<TAB>3` in
    plain text, a two-column table on a terminal."""
    _known(fmt)
    if fmt == "json":
        json.dump([{key: value, "entries": n} for value, n in rows], out, ensure_ascii=False)
        out.write("\n")
    elif fmt == "plain":
        out.writelines(f"{value}\t{n}\n" for value, n in rows)
    else:
        from rich import box
        from rich.table import Table

        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column(key)
        table.add_column("entries", justify="right", style="cyan")
        for value, n in rows:
            table.add_row(feed_text(value), feed_text(str(n)))
        draw(out, screen, table)
