"""The commands that write entries: `fetch`, and `prune`.

Owns: turning options into a fetch run, its steps in order (classify again after a config
change, find cross-posts again after an upgrade, fetch), the progress bar, the per-source report
and its exit code. Never fetches or stores anything itself: update does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from archfeed.cli.app import State, app, state_of
from archfeed.errors import ArchfeedError, ExitCode, UsageError
from archfeed.text import iso

if TYPE_CHECKING:
    from archfeed.store import Store


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
    env = state.env
    bar = env.stderr if env.stderr_is_terminal and not state.quiet else None
    with state.store(config) as store, store.fetch_lock():
        state.classify_again(config, store)
        _match_again(state, store)
        with render.progress(len(chosen), bar) as advance:
            reports = update.run(
                config, store, chosen, env.now, force, on_report=lambda r: advance(r.source)
            )
    for report in reports:
        line = render.report_line(report, state.verbose)
        # --quiet silences progress and success, never what the user must act on
        env.say(line) if report.needs_the_user else state.say(line)
    state.say(render.total_line(reports))
    if any(report.failed for report in reports):
        if not any(report.stored for report in reports):
            raise ArchfeedError(
                "no source could be fetched; nothing was stored",
                hint="each one's line above says why",
            )
        raise typer.Exit(ExitCode.PARTIAL)


def _match_again(state: State, store: Store) -> None:
    """Once after an upgrade whose cross-post rules differ: about as long as the stored entries
    took to fetch, so it says so first."""
    from archfeed import update

    if not update.needs_rematch(store):
        return
    if store.newest_seq():
        state.say("finding cross-posts again under this version's rules, from the stored texts")
    examined, copies = update.rematch(store)
    if examined:
        state.say(f"{copies} of {examined} stored entries are copies of another")


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
    now = state.env.now()
    cutoff = now - delta
    with state.store(state.config(required=False)) as store, store.fetch_lock():
        count = store.prune(cutoff, now, dry_run)
    verb = "would delete" if dry_run else "deleted"
    state.say(f"{verb} {count} entries first seen before {iso(cutoff)}")
