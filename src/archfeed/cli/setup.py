"""Commands about the config: `init` and `check`.

Owns: writing the starter file and printing the validated sources. Never touches the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from archfeed.cli.app import app, state_of


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
    state_of(ctx).say(
        f"{config.path}: OK, {len(config.sources)} sources, {len(config.topics)} topic rules"
    )
