"""archfeed against its peers: cold, warm and changed fetches of the same feeds on 127.0.0.1.

    python benchmarks/peers.py [--feeds 200] [--entries 30] [--runs 5] [--only archfeed]...
                               [--set short] [--set long] [--scratch /tmp/archfeed-bench]

In a scratch folder (never in the repository): generates the feeds (genfeeds.py; set `short`:
bodies of 150-800 words, `long`: 1,500-4,000; both by default), serves them (server.py, a
subprocess ended at the end), installs the peers when missing — newsboat from
Debian (`apt-get install -y newsboat`, as root; else that peer is skipped), lemon24/reader from
PyPI in a scratch venv (reader 3.26 vendors an old feedparser that imports `sgmllib`, which
feedparser 6.0.14 no longer pulls in: `sgmllib3k` is installed beside it). Then, run after run,
each tool fetches every feed cold (empty database), then each warm (same state again: the server
answers 304), then each changed: the server switches to the next day's versions of the feeds
(every feed with 2 new entries on top and its 2 oldest gone: every body new, most items not), and
back for the next run. newsboat 2.21 stores a feed's ETag only once the feed is in its cache, so
its first reload keeps none: an unmeasured reload between its cold and warm runs stores them.

Each run is one whole process, timed by the wall clock around it, with the CPU time of all its
processes (wait4, or the sum sampled from /proc when more), the max RSS of its main process
(/usr/bin/time when present: exact) and the peak sum of the PSS of its process tree (sampled
every 0.2 s: worker processes count). The server's per-status counts after each run show what
it fetched (cold: 200s; warm: 304s). Prints a Markdown table of medians per feed set, with the
ratios archfeed ÷ peer of every run.
archfeed is `$ARCHFEED_BIN`, default the `archfeed` beside this Python: whatever is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TICK = os.sysconf("SC_CLK_TCK")
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None  # GNU time, for max RSS
READER_PINS = ("reader==3.26", "feedparser==6.0.14", "sgmllib3k==1.0.0")
READER_DRIVER = '''"""reader's fetch as a command: add the feeds, update them all with N workers."""
import sys
from reader import make_reader

db, urls, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
reader = make_reader(db)
for url in open(urls, encoding="utf-8").read().split():
    reader.add_feed(url, exist_ok=True)
# scheduled=False: by default update_feeds skips feeds updated less than an hour ago
reader.update_feeds(workers=workers, scheduled=False)
'''


@dataclass
class Tool:
    name: str
    argv: list[str]  # "{dir}" stands for the run's folder
    db: str  # file in the run's folder, and its table of entries
    table: str
    env: dict[str, str] = field(default_factory=dict)
    prime: bool = False  # one unmeasured run between cold and warm
    cold: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    changed: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    pss: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    seen: dict[str, str] = field(default_factory=dict)


def tree_usage(root: int, cpu: dict[int, float]) -> int:
    """The memory of a process and all its descendants (worker processes too), in kB: the sum
    of their PSS, so that the pages they share count once. Notes each one's CPU seconds in `cpu`
    (wait4 misses descendants that their parent never reaped)."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        proc = Path(f"/proc/{pid}")
        try:
            for task in (proc / "task").iterdir():
                stack.extend(int(child) for child in (task / "children").read_text().split())
            rollup = (proc / "smaps_rollup").read_text()
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        total += sum(int(line.split()[1]) for line in rollup.splitlines() if line[:4] == "Pss:")
        cpu[pid] = (int(stat[11]) + int(stat[12])) / TICK  # utime + stime
    return total


def run(tool: Tool, folder: Path) -> tuple[float, float, float, float]:
    """One whole process: (wall s, max RSS of its main process in MB, CPU s, peak Σ PSS of
    its process tree in MB)."""
    argv = [arg.replace("{dir}", str(folder)) for arg in tool.argv]
    env = {**os.environ, **{k: v.replace("{dir}", str(folder)) for k, v in tool.env.items()}}
    if TIME:  # exact: Linux starts a child's max RSS at its parent's, and time is small
        argv = [TIME, "-f", "%M", "-o", str(folder / "maxrss"), *argv]
    with (folder / "stdout").open("ab") as out, (folder / "stderr").open("ab") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        peak, cpu, done = [0], dict[int, float](), threading.Event()

        def sample() -> None:  # every 0.2 s while it runs
            while not done.wait(0.2):
                peak[0] = max(peak[0], tree_usage(proc.pid, cpu))

        threading.Thread(target=sample, daemon=True).start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = (folder / "stderr").read_text(errors="replace")[-600:]
        print(f"  {tool.name} exited {proc.returncode}: {tail}", file=sys.stderr)
    rss = int((folder / "maxrss").read_text().split()[-1]) if TIME else usage.ru_maxrss
    seconds = max(usage.ru_utime + usage.ru_stime, sum(cpu.values()))
    return wall, rss / 1024, seconds, peak[0] / 1024


def server_stats(base: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{base}/_stats", timeout=10) as answer:  # noqa: S310
        return {k: int(v) for k, v in json.loads(answer.read()).items()}


def stored(tool: Tool, folder: Path) -> int:
    path = folder / tool.db
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {tool.table}").fetchone()[0])  # noqa: S608


def ensure_newsboat() -> str | None:
    found = shutil.which("newsboat")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print("newsboat: not installed, and apt-get needs root: skipped", file=sys.stderr)
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "newsboat"]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=False)
        subprocess.run(install, env=env, capture_output=True, check=False)
    found = shutil.which("newsboat")
    print(f"newsboat: {'installed' if found else 'apt-get failed: skipped'}", file=sys.stderr)
    return found


def ensure_reader(scratch: Path) -> str | None:
    venv = scratch / "reader-venv"
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import reader, sgmllib"]
    if python.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0:
        return str(python)
    print(f"reader: installing {' '.join(READER_PINS)} into {venv}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = subprocess.run([python, "-m", "pip", "install", "-q", *READER_PINS], check=False)
    if pip.returncode or subprocess.run(check, capture_output=True, check=False).returncode:
        print("reader: pip install failed: skipped", file=sys.stderr)
        return None
    return str(python)


def tools(args: argparse.Namespace, feeds: Path) -> list[Tool]:
    threads, chosen = str(args.threads), []
    archfeed = os.environ.get("ARCHFEED_BIN", str(Path(sys.executable).parent / "archfeed"))
    config = str(feeds / "feeds.toml")
    if "archfeed" in args.only:
        argv = [archfeed, "-q", "-c", config, "--db", "{dir}/archfeed.db", "fetch"]
        chosen.append(Tool("archfeed", argv, "archfeed.db", "entries"))
    if "newsboat" in args.only and (newsboat := ensure_newsboat()):
        urls = str(feeds / "urls.txt")
        argv = [newsboat, "-q", "-u", urls, "-c", "{dir}/cache.db", "-C", "{dir}/config", "-x"]
        env = {"HOME": "{dir}", "XDG_CONFIG_HOME": "{dir}", "XDG_DATA_HOME": "{dir}"}
        chosen.append(Tool("newsboat", [*argv, "reload"], "cache.db", "rss_item", env, True))
    if "reader" in args.only and (python := ensure_reader(args.scratch)):
        driver = args.scratch / "reader_driver.py"
        driver.write_text(READER_DRIVER, encoding="utf-8")
        argv = [python, str(driver), "{dir}/reader.sqlite", str(feeds / "urls.txt"), threads]
        chosen.append(Tool("reader", argv, "reader.sqlite", "entries"))
    return chosen


def fresh(tool: Tool, folder: Path, threads: int) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if tool.name == "newsboat":
        (folder / "config").write_text(f"reload-threads {threads}\n", encoding="utf-8")


PHASES = ("cold", "warm", "changed")


def table(chosen: list[Tool], feeds: int, entries: int, notes: str) -> str:
    ours = next((t for t in chosen if t.name == "archfeed"), None)
    med = statistics.median
    ratios = " | ".join(f"archfeed ÷ peer, {phase}" for phase in PHASES)
    lines = [
        f"{feeds} feeds × {entries} entries, median of {len(chosen[0].cold)} runs; {notes}\n",
        "| tool | cold s | warm s | changed s | cold ms/feed | cold CPU s | peak MB, main "
        f"process | peak MB, all processes | stored | warm answers | {ratios} |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|",
    ]
    for tool in chosen:
        times = [med(getattr(tool, phase)) for phase in PHASES]
        against = "— | — | —"
        if ours and tool is not ours:
            mine = [med(getattr(ours, phase)) for phase in PHASES]
            against = " | ".join(f"{a / b:.2f}" for a, b in zip(mine, times, strict=True))
        lines.append(
            f"| {tool.name} | {times[0]:.2f} | {times[1]:.2f} | {times[2]:.2f} | "
            f"{times[0] / feeds * 1000:.1f} | {med(tool.cpu):.1f} | {max(tool.rss):.0f} | "
            f"{max(tool.pss):.0f} | {tool.seen['stored']} | {tool.seen['warm']} | {against} |"
        )
    return "\n".join(lines)


def describe(load: float) -> str:
    """What the table's figures depend on: the archfeed measured, the machine's load, how."""

    def git(*argv: str) -> str:
        try:
            done = subprocess.run(["git", "-C", str(HERE.parent), *argv],
                                  capture_output=True, text=True, check=False)  # fmt: skip
        except OSError:
            return ""
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "an unknown commit"
    if git("status", "--porcelain", "src"):
        commit += " + uncommitted src changes"
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    how = "/usr/bin/time" if TIME else f"wait4, never below this process's {floor:.0f} MB"
    return (
        f"archfeed at {commit}; load average {load:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after, on {os.cpu_count()} CPUs. Main process: its max RSS "
        f"({how}); all processes: the peak sum of the PSS of its process tree, sampled every 0.2 s"
    )


def measure(chosen: list[Tool], args: argparse.Namespace, base: str) -> None:
    """Run after run: every tool cold, then every tool warm on the state its cold run left,
    then every tool on the next day's feeds (changed), on the state its warm run left."""
    server_stats(base)
    for number in range(1, args.runs + 1):
        for phase in PHASES:
            if phase == "changed":
                use(base, "changed")
            for tool in chosen:
                folder = args.scratch / "runs" / tool.name
                if phase == "cold":
                    fresh(tool, folder, args.threads)
                elif phase == "warm" and tool.prime:
                    run(tool, folder)
                    server_stats(base)
                wall, rss, cpu, pss = run(tool, folder)
                answers = server_stats(base)
                getattr(tool, phase).append(wall)
                if phase == "cold":
                    tool.rss.append(rss)
                    tool.cpu.append(cpu)
                    tool.pss.append(pss)
                    tool.seen["stored"] = str(stored(tool, folder))
                elif phase == "warm":
                    tool.seen["warm"] = " ".join(f"{n}×{s}" for s, n in answers.items())
                print(f"run {number} {phase:7} {tool.name:8} {wall:7.2f} s  {cpu:6.1f} s CPU  "
                      f"{rss:4.0f} MB main  {pss:4.0f} MB all  {answers}",
                      file=sys.stderr, flush=True)  # fmt: skip
        use(base, "base")


def use(base: str, variant: str) -> None:
    with urllib.request.urlopen(f"{base}/_use/{variant}", timeout=10) as answer:  # noqa: S310
        answer.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=16, help="concurrency of every tool")
    parser.add_argument("--only", action="append", choices=("archfeed", "newsboat", "reader"))
    parser.add_argument("--set", action="append", choices=("short", "long"), dest="sets")
    parser.add_argument(
        "--scratch", type=Path, default=Path(tempfile.gettempdir()) / "archfeed-bench"
    )
    args = parser.parse_args()
    args.only = args.only or ["archfeed", "newsboat", "reader"]
    args.scratch.mkdir(parents=True, exist_ok=True)
    for feed_set in args.sets or ["short", "long"]:
        print(f"## {feed_set} bodies\n\n{compare(args, feed_set)}\n", flush=True)


def compare(args: argparse.Namespace, feed_set: str) -> str:
    """One feed set: generated, served, every chosen tool measured; its table."""
    with socket.socket() as probe:  # a free port for the server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    name = f"feeds-{args.feeds}x{args.entries}-seed{args.seed}-{feed_set}"
    feeds = args.scratch / name
    # a subprocess, so that this process stays small: a child's max RSS starts at its parent's
    generate = [sys.executable, str(HERE / "genfeeds.py"), str(feeds), "--base", base]
    sizes = ["--feeds", str(args.feeds), "--entries", str(args.entries), "--seed", str(args.seed)]
    sizes += ["--long"] if feed_set == "long" else []
    subprocess.run([*generate, *sizes], check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen(
        [sys.executable, str(HERE / "server.py"), str(feeds), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        print(server.stdout.readline().strip() if server.stdout else "", file=sys.stderr)
        chosen = tools(args, feeds)
        if not chosen:
            sys.exit("peers.py: no tool to run")
        load = os.getloadavg()[0]
        measure(chosen, args, base)
        return table(chosen, args.feeds, args.entries, describe(load))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
