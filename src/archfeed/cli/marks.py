"""The commands of read state: `open` (an article in the browser, then read) and `mark`.

Owns: handing a link to the browser (Python's webbrowser, as the BROWSER variable of this run's
Environment names it: never through a shell), and turning `mark`'s words, ids and filters into
one change of read state. Never decides what an article is (store/reads.py keeps every copy of
one in the same state) nor which links are safe (text.web_link).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from archfeed.cli.app import app, state_of
from archfeed.cli.filters import filter_options, known_sources
from archfeed.cli.reading import id_prefix, one_entry
from archfeed.errors import ArchfeedError, UsageError

if TYPE_CHECKING:
    from archfeed.cli.environment import Environment
    from archfeed.models import Filter

_ID = Annotated[
    str, typer.Argument(metavar="ID", help="An entry's id, or 6+ of its first characters")
]


@app.command("open")
def open_(
    ctx: typer.Context,
    entry_id: _ID,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the link instead of opening it")
    ] = False,
) -> None:
    """Open an entry's link in the web browser ($BROWSER, else the system's), and mark its
    article read; with --print, print the link (and mark it read) instead."""
    from archfeed.text import clean
    from archfeed.text.links import web_link

    prefix = id_prefix(entry_id)
    state = state_of(ctx)
    with state.store(state.config(required=False)) as store:
        entry = one_entry(store, prefix).entry
        link = web_link(entry.url)
        if link is None:
            shown = f"its link {clean(entry.url)[:200]!r} is not" if entry.url else "it has no"
            raise ArchfeedError(
                f"entry {entry.id[:12]} cannot be opened: {shown} an http(s) address",
                hint=f"'archfeed show {entry.id[:12]}' shows all of it",
            )
        if print_only:
            state.out(link + "\n")
        else:
            _browse(state.env, link)
        store.mark([entry.id], True, state.env.now())


def _browse(env: Environment, link: str) -> None:
    """Open `link` with the first browser of BROWSER that opens it (a name webbrowser knows, or
    a command, `%s` standing for the link), else with webbrowser's own choice."""
    import os
    import webbrowser

    choices = [choice for choice in env.environ.get("BROWSER", "").split(os.pathsep) if choice]
    for choice in choices:
        try:
            browser = webbrowser.get(choice)
        except webbrowser.Error:  # not a name it knows: a command, as webbrowser itself reads one
            browser = webbrowser.GenericBrowser(choice)
        if browser.open(link):
            return
    if not choices and webbrowser.open(link):
        return
    raise ArchfeedError(
        f"no web browser opened {link}",
        hint="set BROWSER to one (BROWSER=firefox, or a command with %s for the link), "
        "or print the link with --print",
    )


@app.command()
@filter_options
def mark(
    ctx: typer.Context,
    where: Filter,
    state_word: Annotated[str, typer.Argument(metavar="read|unread", help="What to mark them")],
    entry_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="[ID]...", help="Entries' ids, or 6+ of their first characters"),
    ] = None,
    every: Annotated[
        bool,
        typer.Option("--all", help="Every article the filters select (all of them without any)"),
    ] = False,
) -> None:
    """Mark articles read or unread: by id, or with --all every article that has a copy the
    filters select (e.g. `mark read --all --until 7d`). All the copies of an article change
    together."""
    from archfeed.models import Filter

    if state_word not in ("read", "unread"):
        raise UsageError(f"mark takes 'read' or 'unread', not {state_word!r}",
                         hint="e.g. archfeed mark read 49c93a")  # fmt: skip
    read = state_word == "read"
    ids = entry_ids or []
    if bool(ids) == every:
        raise UsageError(
            "mark needs ids, or --all" if not ids else "mark takes ids or --all, not both",
            hint=f"e.g. archfeed mark {state_word} 49c93a, or archfeed mark {state_word} --all "
            "--until 7d",
        )
    if ids and where != Filter():
        raise UsageError("filters choose what --all marks; with ids they would do nothing",
                         hint=f"use archfeed mark {state_word} --all with the filters")  # fmt: skip
    prefixes = [id_prefix(entry_id) for entry_id in ids]
    state = state_of(ctx)
    config = state.config(required=False)
    now = state.env.now()
    with state.store(config) as store:
        if every:
            known_sources(where, config, store)
            changed = store.mark_matching(where, read, now)
        else:
            changed = store.mark([one_entry(store, prefix).entry.id for prefix in prefixes],
                                 read, now)  # fmt: skip
    if changed:
        state.say(f"marked {changed:,} article{'s' if changed != 1 else ''} {state_word}")
    elif ids:
        state.say(f"nothing to mark: {'it was' if len(ids) == 1 else 'they were'} {state_word} "
                  "already")  # fmt: skip
    else:
        state.say(f"nothing to mark: no {'unread' if read else 'read'} article matches")
