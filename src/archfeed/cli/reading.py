"""Commands that read the database: `list`, `show`, `sources`, `topics` and `langs`.

Owns: turning their options into a Filter and a format, and handing the results to render.
Never writes entries (it may bring their classification in line with an edited config first).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Annotated

import typer

from archfeed.cli.app import (
    FORMAT_HELP,
    LangOption,
    SearchOption,
    SinceOption,
    SourceOption,
    TopicOption,
    UntilOption,
    app,
    choose_format,
    make_filter,
    state_of,
)

# the --format of show, sources, topics and langs
DetailFormatOption = Annotated[
    str | None,
    typer.Option(
        "--format", "-f", help="table, plain or json [default: table on a terminal, else plain]"
    ),
]
TABLE_LIMIT = 50  # a screenful or two; pipes get everything
MIN_ID_PREFIX = 6


@app.command("list")
def list_(
    ctx: typer.Context,
    source: SourceOption = None,
    topic: TopicOption = None,
    lang: LangOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    search: SearchOption = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help=FORMAT_HELP)] = None,
    excerpt: Annotated[
        int | None,
        typer.Option(min=0, help="Excerpt length in characters [default: [settings].excerpt, 150]"),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(min=0, help="At most N entries; 0 for all [default: 50 in a table, else all]"),
    ] = None,
    all_copies: Annotated[
        bool,
        typer.Option("--all", help="Every copy of a cross-posted article, not just the canonical"),
    ] = False,
) -> None:
    """The entries, newest first: one per article, with where else it appeared."""
    from archfeed import render

    state = state_of(ctx)
    config = state.config(required=False)
    chosen = choose_format(fmt, render.FORMATS)
    if limit is None:
        limit = TABLE_LIMIT if chosen == "table" else 0
    where = replace(
        make_filter(source, topic, lang, since, until, search, limit), all_copies=all_copies
    )
    chars = config.settings.excerpt if excerpt is None else excerpt
    store = state.store(config)
    entries = store.entries(where, text_chars=chars + 1)
    store.close()
    if not entries and chosen == "table":
        state.say("no entries match; 'archfeed fetch' stores new ones, fewer filters find more")
        return
    render.write_entries(entries, chosen, chars, sys.stdout)


@app.command()
def show(
    ctx: typer.Context,
    entry_id: Annotated[
        str, typer.Argument(metavar="ID", help="An entry's id, or 6+ of its first characters")
    ],
    fmt: DetailFormatOption = None,
) -> None:
    """One entry in full: every field, its whole text, where else it appeared."""
    from archfeed.errors import ArchfeedError, UsageError
    from archfeed.render import detail

    prefix = entry_id.strip().lower()
    if len(prefix) < MIN_ID_PREFIX:
        raise UsageError(
            f"'{entry_id}' is too short for an entry id",
            hint=f"give at least {MIN_ID_PREFIX} characters of an id that list shows",
        )
    state = state_of(ctx)
    chosen = choose_format(fmt, detail.FORMATS)
    store = state.store(state.config(required=False))
    found = store.detail(prefix)
    store.close()
    if not found:
        raise ArchfeedError(f"no entry with an id starting '{prefix}'",
                            hint="'archfeed list --format json' shows the ids")  # fmt: skip
    if len(found) > 1:
        ids = f"{found[0].entry.id}, {found[1].entry.id}…"
        raise UsageError(f"'{prefix}' starts more than one entry id: {ids}",
                         hint="give more characters of the id")  # fmt: skip
    detail.write_detail(found[0], chosen, sys.stdout)


@app.command()
def sources(
    ctx: typer.Context,
    fmt: DetailFormatOption = None,
) -> None:
    """Per source: last fetch, HTTP status, entries, last new entry, failures in a row, last error,
    and whether it moved or is gone."""
    from archfeed.render import detail

    state = state_of(ctx)
    config = state.config()
    chosen = choose_format(fmt, detail.FORMATS)
    store = state.store(config)
    health = store.health()
    store.close()
    rows = [detail.source_object(source, health.get(source.name)) for source in config.sources]
    detail.write_sources(rows, chosen, sys.stdout)


def _count_command(name: str, by: str, summary: str) -> None:
    """`topics` and `langs`: the same options and steps, counting by another column."""

    def count(
        ctx: typer.Context,
        source: SourceOption = None,
        topic: TopicOption = None,
        lang: LangOption = None,
        since: SinceOption = None,
        until: UntilOption = None,
        search: SearchOption = None,
        fmt: DetailFormatOption = None,
    ) -> None:
        from archfeed.render import detail

        state = state_of(ctx)
        config = state.config(required=False)
        chosen = choose_format(fmt, detail.FORMATS)
        store = state.store(config)
        rows = store.counts(by, make_filter(source, topic, lang, since, until, search))
        store.close()
        detail.write_counts(rows, by, chosen, sys.stdout)

    count.__doc__ = summary
    app.command(name)(count)


_count_command(
    "topics", "topic", "Articles per topic (one counts once for each of its topics), most first."
)
_count_command("langs", "lang", "Articles per language, most first.")
