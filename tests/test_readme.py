"""The README's first screen gives a new user two commands; they must stay true."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conftest import Cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FIRST_SCREEN = "\n".join(README.splitlines()[:25])


def _commands(text: str) -> list[str]:
    blocks = re.findall(r"```(?:sh|bash|console)\n(.*?)```", text, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line and line[0] != "#"]


def test_first_screen_has_the_install_and_run_command() -> None:
    run = [c for c in _commands(FIRST_SCREEN) if "archfeed" in c and "fetch" in c]
    assert len(run) == 1
    assert "pip install ." in run[0]
    assert "-c feeds.example.toml fetch" in run[0]
    assert "list" in run[0]
    assert (ROOT / "feeds.example.toml").is_file()


def test_first_screen_has_the_test_command_and_ci_runs_it() -> None:
    tests = [c for c in _commands(FIRST_SCREEN) if "pytest" in c]
    assert len(tests) == 1
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests[0] in ci, ".ci/run must run the README's test command as written"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    test_tools = " ".join(extras["optional-dependencies"]["test"])
    for tool in ("pytest", "pytest-httpserver", "hypothesis", "mypy", "ruff"):
        assert tool in test_tools


def _registered() -> dict[str, list[str]]:
    """Every command the app registers (`opml import` as one), with its long options."""
    import typer.main

    from archfeed.cli import app

    def walk(command: Any, path: str) -> Iterator[tuple[str, list[str]]]:
        subcommands = getattr(command, "commands", {})
        if path:
            options = [o for p in command.params for o in p.opts if o.startswith("--")]
            yield path, [o for o in options if o != "--help"]
        for name, sub in subcommands.items():
            yield from walk(sub, f"{path} {name}".strip())

    root = typer.main.get_command(app)
    commands = dict(walk(root, ""))
    commands[""] = [o for p in root.params for o in p.opts if o.startswith("--") and o != "--help"]
    return commands


def test_every_documented_command_exists(cli: Cli) -> None:
    documented = set(re.findall(r"^\| `archfeed ([a-z]+(?: [a-z]+)?)", README, flags=re.M))
    assert {"init", "check", "fetch", "list"} <= documented
    registered = _registered()
    assert documented - {"opml"} <= set(registered), set(documented) - set(registered)
    for command in documented:
        helped = cli.run(*command.split(), "--help")
        assert helped.returncode == 0, helped.stderr
        assert "Usage: archfeed" in helped.stdout


def test_every_registered_command_and_option_is_documented() -> None:
    """From the code's side: a command or an option added without a word in the README fails."""
    for command, options in _registered().items():
        if command:
            assert f"`archfeed {command}" in README, f"'archfeed {command}' is not in the README"
        for option in options:
            assert re.search(rf"{re.escape(option)}(?![\w-])", README), (
                f"{option} of 'archfeed {command}'".replace(" ''", "") + " is not in the README"
            )


def test_example_config_is_valid_with_enough_real_sources(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "archfeed", "-c", str(ROOT / "feeds.example.toml"), "check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    assert len(rows) >= 12
    assert all(url.startswith("https://") for _, url, *_ in rows)
    assert sum(lang == "ru" for _, _, lang, *_ in rows) >= 3
    assert all(topics != "-" for *_, topics in (row[:4] for row in rows))
