"""Digests: what is new, grouped by topic, as a mail body, Markdown, one HTML page, or JSON; or
newest first as a feed (render/feeds.py).

Owns: grouping entries by topic and each digest format. Never decides which entries are new
(the store's digest mark does) and never lets feed text act as markup: HTML is escaped value by
value, Markdown is escaped, the text format is plain.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from archfeed.render import (
    FEED_FORMATS,
    entry_meta,
    entry_object,
    markdown_item,
    md_escape,
    summary,
)
from archfeed.text import iso

if TYPE_CHECKING:
    from archfeed.models import StoredEntry

    Groups = list[tuple[str, list[StoredEntry]]]

WIDTH = 72  # a mail body
OTHER = "other"


def group(entries: Sequence[StoredEntry], topic_order: Sequence[str]) -> Groups:
    """Each entry once, under the first of its topics in `topic_order` (the config's topic rules,
    then its sources' topics), else under "other": a feed's own categories are too many and too
    fine to head a mail's sections. Groups in that order, newest first inside."""
    rank = {topic: index for index, topic in enumerate(dict.fromkeys(topic_order))}
    groups: dict[str, list[StoredEntry]] = {}
    for entry in entries:
        ranked = sorted((rank[t], t) for t in entry.topics if t in rank)
        groups.setdefault(ranked[0][1] if ranked else OTHER, []).append(entry)
    order = sorted(groups, key=lambda t: rank.get(t, len(rank)))
    return [(topic, sorted(groups[topic], key=_newest_first, reverse=True)) for topic in order]


def _newest_first(entry: StoredEntry) -> tuple[str, str]:
    """As lists sort: by date (an undated post last), then by id."""
    return (iso(entry.published) if entry.published else "", entry.id)


def render(groups: Groups, fmt: str, name: str, now: datetime, excerpt_chars: int) -> str:
    count = sum(len(entries) for _, entries in groups)
    title = f'archfeed digest "{name}": {count} new, {now:%Y-%m-%d %H:%M} UTC'
    if fmt == "json":
        return _json(groups, name, now, excerpt_chars)
    if fmt in FEED_FORMATS:  # a feed reader sorts by date: its items are not grouped
        from archfeed.render import feeds

        entries = sorted((e for _, group in groups for e in group), key=_newest_first, reverse=True)
        return feeds.document(fmt, entries, excerpt_chars, feeds.digest_channel(name, now))
    return _WRITERS[fmt](groups, title, excerpt_chars)  # any other format: the caller's bug


def _text(groups: Groups, title: str, excerpt_chars: int) -> str:
    """Reads well as a plain mail body: 72 columns, no markup (URLs alone may run longer)."""
    wrap = textwrap.TextWrapper(width=WIDTH, initial_indent="  ", subsequent_indent="  ")
    lines = [title, ""]
    for topic, entries in groups:
        heading = f"{topic} ({len(entries)})"
        lines += [heading, "=" * min(len(heading), WIDTH), ""]
        for entry in entries:
            lines += textwrap.wrap(entry.title, WIDTH) or ["(untitled)"]
            lines += wrap.wrap(entry_meta(entry))
            if entry.url:
                lines.append(f"  {entry.url}")
            lines += wrap.wrap(summary(entry, excerpt_chars))
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _markdown(groups: Groups, title: str, excerpt_chars: int) -> str:
    parts = [f"# {md_escape(title)}\n"]
    for topic, entries in groups:
        parts.append(f"\n## {md_escape(topic)} ({len(entries)})\n\n")
        parts += [markdown_item(entry, excerpt_chars) for entry in entries]
    return "".join(parts)


def _json(groups: Groups, name: str, now: datetime, excerpt_chars: int) -> str:
    document: dict[str, Any] = {
        "name": name,
        "generated": iso(now),
        "count": sum(len(entries) for _, entries in groups),
        "groups": [
            {"topic": topic, "entries": [entry_object(e, excerpt_chars) for e in entries]}
            for topic, entries in groups
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# Mail clients drop <style> and external CSS: every style is inline, the layout one column
# that narrows with the window (max-width), with no fixed widths that would overflow a phone.
_PAGE = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{title}</title></head>\n"
    '<body style="margin:0;padding:0;background:#f3f4f6;">'
    '<div style="max-width:680px;margin:0 auto;padding:16px;font-family:-apple-system,'
    "'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#111827;line-height:1.45;"
    'overflow-wrap:anywhere;">\n'
    '<h1 style="font-size:20px;margin:8px 0 16px;">{title}</h1>\n{body}</div></body></html>\n'
)
_GROUP = (
    '<h2 style="font-size:16px;margin:24px 0 8px;padding-bottom:4px;border-bottom:2px solid '
    '#d1d5db;color:#374151;">{topic} <span style="color:#6b7280;font-weight:normal;">({count})'
    "</span></h2>\n{items}"
)
_ITEM = (
    '<div style="background:#ffffff;border:1px solid #e5e7eb;border-radius:6px;padding:12px 14px;'
    'margin:0 0 10px;">'
    '<div style="font-size:16px;font-weight:600;margin:0 0 4px;">{title}</div>'
    '<div style="font-size:12px;color:#6b7280;margin:0 0 6px;">{meta}</div>'
    '<div style="font-size:14px;color:#374151;">{summary}</div></div>\n'
)


def _html(groups: Groups, title: str, excerpt_chars: int) -> str:
    """One self-contained page: inline styles, no script, no remote resource, every value
    escaped (links are http(s) only: parse dropped the rest)."""
    body = []
    for topic, entries in groups:
        items = "".join(_html_item(entry, excerpt_chars) for entry in entries)
        body.append(_GROUP.format(topic=escape(topic), count=len(entries), items=items))
    return _PAGE.format(title=escape(title), body="".join(body))


def _html_item(entry: StoredEntry, excerpt_chars: int) -> str:
    title = escape(entry.title)
    if entry.url:
        title = (
            f'<a href="{escape(entry.url, quote=True)}" style="color:#1d4ed8;'
            f'text-decoration:none;">{title}</a>'
        )
    return _ITEM.format(
        title=title,
        meta=escape(entry_meta(entry)),
        summary=escape(summary(entry, excerpt_chars)),
    )


_WRITERS: dict[str, Callable[[Groups, str, int], str]] = {
    "text": _text,
    "markdown": _markdown,
    "html": _html,
}
FORMATS = (*_WRITERS, "json", *FEED_FORMATS)
