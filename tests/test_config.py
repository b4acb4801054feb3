"""The config file as a user writes it: valid files load, mistakes are named with file, line, key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from archfeed.config import load
from archfeed.errors import ConfigError
from conftest import Cli


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _archfeed(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """archfeed as a user runs it in `cwd`: no --config or --db, so they are discovered."""
    cli = Cli(root=cwd, config=cwd / "unused", db=cwd / "unused.db", env={
        "PATH": "/usr/bin:/bin", "HOME": str(cwd), "XDG_CONFIG_HOME": str(cwd / "cfg"),
        "XDG_DATA_HOME": str(cwd / "data"),
    })  # fmt: skip
    return cli.run(*args, env=env, discover=True)


def test_a_full_config_loads(tmp_path: Path) -> None:
    config = load(
        _write(
            tmp_path,
            """
[settings]
db = "data/a.db"
excerpt = 80
concurrency = 4
timeout = 2.5
max_bytes = 1_000
languages = ["EN", "ru"]

[[source]]
name = "one"
url = "https://example.org/feed"
topics = ["#Micro Services", "Architecture"]
lang = "RU"

[[source]]
url = "feeds/local.xml"
enabled = false

[topics.security]
keywords = ["OAuth", "dead letter queue"]
categories = ["AppSec"]
""",
        )
    )
    assert config.settings.db == tmp_path / "data" / "a.db"
    assert (config.settings.excerpt, config.settings.concurrency) == (80, 4)
    assert config.settings.timeout == 2.5
    assert config.settings.languages == ("en", "ru")
    one, local = config.sources
    assert one.topics == ("micro-services", "architecture")
    assert one.lang == "ru"
    assert local.url == (tmp_path / "feeds" / "local.xml").as_uri()
    assert local.name == "local"
    assert not local.enabled
    assert config.topics[0].keywords == ("oauth", "dead letter queue")
    assert config.topics[0].categories == ("appsec",)


def test_misspelt_key_names_file_line_and_suggestion(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[[source]]\nurl = "https://a.example/feed"\n\n[[source]]\nurl = "https://b.example/feed"\n'
        '\n[[source]]\nurl = "https://c.example/feed"\ntopcis = ["x"]\n',
    )
    with pytest.raises(ConfigError) as raised:
        load(path)
    assert raised.value.message == (
        f"{path}: unknown key 'topcis' in [[source]] #3 (line 9); did you mean 'topics'?"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[settings]\nexcerpt = "long"\n',
            "'excerpt' must be a whole number of characters in [settings] (line 2)",
        ),
        ("[settings]\nexcerpt = true\n", "'excerpt' must be a whole number"),
        ("[settings]\nconcurrency = 0\n", "'concurrency' must be from 1 to 256"),
        ('[settings]\nlanguages = ["english"]\n', "'english' is not an ISO 639-1 code"),
        ('[[source]]\nname = "x"\n', "missing 'url' in [[source]] #1 (line 1)"),
        ('[[source]]\nurl = "ftp://x.example/f"\n', "is not an http(s) URL"),
        (
            '[[source]]\nurl = "https://x.example/f"\nenabled = "yes"\n',
            "'enabled' must be true or false",
        ),
        (
            '[[source]]\nname = "a"\nurl = "https://x.example/1"\n[[source]]\nname = "a"\nurl = "https://x.example/2"\n',
            "duplicate name 'a' (also [[source]] #1) in [[source]] #2 (line 5)",
        ),
        (
            '[[source]]\nurl = "https://x.example/1"\n[[source]]\nurl = "https://x.example/1"\nname = "b"\n',
            "duplicate url",
        ),
        (
            '[topics.db]\nkeyword = ["sql"]\n',
            "unknown key 'keyword' in [topics.db] (line 2); did you mean 'keywords'?",
        ),
        ("[setings]\n", "unknown key 'setings' in the file (line 1); did you mean 'settings'?"),
        ("[[source]\n", "invalid TOML"),
    ],
)
def test_mistakes_are_reported(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(_write(tmp_path, text))
    assert expected in raised.value.message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load(_write(tmp_path, "[settings]\nexcerpt = -1\ntimeot = 3\n"))
    assert len(raised.value.message.splitlines()) == 2


def test_check_exits_2_with_the_message_on_stderr(tmp_path: Path) -> None:
    _write(tmp_path, '[[source]]\nurl = "https://x.example/f"\nnmae = "x"\n')
    done = _archfeed("check", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert (
        "archfeed: error: feeds.toml: unknown key 'nmae' in [[source]] #1 (line 3); did you mean 'name'?"
        in done.stderr
    )
    assert "hint:" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    done = _archfeed("fetch", cwd=tmp_path)
    assert done.returncode == 2
    assert "no config file at" in done.stderr
    assert "archfeed init" in done.stderr


def test_init_writes_a_starter_that_checks_and_never_overwrites(tmp_path: Path) -> None:
    first = _archfeed("init", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    written = tmp_path / "cfg" / "archfeed" / "feeds.toml"
    assert written.is_file()
    assert "#" in written.read_text(encoding="utf-8")
    checked = _archfeed("check", cwd=tmp_path)  # found in the user config dir
    assert checked.returncode == 0, checked.stderr
    assert "devto-architecture\thttps://dev.to/feed/tag/architecture" in checked.stdout
    written.write_text("# mine\n", encoding="utf-8")
    again = _archfeed("init", cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert written.read_text(encoding="utf-8") == "# mine\n"


def test_config_discovery_prefers_env_over_local_file(tmp_path: Path) -> None:
    _write(tmp_path, '[[source]]\nname = "local"\nurl = "https://l.example/f"\n')
    other = tmp_path / "other.toml"
    other.write_text('[[source]]\nname = "env"\nurl = "https://e.example/f"\n', encoding="utf-8")
    assert _archfeed("check", cwd=tmp_path).stdout.startswith("local\t")
    by_env = _archfeed("check", cwd=tmp_path, env={"ARCHFEED_CONFIG": str(other)})
    assert by_env.stdout.startswith("env\t")
