"""The `digest` command: what is new since the last digest of this name, for a mail or a script.

Owns: the digest's mark protocol. The entries are chosen up to a snapshot of the newest stored
entry, the output is written and flushed, and only then is the mark moved to that snapshot: a
failed pipe or a full disk keeps the mark, and entries stored while the digest was written wait
for the next one. Never renders or queries by itself.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated

import typer

from archfeed.cli.app import (
    LangOption,
    OutputError,
    SearchOption,
    SinceOption,
    SourceOption,
    TopicOption,
    UntilOption,
    app,
    make_filter,
    state_of,
)
from archfeed.errors import ArchfeedError, UsageError


@app.command()
def digest(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Option("--name", "-n", help="Which digest: each name keeps its own mark")
    ] = "default",
    source: SourceOption = None,
    topic: TopicOption = None,
    lang: LangOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    search: SearchOption = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="text, markdown, html or json")
    ] = "text",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print it, but do not move the mark")
    ] = False,
) -> None:
    """The articles first stored since this digest's previous run, grouped by topic; nothing at
    all (and exit 0) when nothing is new, so cron sends no mail."""
    from archfeed.render import digest as render

    if fmt not in render.FORMATS:
        raise UsageError(f"unknown format '{fmt}'", hint=f"use one of: {', '.join(render.FORMATS)}")
    state = state_of(ctx)
    config = state.config(required=False)
    store = state.store(config)
    mark, snapshot = store.digest_mark(name), store.newest_seq()
    where = replace(
        make_filter(source, topic, lang, since, until, search), after_seq=mark, upto_seq=snapshot
    )
    chars = config.settings.excerpt
    entries = store.entries(where, text_chars=chars + 1)
    now = datetime.now(UTC)
    if entries:
        order = [rule.name for rule in config.topics]
        order += [topic for source in config.sources for topic in source.topics]
        groups = render.group(entries, order)
        _write(render.render(groups, fmt, name, now, chars))
    if not dry_run and snapshot > mark:
        store.advance_digest(name, snapshot, now)
    store.close()


def _write(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OutputError as exc:  # a closed pipe, a full disk: the mark must stay where it was
        raise ArchfeedError(
            f"could not write the digest: {exc.reason}",
            hint="its mark was not moved: the next run sends the same articles",
        ) from None
