"""Commands about the config: `init` and `check`.

Owns: writing the starter file, printing the validated sources, and saying which mute and keep
rules match no stored entry. Never writes the database, and never creates one to look in.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from archfeed.cli.app import State, app, state_of

if TYPE_CHECKING:
    from archfeed.models import Config


@app.command()
def init(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Where to write it [default: --config, else the user config dir's feeds.toml]"
        ),
    ] = None,
) -> None:
    """Write a commented starter feeds.toml; never overwrites an existing file."""
    from archfeed.config import user_config_file, write_starter

    target = path or state_of(ctx).config_path or user_config_file()
    write_starter(target)
    state_of(ctx).say(f"wrote {target}; edit it, then run 'archfeed --config {target} fetch'")


@app.command()
def check(ctx: typer.Context) -> None:
    """Validate the config and print its sources."""
    config = state_of(ctx).config()
    for source in config.sources:
        flags = "" if source.enabled else "\t(disabled)"
        topics = ",".join(source.topics) or "-"
        state_of(ctx).out(f"{source.name}\t{source.url}\t{source.lang or '-'}\t{topics}{flags}\n")
    state_of(ctx).env.stdout.flush()  # "OK" only once the sources are out
    _unmatched_rules(state_of(ctx), config)
    state_of(ctx).say(
        f"{config.path}: OK, {len(config.sources)} sources, {len(config.topics)} topic rules, "
        f"{len(config.rules)} mute and keep rules"
    )


def _unmatched_rules(state: State, config: Config) -> None:
    """A rule that matches no stored entry is most often a typo (a misspelt author, a regex
    with a stray escape): said, not an error. Only when there is a database to look in."""
    from archfeed.config import default_db_path

    if not config.rules or not (state.db_path or config.settings.db or default_db_path()).exists():
        return
    with state.store(config) as store:
        hits = store.rule_hits(config.rules)
    for rule, count in zip(config.rules, hits, strict=True):
        if not count:
            state.env.say(f"warning: {rule.label} matches no stored entry")
