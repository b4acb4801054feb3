"""Commands that read the database: `list`, `show`, `sources`, `topics` and `langs`.

Owns: turning their options into a Filter and a format, and handing the results to render.
Never writes entries; the one write it may ask for, classifying stored entries again after the
config changed, is a named step (State.classify_again) of the commands that show classifications.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from archfeed.cli.app import (
    DETAIL_FORMATS,
    LIST_FORMATS,
    DetailFormat,
    ListFormat,
    NoPager,
    State,
    app,
    state_of,
)
from archfeed.cli.filters import filter_options, known_sources, with_rules
from archfeed.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from contextlib import AbstractContextManager
    from typing import IO

    from archfeed.models import Config, EntryDetail, Filter, Listing, Screen, StoredEntry
    from archfeed.store import Store

TABLE_LIMIT = 50  # a screenful or two; pipes get everything
# the text read beyond an excerpt: room for the title a text may begin with (render.summary)
TITLE_ROOM = 300
MIN_ID_PREFIX = 6
HYPERLINKS = ("auto", "always", "never")
RULES_COUNT_CAP = 10_000  # counted past the table's rows: a Python call per row while rules apply


def screen(state: State, hyperlinks: str = "never") -> Screen:
    """What this run's stdout is, for the renderers; `hyperlinks` as --hyperlinks says it."""
    from archfeed.models import Screen

    env = state.env
    colours = env.colours
    if hyperlinks not in HYPERLINKS:
        raise UsageError(f"--hyperlinks takes {', '.join(HYPERLINKS)}, not {hyperlinks!r}",
                         hint="auto: on a terminal that is not TERM=dumb")  # fmt: skip
    links = hyperlinks == "always" or (
        hyperlinks == "auto" and env.stdout_is_terminal and env.environ.get("TERM") != "dumb"
    )
    return Screen(env.stdout_is_terminal or colours is not None, colours, env.width, env.zone,
                  env.now(), links)  # fmt: skip


@app.command("list")
@filter_options
def list_(
    ctx: typer.Context,
    where: Filter,
    fmt: ListFormat = None,
    excerpt: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=100_000,
            help="Excerpt length in characters [default: [settings].excerpt, 150]",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=1_000_000_000,
            help="At most N entries; 0 for all [default: 50 in a table, else all]",
        ),
    ] = None,
    all_copies: Annotated[
        bool,
        typer.Option("--all", help="Every copy of a cross-posted article, not just the canonical"),
    ] = False,
    hyperlinks: Annotated[
        str,
        typer.Option(
            metavar="auto|always|never",
            help="Titles in the table as links a terminal opens: auto, on a terminal that is not "
            "TERM=dumb",
        ),
    ] = "auto",
    muted: Annotated[
        bool,
        typer.Option("--muted", help="Only what the [[mute]] and [[keep]] rules hide, and why"),
    ] = False,
    no_pager: NoPager = False,
) -> None:
    """The entries, newest first: one per article, with where else it appeared."""
    from archfeed import render

    state = state_of(ctx)
    shown = screen(state, hyperlinks)
    config = state.config(required=False)
    chosen = state.format(fmt, LIST_FORMATS)
    if limit is None:
        limit = TABLE_LIMIT if chosen == "table" else 0
    where = replace(with_rules(where, config, muted), limit=limit or None, all_copies=all_copies)
    chars = config.settings.excerpt if excerpt is None else excerpt
    with state.store(config) as store:
        known_sources(where, config, store)
        state.classify_again(config, store)
        entries = store.entries(where, text_chars=chars + 1 + TITLE_ROOM)
        cut = chosen == "table" and bool(where.limit) and len(entries) == where.limit
        cap = RULES_COUNT_CAP if where.muting else None
        total = store.matching(where, cap) if cut else len(entries)
        listing = _listing(config, store, entries) if chosen == "table" else None
    if not entries and chosen == "table":
        state.say("no entries match; 'archfeed fetch' stores new ones, fewer filters find more")
        return
    with _paged(state, no_pager, chosen == "table") as out:
        render.write_entries(entries, chosen, chars, out, shown, listing, where)
    if total > len(entries):
        more = "+" if total == RULES_COUNT_CAP and where.muting else ""
        state.say(f"{len(entries)} of {total:,}{more} entries; --limit 0 shows them all")


def _paged(state: State, no_pager: bool, table: bool) -> AbstractContextManager[IO[str]]:
    """Where a command's output goes: through the pager when it is a long table
    (cli/pager.py), with the command's own --no-pager beside the global one."""
    from archfeed.cli.pager import paged  # shlex, subprocess: not in every command's start-up

    state.no_pager |= no_pager
    return paged(state, table)


def _listing(config: Config, store: Store, entries: Sequence[StoredEntry]) -> Listing:
    from archfeed.models import Listing

    ids = store.id_chars([entry.id for entry in entries], MIN_ID_PREFIX)
    return Listing(ids, frozenset(config.topic_names()))


@app.command()
def show(
    ctx: typer.Context,
    entry_id: Annotated[
        str, typer.Argument(metavar="ID", help="An entry's id, or 6+ of its first characters")
    ],
    fmt: DetailFormat = None,
    no_pager: NoPager = False,
) -> None:
    """One entry in full: every field, its whole text, where else it appeared."""
    from archfeed.render import detail

    prefix = id_prefix(entry_id)
    state = state_of(ctx)
    chosen = state.format(fmt, DETAIL_FORMATS)
    config = state.config(required=False)
    with state.store(config) as store:
        state.classify_again(config, store)
        found = one_entry(store, prefix)
    with _paged(state, no_pager, chosen == "table") as out:
        detail.write_detail(found, chosen, out, screen(state))


def id_prefix(entry_id: str) -> str:
    """An ID argument as `show`, `open` and `mark` take it: an id, or its first 6+ characters."""
    prefix = entry_id.strip().lower()
    if len(prefix) < MIN_ID_PREFIX:
        raise UsageError(
            f"'{entry_id}' is too short for an entry id",
            hint=f"give at least {MIN_ID_PREFIX} characters of an id that list shows",
        )
    return prefix


def one_entry(store: Store, prefix: str) -> EntryDetail:
    """The one entry whose id starts with `prefix`; none, or more than one, is an error."""
    from archfeed.errors import ArchfeedError

    found = store.detail(prefix)
    if not found:
        raise ArchfeedError(f"no entry with an id starting '{prefix}'",
                            hint="'archfeed list' shows the ids")  # fmt: skip
    if len(found) > 1:
        ids = f"{found[0].entry.id}, {found[1].entry.id}…"
        raise UsageError(f"'{prefix}' starts more than one entry id: {ids}",
                         hint="give more characters of the id")  # fmt: skip
    return found[0]


@app.command()
def sources(ctx: typer.Context, fmt: DetailFormat = None, no_pager: NoPager = False) -> None:
    """Per source: last fetch, next fetch, HTTP status, entries, last new entry, failures in a
    row, last error, and whether it moved or is gone."""
    from archfeed.render import detail
    from archfeed.update.polite import next_fetch

    state = state_of(ctx)
    config = state.config()
    chosen = state.format(fmt, DETAIL_FORMATS)
    with state.store(config) as store:
        health = store.health()
    rows = []
    for source in config.sources:
        fetched = health.get(source.name)
        due = next_fetch(source, fetched, config.settings)
        rows.append(detail.source_object(source, fetched, due[0] if due else None))
    with _paged(state, no_pager, chosen == "table") as out:
        detail.write_sources(rows, chosen, out, screen(state))


@app.command()
@filter_options
def topics(ctx: typer.Context, where: Filter, fmt: DetailFormat = None) -> None:
    """Articles per topic (one counts once for each of its topics), most first."""
    _counts(state_of(ctx), "topic", where, fmt)


@app.command()
@filter_options
def langs(ctx: typer.Context, where: Filter, fmt: DetailFormat = None) -> None:
    """Articles per language, most first."""
    _counts(state_of(ctx), "lang", where, fmt)


def _counts(state: State, by: str, where: Filter, fmt: str | None) -> None:
    from archfeed.render import detail

    config = state.config(required=False)
    chosen = state.format(fmt, DETAIL_FORMATS)
    where = with_rules(where, config)
    with state.store(config) as store:
        known_sources(where, config, store)
        state.classify_again(config, store)
        rows = store.counts(by, where)
    detail.write_counts(rows, by, chosen, state.env.stdout, screen(state))
