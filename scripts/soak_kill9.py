#!/usr/bin/env python3
"""Kill -9 soak: `monitor run` killed at random moments while alerts (single and digests) are in flight.

A loopback feed publishes new developments over time (one at a time, and bursts above
`delivery.digest_after` that go out as digests); two generic webhook receivers record every request
with its webhook-id and sometimes answer slowly, so kills land mid-request. The daemon is SIGKILLed and
restarted `--kills` times, then left to finish. Checked at the end, from the receivers' records and
the database:

- every event reached every target at least once (nothing lost);
- every repeated request (same webhook-id) carried the same alerts as the first (a resend is the
  same message), and no alert reached a target under two different webhook-ids (no duplicate a
  receiver cannot recognise);
- every delivery row is `sent`.

    .venv/bin/python scripts/soak_kill9.py --kills 24        # prints the figures; exit 1 on a violation
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import closing
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.classify.gazetteer_data import STATES  # noqa: E402

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ITEM = (
    "<item><guid>g{n}</guid><title>{name} formally recognises the Taliban government</title>"
    "<link>https://wire.example/{n}</link><description>{name} said so.</description>"
    "<pubDate>{date}</pubDate></item>"
)


class World:
    """The feed's items and what the receivers got, shared with the server threads."""

    def __init__(self, names: list[str]) -> None:
        self.lock = threading.Lock()
        self.names = names
        self.published = 0
        self.polls = 0
        self.requests: list[tuple[str, str, list[str]]] = []  # (target, webhook-id, event headlines)
        self.rng = random.Random(7)

    def publish(self, count: int) -> None:
        with self.lock:
            self.published = min(len(self.names), self.published + count)

    def feed(self) -> bytes:
        with self.lock:
            self.polls += 1
            names = self.names[: self.published]
        date = formatdate(usegmt=True)
        items = "".join(ITEM.format(n=n, name=name, date=date) for n, name in enumerate(names))
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
            f"<link>https://wire.example/</link><description>d</description>{items}</channel></rss>"
        ).encode()

    def record(self, target: str, headers: dict[str, str], body: bytes) -> float:
        payload = json.loads(body)
        events = payload.get("events") or [payload.get("event")]
        headlines = [e["headline"] for e in events if e]
        with self.lock:
            self.requests.append((target, headers.get("webhook-id", ""), headlines))
            return self.rng.choice([0.0, 0.0, 0.2, 0.6, 1.5])  # sometimes past the 1 s deadline


def serve(world: World) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = world.feed()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            time.sleep(world.record(self.path.strip("/"), headers, body))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def config(folder: Path, port: int) -> Path:
    url = f"http://127.0.0.1:{port}"
    hooks = "".join(
        f"  - name: {name}\n    kind: generic\n    url: {url}/{name}\n    secret: {SECRET}\n"
        for name in ("a", "b")
    )
    path = folder / "feeds.yaml"
    path.write_text(
        f"database: sqlite:///{folder / 'monitor.db'}\n"
        "defaults:\n  interval: 1s\n  jitter: 0s\n  timeout: 5s\n"
        "replicas:\n  lease: 8s\n"  # a killed run's claimed feed is polled again after this
        f"feeds:\n  - name: wire\n    url: http://127.0.0.1:{port}/feed\n"
        f"webhooks:\n{hooks}"
        "delivery:\n  timeout: 1s\n  backoff: [0s, 500ms, 1s]\n  max_age: 1h\n  digest_after: 5\n"
    )
    return path


def start(path: Path, log: Any) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "monitor", "--config", str(path), "run"]
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log)


def rows(database: Path, query: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(database)) as db:
        return list(db.execute(query))


def soak(kills: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    names = [line.split("|")[1].split(";")[0] for line in STATES.strip().splitlines()]
    rng.shuffle(names)
    world = World(names)
    server = serve(world)
    folder = Path(tempfile.mkdtemp(prefix="soak-kill9-"))
    path = config(folder, server.server_address[1])
    started = time.monotonic()
    with (folder / "daemon.log").open("ab") as log:
        proc = start(path, log)
        for _ in range(kills):
            world.publish(rng.choice([1, 1, 2, 7]))  # 7 at once: above digest_after, a digest
            polls = world.polls
            while world.polls == polls and time.monotonic() - started < 600:  # up and polling
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 2.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc = start(path, log)
        database = folder / "monitor.db"
        # Left alone, it must finish: a killed sender's rows and target claims lapse after timeout + 30 s.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            time.sleep(1)
            if not rows(database, "SELECT id FROM deliveries WHERE status != 'sent'"):
                break
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    server.shutdown()
    return check(world, database, kills, time.monotonic() - started)


def check(world: World, database: Path, kills: int, elapsed: float) -> dict[str, object]:
    events = [row[0] for row in rows(database, "SELECT headline FROM events")]
    unsent = rows(database, "SELECT id, webhook, status, last_error FROM deliveries WHERE status != 'sent'")
    by_id: dict[tuple[str, str], list[list[str]]] = defaultdict(list)
    ids_per_alert: dict[tuple[str, str], set[str]] = defaultdict(set)
    for target, msg_id, headlines in world.requests:
        by_id[(target, msg_id)].append(headlines)
        for headline in headlines:
            ids_per_alert[(target, headline)].add(msg_id)
    received = {key for key in ids_per_alert}
    missing = [(t, h) for t in ("a", "b") for h in events if (t, h) not in received]
    changed = [key for key, copies in by_id.items() if any(c != copies[0] for c in copies)]
    two_ids = [key for key, ids in ids_per_alert.items() if len(ids) > 1]
    copies = sum(len(c) for c in by_id.values())
    alert_copies = sum(len(headlines) for _, _, headlines in world.requests)
    return {
        "kills": kills,
        "seconds": round(elapsed),
        "events": len(events),
        "requests": copies,
        "digests": sum(1 for _, _, h in world.requests if len(h) > 1),
        "distinct_ids": len(by_id),
        "resent_requests": copies - len(by_id),
        "alerts_delivered": len(received),  # (target, alert) pairs
        "duplicate_alert_copies": alert_copies - len(received),  # each under its first copy's id
        "lost": len(missing),
        "resend_with_other_content": len(changed),
        "alert_under_two_ids": len(two_ids),
        "unsent_rows": len(unsent),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    figures = soak(args.kills, args.seed)
    print(json.dumps(figures, indent=2))
    bad = figures["lost"] or figures["resend_with_other_content"] or figures["alert_under_two_ids"]
    return 1 if bad or figures["unsent_rows"] else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
