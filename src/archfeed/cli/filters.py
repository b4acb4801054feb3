"""The filters `list`, `digest`, `topics` and `langs` share: declared once, read into a Filter.

Owns: the filter options (--source, --topic, --lang, --since, --until, --search, --read/--unread),
the decorator that gives a command them as one Filter, reading dates and durations (with the
hints a mistaken one gets), checking --source against the sources there are, and the config's
mute and keep rules added to a Filter. Never queries entries.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from archfeed.cli.app import state_of
from archfeed.errors import UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from archfeed.models import Config, Filter
    from archfeed.store import Store

_FILTERS = {
    "source": Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable)")
    ],
    "topic": Annotated[
        list[str] | None,
        typer.Option("--topic", "-t", help="Only this topic (repeatable: any of them)"),
    ],
    "lang": Annotated[
        list[str] | None,
        typer.Option("--lang", "-l", help="Only this language, e.g. en (repeatable: any of them)"),
    ],
    "since": Annotated[
        str | None,
        typer.Option(help="From this ISO date/time, or a duration back: 90min, 36h, 7d, 2w, 6mo"),
    ],
    "until": Annotated[
        str | None, typer.Option(help="Before this ISO date/time, or a duration back")
    ],
    "search": Annotated[str | None, typer.Option(help="Full-text search over title and text")],
    "read": Annotated[
        bool | None,
        typer.Option("--read/--unread", help="Only articles read, or only those not read yet"),
    ],
}

Command = TypeVar("Command", bound=Callable[..., None])


def filter_options(command: Command) -> Command:
    """Give `command` the filter options: it takes them as one Filter, its parameter `where`,
    built once the options are parsed (so a bad --since is a usage error of that command)."""
    # the command's annotations are strings (PEP 563); `where` is never evaluated, so Filter is
    # imported only once a command runs
    signature = inspect.signature(command)
    own = [
        p.replace(annotation=eval(p.annotation, command.__globals__))  # noqa: S307 -- our own code
        if isinstance(p.annotation, str)
        else p
        for p in signature.parameters.values()
        if p.name != "where"
    ]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, kind in _FILTERS.items()
    ]
    keyword = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own[1:]]

    @functools.wraps(command)
    def with_filters(ctx: typer.Context, **options: Any) -> None:
        given = {name: options.pop(name) for name in _FILTERS}
        command(ctx, where=make_filter(state_of(ctx).env.now(), **given), **options)

    parameters = [own[0], *added, *keyword]
    with_filters.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters
    )
    # what typer resolves the annotations with: these objects, not the command's strings
    with_filters.__annotations__ = {p.name: p.annotation for p in parameters}
    return with_filters  # type: ignore[return-value]


def make_filter(
    now: datetime,
    source: list[str] | None = None,
    topic: list[str] | None = None,
    lang: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    search: str | None = None,
    read: bool | None = None,
) -> Filter:
    from archfeed.models import Filter
    from archfeed.text import slugify

    start, end = _when(since, "--since", now), _when(until, "--until", now)
    if start and end and end <= start:
        raise UsageError(
            f"--until {until} is not after --since {since}: no entry can match both",
            hint="--since is where the range starts, --until where it ends",
        )
    return Filter(
        sources=tuple(source or ()),
        topics=tuple(slugify(t) for t in topic or ()),
        langs=tuple(code.strip().lower() for code in lang or ()),
        since=start,
        until=end,
        search=search,
        read=read,
    )


def _when(value: str | None, option: str, now: datetime) -> datetime | None:
    from archfeed.text import DURATION_HINT, parse_when

    if value is None:
        return None
    when = parse_when(value, now)
    if when is None:
        raise UsageError(
            f"{option} {value!r} is neither a date nor a duration",
            hint=duration_hint(
                value, f"an ISO date like 2026-01-31 or 2026-01-31T08:00, or {DURATION_HINT}"
            ),
        )
    return when


def duration_hint(value: str, usual: str) -> str:
    """The hint for a duration that was not one: `6m` is asked about, anything else shown how."""
    from archfeed.text import ambiguous_unit

    if ambiguous_unit(value):
        number = value.strip()[:-1].strip()
        return f"'m' could be minutes or months: write {number}min or {number}mo"
    return f"use {usual} (at most 100y)"


def with_rules(where: Filter, config: Config, hidden: bool = False) -> Filter:
    """`where` with the config's [[mute]] and [[keep]] rules applied; `hidden`: selecting what
    they hide instead (`list --muted`)."""
    from dataclasses import replace

    from archfeed.models import Muting

    return replace(where, muting=Muting(config.rules, hidden) if config.rules or hidden else None)


def known_sources(where: Filter, config: Config, store: Store) -> None:
    """--source names a source of the config or of the database; a typo is a usage error,
    not an empty list."""
    from archfeed.text import did_you_mean

    known = {source.name for source in config.sources} | store.source_names()
    for name in where.sources:
        if name not in known:
            raise UsageError(
                f"no source named {name!r}",
                hint=did_you_mean(name, known, "'archfeed sources' lists them"),
            )
