"""Bad databases: not a database, someone else's, read-only, a full disk."""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    VOCAB,
    Cli,
    FeedServer,
    assert_no_traceback,
    make_cli,
    respond,
    rss,
    source_block,
    write_config,
)

# -- bad databases ---------------------------------------------------------------------------------


def assert_clear_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert_no_traceback(done)
    assert done.returncode == 1, (done.returncode, done.stderr)
    lines = done.stderr.splitlines()
    assert lines[0].startswith("archfeed: error: "), done.stderr
    assert any(line.startswith("hint: ") for line in lines), done.stderr
    assert "this is a bug" not in done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


LOCAL_FEED = rss("local", [(f"local-{j}", f"Local item {j}", "Some text.") for j in range(3)])


@pytest.mark.parametrize("command", ["fetch", "list"])
def test_db_that_is_not_a_database(cli: Cli, tmp_path: Path, command: str) -> None:
    (tmp_path / "local.xml").write_bytes(LOCAL_FEED)
    cli.write_config([("local", "local.xml")])
    cli.db.write_bytes(random.Random(7).randbytes(16384))
    before = digest(cli.db)

    done = cli.run(command)

    assert_clear_error(done, str(cli.db))
    assert digest(cli.db) == before  # not a byte of the user's file changed
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "archfeed.db",
        "feeds.toml",
        "home",
        "local.xml",
    ]


@pytest.mark.parametrize("command", ["fetch", "list"])
def test_db_that_is_someone_elses_sqlite(cli: Cli, tmp_path: Path, command: str) -> None:
    (tmp_path / "local.xml").write_bytes(LOCAL_FEED)
    cli.write_config([("local", "local.xml")])
    conn = sqlite3.connect(cli.db)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('my precious notes')")
    conn.commit()
    conn.close()
    before = digest(cli.db)

    done = cli.run(command)

    assert_clear_error(done, "not archfeed's")
    assert digest(cli.db) == before
    assert cli.rows("SELECT name FROM sqlite_master") == [("notes",)]
    assert cli.rows("SELECT body FROM notes") == [("my precious notes",)]


PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2
NOBODY = 65534


def _as_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _without_dac_override() -> None:
    """Root that obeys file modes: drop the capabilities that bypass them, for this process and
    whatever it executes (the bounding set survives exec)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _probe(preexec: Callable[[], None] | None, code: str) -> bool:
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            timeout=30,
            preexec_fn=preexec,
            cwd="/",
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # e.g. it may not even run the interpreter
        return False
    return done.returncode == 0


def obeying_file_modes(folder: Path) -> tuple[Callable[[], None] | None, str]:
    """A preexec_fn under which the CLI cannot write into `folder` (already made read-only), and
    how: as is when not root; as root, uid 65534 if it can run this interpreter, else root
    without CAP_DAC_OVERRIDE. Skips when neither works here."""
    candidates: list[tuple[Callable[[], None] | None, str]] = [(None, "as is")]
    if os.geteuid() == 0:
        candidates = [
            (_as_nobody, f"as uid {NOBODY}"),
            (_without_dac_override, "as root without CAP_DAC_OVERRIDE"),
        ]
    for preexec, how in candidates:
        runs = _probe(preexec, "import archfeed")
        writes = _probe(preexec, f"open({str(folder / 'probe')!r}, 'w')")
        if runs and not writes:
            return preexec, how
    pytest.skip("no way here to run the CLI without the right to write a read-only folder")


def test_read_only_database() -> None:
    # a folder anyone can reach (pytest's tmp_path lives under a 0700 folder), made read-only
    base = Path(tempfile.mkdtemp(prefix="archfeed-ro-"))
    try:
        base.chmod(0o755)
        cli = make_cli(base)
        cli.db = base / "ro" / "archfeed.db"
        (base / "local.xml").write_bytes(LOCAL_FEED)
        cli.write_config([("local", str(base / "local.xml"))])
        assert cli.fetch().returncode == 0
        (base / "local.xml").write_bytes(LOCAL_FEED.replace(b"Local item 0", b"Changed item 0"))
        for path in [*cli.db.parent.iterdir(), base / "local.xml", cli.config]:
            path.chmod(0o444)
        cli.db.parent.chmod(0o555)
        before = digest(cli.db)
        preexec, how = obeying_file_modes(cli.db.parent)
        print(f"\nread-only database: running the CLI {how}")

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                cli.command(*args), capture_output=True, text=True, env=cli.env, cwd=base,
                timeout=30, preexec_fn=preexec, check=False,
            )  # fmt: skip

        fetched = run("fetch")
        listed = run("list", "--format", "json")

        print(f"fetch: {fetched.stderr.strip()!r}\nlist: {listed.stderr.strip()!r}")
        assert_clear_error(fetched, "read-only")
        assert digest(cli.db) == before
        assert integrity(cli.db) == "ok"
        assert cli.rows("SELECT title FROM entries WHERE key = 'local-0'") == [("Local item 0",)]
        # reading it: either works, or is the same clear error (SQLite cannot open a WAL
        # database read-only when it may not create the -shm file beside it)
        if listed.returncode == 0:
            assert len(json.loads(listed.stdout)) == 3
        else:
            assert_clear_error(listed, "read-only")
    finally:
        for path in base.rglob("*"):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


# CPython 3.11's ProcessPoolExecutor: shut down with wait=False (archfeed does, when an error
# ends a fetch) and exit at once, and now and then its atexit hook writes to the wake-up pipe
# the management thread is closing at that moment. A race, seen about once in ten runs under
# load: too rare for a strict xfail, so the test tolerates exactly this and reports it.
_EXIT_RACE = re.compile(
    r"Exception ignored in: <module 'threading'[^\n]*\nTraceback \(most recent call last\):\n"
    r"(?:  .*\n)*?.*concurrent/futures/process\.py.*\n(?:  .*\n)*OSError: \[Errno 9\] Bad file "
    r"descriptor\n?"
)


def without_exit_race(stderr: str) -> tuple[str, bool]:
    cleaned = _EXIT_RACE.sub("", stderr)
    return cleaned, cleaned != stderr


def file_size_limit(limit: int) -> Callable[[], None]:
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


FULL_DISK_LIMIT = 1_000_000  # bytes per file: the schema (~110 kB) and small feeds fit
BIG_ENTRIES = 800  # ~1.2 MB of text, ~3 MB with its indexes: does not fit


@pytest.mark.slow
def test_full_disk(cli: Cli, server: FeedServer) -> None:
    rng = random.Random(11)
    small = {
        f"small{k}": rss(
            f"small{k}",
            [
                (f"s{k}-{j}", f"Small {k} item {j}", " ".join(rng.choices(VOCAB, k=30)))
                for j in range(20)
            ],
        )
        for k in range(4)
    }
    big = rss(
        "big",
        [
            (f"big-{j}", f"Big item {j}", " ".join(rng.choices(VOCAB, k=200)))
            for j in range(BIG_ENTRIES)
        ],
    )
    urls = [(name, server.feed(f"/{name}.xml", body)) for name, body in small.items()]
    urls.append(("big", server.feed("/big.xml", big, delay=0.5)))  # after the small ones
    write_config(  # lang: no detection of made-up words, which would take seconds
        cli,
        "[settings]\nconcurrency = 5\n\n"
        + "".join(source_block(name, url, lang="en") for name, url in urls),
    )

    done = subprocess.run(
        cli.command("fetch"), capture_output=True, text=True, env=cli.env, cwd=cli.root,
        timeout=60, preexec_fn=file_size_limit(FULL_DISK_LIMIT), check=False,
    )  # fmt: skip

    print(f"\nfull disk: {done.stderr.strip()!r}")
    done.stderr, raced = without_exit_race(done.stderr)
    if raced:
        print("full disk: the ProcessPoolExecutor exit race struck (a traceback after the error)")
    assert_clear_error(done)
    assert re.search(r"disk|full|space", done.stderr, re.I), done.stderr
    assert integrity(cli.db) == "ok"
    counts = dict(cli.rows("SELECT source, count(*) FROM entries GROUP BY source"))
    assert counts.get("big", 0) == 0
    # writes are committed a batch at a time (Store.batched): the small sources of batches
    # committed before the failure are stored whole; the others left no trace, not even an ETag,
    # so the next fetch stores them
    assert set(counts) <= set(small)
    assert all(n == 20 for n in counts.values()), counts  # complete, none partial
    assert [row[0] for row in cli.rows("SELECT name FROM sources ORDER BY name")] == sorted(counts)
    # with room again, the next fetch stores the rest
    again = cli.fetch()
    assert again.returncode == 0, again.stderr
    assert "big: 800 new, 0 updated" in again.stderr
    assert cli.count() == 4 * 20 + BIG_ENTRIES


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_database_deleted_or_replaced_during_a_fetch_is_an_error(
    cli: Cli, server: FeedServer, how: str
) -> None:
    """Once said "1 new" of entries written into a file no path led to any more."""
    feed = rss("x", [("x-1", "Written nowhere", "Text.")])

    def answer(handler: Any) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{cli.db}{suffix}").unlink(missing_ok=True)
        if how == "replaced":
            Path(cli.db).write_bytes(b"")
        respond(handler, 200, feed)

    cli.write_config([("x", server.route("/x.xml", answer))])
    done = cli.fetch()
    assert_clear_error(done, str(cli.db), "deleted or replaced")
    assert "new" not in done.stderr
