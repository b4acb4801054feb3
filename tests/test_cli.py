"""The command line's own options and output rules: -q, colour (NO_COLOR, FORCE_COLOR, a
terminal or not), --debug, unknown formats."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from archfeed.cli.app import DETAIL_FORMATS, DIGEST_FORMATS, LIST_FORMATS
from conftest import FIXTURES, Cli, source_line

SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def stored(cli: Cli) -> Cli:
    cli.write_config([("blog", str(FIXTURES / "rss2.xml")), ("missing", "/nonexistent/x.xml")])
    assert cli.fetch().returncode == 3
    return cli


def test_quiet_prints_nothing_but_errors(stored: Cli) -> None:
    """-q: no progress, summary or hint lines; data still on stdout; an error, and a source
    that failed, still said."""
    fetched = stored.run("-q", "fetch", "--force")
    assert (fetched.returncode, fetched.stdout) == (3, "")
    assert fetched.stderr.splitlines() == [source_line(fetched.stderr, "missing")]
    assert stored.fetch().stderr.count("\n") >= 3, "without -q, fetch says what it did"
    listed = stored.run("-q", "list", "--format", "plain")
    assert listed.stderr == ""
    assert len(listed.stdout.splitlines()) == 3
    nothing = stored.run("-q", "list", "--format", "table", "--search", "zzzzqqq")
    assert (nothing.stdout, nothing.stderr) == ("", "")
    failed = stored.run("-q", "show", "ffffffffff")
    assert failed.returncode == 1
    assert failed.stderr.startswith("archfeed: error: no entry with an id starting")


def test_colour_on_a_terminal_never_under_no_color_or_in_a_pipe(stored: Cli) -> None:
    # read rows and no links: then colour is all that tells the two tables apart
    assert stored.run("mark", "read", "--all").returncode == 0
    table = ("list", "--format", "table", "--hyperlinks", "never")
    coloured = stored.run(*table, terminal=True, env={"TERM": "xterm-256color"})
    assert SGR.search(coloured.stdout), "a terminal gets colour"
    plain = stored.run(*table, terminal=True, env={"TERM": "xterm-256color", "NO_COLOR": "1"})
    assert not SGR.search(plain.stdout)
    assert SGR.sub("", coloured.stdout) == plain.stdout  # the same table, without colour
    assert not SGR.search(stored.run(*table).stdout), "a pipe gets none"
    dumb = stored.run(*table, terminal=True, env={"TERM": "dumb"})
    assert not SGR.search(dumb.stdout)
    forced = stored.run(*table, env={"FORCE_COLOR": "1"})
    assert SGR.search(forced.stdout), "FORCE_COLOR colours a pipe (less -R)"
    both = stored.run(*table, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert not SGR.search(both.stdout), "NO_COLOR wins"


def test_no_format_means_a_table_on_a_terminal_and_plain_text_in_a_pipe(stored: Cli) -> None:
    on_terminal = stored.run("list", terminal=True)
    assert "─" in on_terminal.stdout or "━" in on_terminal.stdout
    piped = stored.run("list")
    assert all(line.count("\t") == 5 for line in piped.stdout.splitlines())


@pytest.mark.parametrize(
    "args",
    [("list", "--format", "yaml"), ("topics", "-f", "csv"), ("digest", "--format", "table")],
)
def test_an_unknown_format_is_a_usage_error(stored: Cli, args: tuple[str, ...]) -> None:
    done = stored.run(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"archfeed: error: unknown format '{args[2]}'" in done.stderr
    assert "hint: use one of: " in done.stderr


def test_debug_shows_the_traceback_through_the_installed_entry_point(cli: Cli) -> None:
    """Without --debug an error is one message and its exit code; with it, Python's traceback
    (a process of its own: the traceback is what the interpreter prints at exit)."""
    cli.config.write_text("[[source]]\nname = 1\n", encoding="utf-8")
    plain = cli.spawn("check")
    assert plain.returncode == 2
    assert "Traceback" not in plain.stderr
    assert plain.stderr.startswith("archfeed: error: ")
    debug = cli.spawn("--debug", "check")
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "archfeed.errors.ConfigError" in debug.stderr


def test_a_table_wraps_cjk_text_and_long_urls_without_losing_characters(cli: Cli) -> None:
    """Chinese has no spaces to wrap at: the title column once cut each line with "…" and went
    on after the next space, losing whole clauses."""
    title = "分布式系统中的一致性问题以及我们在生产环境中如何通过重试和幂等性来解决它们的经验总结"
    text = "我们的支付服务每天处理数百万笔交易" * 6 + " https://example.com/" + "a" * 120
    item = (
        f"<item><guid>1</guid><title>{title}</title><description>{text}</description>"
        "<pubDate>Mon, 03 Feb 2025 10:00:00 +0000</pubDate></item>"
    )
    _fetched(cli, "zh", item)
    for width in ("60", "100"):
        table = cli.run("list", "--format", "table", "--excerpt", "400", env={"COLUMNS": width})
        lines = table.stdout.splitlines()[2:]
        cells = "".join(re.split(r"\s{2,}", line.strip())[-1] for line in lines)
        assert title in cells, (width, table.stdout)
        assert "a" * 120 in cells


def _drawn_width(line: str) -> int:
    """Cells a terminal draws `line` in, as glibc's wcwidth (and so tmux, xterm, VTE) counts
    them: combining marks that do not space (Mn, Me) and format characters take none, wide East
    Asian characters two, everything else, spacing vowel signs (Mc) included, one."""
    import unicodedata

    width = 0
    for char in line:
        if unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def test_a_table_of_hindi_text_fits_the_terminal_it_is_drawn_on(cli: Cli) -> None:
    """Devanagari vowel signs such as ि and ा are spacing marks: a terminal gives each a cell,
    rich once counted none, so Hindi rows came out wider than the screen and wrapped to column 0."""
    title = "हिन्दी में माइक्रोसर्विस आर्किटेक्चर: डेटाबेस को अलग करने की व्यावहारिक सीख"
    text = "पिछले साल हमारी टीम ने मोनोलिथ को छोटी सेवाओं में बाँटना शुरू किया। " * 4
    item = (
        f"<item><guid>1</guid><title>{title}</title><description>{text}</description>"
        "<pubDate>Mon, 03 Feb 2025 10:00:00 +0000</pubDate></item>"
    )
    _fetched(cli, "hi", item)
    for width in (60, 100, 200):
        table = cli.run("list", "--format", "table", "--excerpt", "300",
                        env={"COLUMNS": str(width)})  # fmt: skip
        widths = [_drawn_width(line) for line in table.stdout.splitlines()]
        assert max(widths) <= width, (width, table.stdout)
        assert "हिन्दी" in table.stdout


def test_a_no_break_space_keeps_its_words_on_one_line_of_a_table(cli: Cli) -> None:
    """French sets « guillemets » and units with no-break spaces: the word and its mark, or a
    number and its unit, never part at the end of a line."""
    title = (
        "Pourquoi nous avons quitté Kubernetes\u00a0: «\u00a0trop complexe\u00a0» selon l'équipe"
    )
    text = ("Notre facture est passée de 12\u00a0000\u00a0€ à 3\u00a0400\u00a0€ par mois, "
            "et le déploiement prend désormais 90\u00a0secondes. ") * 5  # fmt: skip
    item = (
        f"<item><guid>1</guid><title>{title}</title><description>{text}</description>"
        "<pubDate>Mon, 03 Feb 2025 10:00:00 +0000</pubDate></item>"
    )
    _fetched(cli, "fr", item)
    (entry,) = cli.list_json("--excerpt", "400")
    joined = ("Kubernetes\u00a0:", "«\u00a0trop", "complexe\u00a0»", "12\u00a0000\u00a0€",
              "3\u00a0400\u00a0€", "90\u00a0secondes")  # fmt: skip
    for width in range(60, 101, 5):
        shown = cli.run("list", "--format", "table", "--excerpt", "400",
                        env={"COLUMNS": str(width)}).stdout  # fmt: skip
        for words in joined:
            expected = (entry["title"] + entry["excerpt"]).count(words)
            assert expected and shown.count(words) == expected, (width, words, shown)


def test_an_excerpt_never_repeats_the_title_it_is_printed_under(cli: Cli) -> None:
    """Many feeds begin the body with the headline: the excerpt starts after it, in every
    format that prints one."""
    item = (
        "<item><guid>1</guid><title>Kafka 4.0 drops ZooKeeper</title><description>"
        "<![CDATA[<h1>Kafka 4.0 drops ZooKeeper</h1><p>KRaft is now the only mode: what the "
        "upgrade means for your brokers.</p>]]></description>"
        "<pubDate>Mon, 03 Feb 2025 10:00:00 +0000</pubDate></item>"
    )
    _fetched(cli, "n", item)
    (entry,) = cli.list_json()
    assert entry["excerpt"].startswith("KRaft is now the only mode")
    for fmt in ("table", "markdown"):
        shown = cli.run("list", "--format", fmt, "--excerpt", "60").stdout
        assert shown.count("Kafka 4.0 drops ZooKeeper") == 1, shown
        assert "KRaft is now" in shown
    digest = cli.run("digest", "--dry-run").stdout
    assert digest.count("Kafka 4.0 drops ZooKeeper") == 1
    shown = json.loads(cli.run("show", entry["id"], "--format", "json").stdout)
    assert shown["text"].startswith("Kafka 4.0 drops ZooKeeper")  # the text itself is whole


def test_the_excerpt_is_the_feeds_summary_when_the_text_begins_with_a_caption(cli: Cli) -> None:
    item = (
        "<item><guid>1</guid><title>Quay cranes</title>"
        "<description>How the port moved its scheduling to an event log.</description>"
        "<content:encoded><![CDATA[<p>Photo: Jo Doe / Harbour Agency</p><p>Every crane reports "
        "its moves to a Kafka topic.</p>]]></content:encoded>"
        "<pubDate>Mon, 03 Feb 2025 10:00:00 +0000</pubDate></item>"
    )
    _fetched(cli, "p", item, ' xmlns:content="http://purl.org/rss/1.0/modules/content/"')
    (entry,) = cli.list_json()
    assert entry["excerpt"] == "How the port moved its scheduling to an event log."
    shown = json.loads(cli.run("show", entry["id"], "--format", "json").stdout)
    assert shown["text"].startswith("Photo: Jo Doe / Harbour Agency\n\nEvery crane")
    again = cli.fetch("--force")
    assert "p: 0 new, 0 updated" in again.stderr


def _fetched(cli: Cli, name: str, items: str, namespaces: str = "") -> None:
    """A local RSS feed of `items`, the config's one source, fetched."""
    feed = (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"{namespaces}><channel>'
        f"<title>{name}</title>{items}</channel></rss>"
    )
    (cli.root / f"{name}.xml").write_text(feed, encoding="utf-8")
    cli.write_config([(name, str(cli.root / f"{name}.xml"))])
    assert cli.fetch().returncode == 0


def test_archfeed_alone_prints_its_help(cli: Cli) -> None:
    done = cli.run(discover=True)
    assert done.returncode == 0, done.stderr
    assert "Commands" in done.stdout and "fetch" in done.stdout
    assert done.stderr == ""


def test_an_empty_no_color_does_not_count_as_set(stored: Cli) -> None:
    """no-color.org: NO_COLOR present *and* not empty."""
    table = ("list", "--format", "table")
    empty = stored.run(*table, terminal=True, env={"TERM": "xterm-256color", "NO_COLOR": ""})
    assert "\x1b[" in empty.stdout
    unset = stored.run(*table, terminal=True, env={"TERM": "xterm-256color", "NO_COLOR": "1"})
    assert "\x1b[" not in unset.stdout


def test_show_keeps_the_articles_paragraphs(cli: Cli) -> None:
    """`show` printed the whole article as one block; lists and JSON excerpts stay on one line,
    and a refetch of an entry stored flat is no update."""
    body = (
        "<![CDATA[<p>First, the outage.</p><p>Then the <b>fix</b>: a bounded queue.</p>"
        "<ul><li>One item</li><li>Two items</li></ul>]]>"
    )
    item = (
        f"<item><guid>1</guid><title>Postmortem</title><description>{body}</description>"
        "<pubDate>Mon, 03 Feb 2025 10:00:00 +0000</pubDate></item>"
    )
    _fetched(cli, "p", item)
    (entry,) = cli.list_json()
    assert entry["excerpt"] == (
        "First, the outage. Then the fix: a bounded queue. One item Two items"
    )
    for fmt in ("plain", "table"):
        shown = cli.run("show", entry["id"], "--format", fmt).stdout
        assert "First, the outage.\n\nThen the fix: a bounded queue.\n\nOne item\n\nTwo items" in (
            shown
        ), shown
    detail = json.loads(cli.run("show", entry["id"], "--format", "json").stdout)
    assert detail["text"] == (
        "First, the outage.\n\nThen the fix: a bounded queue.\n\nOne item\n\nTwo items"
    )
    plain = cli.run("list", "--format", "plain").stdout
    assert len(plain.splitlines()) == 1
    with sqlite3.connect(cli.db) as conn:  # as an earlier version stored it: on one line
        conn.execute("UPDATE entries SET text = replace(text, char(10) || char(10), ' ')")
    conn.close()
    assert "p: 0 new, 0 updated" in cli.fetch("--force").stderr


def test_shell_completion_as_typer_users_expect(cli: Cli, tmp_path: Path) -> None:
    """--show-completion prints the script, --install-completion installs it for the shell,
    and the script's calls complete commands and options."""
    home = tmp_path / "completion-home"
    home.mkdir()
    env = {**cli.env, "HOME": str(home), "SHELL": "/bin/bash"}

    def archfeed(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli.command()[:3], *args], capture_output=True, text=True,
                              env={**env, **extra}, timeout=30, check=False)  # fmt: skip

    shown = archfeed("--show-completion", "bash")
    assert shown.returncode == 0, shown.stderr
    assert "_archfeed_completion" in shown.stdout
    installed = archfeed("--install-completion", "bash")
    assert installed.returncode == 0, installed.stderr
    assert "archfeed" in (home / ".bashrc").read_text(encoding="utf-8")
    commands = archfeed(_ARCHFEED_COMPLETE="complete_bash", COMP_WORDS="archfeed li",
                        COMP_CWORD="1")  # fmt: skip
    assert commands.stdout.split() == ["list"]
    options = archfeed(_ARCHFEED_COMPLETE="complete_bash", COMP_WORDS="archfeed list --fo",
                       COMP_CWORD="2")  # fmt: skip
    assert options.stdout.split() == ["--format"]


@pytest.mark.parametrize(
    ("command", "formats"),
    [("list", LIST_FORMATS), ("show", DETAIL_FORMATS), ("sources", DETAIL_FORMATS),
     ("topics", DETAIL_FORMATS), ("digest", DIGEST_FORMATS)],
)  # fmt: skip
def test_each_commands_help_lists_every_format(
    cli: Cli, command: str, formats: tuple[str, ...]
) -> None:
    helped = " ".join(cli.run(command, "--help", env={"COLUMNS": "200"}).stdout.split())
    assert ", ".join(formats) in helped, helped


def test_version_says_the_same_through_the_entry_point_and_the_command_line(cli: Cli) -> None:
    """`archfeed --version` alone is answered before the command line is imported: the same
    line as typer's, which answers it after other options."""
    fast = subprocess.run([*cli.command()[:3], "--version"], capture_output=True, text=True,
                          env=cli.env, timeout=30, check=False)  # fmt: skip
    full = cli.run("--version")
    assert (fast.returncode, fast.stdout, fast.stderr) == (0, full.stdout, "")
    assert full.stdout.startswith("archfeed ")
