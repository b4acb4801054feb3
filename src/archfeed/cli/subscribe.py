"""The commands that change the list of sources: `add` (a feed, or a page that offers one) and
`remove`.

Owns: turning a URL into the one feed to add (update/discover.py finds and checks them; several
are listed, and one taken by --pick, a prompt on a terminal, or first), refusing a feed the config
has already (by canonical URL), the new source's name, and what the user is told. Never edits the
file by hand: config/edit.py adds and removes the `[[source]]` tables, every other byte kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from archfeed.cli.app import State, app, state_of
from archfeed.errors import UsageError

if TYPE_CHECKING:
    from archfeed.models import Config
    from archfeed.update.discover import Candidate


@app.command()
def add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="A feed's URL, or a web page's that links to one")],
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Its name [default: from its title]")
    ] = None,
    topic: Annotated[
        list[str] | None, typer.Option("--topic", "-t", help="A topic of its own (repeatable)")
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", "-l", help="Its language, when its feed says wrong")
    ] = None,
    pick: Annotated[
        int | None, typer.Option(min=1, help="Of the feeds a page offers, the Nth [default: 1]")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Take the first feed without asking")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the [[source]] table, write nothing")
    ] = False,
) -> None:
    """Subscribe to a feed: given a page, find the feeds it offers (its alternate links, links
    that look like feeds, the usual paths), check each really is one, and append the chosen one
    to the config as a [[source]] table, which is printed; every other byte of the file stays."""
    from archfeed.update.discover import discover

    state = state_of(ctx)
    config = state.config()
    address = _address(url)
    found = _already(config, address)
    if found is None:
        state.say(f"looking for feeds at {address}…")
        chosen = _choose(state, discover(address, config.settings).candidates, pick, yes)
        found = _already(config, chosen.url)
    if found is not None:  # not an error: the config already is as the user wants it
        state.env.say(f"already in the config, as '{found}': nothing added")
        return
    block = _block(config, chosen, name, topic or [], lang)
    state.out(block)
    if dry_run:
        state.say("not written: --dry-run")
        return
    from archfeed.config.edit import append_source

    assert config.path is not None  # state.config() found a file
    added = append_source(config.path, block).sources[-1]
    state.say(f"added '{added.name}' to {config.path}; "
              f"'archfeed fetch --source {added.name}' fetches it now")  # fmt: skip


def _address(url: str) -> str:
    """What the user typed as a URL: `example.com/blog` is https://example.com/blog (discover
    refuses what is no http(s) address)."""
    text = url.strip()
    return text if "://" in text or text.startswith(("/", ".", "~")) else "https://" + text


def _already(config: Config, url: str) -> str | None:
    """The name of the source the config has for this feed (by canonical URL: no tracking
    parameters, no `www.`, …), or None."""
    from archfeed.dedup.urls import canonical_url

    wanted = canonical_url(url)
    return next((s.name for s in config.sources if canonical_url(s.url) == wanted), None)


def _choose(
    state: State, candidates: tuple[Candidate, ...], pick: int | None, yes: bool
) -> Candidate:
    """The feed to add: the only one, the --pick'th, the one answered at a prompt (on a
    terminal, without --yes), else the first. Several are listed on stderr first."""
    if pick is not None and pick > len(candidates):
        raise UsageError(f"--pick {pick}: the page offers {len(candidates)} feed(s)",
                         hint="run without --pick to see them")  # fmt: skip
    if len(candidates) == 1:
        return candidates[0]
    state.say(f"{len(candidates)} feeds:")
    for number, candidate in enumerate(candidates, start=1):
        newest = f", newest {candidate.newest:%Y-%m-%d}" if candidate.newest else ""
        state.env.say(f"  {number}. {candidate.title or '(untitled)'}  {candidate.url}  "
                      f"({candidate.entries} entries{newest})")  # fmt: skip
    if pick is not None:
        return candidates[pick - 1]
    env = state.env
    if yes or not env.stdin_is_terminal:
        state.say("taking the first; --pick N takes another")
        return candidates[0]
    return candidates[_ask_number(state, len(candidates)) - 1]


def _ask_number(state: State, count: int) -> int:
    env = state.env
    while True:
        print(f"which one? [1-{count}, default 1] ", end="", file=env.stderr, flush=True)
        line = env.stdin.readline()
        if not line:  # end of input: the default
            return 1
        answer = line.decode(errors="replace").strip()
        if not answer:
            return 1
        if answer.isdigit() and 1 <= int(answer) <= count:
            return int(answer)


def _block(config: Config, chosen: Candidate, name: str | None, topics: list[str],
           lang: str | None) -> str:  # fmt: skip
    """The new [[source]] table: the name given, else one made from the feed's title (else its
    URL) that no source has yet."""
    from archfeed.text import has_control, slugify, source_name
    from archfeed.text.toml import source_block

    if name is not None and (not name.strip() or has_control(name)):
        raise UsageError(f"--name {name!r} is not a usable name",
                         hint="letters, digits, spaces, dashes")  # fmt: skip
    taken = {source.name for source in config.sources}
    if name is None:
        base = slugify(chosen.title)[:40].strip("-") or source_name(chosen.url)
        name = next(f"{base}-{n}" if n > 1 else base for n in range(1, len(taken) + 2)
                    if (f"{base}-{n}" if n > 1 else base) not in taken)  # fmt: skip
    try:
        return source_block(name, chosen.url, topics, lang)
    except ValueError as exc:
        raise UsageError(str(exc), hint="give it again as valid UTF-8") from None


@app.command()
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The source's name, as 'archfeed sources' shows it")],
) -> None:
    """Take a source out of the config (its [[source]] table, printed; every other byte of the
    file stays). Its stored entries stay until 'archfeed prune' takes them."""
    from archfeed.config.edit import remove_source

    state = state_of(ctx)
    config = state.config()
    assert config.path is not None
    removed = remove_source(config.path, name)
    state.out(removed.lstrip("\r\n"))
    with state.store(config) as store:
        health = store.health().get(name)
    kept = health.entries if health else 0
    stored = f"; its {kept:,} stored entries stay until 'archfeed prune' takes them" if kept else ""
    state.say(f"removed '{name}' from {config.path}{stored}")
