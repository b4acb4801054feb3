"""The `digest` command: what is new since the last digest of this name, for a mail or a script.

Owns: the digest's mark protocol. The entries are chosen up to a snapshot of the newest stored
entry, the output is written and flushed, and only then is the mark moved to that snapshot: a
failed pipe, a reader that quit before the end or a full disk keeps the mark, and entries stored
while the digest was written wait for the next one. Never renders or queries by itself.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from archfeed.cli.app import DIGEST_FORMATS, DigestFormat, app, state_of
from archfeed.cli.environment import OutputError
from archfeed.cli.filters import filter_options, known_sources, with_rules
from archfeed.cli.reading import TITLE_ROOM
from archfeed.errors import ArchfeedError, UsageError

if TYPE_CHECKING:
    from archfeed.models import Filter

_READER_GRACE = 0.2  # s: a reader that quits early (head) closes within a few ms of reading


@app.command()
@filter_options
def digest(
    ctx: typer.Context,
    where: Filter,
    name: Annotated[
        str, typer.Option("--name", "-n", help="Which digest: each name keeps its own mark")
    ] = "default",
    fmt: DigestFormat = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print it, but do not move the mark")
    ] = False,
) -> None:
    """The articles first stored since this digest's previous run, grouped by topic; nothing at
    all (and exit 0) when nothing is new, so cron sends no mail."""
    from archfeed.render import digest as render
    from archfeed.text import has_control

    state = state_of(ctx)
    if not name.strip() or has_control(name):
        raise UsageError(
            f"--name {name!r} is not a usable digest name",
            hint="a digest's name is printed in its heading: letters, digits, spaces",
        )
    chosen = state.format(fmt or "text", DIGEST_FORMATS)
    config = state.config(required=False)
    with state.store(config) as store:
        known_sources(where, config, store)
        state.classify_again(config, store)
        mark, snapshot = store.digest_mark(name), store.newest_seq()
        chars = config.settings.excerpt
        window = replace(with_rules(where, config), after_seq=mark, upto_seq=snapshot)
        entries = store.entries(window, chars + 1 + TITLE_ROOM)
        now = state.env.now()
        if entries:
            groups = render.group(entries, config.topic_names())
            text = render.render(groups, chosen, name, now, chars)
            try:
                state.out(text)
                state.env.stdout.flush()
            except OutputError as exc:  # a closed pipe, a full disk: the mark must stay put
                if dry_run:  # no mark to keep: as any other command's output
                    raise
                raise ArchfeedError(
                    f"could not write the digest: {exc.reason}",
                    hint="its mark was not moved: the next run sends the same articles",
                ) from None
            # a digest small enough for the pipe's buffer is "written" whoever reads it: a
            # reader that quits early (head -1) is seen only by its closing
            if not dry_run and state.env.reader_quit(grace=_READER_GRACE):
                raise ArchfeedError(
                    "the digest's reader stopped before its end",
                    hint="its mark was not moved: the next run sends the same articles",
                )
        if not dry_run and snapshot > mark:
            store.advance_digest(name, snapshot, now)
