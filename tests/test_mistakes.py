"""A user's mistakes are usage errors that name what is wrong, never "this is a bug", never a
hang, never lost data (issue 15: each case once printed a traceback's last line or misbehaved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Cli, assert_no_traceback, rss, write_config

SOURCE = '[[source]]\nname = "a"\nurl = "a.xml"\n'


def _clear(done: object, code: int, *words: str) -> None:
    assert_no_traceback(done)  # type: ignore[arg-type]
    stderr = done.stderr  # type: ignore[attr-defined]
    assert done.returncode == code, stderr  # type: ignore[attr-defined]
    assert stderr.startswith("archfeed: error: "), stderr
    assert "this is a bug" not in stderr
    for word in words:
        assert word in stderr, (word, stderr)


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ("[settings]\ntimeout = 1e30\n" + SOURCE, ("'timeout' must be from 0.001 to 3,600",)),
        ("[settings]\ntimeout = inf\n" + SOURCE, ("'timeout' must be from",)),
        ("[settings]\ntimeout = nan\n" + SOURCE, ("'timeout' must be from",)),
        ("[settings]\nconcurrency = 100000\n" + SOURCE, ("'concurrency' must be from 1 to 256",)),
        ("[settings]\nexcerpt = 10000000\n" + SOURCE, ("'excerpt' must be from",)),
        ("[settings]\nmax_bytes = 0\n" + SOURCE, ("'max_bytes' must be from",)),
        ('[settings]\ndb = ""\n' + SOURCE, ("'db' is empty",)),
        ('[settings]\ndb = "."\n' + SOURCE, ("'db' is a folder",)),
        ('[[source]]\nname = "a"\nurl = ""\n', ("'url' is empty", "line 3")),
        ('[[source]]\nname = "a\\u001b[31m"\nurl = "a.xml"\n', ("control or direction",)),
        ('[[source]]\nname = "a\\tb"\nurl = "a.xml"\n', ("control or direction",)),
        ('[[source]]\nname = "a\\u202eb"\nurl = "a.xml"\n', ("control or direction",)),
    ],
)
def test_a_config_mistake_is_a_usage_error_that_names_it(
    cli: Cli, config: str, words: tuple[str, ...]
) -> None:
    write_config(cli, config)
    for command in ("check", "fetch"):
        _clear(cli.run(command), 2, str(cli.config), *words)


def test_a_config_that_begins_with_a_byte_order_mark_is_read(cli: Cli) -> None:
    cli.config.write_bytes(b"\xef\xbb\xbf" + SOURCE.encode())
    done = cli.run("check")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("a\tfile://")


def test_an_http_url_in_capitals_is_fetched_over_http(cli: Cli) -> None:
    write_config(cli, '[[source]]\nname = "a"\nurl = "HTTP://Example.ORG/feed.xml"\n')
    assert cli.run("check").stdout.startswith("a\thttp://example.org/feed.xml\t")


def test_a_config_without_end_is_refused_not_read_until_memory_runs_out(cli: Cli) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    _clear(cli.run("--config", "/dev/zero", "check", discover=True), 2, "/dev/zero", "larger than")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("list", "--limit", "99999999999999999999"), ("--limit",)),
        (("list", "--since", "9999999d"), ("--since", "at most 100y")),
        (("list", "--since", "2026-02-01", "--until", "2026-01-01"), ("is not after --since",)),
        (("prune", "--older-than", "9999999d", "--yes"), ("--older-than", "at most 100y")),
        (("digest", "--name", "a\tb"), ("not a usable digest name",)),
        (("digest", "--name", "a\x1b[2Jb"), ("not a usable digest name",)),
    ],
)
def test_an_option_out_of_range_is_a_usage_error(
    cli: Cli, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    write_config(cli, SOURCE)
    _clear(cli.run(*args), 2, *words)


def test_a_database_path_that_cannot_be_one_names_the_path(cli: Cli, tmp_path: Path) -> None:
    write_config(cli, SOURCE)
    folder = tmp_path / "folder"
    folder.mkdir()
    given = cli.run("--config", str(cli.config), "--db", str(folder), "list", discover=True)
    _clear(given, 2, "is a directory")
    if Path("/proc/self").exists():
        done = cli.run("--config", str(cli.config), "--db", "/proc/archfeed.db", "list",
                       discover=True)  # fmt: skip
        _clear(done, 1, "/proc/archfeed.db", "hint: ")


def test_init_where_no_file_can_be_names_the_path(cli: Cli) -> None:
    if not Path("/proc/self").exists():
        pytest.skip("no /proc here")
    _clear(cli.run("init", "/proc/archfeed/feeds.toml", discover=True), 2,
           "cannot write /proc/archfeed/feeds.toml")  # fmt: skip


@pytest.fixture
def two_sources(cli: Cli) -> Cli:
    for name in ("alpha-blog", "beta-news"):
        items = [(f"{name}-{n}", f"{name} post {n}", f"Text {n}.") for n in range(3)]
        (cli.root / f"{name}.xml").write_bytes(rss(name, items))
    cli.write_config(
        [(name, str(cli.root / f"{name}.xml")) for name in ("alpha-blog", "beta-news")]
    )
    assert cli.fetch().returncode == 0
    return cli


@pytest.mark.parametrize("command", ["list", "topics", "langs", "digest", "fetch"])
def test_a_mistyped_source_name_is_a_usage_error_with_a_suggestion(
    two_sources: Cli, command: str
) -> None:
    done = two_sources.run(command, "--source", "alpha-blgo")
    _clear(done, 2, "no source named 'alpha-blgo'", "did you mean 'alpha-blog'?")
    assert done.stdout == ""


def test_a_source_no_longer_in_the_config_is_still_a_name_list_knows(two_sources: Cli) -> None:
    two_sources.write_config([("alpha-blog", str(two_sources.root / "alpha-blog.xml"))])
    assert len(two_sources.list_json("--source", "beta-news")) == 3


def test_a_table_cut_by_the_limit_says_how_many_there_are(two_sources: Cli) -> None:
    cut = two_sources.run("list", "--format", "table", "--limit", "4")
    assert cut.returncode == 0, cut.stderr
    assert cut.stderr == "4 of 6 entries; --limit 0 shows them all\n"
    whole = two_sources.run("list", "--format", "table", "--limit", "6")
    assert whole.stderr == ""


def test_a_search_for_a_developers_term_finds_what_it_means(cli: Cli) -> None:
    """`--search C++` once matched 764 of 1,091 entries: the index drops + # and ., so `c++`
    was every word starting with c."""
    titles = ["Modern C++ move semantics", "C# records in practice", "Why .NET 9 is fast",
              "Node.js streams explained", "Kubernetes operators", "A c language primer",
              "Building networks", "Node and JS tooling", "Our k8s upgrade"]  # fmt: skip
    items = [(f"t-{n}", title, "Text.") for n, title in enumerate(titles)]
    (cli.root / "terms.xml").write_bytes(rss("terms", items))
    cli.write_config([("terms", str(cli.root / "terms.xml"))])
    assert cli.fetch().returncode == 0

    def found(term: str) -> set[str]:
        return {e["title"] for e in cli.list_json("--search", term)}

    assert found("C++") == {"Modern C++ move semantics"}
    assert found("c#") == {"C# records in practice"}
    assert found(".NET") == {"Why .NET 9 is fast"}
    assert found("node.js") == {"Node.js streams explained"}
    assert found("k8s") == {"Kubernetes operators", "Our k8s upgrade"}
    assert found("kube") == {"Kubernetes operators"}
    assert found("++") == set()
    assert found('"modern c++"') == {"Modern C++ move semantics"}
    assert found("(c#),") == {"C# records in practice"}
