"""The only rich code, and every output format: table, plain, JSON, JSON lines; fetch reports and
the progress bar.

Owns: how entries and reports look. Feed text always goes into rich as `Text` objects, never as
markup, so `[bold]` in a title prints literally. Never reads the database or the network.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from archfeed.models import EntryDetail, Source, SourceHealth, SourceReport, StoredEntry
from archfeed.text import excerpt, iso

FORMATS = ("table", "plain", "json", "jsonl")
COUNT_FORMATS = ("table", "plain", "json")  # also `show`'s


def entry_object(entry: StoredEntry, excerpt_chars: int) -> dict[str, Any]:
    """The JSON contract of DESIGN §2: exactly these keys, in this order."""
    return {
        "id": entry.id,
        "title": entry.title,
        "url": entry.url,
        "source": entry.source,
        "published": iso(entry.published),
        "first_seen": iso(entry.first_seen),
        "lang": entry.lang,
        "topics": sorted(entry.topics),
        "excerpt": excerpt(entry.text, excerpt_chars),
        "author": entry.author,
        "also_at": [{"source": c.source, "url": c.url, "title": c.title} for c in entry.also_at],
    }


def write_entries(
    entries: Sequence[StoredEntry],
    fmt: str,
    excerpt_chars: int,
    out: IO[str],
    width: int | None = None,
) -> None:
    if fmt == "json":
        json.dump(
            [entry_object(e, excerpt_chars) for e in entries], out, ensure_ascii=False, indent=2
        )
        out.write("\n")
    elif fmt == "jsonl":
        for entry in entries:
            out.write(json.dumps(entry_object(entry, excerpt_chars), ensure_ascii=False) + "\n")
    elif fmt == "plain":
        for entry in entries:
            fields = (iso(entry.published), entry.source, entry.lang, entry.title, entry.url or "")
            out.write("\t".join(fields) + "\n")
    else:
        _table(entries, excerpt_chars, out, width)


def _console(out: IO[str], width: int | None = None) -> Any:
    from rich.console import Console

    # NO_COLOR is honoured by rich itself; highlight=False keeps rich from colouring numbers and
    # URLs inside feed text as if they were code
    return Console(
        file=out,
        highlight=False,
        emoji=False,
        markup=False,
        width=width,
        force_terminal=None,
        no_color="NO_COLOR" in os.environ or None,
    )


def _table(
    entries: Sequence[StoredEntry], excerpt_chars: int, out: IO[str], width: int | None
) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False)
    table.add_column("date", no_wrap=True, style="cyan")
    table.add_column("source", style="magenta", max_width=22, overflow="ellipsis", no_wrap=True)
    table.add_column("lang", no_wrap=True)
    table.add_column("topics", style="green", max_width=24, overflow="ellipsis")
    table.add_column("title", ratio=1)
    for entry in entries:
        body = Text(entry.title, style="bold")
        summary = excerpt(entry.text, excerpt_chars)
        if summary:
            body.append("\n")
            body.append(summary, style="dim")
        table.add_row(
            Text(entry.published.strftime("%Y-%m-%d %H:%M")),
            Text(entry.source),
            Text(entry.lang),
            Text(" ".join(entry.topics)),
            body,
        )
    _console(out, width).print(table)


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


def write_detail(detail: EntryDetail, fmt: str, out: IO[str], width: int | None = None) -> None:
    entry = detail.entry
    if fmt == "json":
        json.dump(detail_object(detail), out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    fields = [
        ("id", entry.id),
        ("source", entry.source + (f" ({detail.source_url})" if detail.source_url else "")),
        ("url", entry.url or "-"),
        ("published", iso(entry.published)),
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
        out.write("\n" + textwrap.fill(entry.text, width or 72) + "\n")
        return
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="cyan", no_wrap=True)
    grid.add_column()
    for name, value in fields:
        grid.add_row(Text(name), Text(value))
    console = _console(out, width)
    console.print(Text(entry.title, style="bold"))
    console.print(grid)
    console.print()
    console.print(Text(entry.text))


def source_object(source: Source, health: SourceHealth | None) -> dict[str, Any]:
    """`sources --format json`: one object per configured source."""
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
    }


def _source_state(item: dict[str, Any]) -> str:
    if item["gone"]:
        return "gone (410): change or remove its url"
    if item["moved_to"]:
        return f"moved: update your config to {item['moved_to']}"
    if item["failures"]:
        return f"failing ({item['failures']}× in a row): {item['last_error']}"
    return "ok" if item["last_fetch"] else "never fetched"


def write_sources(rows: Sequence[dict[str, Any]], fmt: str, out: IO[str]) -> None:
    if fmt == "json":
        json.dump(list(rows), out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    columns = ("name", "last_fetch", "status", "entries", "last_new", "failures")
    if fmt == "plain":
        for item in rows:
            values = [str(item[c]) if item[c] is not None else "-" for c in columns]
            out.write("\t".join([*values, _source_state(item)]) + "\n")
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in (*columns, "state"):
        table.add_column(column.replace("_", " "), overflow="fold")
    for item in rows:
        values = [str(item[c]) if item[c] is not None else "-" for c in columns]
        table.add_row(*map(Text, [*values, _source_state(item)]))
    _console(out).print(table)


def write_counts(rows: Sequence[tuple[str, int]], key: str, fmt: str, out: IO[str]) -> None:
    """Entries per topic or language: `[{"topic": "x", "entries": 3}, …]` in JSON, `x<TAB>3` in
    plain text, a two-column table on a terminal."""
    if fmt == "json":
        json.dump([{key: value, "entries": n} for value, n in rows], out, ensure_ascii=False)
        out.write("\n")
    elif fmt == "plain":
        out.writelines(f"{value}\t{n}\n" for value, n in rows)
    else:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column(key)
        table.add_column("entries", justify="right", style="cyan")
        for value, n in rows:
            table.add_row(Text(value), Text(str(n)))
        _console(out).print(table)


def report_line(report: SourceReport, verbose: bool = False) -> str:
    if report.skipped:
        line = f"{report.source}: {report.skipped}"
    elif report.error:
        line = f"{report.source}: failed: {report.error}"
    elif report.not_modified:
        line = f"{report.source}: not modified"
    else:
        line = f"{report.source}: {report.new} new, {report.updated} updated"
        if report.duplicates:
            line += f", {report.duplicates} duplicates"
        if report.warning:
            line += f" (warning: {report.warning})"
    if verbose and report.status is not None:
        line += f" [HTTP {report.status}]"
    if report.moved_to:
        line += f"; moved permanently: update your config to {report.moved_to}"
    return line


def total_line(reports: Sequence[SourceReport]) -> str:
    new = sum(r.new for r in reports)
    updated = sum(r.updated for r in reports)
    duplicates = sum(r.duplicates for r in reports)
    unchanged = sum(r.not_modified for r in reports)
    failed = sum(r.failed for r in reports)
    skipped = sum(r.skipped is not None for r in reports)
    line = (
        f"total: {len(reports)} sources, {new} new, {updated} updated, {duplicates} duplicates, "
        f"{unchanged} not modified, {failed} failed"
    )
    return line + (f", {skipped} skipped" if skipped else "")


@contextmanager
def progress(total: int, enabled: bool) -> Iterator[Any]:
    """A progress bar on stderr, or a no-op: `advance(description)` either way."""
    if not enabled:
        yield lambda _description="": None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, highlight=False, markup=False)
    columns = (
        TextColumn("fetching"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}", markup=False),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("", total=total)
        yield lambda description="": bar.update(task, advance=1, description=description)
