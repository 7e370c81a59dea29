"""Replicas at scale on PostgreSQL: the claim statement; one replica vs two; warm cycles of 1k and 10k feeds.

Run: .venv/bin/python bench/replicas.py [--claim-feeds 100000] [--cold-feeds 2000] [--warm-feeds 1000,10000]
     [--database URL] [--check]

- claim: N feed rows, a third of them due; 500 `claims.claim_due(limit=20)` in a row, each timed, next to a
  lower bound in the same run: a one-row UPDATE by primary key with RETURNING (the cheapest write round
  trip). Target p95 <= 10 ms.
- cold cycle, one replica vs two: N loopback feeds (bench/feedserver.py, the real-feeds corpus, 20 ports),
  every item new. Each replica is its own process that opens its resources, reports ready, waits for "go",
  then claims and polls until nothing is due; wall time from "go" to the last replica done. Target: two
  <= 0.7x one.
- warm cycle: one replica, every feed's row already holding the server's ETag and due, every answer a 304;
  10,000 feeds against 1,000. Target: <= 3x.

Every phase uses a fresh schema in the database (default: PostgreSQL on 127.0.0.1:5432, database test),
dropped after. `--check` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from chaos import pg_schema
from feedserver import ServerProcess
from poll import feed_documents

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "seeds" / "baseline.yaml"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CLAIMS = 500
TARGET_CLAIM_P95_MS = 10.0
TARGET_TWO_VS_ONE = 0.7
TARGET_WARM_RATIO = 3.0
APPLICATION = "bench-replica"  # the replicas' PostgreSQL application_name, for the lock-wait sampler


def schema(admin_url: str) -> Any:
    return pg_schema(admin_url, "bench")


def insert_feeds(
    engine: sa.Engine, urls: list[str], due_share: float, etags: list[str] | None = None
) -> None:
    """Feed rows as `sync_feeds` makes them, in bulk; the first `due_share` of them due now."""
    from monitor import models

    now = datetime.now(UTC)
    due = int(len(urls) * due_share)
    rows = [
        {
            "name": f"feed-{i}",
            "url": url,
            "created_at": now,
            "error_count": 0,
            "gone": False,
            "enabled": True,
            "lease_token": 0,
            "etag": etags[i] if etags else None,
            "last_success_at": now if etags else None,
            "next_poll_at": now - timedelta(seconds=1) if i < due else now + timedelta(seconds=600 + i % 600),
        }
        for i, url in enumerate(urls)
    ]
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(models.FEEDS), rows[start : start + 5000])
        conn.exec_driver_sql("ANALYZE feeds")


# --- claim statement ----------------------------------------------------------------------------------


def bench_claim(admin_url: str, feeds: int) -> dict[str, float]:
    from monitor import claims, models
    from monitor.db import open_database

    with schema(admin_url) as url:
        engine = open_database(url)
        insert_feeds(engine, [f"http://127.0.0.1:9/feed/{i}" for i in range(feeds)], due_share=1 / 3)
        claimed, lower = [], []
        for _ in range(20):  # warm the connection pool and caches
            claims.claim_due(engine, "bench", 20, 60)
        for n in range(min(CLAIMS, feeds // 3 // 20 - 20)):  # each claim takes 20 of the due third
            started = time.perf_counter()
            got = claims.claim_due(engine, "bench", 20, 60)
            claimed.append(time.perf_counter() - started)
            assert len(got) == 20
            started = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(
                    sa.update(models.FEEDS)
                    .where(models.FEEDS.c.id == n + 1)
                    .values(lease_token=models.FEEDS.c.lease_token + 1)
                    .returning(models.FEEDS.c.id)
                ).all()
            lower.append(time.perf_counter() - started)
        engine.dispose()
    return {"p50": _ms(claimed, 50), "p95": _ms(claimed, 95), "max": max(claimed) * 1000,
            "lower_p95": _ms(lower, 95)}  # fmt: skip


def _ms(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100)[percent - 1] * 1000


# --- replicas as processes ----------------------------------------------------------------------------


def write_config(folder: Path, database: str, urls: list[str]) -> Path:
    entries = "".join(f"  - name: feed-{i}\n    url: {url}\n" for i, url in enumerate(urls))
    path = folder / "feeds.yaml"
    path.write_text(f"database: '{database}'\nbaseline: {BASELINE}\nfeeds:\n{entries}", encoding="utf-8")
    return path


@dataclass
class Cycle:
    """One timed cycle: wall time from "go" to the last replica done, the replicas' CPU time in that span
    (summed), the feed server's CPU time in it, and the poll outcomes."""

    seconds: float
    cpu: float
    server_cpu: float
    outcomes: Counter[str]
    lock_waits: float = 0.0  # share of 50 ms samples in which a replica's statement waited on a lock

    def line(self) -> str:
        return (
            f"{self.seconds:.2f} s wall, replicas' CPU {self.cpu:.2f} s, feed server CPU "
            f"{self.server_cpu:.2f} s, lock waits in {self.lock_waits:.1%} of samples {dict(self.outcomes)}"
        )


class LockWaits:
    """Samples, every 50 ms in a thread, whether a replica's session waits on a lock (an event identity row
    held by the other replica's open transaction would serialise them)."""

    QUERY = (
        f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{APPLICATION}' "
        "AND wait_event_type = 'Lock'"
    )

    def __init__(self, admin_url: str) -> None:
        self._engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.samples = self.waiting = 0

    def _sample(self) -> None:
        with self._engine.connect() as conn:
            while not self._stop.wait(0.05):
                self.samples += 1
                self.waiting += bool(conn.exec_driver_sql(self.QUERY).scalar_one())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._engine.dispose()

    @property
    def share(self) -> float:
        return self.waiting / self.samples if self.samples else 0.0


def run_replicas(
    config: Path, count: int, server: ServerProcess, waits: LockWaits, profile: bool = False
) -> Cycle:
    """`count` replica processes claim and poll until nothing is due.
    `profile`: print each replica's top functions (cProfile inflates the time: read shares, not figures)."""
    dumps = [config.parent / f"r{i}.prof" for i in range(count)]
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", str(config), "--replica", f"r{i}"]
            + (["--profile-to", str(dumps[i])] if profile else []),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(count)
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "READY"
    waits.start()
    started, server_cpu = time.perf_counter(), server.cpu_seconds()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    outcomes: Counter[str] = Counter()
    cpu = 0.0
    for child in children:
        assert child.stdout is not None
        done = json.loads(child.stdout.readline())
        outcomes.update(done["outcomes"])
        cpu += done["cpu"]
    elapsed, server_cpu = time.perf_counter() - started, server.cpu_seconds() - server_cpu
    waits.stop()
    for child in children:
        child.wait(timeout=60)
    for dump in dumps if profile else []:
        stats = pstats.Stats(str(dump))
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(30)
    return Cycle(elapsed, cpu, server_cpu, outcomes)


async def child(config_path: Path, replica: str, profile: Path | None = None) -> None:
    """One replica: open everything, wait for "go", claim and poll until nothing is due, print outcomes
    and CPU time. `profile`: write the cycle's cProfile stats (event loop and database thread) there."""
    from monitor import resources
    from monitor.config import load_config
    from monitor.pollloop import PollLoop

    config = load_config(config_path)
    by_name = {f.name: f for f in config.feeds}
    async with resources.open_resources(config, replica) as rt:
        loop = PollLoop(rt.ctx, replica, lambda: by_name)
        print("READY", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        cpu = time.process_time()
        loop_profile, db_profile = cProfile.Profile(), cProfile.Profile()
        if profile:
            loop_profile.enable()
            await rt.db(db_profile.enable)
        await loop.until_idle()
        await loop.stop(0)
        await rt.ctx.recorder.close()  # the warm cycle's batched writes belong to the cycle
        if profile:
            loop_profile.disable()
            await rt.db(db_profile.disable)
            stats = pstats.Stats(loop_profile)
            stats.add(db_profile)
            stats.dump_stats(profile)
        done = {"outcomes": dict(loop.counts), "cpu": time.process_time() - cpu}
        print(json.dumps(done), flush=True)


def polled_rows(url: str) -> int:
    """Feed rows whose poll was committed: no lease held and due again later (what a cycle must leave)."""
    from monitor.db import open_database

    engine = open_database(url)
    with engine.connect() as conn:
        query = "SELECT count(*) FROM feeds WHERE leased_by IS NULL AND last_success_at > created_at"
        polled = int(conn.exec_driver_sql(query).scalar_one())
    engine.dispose()
    return polled


def timed_cycle(
    admin_url: str, server: ServerProcess, folder: Path, urls: list[str], etags: list[str] | None,
    replicas: int, profile: bool = False,
) -> Cycle:  # fmt: skip
    """Feed rows for `urls`, all due, in a fresh schema; `replicas` processes poll them all; every row
    must then hold its committed poll (a cycle that dropped its writes would look fast)."""
    from monitor.db import open_database

    with schema(admin_url) as url:
        engine = open_database(url)
        insert_feeds(engine, urls, 1.0, etags)
        engine.dispose()
        config = write_config(folder, f"{url}&application_name={APPLICATION}", urls)
        waits = LockWaits(admin_url)
        cycle = run_replicas(config, replicas, server, waits, profile)
        cycle.lock_waits = waits.share
        polled = polled_rows(url)
    if polled != len(urls):
        raise SystemExit(
            f"only {polled} of {len(urls)} feed rows hold a committed poll: {dict(cycle.outcomes)}"
        )
    return cycle


def bench_cold(admin_url: str, feeds: int) -> dict[int, Cycle]:
    documents = feed_documents(feeds)
    result: dict[int, Cycle] = {}
    with ServerProcess(documents, ports=20) as server, tempfile.TemporaryDirectory() as tmp:
        urls = [server.feed_url(i) for i in range(feeds)]
        for count in (1, 2):
            result[count] = timed_cycle(admin_url, server, Path(tmp), urls, None, count)
            print(f"cold cycle, {count} replica(s): {result[count].line()}", flush=True)
    return result


def bench_warm(admin_url: str, sizes: list[int], profile: bool = False) -> dict[int, Cycle]:
    documents = feed_documents(60)
    etags = ['"' + hashlib.sha1(d.read_bytes()).hexdigest() + '"' for d in documents]
    result: dict[int, Cycle] = {}
    with ServerProcess(documents, ports=20) as server, tempfile.TemporaryDirectory() as tmp:
        for feeds in sizes:
            urls = [server.feed_url(i) for i in range(feeds)]
            feed_etags = [etags[i % len(etags)] for i in range(feeds)]
            result[feeds] = timed_cycle(admin_url, server, Path(tmp), urls, feed_etags, 1, profile)
            print(f"warm cycle, {feeds} feeds: {result[feeds].line()}", flush=True)
    return result


def report(
    claim: dict[str, float] | None, cold: dict[int, Cycle] | None, warm: dict[int, Cycle] | None
) -> list[str]:
    lines, missed = [], []
    if claim:
        ok = claim["p95"] <= TARGET_CLAIM_P95_MS
        lines.append(
            f"claim (limit 20): p50 {claim['p50']:.2f} ms, p95 {claim['p95']:.2f} ms, "
            f"max {claim['max']:.1f} ms; "
            f"one-row UPDATE p95 {claim['lower_p95']:.2f} ms; ratio {claim['p95'] / claim['lower_p95']:.1f} "
            f"[{'ok' if ok else 'MISSED'} <= {TARGET_CLAIM_P95_MS:.0f} ms]"
        )
        missed += [] if ok else ["claim"]
    if cold:
        one, two = cold[1].seconds, cold[2].seconds
        ok = two / one <= TARGET_TWO_VS_ONE
        lines.append(
            f"cold cycle: one replica {one:.1f} s (CPU {cold[1].cpu:.1f} s), two {two:.1f} s "
            f"(CPU {cold[2].cpu:.1f} s); two / one {two / one:.2f} "
            f"[{'ok' if ok else 'MISSED'} <= {TARGET_TWO_VS_ONE}]"
        )
        missed += [] if ok else ["cold"]
    if warm and len(warm) == 2:
        (small, a), (large, b) = sorted(warm.items())
        ratio = b.seconds / a.seconds
        ok = ratio <= TARGET_WARM_RATIO
        lines.append(
            f"warm cycle: {large} feeds {b.seconds:.2f} s, {small} feeds {a.seconds:.2f} s; "
            f"ratio {ratio:.2f} [{'ok' if ok else 'MISSED'} <= {TARGET_WARM_RATIO}]; per feed "
            f"{a.seconds / small * 1000:.2f} ms at {small}, {b.seconds / large * 1000:.2f} ms at {large} "
            f"(CPU {a.cpu / small * 1000:.2f} / {b.cpu / large * 1000:.2f} ms)"
        )
        missed += [] if ok else ["warm"]
    lines.append("all targets met" if not missed else f"MISSED: {', '.join(missed)}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claim-feeds", type=int, default=100_000, help="0 skips the claim benchmark")
    parser.add_argument("--cold-feeds", type=int, default=2000, help="0 skips the cold cycle")
    parser.add_argument("--warm-feeds", default="1000,10000", help="two sizes, or empty to skip")
    parser.add_argument("--database", default=PG_ADMIN, help="an admin URL of a PostgreSQL database")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--profile", action="store_true", help="print the warm cycles' top functions")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--replica", default="r0", help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.child, args.replica, args.profile_to))
        return
    claim = bench_claim(args.database, args.claim_feeds) if args.claim_feeds else None
    if claim:
        print(f"claim: {json.dumps({k: round(v, 2) for k, v in claim.items()})}", flush=True)
    cold = bench_cold(args.database, args.cold_feeds) if args.cold_feeds else None
    sizes = [int(n) for n in args.warm_feeds.split(",") if n]
    warm = bench_warm(args.database, sizes, args.profile) if sizes else None
    lines = report(claim, cold, warm)
    print("\n".join(lines))
    if args.check and lines[-1] != "all targets met":
        sys.exit(1)


if __name__ == "__main__":
    main()
