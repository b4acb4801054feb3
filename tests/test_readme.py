"""The README's first screen gives a new user two commands; they must stay true."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

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


def test_every_documented_command_exists() -> None:
    documented = set(re.findall(r"^\| `archfeed (\w+)", README, flags=re.M))
    assert {"init", "check", "fetch", "list"} <= documented
    done = subprocess.run(
        [sys.executable, "-m", "archfeed", "--help"], capture_output=True, text=True, check=True
    )
    listed = set(re.findall(r"^\s*│?\s*(\w+)\s{2,}", done.stdout, flags=re.M))
    assert documented <= listed, f"documented but missing: {documented - listed}"
    for command in documented:
        helped = subprocess.run(
            [sys.executable, "-m", "archfeed", command, "--help"], capture_output=True, text=True
        )
        assert helped.returncode == 0, helped.stderr


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
