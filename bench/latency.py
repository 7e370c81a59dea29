"""Alert latency: from an item's detection to its webhook request arriving at a loopback receiver.

Run: .venv/bin/python bench/latency.py [--alerts 100] [--check]

Builds one feed per alert, each with one distinct topical headline ("<State> formally recognises the
Taliban government", a different UN member state each, checked to alert against the seed baseline),
served from a separate process that is also the `generic` webhook receiver and notes each request's
arrival time (time.time()) and event id. The monitor runs in this process: open_resources, the outbox
sender as a task, poll_all, then a bounded wait for every delivery. Latency is arrival time minus
events.detected_at (the moment the item was classified and stored with its outbox rows), so it
covers the outbox, the sender and the webhook request. `delivery.digest_after` is set above the number of
alerts so none are coalesced into a digest. Target: p95 <= 1 s; `--check` exits 1 when it is missed.
`--backlog` stores every alert before the sender starts and times its drain alone. Either way it counts
the sender's write transactions (commits on its database thread, "monitor-sender") and that thread's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import math
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import sqlalchemy as sa
from feedserver import ServerProcess
from sqlalchemy.engine import Engine

from monitor import models, resources
from monitor.classify import Baseline, classify, load_baseline
from monitor.classify.gazetteer_data import STATES
from monitor.config import load_config

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "seeds" / "baseline.yaml"
SECRET = "whsec_" + base64.b64encode(b"bench-latency-signing-key-32-byt").decode()
TARGET_P95_MS = 1000.0
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Wire {code}</title><link>https://wire.example/{code}</link>
<description>Bench feed</description>
<item><guid>bench-{code}</guid><title>{title}</title><link>https://wire.example/{code}/story</link>
<description>{summary}</description><pubDate>{date}</pubDate></item>
</channel></rss>"""


def alerting_headlines(count: int, baseline: Baseline, today: date) -> list[tuple[str, str, str]]:
    """(code, title, summary) for `count` states whose recognition would be news (not in the baseline)."""
    found = []
    for line in STATES.splitlines():
        code, names = line.split("|")[:2]
        name = names.split(";")[0]
        title = f"{name} formally recognises the Taliban government"
        summary = f"The government of {name} said it recognised the Islamic Emirate of Afghanistan."
        decision = classify(title, summary, baseline, today)
        if decision.alert and decision.actor == code:
            found.append((code, title, summary))
        if len(found) == count:
            return found
    raise SystemExit(f"only {len(found)} states alert against the baseline; asked for {count}")


def write_feeds(folder: Path, headlines: list[tuple[str, str, str]]) -> list[Path]:
    published = format_datetime(datetime.now(UTC), usegmt=True)
    paths = []
    for index, (code, title, summary) in enumerate(headlines):
        path = folder / f"feed-{index:03d}-rss.xml"
        text = RSS.format(code=code, title=escape(title), summary=escape(summary), date=published)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def write_config(folder: Path, server: ServerProcess, feeds: int) -> Path:
    entries = "".join(f"  - name: feed-{i}\n    url: {server.feed_url(i)}\n" for i in range(feeds))
    path = folder / "feeds.yaml"
    path.write_text(
        f"database: sqlite:///{folder / 'monitor.db'}\nbaseline: {BASELINE}\nfeeds:\n{entries}"
        "webhooks:\n  - name: receiver\n    kind: generic\n    url: ${HOOK_URL}\n    secret: ${HOOK_SECRET}\n"
        f"delivery:\n  digest_after: {max(1000, feeds + 1)}\n",
        encoding="utf-8",
    )
    return path


def detection_times(engine: Engine) -> dict[str, datetime]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(models.EVENTS.c.id, models.EVENTS.c.detected_at)).all()
    return {str(row.id): row.detected_at for row in rows}


class SenderCommits:
    """Counts the write transactions the outbox sender commits (on its own database thread)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        sa.event.listen(engine, "commit", self._note)

    def _note(self, conn: object) -> None:
        if threading.current_thread().name.startswith("monitor-sender"):
            self.count += 1


async def run_monitor(
    config: Any, server: ServerProcess, count: int, timeout: float, backlog: bool = False
) -> tuple[list[tuple[float, str]], dict[str, datetime]]:
    async with resources.open_resources(config) as rt:
        commits = SenderCommits(rt.engine)
        stop = asyncio.Event()
        if backlog:  # every alert is stored before the sender starts: it alone is measured
            await resources.poll_all(rt, config.enabled_feeds)
        sender = asyncio.create_task(rt.sender.run(stop))
        began = time.time()
        if not backlog:
            await resources.poll_all(rt, config.enabled_feeds)
            print(f"poll_all took {(time.time() - began) * 1000:.0f} ms")
        arrivals = await asyncio.to_thread(server.wait_for_hooks, count, timeout)
        if arrivals:
            first, last = min(at for at, _ in arrivals), max(at for at, _ in arrivals)
            print(
                f"deliveries arrived {(first - began) * 1000:.0f} to {(last - began) * 1000:.0f} ms "
                "after it began"
            )
        stop.set()
        await sender
        print(f"sender write transactions: {commits.count} ({commits.count / max(1, count):.2f} per alert)")
        cpu = await rt.sender.db(time.thread_time)  # on the sender's database thread: its CPU so far
        print(f"sender database thread CPU: {cpu * 1000:.0f} ms")
        detected = await rt.db(detection_times, rt.engine)
    return arrivals, detected


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=30.0, help="longest wait for the deliveries (s)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument(
        "--backlog",
        action="store_true",
        help="store every alert first, then start the sender: times the sender's drain alone",
    )
    args = parser.parse_args()
    today = datetime.now(UTC).date()
    headlines = alerting_headlines(args.alerts, load_baseline(BASELINE), today)
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        folder = Path(tmp)
        with ServerProcess(write_feeds(folder, headlines), ports=20) as server:
            environ = {"HOOK_URL": server.hook_url(), "HOOK_SECRET": SECRET}
            config = load_config(write_config(folder, server, len(headlines)), environ)
            started = time.perf_counter()
            arrivals, detected = asyncio.run(
                run_monitor(config, server, len(headlines), args.timeout, args.backlog)
            )
            elapsed = time.perf_counter() - started
    latencies = [(at - detected[event].timestamp()) * 1000 for at, event in arrivals if event in detected]
    print(
        f"{len(headlines)} feeds with one alerting item each; {len(detected)} events stored; "
        f"deliveries: {len(latencies)}/{len(headlines)} arrived; whole run {elapsed:.2f} s"
    )
    if len(latencies) < len(headlines):
        print(f"only {len(latencies)} of {len(headlines)} deliveries arrived within {args.timeout:g} s")
        sys.exit(1)
    if args.backlog:  # the latencies include the polls, which the sender waited for: not the target's
        return
    p95 = percentile(latencies, 0.95)
    print(
        f"detection -> webhook arrival: p50 {percentile(latencies, 0.5):.0f} ms, p95 {p95:.0f} ms, "
        f"max {max(latencies):.0f} ms (target p95 <= {TARGET_P95_MS:.0f} ms)  "
        f"{'ok' if p95 <= TARGET_P95_MS else 'MISSED'}"
    )
    if args.check and p95 > TARGET_P95_MS:
        sys.exit(1)


if __name__ == "__main__":
    main()
