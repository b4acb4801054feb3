"""The README's "Use it from cron and scripts" recipes, run as written against a real database."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, Cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


SCRIPTS = _section("Use it from cron and scripts")
RECIPES = [
    line
    for block in re.findall(r"```sh\n(.*?)```", SCRIPTS, flags=re.S)
    for line in block.splitlines()
    if line.strip() and not line.startswith("#")
]


def test_the_section_has_a_crontab_and_three_recipes() -> None:
    assert re.search(r"```cron\n.*archfeed -q fetch.*archfeed digest", SCRIPTS, flags=re.S)
    assert len(RECIPES) == 3
    assert all("| jq " in recipe for recipe in RECIPES)


@pytest.fixture
def database(cli: Cli, tmp_path: Path) -> Cli:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    for name in ("mixed-en.xml", "mixed-ru.xml", "rss2.xml"):
        shutil.copy(FIXTURES / name, feeds / name)
    article = (FIXTURES / "rss2.xml").read_text(encoding="utf-8")
    # a second feed carrying the same first article: a cross-post
    (feeds / "copy.xml").write_text(article, encoding="utf-8")
    cli.config.write_text(
        f'[[source]]\nname = "community"\nurl = "{feeds}/mixed-en.xml"\ntopics = ["architecture"]\n'
        f'[[source]]\nname = "hub"\nurl = "{feeds}/mixed-ru.xml"\n'
        f'[[source]]\nname = "blog"\nurl = "{feeds}/rss2.xml"\n'
        f'[[source]]\nname = "mirror"\nurl = "{feeds}/copy.xml"\n'
        '[topics.architecture]\nkeywords = ["event sourcing"]\n',
        encoding="utf-8",
    )
    assert cli.fetch().returncode == 0
    return cli


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (.ci/run installs it)")
@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_runs_as_written(database: Cli, recipe: str) -> None:
    env = {
        **database.env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{database.env['PATH']}",
        "ARCHFEED_CONFIG": str(database.config),
        "ARCHFEED_DB": str(database.db),
    }
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", recipe],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines, f"no output from: {recipe}"
    if "'.[].url'" in recipe:
        assert all(line.startswith("https://") for line in lines)
        assert len(lines) == 2
    elif "also_at" in recipe:
        assert [json.loads(line)["also"] for line in lines] == [["mirror"]] * 3
    else:
        assert all(re.fullmatch(r"[\w-]+\t\d+", line) for line in lines)
