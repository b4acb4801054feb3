"""The only rich code, and every output format. This module: lists of entries (table, plain,
JSON, JSON lines), fetch reports and the progress bar; detail.py: `show`, `sources` and counts;
feeds.py: lists as Atom and JSON Feed.

Owns: how entries and reports look. Feed text always goes into rich as `Text` objects, never as
markup, so `[bold]` in a title prints literally. Never reads the database or the network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from archfeed.text import excerpt, flat, iso

if TYPE_CHECKING:  # the models cost ~30 ms of start-up that `--help` should not pay
    from archfeed.models import Filter, Listing, Screen, SourceReport, StoredEntry

    Writer = Callable[[Sequence[StoredEntry], int, IO[str], Screen], None]

ENTRY_KEYS = ("id", "title", "url", "source", "published", "first_seen", "lang", "topics",
              "excerpt", "author", "also_at", "read", "muted_by")  # fmt: skip


# what may stand between a title and the rest of a text that repeats it
_AFTER_TITLE = " .:;,|–—-"


def summary(entry: StoredEntry, chars: int) -> str:
    """What is printed under an entry's title: the feed's own summary when it gave one beside a
    text that begins otherwise (parse._own_summary), else the text; cut to `chars`, without the
    title when it begins with it (many feeds repeat the headline as the body's first line)."""
    text, title = flat(entry.summary or entry.text), entry.title
    if title and text[: len(title)].casefold() == title.casefold():
        text = text[len(title) :].lstrip(_AFTER_TITLE)
    return excerpt(text, chars)


def entry_object(entry: StoredEntry, excerpt_chars: int) -> dict[str, Any]:
    """The JSON contract of docs/design.md: exactly these keys, in this order."""
    return {
        "id": entry.id,
        "title": entry.title,
        "url": entry.url,
        "source": entry.source,
        "published": iso(entry.published) if entry.published else None,
        "first_seen": iso(entry.first_seen),
        "lang": entry.lang,
        "topics": sorted(entry.topics),
        "excerpt": summary(entry, excerpt_chars),
        "author": entry.author,
        "also_at": [{"source": c.source, "url": c.url, "title": c.title} for c in entry.also_at],
        "read": entry.read,
        "muted_by": entry.muted_by,
    }


def write_entries(
    entries: Sequence[StoredEntry],
    fmt: str,
    excerpt_chars: int,
    out: IO[str],
    screen: Screen,
    listing: Listing | None = None,
    where: Filter | None = None,
) -> None:
    """`list` in one of FORMATS; any other format is a bug of the caller's, never a table. A
    feed is titled and named by `where`, the filters that chose the entries."""
    if fmt == "table":
        from archfeed.models import Listing
        from archfeed.render import table

        summaries = [summary(entry, excerpt_chars) for entry in entries]
        table.write(entries, summaries, out, screen, listing or Listing())
        return
    if fmt in FEED_FORMATS:
        from archfeed.models import Filter
        from archfeed.render import feeds

        assert screen.now is not None, "cli/reading.py:screen gives the run's time"
        channel = feeds.list_channel(where or Filter(), screen.now)
        out.write(feeds.document(fmt, entries, excerpt_chars, channel))
        return
    ENTRY_WRITERS[fmt](entries, excerpt_chars, out, screen)


def _json(entries: Sequence[StoredEntry], excerpt_chars: int, out: IO[str], _: Screen) -> None:
    write_json([entry_object(e, excerpt_chars) for e in entries], out)


def _jsonl(entries: Sequence[StoredEntry], excerpt_chars: int, out: IO[str], _: Screen) -> None:
    for entry in entries:
        out.write(json.dumps(entry_object(entry, excerpt_chars), ensure_ascii=False) + "\n")


def _plain(entries: Sequence[StoredEntry], _chars: int, out: IO[str], _: Screen) -> None:
    for entry in entries:
        when = iso(entry.published) if entry.published else ""
        fields = (when, entry.source, entry.lang, entry.title, entry.url or "", entry.id)
        out.write("\t".join(fields) + "\n")


def _markdown(entries: Sequence[StoredEntry], excerpt_chars: int, out: IO[str], _: Screen) -> None:
    out.writelines(markdown_item(entry, excerpt_chars) for entry in entries)


def write_json(value: Any, out: IO[str]) -> None:
    """A JSON document of the output contract: UTF-8 as is, indented, ending in a newline."""
    json.dump(value, out, ensure_ascii=False, indent=2)
    out.write("\n")


def _csv(entries: Sequence[StoredEntry], excerpt_chars: int, out: IO[str], _: Screen) -> None:
    """The JSON keys as columns; lists joined with `;` (also_at as `source=url`). A value that
    a spreadsheet would run as a formula (= + - @ at its start) is prefixed with an apostrophe:
    feed text is hostile, and CSV is opened in spreadsheets."""
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ENTRY_KEYS)
    for entry in entries:
        item = entry_object(entry, excerpt_chars)
        item["topics"] = ";".join(item["topics"])
        item["also_at"] = ";".join(f"{c['source']}={c['url'] or ''}" for c in item["also_at"])
        item["read"] = "true" if item["read"] else "false"  # as JSON writes it, not Python
        writer.writerow(
            [_inert_cell("" if item[key] is None else str(item[key])) for key in ENTRY_KEYS]
        )


def _inert_cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


# mid-line, only these make Markdown (emphasis, code, links, HTML, tables, strike-through)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


_MARKDOWN_LINE_START = re.compile(r"^(\s*)(?:([#+=-])|(\d+)([.)]))")


def md_escape(text: str) -> str:
    """Feed text as literal Markdown text: no link, emphasis, HTML, heading or list of its own."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _MARKDOWN_LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    lead, mark, number, dot = match.groups()
    return f"{lead}\\{mark}" if mark else f"{lead}{number}\\{dot}"


def md_url(url: str) -> str:
    """A URL safe inside `(…)`: spaces and parentheses percent-encoded."""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C")


def entry_meta(entry: StoredEntry) -> str:
    """The line under a title in Markdown and in digests: source, language, date, other copies."""
    meta = f"{entry.source} · {entry.lang} · {_day(entry)}"
    if entry.also_at:
        meta += " · also at " + ", ".join(copy.source for copy in entry.also_at)
    return meta


UNDATED = "undated"  # in place of a date the feed did not give


def _day(entry: StoredEntry) -> str:
    return f"{entry.published:%Y-%m-%d}" if entry.published else UNDATED


def markdown_item(entry: StoredEntry, excerpt_chars: int) -> str:
    title = md_escape(entry.title)
    head = f"[{title}]({md_url(entry.url)})" if entry.url else title
    meta = md_escape(entry_meta(entry))
    text = summary(entry, excerpt_chars)
    return f"- **{head}**  \n  {meta}" + (f"  \n  {md_escape(text)}" if text else "") + "\n"


ENTRY_WRITERS: dict[str, Writer] = {
    "plain": _plain,
    "json": _json,
    "jsonl": _jsonl,
    "csv": _csv,
    "markdown": _markdown,
}
# render/feeds.py's writers, imported only when one is asked for
FEED_FORMATS = ("atom", "jsonfeed")
FORMATS = ("table", *ENTRY_WRITERS, *FEED_FORMATS)


def report_line(report: SourceReport, verbose: bool = False) -> str:
    if report.skipped or report.not_due:
        line = f"{report.source}: {report.skipped or report.not_due}"
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
    waiting = sum(r.not_due is not None for r in reports)
    line = (
        f"total: {len(reports)} sources, {new} new, {updated} updated, {duplicates} duplicates, "
        f"{unchanged} not modified, {failed} failed"
    )
    return line + (f", {skipped} skipped" if skipped else "") + (
        f", {waiting} not due" if waiting else "")  # fmt: skip


@contextmanager
def progress(total: int, terminal: IO[str] | None) -> Iterator[Any]:
    """A progress bar on `terminal` (stderr when it is one), or a no-op without one:
    `advance(description)` either way."""
    if terminal is None:
        yield lambda _description="": None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=terminal, force_terminal=True, highlight=False, markup=False)
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
