"""What belongs to a process, through the installed entry point: kill -9 at random moments of a
fetch (the database stays sound and converges), Ctrl-C and signals (nothing outlives a stopped
fetch), two fetches at once and a reader while one runs."""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import (
    EVERY_RUN,
    SQLITE_NOISE,
    VOCAB,
    Cli,
    FeedServer,
    Route,
    assert_no_traceback,
    end_processes,
    make_cli,
    processes_of,
    respond,
    rss,
    source_block,
    write_config,
)

# -- kill -9 at random moments ----------------------------------------------------------------

KILL_FEEDS = 40
KILL_ENTRIES = 50
KILL_TRIALS = 20
KILL_SEED = 20250203
FINAL = 0  # the generation of the reference run and of the final fetch


@lru_cache(maxsize=256)
def kill_feed(index: int, generation: int) -> bytes:
    """Feed `index` as served in `generation`: the same 50 entries and texts every time, every
    title carrying the generation, so that each generation rewrites every entry."""
    rng = random.Random(index)
    items = []
    for j in range(KILL_ENTRIES):
        words = " ".join(rng.choice(VOCAB) for _ in range(40))
        title = f"Feed {index} entry {j} {words[:40]} (rev {generation})"
        when = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=index * KILL_ENTRIES + j)
        items.append(
            f"<item><title>{title}</title><link>https://kill{index}.example/{j}</link>"
            f"<guid>kill-{index}-{j}</guid>"
            f"<pubDate>{email.utils.format_datetime(when)}</pubDate>"
            f"<description>{words}</description></item>"
        )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Kill {index}</title>'
        f"<link>https://kill{index}.example/</link>{''.join(items)}</channel></rss>"
    ).encode()


def soundness(db: Path) -> tuple[list[str], Counter[int]]:
    """What is wrong with the database after a kill (integrity, the full-text index, per-source
    atomicity: a source's entries and its fetch state all from one generation), and how many
    sources it holds of each generation."""
    generations: Counter[int] = Counter()
    if not db.exists():
        return [], generations  # killed before it was created
    problems = []
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchall()
        if integrity != [("ok",)]:
            problems.append(f"integrity_check: {integrity}")
        if conn.execute("PRAGMA foreign_key_check").fetchall():
            problems.append("foreign_key_check")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "entries" not in tables:
            return problems, generations  # killed before the schema was committed
        conn.execute("INSERT INTO entries_fts (entries_fts) VALUES ('integrity-check')")
        revs: dict[str, Counter[str]] = {}
        for source, title in conn.execute("SELECT source, title FROM entries"):
            match = re.search(r"\(rev (\d+)\)$", title)
            revs.setdefault(source, Counter())[match.group(1) if match else "?"] += 1
        for name, body_hash in conn.execute("SELECT name, body_hash FROM sources"):
            counted = revs.pop(name, Counter())
            if len(counted) != 1 or sum(counted.values()) != KILL_ENTRIES:
                problems.append(f"{name}: entries of generations {dict(counted)}")
                continue
            (generation,) = counted
            generations[int(generation)] += 1
            index = int(name.removeprefix("feed"))
            expected = hashlib.blake2b(kill_feed(index, int(generation)), digest_size=16)
            if body_hash != expected.hexdigest():
                problems.append(f"{name}: fetch state from another generation than its entries")
        if revs:
            problems.append(f"entries without a source row: {sorted(revs)}")
    except sqlite3.DatabaseError as exc:
        problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
    return problems, generations


def stored(cli: Cli) -> list[tuple[str, str, str, str]]:
    return sorted(cli.rows("SELECT source, key, id, title FROM entries"))


@pytest.mark.slow
def test_kill_9_at_random_moments(tmp_path: Path, server: FeedServer) -> None:
    """Trials accumulate on one database; each trial serves a new generation of every feed (every
    entry changed), so a kill always interrupts real writes. Finally the database must hold what
    a clean run into a fresh database holds."""
    generation = [FINAL]

    def serving(index: int) -> Route:
        return lambda h: respond(h, 200, kill_feed(index, generation[0]))

    config = f"[settings]\n{EVERY_RUN}\n\n" + "".join(
        source_block(
            f"feed{i}",
            server.route(f"/kill/{i}.xml", serving(i)),
            lang="en",  # detecting 2,000 entries of made-up words would take ~10 s a run
        )
        for i in range(KILL_FEEDS)
    )
    clis = []
    for name in ("reference", "victim"):
        (tmp_path / name).mkdir()
        clis.append(make_cli(tmp_path / name))
        write_config(clis[-1], config)
    reference, victim = clis
    started = time.monotonic()
    clean = reference.fetch()
    duration = time.monotonic() - started
    assert clean.returncode == 0, clean.stderr
    expected = stored(reference)
    assert len(expected) == KILL_FEEDS * KILL_ENTRIES

    # random moments spread over the whole run: one in each of KILL_TRIALS equal slices of
    # (0, duration), in a shuffled order
    rng = random.Random(KILL_SEED)
    delays = [duration * (k + rng.random()) / KILL_TRIALS for k in range(KILL_TRIALS)]
    rng.shuffle(delays)
    killed = finished = 0
    unsound: dict[int, list[str]] = {}
    landed: Counter[str] = Counter()  # where in the run the kills landed
    recoveries: list[bool] = []
    orphans: list[int] = []  # processes of the run still alive after each kill
    keys = [(source, key, id_) for source, key, id_, _ in expected]
    for trial in range(KILL_TRIALS):
        generation[0] = trial + 1
        delay = delays[trial]
        with tempfile.TemporaryFile() as err:  # a file: orphans may hold a pipe open forever
            process = subprocess.Popen(
                victim.command("fetch"),
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=victim.env,
                cwd=victim.root,
            )
            try:
                try:
                    process.wait(timeout=delay)
                    finished += 1
                    err.seek(0)
                    assert process.returncode == 0, err.read()
                except subprocess.TimeoutExpired:
                    process.send_signal(signal.SIGKILL)
                    process.wait(10)
                    killed += 1
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
        left = processes_of(victim)  # parser workers the kill orphaned (they end within
        orphans.append(len(left))  # ~0.5 s by themselves: test_no_process_outlives_…)
        end_processes(left)
        problems, generations = soundness(victim.db)
        if problems:
            unsound[trial] = problems
        done_sources = generations[trial + 1]
        landed[
            "before any source was stored" if done_sources == 0
            else "after every source was stored" if done_sources == KILL_FEEDS
            else "between sources"
        ] += 1  # fmt: skip
        if trial % 5 == 4:  # every fifth kill: does a plain fetch bring it back?
            recovery = victim.fetch()
            assert_no_traceback(recovery)
            problems, generations = soundness(victim.db)
            now = stored(victim)
            recoveries.append(
                recovery.returncode == 0
                and not problems
                and generations == {trial + 1: KILL_FEEDS}
                and [(source, key, id_) for source, key, id_, _ in now] == keys
            )

    generation[0] = FINAL
    final = victim.fetch()
    assert_no_traceback(final)
    assert final.returncode == 0, final.stderr
    after = stored(victim)
    recoveries.append(after == expected)
    print(
        f"\nkill -9: clean fetch {duration:.2f} s; {KILL_TRIALS} trials on one accumulating "
        f"database (seed {KILL_SEED}): {killed} killed, {finished} finished before the kill; "
        f"kills landed {dict(landed)}; sound after {KILL_TRIALS - len(unsound)}/{KILL_TRIALS}; "
        f"a fetch after the kill converged {sum(recoveries)}/{len(recoveries)} "
        f"(the last one: {len(after)} entries vs {len(expected)} from a fresh database); "
        f"processes of the run still alive the moment after each kill: {orphans}"
    )
    assert unsound == {}
    assert killed >= KILL_TRIALS // 2
    assert landed["between sources"] >= 3, "the kills missed the writes: nothing was tested"
    assert soundness(victim.db)[0] == []
    assert len(after) == len({(source, key) for source, key, _, _ in after})  # no duplicates
    assert all(recoveries), recoveries
    assert after == expected


STOPS = {
    "Ctrl-C": (signal.SIGINT, True),  # a terminal sends it to the whole process group
    "SIGINT": (signal.SIGINT, False),  # kill -INT PID
    "SIGTERM": (signal.SIGTERM, False),  # kill PID, timeout(1)
    "SIGKILL": (signal.SIGKILL, False),  # kill -9 PID, the OOM killer
}


def _own_group_default_sigint() -> None:
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # background jobs start with SIGINT ignored


@dataclass
class Stopped:
    returncode: int
    stderr: str  # everything written to it, by the fetch or anything it left behind
    left: list[int]  # processes of the run still alive 2 s after the fetch ended
    commands: list[bytes]  # their command lines


def stop_pooled_fetch(cli: Cli, server: FeedServer, stop: str) -> Stopped:
    """Start a fetch of 24 slow feeds (~3.6 s), wait until its parser pool runs, stop it as
    STOPS[stop] says, and see what is left after 2 s; then end whatever is."""
    signum, whole_group = STOPS[stop]
    cli.write_config(
        [(f"feed{i}", server.feed(f"/feed{i}.xml", kill_feed(i, 0), delay=0.3)) for i in range(24)],
        settings="concurrency = 2",
    )
    left: list[int] = []
    commands: list[bytes] = []
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            cli.command("fetch"), stdout=subprocess.DEVNULL, stderr=err, env=cli.env,
            cwd=cli.root, preexec_fn=_own_group_default_sigint,  # noqa: PLW1509
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 15
            # the CLI, the resource tracker, the forkserver and a worker: the pool is up
            while len(processes_of(cli)) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
            if process.poll() is not None:
                pytest.skip("the fetch ended before it could be stopped")
            if whole_group:
                os.killpg(process.pid, signum)
            else:
                process.send_signal(signum)
            process.wait(10)
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                left = processes_of(cli)
                if not left:
                    break
                time.sleep(0.1)
            for pid in left:
                with contextlib.suppress(OSError):
                    commands.append(Path(f"/proc/{pid}/cmdline").read_bytes()[:80])
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
            end_processes(processes_of(cli))
        err.seek(0)
        return Stopped(process.returncode, err.read().decode(errors="replace"), left, commands)


needs_pool = pytest.mark.skipif(
    not Path("/proc/self/environ").exists() or (os.cpu_count() or 1) < 2,
    reason="needs /proc, and 2+ CPUs (with one, fetch parses inline: no pool)",
)


@pytest.mark.slow
@needs_pool
@pytest.mark.parametrize("stop", list(STOPS))
def test_no_process_outlives_a_stopped_fetch(cli: Cli, server: FeedServer, stop: str) -> None:
    """Found here: a fetch stopped while its parser pool ran (4+ sources due, 2+ CPUs) left the
    forkserver, its workers and multiprocessing's resource tracker running for good, reparented
    to init, whatever stopped it (Ctrl-C, kill -INT, -TERM, -9). They held the fetch's stdout
    and stderr, so `archfeed fetch 2>&1 | tee log` never ended. Fixed in 921bac7 (workers watch
    the fetch's pid)."""
    stopped = stop_pooled_fetch(cli, server, stop)

    assert stopped.left == [], (
        f"{len(stopped.left)} processes still running 2 s after {stop}: {stopped.commands}"
    )
    if stop in ("Ctrl-C", "SIGINT"):
        assert stopped.returncode == 130
        assert stopped.stderr.startswith("archfeed: interrupted\n"), stopped.stderr


@pytest.mark.slow
@needs_pool
@pytest.mark.parametrize("stop", ["Ctrl-C", "SIGINT"])
def test_interrupted_pooled_fetch_says_only_interrupted(
    cli: Cli, server: FeedServer, stop: str
) -> None:
    stopped = stop_pooled_fetch(cli, server, stop)

    assert stopped.returncode == 130
    assert stopped.stderr == "archfeed: interrupted\n"


# -- two fetches at once --------------------------------------------------------------------------

SLOW_FEEDS = 20


@pytest.mark.slow
def test_two_fetches_at_once_and_a_reader(cli: Cli, server: FeedServer) -> None:
    cli.write_config(
        [
            (
                f"slow{i}",
                server.feed(
                    f"/slow/{i}.xml",
                    rss(
                        f"slow{i}", [(f"s{i}-{j}", f"Slow {i} item {j}", "Text.") for j in range(5)]
                    ),
                    delay=0.3,
                ),
            )
            for i in range(SLOW_FEEDS)
        ],
        settings=f"concurrency = 2\n{EVERY_RUN}",
    )
    first = subprocess.Popen(
        cli.command("fetch"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli.env, cwd=cli.root,
    )  # fmt: skip
    second: subprocess.Popen[str] | None = None
    try:
        assert server.requested.wait(15), "the first fetch never reached the server"
        second = subprocess.Popen(
            cli.command("fetch"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=cli.env, cwd=cli.root,
        )  # fmt: skip
        reads: list[tuple[float, int, bool]] = []
        while first.poll() is None and len(reads) < 5:
            started = time.monotonic()
            done = cli.run("list", "--format", "json")
            reads.append((time.monotonic() - started, done.returncode, first.poll() is None))
            assert_no_traceback(done)
            assert done.returncode == 0, done.stderr
            assert isinstance(json.loads(done.stdout), list)
            assert not SQLITE_NOISE.search(done.stderr), done.stderr
        _, first_err = first.communicate(timeout=30)
        first_end = time.monotonic()
        _, second_err = second.communicate(timeout=60)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
    print(f"\nreads while the first fetch ran (s, rc, still running): {reads}")
    assert [r for r in reads if r[2]], "no read happened while the first fetch ran"
    assert all(seconds < 2 for seconds, _, _ in reads), reads
    assert first.returncode == 0, first_err
    # it says what it waits for, and for whom
    assert second_err.startswith(f"waiting for another fetch (pid {first.pid}) to finish"), (
        second_err
    )
    for stderr in (first_err, second_err):
        assert "Traceback" not in stderr
        assert not SQLITE_NOISE.search(stderr), stderr
    if second.returncode == 0:  # it waited for the lock: none of its requests overlapped
        per_path: dict[str, list[float]] = {}
        for when, path in server.times:
            per_path.setdefault(path, []).append(when)
        assert all(len(times) == 2 for times in per_path.values()), per_path
        first_fetch = max(min(times) for times in per_path.values())
        second_fetch = min(max(times) for times in per_path.values())
        assert first_fetch < second_fetch, "the second fetch ran alongside the first"
        assert second_fetch > first_end - 1.0
        assert f"{SLOW_FEEDS} not modified" in second_err
    else:
        assert second.returncode == 1, second_err
        assert "archfeed: error: " in second_err, second_err
        assert "hint: " in second_err
    assert cli.count() == SLOW_FEEDS * 5
    assert cli.rows("SELECT count(DISTINCT source || char(0) || key) FROM entries")[0][0] == (
        SLOW_FEEDS * 5
    )


@pytest.mark.slow
def test_ctrl_c_at_any_moment_prints_one_line(cli: Cli, server: FeedServer) -> None:
    """Ctrl-C while archfeed imports, while the store opens, while feeds download or parse,
    while the report is printed: one line, `archfeed: interrupted`, exit status 130, never a
    traceback, from the forkserver neither (the pool test above covers the parser workers)."""
    cli.write_config(
        [(f"feed{i}", server.feed(f"/f{i}.xml", kill_feed(i, 0), delay=0.2)) for i in range(6)],
        settings="concurrency = 2",
    )
    outcomes = []
    # from 40 ms: before that the interpreter itself starts (site, runpy), which no program
    # written in Python can guard
    for delay in (0.04, 0.06, 0.08, 0.1, 0.13, 0.16, 0.2, 0.3, 0.45, 0.6, 0.8):
        with tempfile.TemporaryFile() as err:
            process = subprocess.Popen(
                cli.command("fetch"), stdout=subprocess.DEVNULL, stderr=err, env=cli.env,
                cwd=cli.root, preexec_fn=_own_group_default_sigint,  # noqa: PLW1509
            )  # fmt: skip
            time.sleep(delay)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
            code = process.wait(20)
            end_processes(processes_of(cli))
            err.seek(0)
            stderr = err.read().decode(errors="replace")
        outcomes.append((delay, code))
        assert "Traceback" not in stderr and "Process " not in stderr, (delay, stderr)
        if code in (130, -signal.SIGINT):  # the shell's $? is 130 either way
            # ended by the signal itself: before Python set its handler (nothing said), or as
            # Python ends a process whose KeyboardInterrupt it saw (after the line)
            assert stderr in ("", "archfeed: interrupted\n"), (delay, stderr)
        else:
            assert code == 0, (delay, code, stderr)
    assert sum(code == 130 for _, code in outcomes) >= 5, outcomes


# -- output that cannot be written ----------------------------------------------------------------

OUTPUTS = [
    ("list", "--format", "plain"), ("list", "--format", "markdown"), ("list", "--format", "json"),
    ("list", "--format", "csv"), ("list", "--format", "table"), ("topics", "--format", "plain"),
    ("langs", "--format", "table"), ("sources", "--format", "plain"),
    ("sources", "--format", "json"), ("check",), ("digest", "--dry-run"),
]  # fmt: skip


@pytest.fixture(scope="module")
def readable(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    cli = make_cli(tmp_path_factory.mktemp("outputs"))
    (cli.root / "t.xml").write_bytes(
        rss("t", [(f"t-{n}", f"Post {n}", "Text.") for n in range(40)])
    )
    cli.write_config([("t", str(cli.root / "t.xml"))], extra='[topics.db]\nkeywords = ["post"]\n')
    assert cli.fetch().returncode == 0
    return cli


@pytest.mark.parametrize("args", OUTPUTS, ids=" ".join)
def test_output_that_cannot_be_written_ends_alike_in_every_command(
    readable: Cli, args: tuple[str, ...]
) -> None:
    """A reader gone (a closed pipe): exit 0 and nothing said; a full disk: exit 1 and "cannot
    write the output". Markdown, topics, langs and sources once answered otherwise."""
    process = subprocess.Popen(readable.command(*args), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=readable.env)  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the command writes a byte
    err = process.stderr.read()
    assert process.wait(30) == 0, err
    assert "error" not in err and "Traceback" not in err, err  # check's "OK" line may stay
    if not Path("/dev/full").exists():
        return
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(readable.command(*args), stdout=full, stderr=subprocess.PIPE,
                              text=True, env=readable.env, timeout=30, check=False)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("archfeed: error: cannot write the output: "), done.stderr
    assert "Traceback" not in done.stderr
