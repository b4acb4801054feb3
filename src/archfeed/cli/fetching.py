"""The commands that write entries: `fetch`, and `prune`.

Owns: turning options into a fetch run, the progress bar, the per-source report and its exit code.
Never fetches or stores anything itself: update.py does.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from archfeed.cli.app import app, state_of
from archfeed.errors import ExitCode, UsageError
from archfeed.text import iso


@app.command()
def fetch(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source", "-s", help="Fetch only this source (repeatable); disabled ones too"
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Ignore ETag, Last-Modified and unchanged bodies: fetch and parse everything",
        ),
    ] = False,
) -> None:
    """Fetch the enabled sources (or the named ones) and store their entries."""
    from archfeed import render, update

    state = state_of(ctx)
    config = state.config()
    chosen = update.select(config, source or [])
    if not chosen:
        state.say("no enabled sources to fetch; add [[source]] tables to the config")
        return
    store = state.store(config)
    show_bar = not state.quiet and sys.stderr.isatty()
    with store.fetch_lock():
        if update.needs_rematch(store) and store.newest_seq():
            # once after an upgrade, about as long as the stored entries took to fetch
            state.say("finding cross-posts again under this version's rules, from the stored texts")
        rematched = update.rematch(store)
        if rematched and rematched[0]:
            state.say(f"{rematched[1]} of {rematched[0]} stored entries are copies of another")
        with render.progress(len(chosen), show_bar) as advance:
            reports = update.run(
                config, store, chosen, force, on_report=lambda r: advance(r.source)
            )
    store.close()
    for report in reports:
        state.say(render.report_line(report, state.verbose))
    state.say(render.total_line(reports))
    if any(report.failed for report in reports):
        raise typer.Exit(ExitCode.PARTIAL)


@app.command()
def prune(
    ctx: typer.Context,
    older_than: Annotated[
        str, typer.Option("--older-than", help="Entries first seen longer ago than this: 90d, 12w…")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count them, delete nothing")] = False,
) -> None:
    """Delete entries first seen before a cut-off; their identities stay, so that a later fetch
    does not bring them back; then give the space back to the disk."""
    from archfeed.text import parse_duration

    delta = parse_duration(older_than)
    if delta is None:
        raise UsageError(
            f"--older-than {older_than!r} is not a duration", hint="e.g. 90d, 12w, 36h"
        )
    state = state_of(ctx)
    store = state.store(state.config(required=False))
    cutoff = datetime.now(UTC) - delta
    with store.fetch_lock():
        count = store.prune(cutoff, dry_run)
    store.close()
    verb = "would delete" if dry_run else "deleted"
    state.say(f"{verb} {count} entries first seen before {iso(cutoff)}")
