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
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
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


def schema(admin_url: str) -> Any:
    return pg_schema(admin_url, "bench")


def insert_feeds(
    engine: sa.Engine, urls: list[str], due_share: float, etags: list[str] | None = None
) -> None:
    """Feed rows as `sync_feeds` makes them, in bulk; the first `due_share` of them due now."""
    from monitor import store

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
            conn.execute(sa.insert(store.FEEDS), rows[start : start + 5000])
        conn.exec_driver_sql("ANALYZE feeds")


# --- claim statement ----------------------------------------------------------------------------------


def bench_claim(admin_url: str, feeds: int) -> dict[str, float]:
    from monitor import claims, store
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
                    sa.update(store.FEEDS)
                    .where(store.FEEDS.c.id == n + 1)
                    .values(lease_token=store.FEEDS.c.lease_token + 1)
                    .returning(store.FEEDS.c.id)
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


def run_replicas(config: Path, count: int) -> tuple[float, Counter[str]]:
    """`count` replica processes claim and poll until nothing is due; wall time from "go" to the last done."""
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", str(config), "--replica", f"r{i}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(count)
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "READY"
    started = time.perf_counter()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    outcomes: Counter[str] = Counter()
    for child in children:
        assert child.stdout is not None
        outcomes.update(json.loads(child.stdout.readline()))
    elapsed = time.perf_counter() - started
    for child in children:
        child.wait(timeout=60)
    return elapsed, outcomes


async def child(config_path: Path, replica: str) -> None:
    """One replica: open everything, wait for "go", claim and poll until nothing is due, print outcomes."""
    from monitor import resources
    from monitor.config import load_config
    from monitor.pollloop import PollLoop

    config = load_config(config_path)
    by_name = {f.name: f for f in config.feeds}
    async with resources.open_resources(config, replica) as rt:
        loop = PollLoop(rt.ctx, replica, lambda: by_name)
        print("READY", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        await loop.until_idle()
        await loop.stop(0)
        await rt.ctx.recorder.close()  # the warm cycle's batched writes belong to the cycle
        print(json.dumps(dict(loop.counts)), flush=True)


def bench_cold(admin_url: str, feeds: int) -> dict[str, Any]:
    documents = feed_documents(feeds)
    result: dict[str, Any] = {}
    with ServerProcess(documents, ports=20) as server, tempfile.TemporaryDirectory() as tmp:
        urls = [server.feed_url(i) for i in range(feeds)]
        for count in (1, 2):
            with schema(admin_url) as url:
                from monitor.db import open_database

                engine = open_database(url)
                insert_feeds(engine, urls, due_share=1.0)
                engine.dispose()
                config = write_config(Path(tmp), url, urls)
                elapsed, outcomes = run_replicas(config, count)
            result[f"replicas_{count}"] = {"seconds": elapsed, "outcomes": dict(outcomes)}
            print(f"cold cycle, {count} replica(s): {elapsed:.1f} s {dict(outcomes)}", flush=True)
    return result


def bench_warm(admin_url: str, sizes: list[int]) -> dict[str, Any]:
    documents = feed_documents(60)
    etags = ['"' + hashlib.sha1(d.read_bytes()).hexdigest() + '"' for d in documents]
    result: dict[str, Any] = {}
    with ServerProcess(documents, ports=20) as server, tempfile.TemporaryDirectory() as tmp:
        for feeds in sizes:
            urls = [server.feed_url(i) for i in range(feeds)]
            with schema(admin_url) as url:
                from monitor.db import open_database

                engine = open_database(url)
                insert_feeds(engine, urls, 1.0, [etags[i % len(etags)] for i in range(feeds)])
                engine.dispose()
                config = write_config(Path(tmp), url, urls)
                elapsed, outcomes = run_replicas(config, 1)
            result[str(feeds)] = {"seconds": elapsed, "outcomes": dict(outcomes)}
            print(f"warm cycle, {feeds} feeds: {elapsed:.2f} s {dict(outcomes)}", flush=True)
    return result


def report(
    claim: dict[str, float] | None, cold: dict[str, Any] | None, warm: dict[str, Any] | None
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
        one, two = cold["replicas_1"]["seconds"], cold["replicas_2"]["seconds"]
        ok = two / one <= TARGET_TWO_VS_ONE
        lines.append(
            f"cold cycle: one replica {one:.1f} s, two {two:.1f} s; two / one {two / one:.2f} "
            f"[{'ok' if ok else 'MISSED'} <= {TARGET_TWO_VS_ONE}]"
        )
        missed += [] if ok else ["cold"]
    if warm and len(warm) == 2:
        (small, a), (large, b) = sorted(warm.items(), key=lambda kv: int(kv[0]))
        ratio = b["seconds"] / a["seconds"]
        ok = ratio <= TARGET_WARM_RATIO
        lines.append(
            f"warm cycle: {large} feeds {b['seconds']:.2f} s, {small} feeds {a['seconds']:.2f} s; "
            f"ratio {ratio:.2f} "
            f"[{'ok' if ok else 'MISSED'} <= {TARGET_WARM_RATIO}]"
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
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--replica", default="r0", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.child, args.replica))
        return
    claim = bench_claim(args.database, args.claim_feeds) if args.claim_feeds else None
    if claim:
        print(f"claim: {json.dumps({k: round(v, 2) for k, v in claim.items()})}", flush=True)
    cold = bench_cold(args.database, args.cold_feeds) if args.cold_feeds else None
    sizes = [int(n) for n in args.warm_feeds.split(",") if n]
    warm = bench_warm(args.database, sizes) if sizes else None
    lines = report(claim, cold, warm)
    print("\n".join(lines))
    if args.check and lines[-1] != "all targets met":
        sys.exit(1)


if __name__ == "__main__":
    main()
