"""The commands that write entries: `fetch`, and `prune`.

Owns: turning options into a fetch run, its steps in order (classify again after a config
change, find cross-posts again after an upgrade, fetch), the progress bar, the per-source report
and its exit code. Never fetches or stores anything itself: update does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from archfeed.cli.app import State, app, state_of
from archfeed.errors import ArchfeedError, ExitCode, UsageError
from archfeed.text import iso

if TYPE_CHECKING:
    from archfeed.store import Plan, Store


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
            help="Fetch what is not due or backing off too, and ignore ETag, Last-Modified and "
            "unchanged bodies: fetch and parse everything",
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
    with state.store(config) as store, store.fetch_lock(state.waiting):
        state.classify_again(config, store)
        _match_again(state, store)
        with render.progress(len(chosen), bar) as advance:
            reports = update.run(
                config, store, chosen, env.now, force, on_report=lambda r: advance(r.source)
            )
        store.still_in_place()
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


MIN_AGE = timedelta(days=7)  # younger than this needs --force: a typo must not empty the database


@app.command()
def prune(
    ctx: typer.Context,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than", help="Entries first seen longer ago than this: 90d, 12w, 6mo, 1y"
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would go, delete nothing")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="Do not ask (scripts, cron: needed without a terminal)"),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Allow --older-than under 7d")] = False,
    include_unread: Annotated[
        bool, typer.Option("--include-unread", help="Delete old unread entries too")
    ] = False,
    undo: Annotated[
        bool, typer.Option("--undo", help="Bring back what the last prune deleted")
    ] = False,
    purge: Annotated[
        bool,
        typer.Option(
            "--purge", help="Forget what the last prune deleted, for good; free its space"
        ),
    ] = False,
) -> None:
    """Delete the read entries first seen before a cut-off (unread ones stay unless asked for),
    after saying how many and asking; their identities stay, so a later fetch does not bring
    them back. The last prune can be undone until the next one or --purge, which give the space
    back to the disk."""
    if sum((older_than is not None, undo, purge)) != 1:
        raise UsageError(
            "prune needs one of --older-than, --undo or --purge",
            hint="e.g. archfeed prune --older-than 6mo",
        )
    state = state_of(ctx)
    if undo or purge:
        _undo_or_purge(state, undo)
        return
    assert older_than is not None
    cutoff = state.env.now() - _age(older_than, force)
    with state.store(state.config(required=False)) as store:
        plan = store.prune_plan(cutoff, include_unread)
    if plan.unread_kept:
        state.say(f"keeping {plan.unread_kept:,} unread entries as old; --include-unread "
                  "deletes them too")  # fmt: skip
    if not plan.count:
        state.say(f"nothing to prune: no read entry was first seen before {iso(cutoff)}"
                  if plan.unread_kept else
                  f"nothing to prune: no entry was first seen before {iso(cutoff)}")  # fmt: skip
        return
    what = f"{_entries(plan)} (before {iso(cutoff)})"
    if dry_run:
        state.say(f"would delete {what}")
        return
    if not yes:
        if not state.env.stdin_is_terminal:
            raise UsageError(
                f"prune would delete {what}: confirm with --yes",
                hint="there is no terminal to ask at; --dry-run says what would go",
            )
        if not state.env.ask(f"delete {what}? 'prune --undo' brings them back"):
            state.say("nothing deleted")
            return
    with state.store(state.config(required=False)) as store, store.fetch_lock(state.waiting):
        count = store.prune(cutoff, state.env.now(), include_unread)
    state.say(
        f"deleted {count:,} entries first seen before {iso(cutoff)}; 'archfeed prune --undo' "
        "brings them back until the next prune or 'prune --purge'"
    )


def _age(older_than: str, force: bool) -> timedelta:
    from archfeed.cli.filters import duration_hint
    from archfeed.text import DURATION_HINT, parse_duration

    age = parse_duration(older_than)
    if age is None:
        raise UsageError(
            f"--older-than {older_than!r} is not a duration",
            hint=duration_hint(older_than, DURATION_HINT),
        )
    if age < MIN_AGE and not force:
        raise UsageError(
            f"--older-than {older_than} would delete entries only {older_than} old",
            hint=f"prune takes entries older than {MIN_AGE.days}d; add --force to go below",
        )
    return age


def _entries(plan: Plan) -> str:
    days = f"{(plan.oldest or '')[:10]} to {(plan.newest or '')[:10]}"
    return f"{plan.count:,} entries first seen from {days}"


def _undo_or_purge(state: State, undo: bool) -> None:
    with state.store(state.config(required=False)) as store, store.fetch_lock(state.waiting):
        plan = store.pruned()
        if not plan.count:
            raise ArchfeedError(
                "the last prune cannot be undone any more" if undo else "nothing to purge",
                hint="a prune can be undone until the next prune or 'prune --purge'",
            )
        if undo:
            store.undo_prune()
            state.say(f"brought back {_entries(plan)}")
        else:
            store.purge_pruned()
            state.say(f"purged {_entries(plan)}: the last prune can no longer be undone")
