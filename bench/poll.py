"""One poll cycle over many real feeds, next to a lower bound; then the same cycle again, all unchanged.

Run: .venv/bin/python bench/poll.py [--feeds 1000] [--check] [--profile]

A separate server process serves N feeds (/feed/<i>, cycling through the real-feeds corpus, ETag and
304 included) on loopback ports. Each phase runs in its own fresh child process, so peak RSS is per phase:

  lower bound  httpx.AsyncClient GETs all N URLs (20 at once, the monitor's max_concurrency) and
               feedparser.parse()s each body with the monitor's settings (parse.FEEDPARSER_SETTINGS),
               nothing else;
  cold cycle   resources.open_resources + resources.poll_all into a new SQLite database (every item new);
  warm cycle   the same again on that database (every feed answers 304).

Targets: cold / lower bound <= 1.5; warm <= 3 s per 1000 feeds; peak RSS <= 150 MB. `--check` exits 1
when one is missed. `--profile` prints the cold cycle's top 25 functions (event loop and database thread).

`--callgrind` counts instructions instead (deterministic where wall times on a shared VM are not): the
lower bound's fetch + parse and the cold cycle each run once natively (which also caches their bytecode), then
again under `valgrind --tool=callgrind`, which counts only the timed region of each (marks below); the feed
server is another process and is never counted. Use a small --feeds (40-60): valgrind runs ~50x slower.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import io
import json
import os
import pstats
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
CORPUS = SHARED / "corpora" / "real-feeds"
BASELINE = REPO / "seeds" / "baseline.yaml"
RESULT = "RESULT "  # prefix of the child's one machine-readable line
TARGET_RATIO = 1.5
TARGET_WARM_PER_1000 = 3.0
TARGET_RSS_MB = 150.0
# Callgrind marks: two libc calls nothing else in the process makes. Entering getpgrp() zeroes the counts
# (`--zero-before`), entering getsid() writes the counts since the last mark to a numbered file
# (`--dump-before`): the counted region is exactly what lies between them, every thread included.
CALLGRIND_MARKS = ["--zero-before=getpgrp", "--dump-before=getsid"]
TOTAL = " total"  # instructions_by_library's key for the dump's total (no library is named so)
# Generous limits for the counted cycle: valgrind's ~50x slowdown must not turn polls into timeouts or
# lost leases (their length changes no work done).
SLOW_DEFAULTS = (
    "defaults:\n  timeout: 3000\n  read_timeout: 3000\n  connect_timeout: 3000\nreplicas:\n  lease: 7200\n"
)


# --- parent: corpus, server, config ---------------------------------------------------------------


def feed_documents(wanted: int) -> list[Path]:
    """Corpus documents that are feeds (monitor.parse accepts them), in name order; parsed only until
    `wanted` are found, since N feeds cycle through at most N documents."""
    from monitor.errors import ParseError
    from monitor.parse import parse

    found = []
    for path in sorted(CORPUS.glob("*.xml")):
        try:
            parse(path.read_bytes(), {}, fetched_at=datetime.now(UTC))
        except ParseError:
            continue
        found.append(path)
        if len(found) >= wanted:
            break
    return found


def write_config(workdir: Path, urls: list[str], *, slow: bool = False) -> Path:
    feeds = "".join(f"  - name: feed-{i}\n    url: {url}\n" for i, url in enumerate(urls))
    path = workdir / "feeds.yaml"
    path.write_text(
        f"database: sqlite:///{workdir / 'monitor.db'}\nbaseline: {BASELINE}\n"
        + (SLOW_DEFAULTS if slow else "")
        + f"feeds:\n{feeds}",
        encoding="utf-8",
    )
    (workdir / "urls.json").write_text(json.dumps(urls), encoding="utf-8")
    return path


def run_phase(
    phase: str, workdir: Path, concurrency: int, profile: bool, *, wrapper: list[str] | None = None
) -> dict[str, Any]:
    """Run one phase in a fresh interpreter (under `wrapper`, e.g. valgrind); echo what it prints; return
    its RESULT."""
    command = [*(wrapper or []), sys.executable, __file__, "--phase", phase, "--workdir", str(workdir)]
    command += ["--concurrency", str(concurrency)] + (["--profile"] if profile else [])
    command += ["--marks"] if wrapper else []
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=child_env())
    print(f"({phase} phase done in {time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"phase {phase} failed (exit {done.returncode})")
    result: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        if line.startswith(RESULT):
            result = json.loads(line.removeprefix(RESULT))
        else:
            print(line)
    return result


def child_env() -> dict[str, str]:
    """Bytecode written and read from one place: a module first imported inside a counted region must not
    be compiled there in one run and loaded in the next."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "pyc-bench-poll"))
    return env


def count_phase(phase: str, workdir: Path, concurrency: int, dumps: int) -> list[Counter[str]]:
    """Instructions of each of the phase's `dumps` marked spans, by library, plus callgrind's own total
    under TOTAL (callgrind, in a fresh interpreter)."""
    out = workdir / f"callgrind.{phase}"
    # Names written in full in every dump: compressed, a later dump names functions by the first one's ids.
    wrapper = ["valgrind", "--tool=callgrind", "--compress-strings=no", f"--callgrind-out-file={out}"]
    wrapper += CALLGRIND_MARKS
    run_phase(phase, workdir, concurrency, profile=False, wrapper=wrapper)
    files = sorted(workdir.glob(f"callgrind.{phase}.*"), key=lambda path: int(path.suffix[1:]))
    if len(files) != dumps:  # a mark hit by something else would shift every span
        raise SystemExit(f"phase {phase}: {len(files)} callgrind dumps, expected {dumps}")
    return [instructions_by_library(path) for path in files]


def instructions_by_library(path: Path) -> Counter[str]:
    """A dump's instructions by the library (object file) they ran in, and its summary (callgrind's total,
    under TOTAL; the functions' cost lines add up to within 0.1-7% above it). `ob=` names the object of the
    `fn=` lines after it; the cost line after a `calls=` line is the call's inclusive cost, already counted
    in the callee, so it is skipped."""
    totals: Counter[str] = Counter()
    current = owner = "?"
    after_call = False
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("summary:"):
            totals[TOTAL] = int(line.split()[1])
        elif line.startswith("ob="):
            current = Path(line[3:].strip()).name
        elif line.startswith("fn="):
            owner = current
        elif line.startswith("calls="):
            after_call = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if not after_call:
                fields = line.split()
                totals[owner] += int(fields[1]) if len(fields) > 1 else 0
            after_call = False
    return totals


def library(name: str) -> str:
    """The library's short name: libsqlite3.so.0.8.6 -> libsqlite3."""
    return name.split(".so")[0].split(".cpython")[0]


# --- children: one phase each ---------------------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # Linux reports KiB


def mark_start(marks: bool) -> None:
    """Under callgrind (`--marks`): zero the counts here (see CALLGRIND_MARKS)."""
    if marks:
        os.getpgrp()


def mark_dump(marks: bool) -> None:
    """Under callgrind: write the counts since the last mark."""
    if marks:
        os.getsid(0)


async def lower_bound(urls: list[str], concurrency: int, marks: bool = False) -> dict[str, Any]:
    """Fetch and feedparser.parse every URL; then GET each again with its ETag (all 304s)."""
    import feedparser
    import httpx

    from monitor.parse import FEEDPARSER_SETTINGS

    gate = asyncio.Semaphore(concurrency)
    etags: dict[str, str] = {}
    entries = 0

    async def one(client: httpx.AsyncClient, url: str) -> None:
        nonlocal entries
        async with gate:
            response = await client.get(url)
        etags[url] = response.headers.get("etag", "")
        document = feedparser.parse(
            io.BytesIO(response.content), response_headers=dict(response.headers), **FEEDPARSER_SETTINGS
        )
        entries += len(document.entries)

    async def again(client: httpx.AsyncClient, url: str) -> None:
        async with gate:
            await client.get(url, headers={"If-None-Match": etags[url]})

    # httpx's defaults, spelt out so that stretch_clocks() reaches them under callgrind.
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
    async with httpx.AsyncClient(timeout=3000.0 if marks else 5.0, limits=limits) as client:
        mark_start(marks)
        cold, cold_cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(client, url) for url in urls))
        warm, warm_cpu = time.perf_counter(), time.process_time()
        mark_dump(marks)
        await asyncio.gather(*(again(client, url) for url in urls))
        done, done_cpu = time.perf_counter(), time.process_time()
    return {
        "seconds": warm - cold,
        "cpu": warm_cpu - cold_cpu,
        "warm_seconds": done - warm,
        "warm_cpu": done_cpu - warm_cpu,
        "entries": entries,
    }


class Stopwatch:
    """Seconds spent in chosen functions, summed (they all run on the one database thread)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)

    def wrap(self, module: Any, name: str, label: str) -> None:
        original: Callable[..., Any] = getattr(module, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.totals[label] += time.perf_counter() - started

        setattr(module, name, timed)


def instrument() -> Stopwatch:
    from monitor import pipeline, store

    watch = Stopwatch()
    watch.wrap(pipeline, "parse", "parse")
    watch.wrap(pipeline, "decide", "classify")
    watch.wrap(store, "filter_new", "store")
    watch.wrap(store, "save_items", "store")
    watch.wrap(store, "commit_poll", "store")  # what pipeline.ingest calls: the poll's one transaction
    watch.wrap(pipeline, "ingest", "ingest")  # filter + classify + store + outbox
    return watch


async def cycle(workdir: Path, phase: str, profile: bool, marks: bool = False) -> dict[str, Any]:
    """One cycle, timed from open_resources to their close. Under callgrind three spans are counted: open,
    poll_all, close."""
    from monitor import resources
    from monitor.config import load_config

    config = load_config(workdir / "feeds.yaml")
    watch = Stopwatch() if marks else instrument()  # counted: the product's code alone
    loop_profile, db_profile = cProfile.Profile(), cProfile.Profile()
    mark_start(marks)
    started, cpu = time.perf_counter(), time.process_time()
    loop_cpu = time.thread_time()
    async with resources.open_resources(config) as rt:
        opened = time.perf_counter()
        mark_dump(marks)
        db_cpu = await rt.db(time.thread_time)
        if profile:
            loop_profile.enable()
            await rt.db(db_profile.enable)
        outcomes = await resources.poll_all(rt, config.enabled_feeds)
        if profile:
            loop_profile.disable()
            await rt.db(db_profile.disable)
        polled = time.perf_counter()
        db_cpu = await rt.db(time.thread_time) - db_cpu
        mark_dump(marks)
    finished, cpu = time.perf_counter(), time.process_time() - cpu
    mark_dump(marks)
    if profile:
        print_profile(phase, loop_profile, db_profile)
    return {
        "seconds": finished - started,
        "cpu": cpu,
        "open_seconds": opened - started,
        "poll_seconds": polled - opened,
        "outcomes": Counter(o.outcome for o in outcomes),
        "new_items": sum(o.new_items for o in outcomes),
        "stored_items": count_items(workdir / "monitor.db"),
        "loop_cpu": time.thread_time() - loop_cpu,
        "db_cpu": db_cpu,
        "breakdown": dict(watch.totals),
    }


def print_profile(phase: str, loop_profile: cProfile.Profile, db_profile: cProfile.Profile) -> None:
    out = io.StringIO()
    stats = pstats.Stats(loop_profile, stream=out)
    stats.add(db_profile)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(25)
    print(f"{phase} cycle profile (event loop + database thread; timings inflated by profiling):")
    print(out.getvalue())


def count_items(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM items").fetchone()[0])


def stretch_clocks() -> None:
    """Under callgrind the work runs ~50x slower against the clock: a kept-alive connection would expire
    (and a new one be opened) where natively it is reused. Every client's keep-alive limit is stretched;
    the work done is the native one."""
    import httpx

    native = httpx.Limits

    def stretched(*args: Any, **kwargs: Any) -> httpx.Limits:
        return native(*args, **{**kwargs, "keepalive_expiry": 3000.0})

    httpx.Limits = stretched  # type: ignore[misc,assignment]


def child(phase: str, workdir: Path, concurrency: int, profile: bool, marks: bool) -> None:
    if marks:
        stretch_clocks()
    if phase == "lower":
        urls = json.loads((workdir / "urls.json").read_text(encoding="utf-8"))
        result = asyncio.run(lower_bound(urls, concurrency, marks))
    else:
        result = asyncio.run(cycle(workdir, phase, profile, marks))
    result["rss_mb"] = peak_rss_mb()
    print(RESULT + json.dumps(result))


# --- report ---------------------------------------------------------------------------------------


def describe_cycle(name: str, result: dict[str, Any]) -> str:
    outcomes = ", ".join(f"{count} {outcome}" for outcome, count in sorted(result["outcomes"].items()))
    return (
        f"{name}: {result['seconds']:.2f} s, CPU {result['cpu']:.2f} s "
        f"(open_resources {result['open_seconds']:.2f} s + poll_all {result['poll_seconds']:.2f} s); "
        f"feeds: {outcomes}; new items {result['new_items']}; "
        f"items stored {result['stored_items']}; peak RSS {result['rss_mb']:.0f} MB"
    )


def describe_breakdown(result: dict[str, Any]) -> str:
    spent = result["breakdown"]
    store = spent.get("store", 0.0)
    rest = spent.get("ingest", 0.0) - store - spent.get("classify", 0.0)
    return (
        f"  breakdown: database thread {result['db_cpu']:.2f} s CPU; wall time inside parse "
        f"{spent.get('parse', 0):.2f} s, classify {spent.get('classify', 0):.2f} s, store {store:.2f} s, "
        f"rest of ingest {rest:.2f} s; event loop thread {result['loop_cpu']:.2f} s CPU "
        "(fetch, HTTP, scheduling)"
    )


def report(feeds: int, lower: dict[str, Any], cold: dict[str, Any], warm: dict[str, Any]) -> list[str]:
    """Print the figures; return the targets missed."""
    print(
        f"lower bound: {lower['seconds']:.2f} s, CPU {lower['cpu']:.2f} s (httpx GET + feedparser.parse; "
        f"{lower['entries']} entries); all again with If-None-Match (304s): {lower['warm_seconds']:.2f} s, "
        f"CPU {lower['warm_cpu']:.2f} s; peak RSS {lower['rss_mb']:.0f} MB"
    )
    print(describe_cycle("cold cycle", cold))
    print(describe_breakdown(cold))
    print(describe_cycle("warm cycle", warm))
    ratio = cold["seconds"] / lower["seconds"]
    warm_target = TARGET_WARM_PER_1000 * max(feeds, 1000) / 1000
    rss = max(cold["rss_mb"], warm["rss_mb"])
    checks = [
        (
            f"cold / lower bound: {ratio:.2f} (target <= {TARGET_RATIO}); "
            f"CPU {cold['cpu'] / lower['cpu']:.2f}",
            ratio <= TARGET_RATIO,
        ),
        (
            f"warm: {warm['seconds']:.2f} s for {feeds} feeds (target <= {warm_target:g} s); "
            f"{warm['seconds'] / lower['warm_seconds']:.1f}x the plain 304 round",
            warm["seconds"] <= warm_target,
        ),
        (f"peak RSS: {rss:.0f} MB, cold or warm (target <= {TARGET_RSS_MB:g} MB)", rss <= TARGET_RSS_MB),
    ]
    for line, met in checks:
        print(f"{line}  {'ok' if met else 'MISSED'}")
    return [line for line, met in checks if not met]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument(
        "--ports", type=int, default=20, help="loopback ports (publishers) the feeds spread over"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--profile", action="store_true", help="print the cold cycle's top 25 functions")
    parser.add_argument("--phase", choices=["lower", "cold", "warm"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="count instructions of the lower bound and the cold cycle under valgrind (small --feeds)",
    )
    parser.add_argument(
        "--keep", type=Path, help="with --callgrind: copy the callgrind files here (for callgrind_annotate)"
    )
    parser.add_argument("--concurrency", type=int, default=20, help=argparse.SUPPRESS)
    parser.add_argument("--marks", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        child(args.phase, args.workdir, args.concurrency, args.profile, args.marks)
        return
    if args.callgrind:
        counted(args.feeds, args.ports, args.keep)
        return
    missed = bench(args.feeds, args.ports, args.profile)
    if args.check and missed:
        sys.exit(1)


def bench(feeds: int, ports: int, profile: bool) -> list[str]:
    from feedserver import ServerProcess

    from monitor.config import Defaults

    concurrency = Defaults().max_concurrency
    documents = feed_documents(feeds)
    print(
        f"{feeds} feeds cycling through {len(documents)} corpus documents, served from a separate process "
        f"on {ports} loopback ports; {concurrency} polls at once"
    )
    with tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp, ServerProcess(documents, ports) as server:
        workdir = Path(tmp)
        write_config(workdir, [server.feed_url(i) for i in range(feeds)])
        lower = run_phase("lower", workdir, concurrency, profile=False)
        cold = run_phase("cold", workdir, concurrency, profile)
        warm = run_phase("warm", workdir, concurrency, profile)
    return report(feeds, lower, cold, warm)


def counted(feeds: int, ports: int, keep: Path | None) -> None:
    """Instructions of the bound's fetch + parse and of the cold cycle (open, poll, close), next to the
    CPU seconds of the same two phases run natively just before (which also caches their bytecode)."""
    from feedserver import ServerProcess

    from monitor.config import Defaults

    concurrency = Defaults().max_concurrency
    documents = feed_documents(feeds)
    print(f"{feeds} feeds cycling through {len(documents)} corpus documents, {ports} loopback ports")
    with tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp, ServerProcess(documents, ports) as server:
        workdir = Path(tmp)
        write_config(workdir, [server.feed_url(i) for i in range(feeds)], slow=True)
        lower = run_phase("lower", workdir, concurrency, profile=False)
        cold = run_phase("cold", workdir, concurrency, profile=False)
        (workdir / "monitor.db").unlink()
        lower_libs = count_phase("lower", workdir, concurrency, dumps=1)[0]
        cold_spans = count_phase("cold", workdir, concurrency, dumps=3)
        stored = count_items(workdir / "monitor.db")
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for path in workdir.glob("callgrind.*"):
                shutil.copy(path, keep / path.name)
    report_counts(lower, cold, lower_libs, cold_spans, stored)


def report_counts(
    lower: dict[str, Any],
    cold: dict[str, Any],
    lower_libs: Counter[str],
    cold_spans: list[Counter[str]],
    stored: int,
) -> None:
    cold_libs = sum(cold_spans, Counter[str]())
    lower_ir, cold_ir = lower_libs[TOTAL], cold_libs[TOTAL]
    cold_open, cold_poll, cold_close = (span[TOTAL] for span in cold_spans)
    # In poll_all, libcrypto is the SHA-256 of each body (the unchanged-body check): valgrind offers no SHA
    # instructions, so OpenSSL hashes in software there; natively (SHA-NI) it is ~100x cheaper (3.6 ms for
    # 50 bodies here). (In open_resources it is the TLS context: as dear natively.)
    crypto = sum(count for name, count in cold_spans[1].items() if library(name) == "libcrypto")
    print(
        f"native: lower bound CPU {lower['cpu']:.2f} s, cold cycle CPU {cold['cpu']:.2f} s: "
        f"{cold['cpu'] / lower['cpu']:.2f}"
    )
    print(
        f"lower bound: {lower_ir / 1e6:,.0f}M instructions ({lower['entries']} entries)\n"
        f"cold cycle: {cold_ir / 1e6:,.0f}M instructions (open_resources {cold_open / 1e6:,.0f}M + "
        f"poll_all {cold_poll / 1e6:,.0f}M + close {cold_close / 1e6:,.0f}M); items stored {stored}\n"
        f"cold / lower bound, instructions: {cold_ir / lower_ir:.3f} "
        f"(poll_all alone {cold_poll / lower_ir:.3f}; "
        f"without libcrypto, SHA-256 in software under valgrind: {(cold_ir - crypto) / lower_ir:.3f})"
    )
    libraries = Counter[str]()
    for name, count in (cold_libs + lower_libs).items():
        if name != TOTAL:
            libraries[library(name)] += count
    print("by library, M instructions (lower bound / cold cycle):")
    for name, _ in libraries.most_common(8):
        mine = sum(c for n, c in cold_libs.items() if library(n) == name)
        bound = sum(c for n, c in lower_libs.items() if library(n) == name)
        print(f"  {name}: {bound / 1e6:,.0f} / {mine / 1e6:,.0f}")


if __name__ == "__main__":
    main()
