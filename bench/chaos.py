"""Chaos harness: several `monitor run` replicas on one database, killed and stalled at random moments.

Run: python bench/chaos.py [--seconds 60] [--replicas 3] [--feeds 12] [--sqlite] [--seed N] [--database URL]

A loopback feed server (in this process) publishes new items over time: plain
news, and now and then a development (a state recognising the Taliban) in two
feeds at the same moment. Some feeds answer 429 with Retry-After, some 503,
some slowly. A loopback webhook receiver records every request with its
`webhook-id` and body; it sometimes answers 500 and sometimes only after the
client's timeout. Replicas are real `monitor run` processes, each with a
config whose User-Agent names it, so the server knows who fetched what. At
random moments one replica is killed with SIGKILL while it is polling (and
restarted), or stopped with SIGSTOP past its lease and resumed.

Checked at the end (the exit status is 1 if any fails):
- every due feed was polled (no gap longer than backoff + lease + tick + slack), and no feed was fetched
  twice for one due time, except by a replica stalled past its lease, whose late commit was refused;
- every published item stored exactly once;
- every development produced exactly one event, and its alert reached the receiver at least once; every
  repeated request carried the same `webhook-id` and body as the first;
- after a kill, the feeds the dead replica held were fetched by a live one within lease + tick + slack.

With --sqlite: one replica on a SQLite file, killed and restarted, and a second `monitor run` must be refused.
Without --database: PostgreSQL on 127.0.0.1:5432 (database test), in a schema of its own, dropped after.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import sqlalchemy as sa

from monitor import claims
from monitor.classify import classify, load_baseline
from monitor.classify.gazetteer_data import STATES

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "seeds" / "baseline.yaml"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET = "whsec_" + base64.b64encode(b"chaos-harness-signing-key-32byte").decode()
INTERVAL = 2.0  # every feed's poll interval
LEASE = 5.0
TICK = 0.5
BACKOFF_CAP = 4.0
RETRY_AFTER = 3
SLOW = 1.5  # a slow feed's answer time (< the 3 s fetch timeout)
SLACK = 3.0  # scheduling noise on a loaded two-core machine
GAP_MAX = max(BACKOFF_CAP, RETRY_AFTER, INTERVAL) + LEASE + TICK + SLACK
FAULTS = ("none", "rate_limited", "unavailable", "slow")


# --- the world: feeds that publish, a receiver that records ------------------------------------------


@dataclass
class Feed:
    name: str
    fault: str
    items: list[tuple[str, str, float]] = field(default_factory=list)  # (guid, title, published)

    def document(self) -> bytes:
        entries = "".join(
            f"<item><guid>{guid}</guid><title>{escape(title)}</title>"
            f"<link>https://{self.name}.example/{guid}</link><description>{escape(title)}.</description>"
            f"<pubDate>{format_datetime(datetime.fromtimestamp(at, UTC), usegmt=True)}</pubDate></item>"
            for guid, title, at in reversed(self.items)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{self.name}</title><link>https://{self.name}.example/</link><description>x</description>"
            f"{entries}</channel></rss>"
        ).encode()


@dataclass
class World:
    feeds: dict[str, Feed]
    rng: random.Random
    lock: threading.Lock = field(default_factory=threading.Lock)
    fetches: list[tuple[float, str, str]] = field(default_factory=list)  # (time, feed, replica)
    hooks: list[tuple[float, str, bytes]] = field(default_factory=list)  # (time, webhook-id, body)
    developments: dict[str, list[str]] = field(default_factory=dict)  # actor code -> feeds it appeared in
    slow_fetch: threading.Condition = field(default_factory=threading.Condition)
    slow_by: dict[str, float] = field(default_factory=dict)  # replica -> when it last began a slow fetch
    calm: bool = False  # after publishing stops: no more failures, so the end state converges

    def publish(self, feed: Feed, guid: str, title: str) -> None:
        with self.lock:
            feed.items.append((guid, title, time.time()))

    def answer_feed(
        self, name: str, replica: str, etag_seen: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        feed = self.feeds[name]
        with self.lock:
            self.fetches.append((time.time(), name, replica))
            body = feed.document()
            roll = self.rng.random()
        if self.calm:
            roll = 1.0
        if feed.fault == "rate_limited" and roll < 0.3:
            return 429, {"Retry-After": str(RETRY_AFTER)}, b""
        if feed.fault == "unavailable" and roll < 0.3:
            return 503, {}, b""
        if feed.fault == "slow":
            with self.slow_fetch:
                self.slow_by[replica] = time.time()
                self.slow_fetch.notify_all()
            time.sleep(SLOW)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if etag_seen == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"ETag": etag, "Content-Type": "application/rss+xml"}, body

    def answer_hook(self, webhook_id: str, body: bytes) -> tuple[int, float]:
        with self.lock:
            self.hooks.append((time.time(), webhook_id, body))
            roll = 1.0 if self.calm else self.rng.random()
        if roll < 0.15:
            return 500, 0.0
        if roll < 0.25:
            return 200, 1.5  # after the client's 1 s timeout: it retries what may have arrived
        return 200, 0.0


def serve(world: World) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            replica = self.headers.get("User-Agent", "?").removeprefix("chaos-")
            name = self.path.strip("/")
            status, headers, body = world.answer_feed(name, replica, self.headers.get("If-None-Match"))
            self._reply(status, headers, body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, delay = world.answer_hook(self.headers.get("webhook-id", ""), body)
            time.sleep(delay)
            self._reply(status, {}, b"")

        def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
            try:
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (timeout) or was killed

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a killed replica's connection resets: expected here

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def alerting_states(count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(code, headline A, headline B): two outlets' words for one development, both alerting."""
    baseline = load_baseline(BASELINE)
    today = date.today()
    found = []
    lines = STATES.splitlines()
    rng.shuffle(lines)
    for line in lines:
        code, names = line.split("|")[:2]
        name = names.split(";")[0]
        a = f"{name} formally recognises the Taliban government"
        b = f"{name} recognises the Taliban government in Kabul"
        decisions = [classify(t, t + ".", baseline, today) for t in (a, b)]
        if all(d.alert and d.actor == code for d in decisions):
            found.append((code, a, b))
        if len(found) == count:
            break
    return found


def publisher(world: World, stop: threading.Event, developments: list[tuple[str, str, str]]) -> None:
    """New items over time; every few seconds a development in two feeds at the same moment."""
    names = sorted(world.feeds)
    serial = 0
    next_development = time.time() + 2
    while not stop.wait(0.5):
        for name in names:
            if world.rng.random() < 0.12:
                serial += 1
                world.publish(world.feeds[name], f"n{serial}", f"Local weather report number {serial}")
        if developments and time.time() >= next_development:
            code, a, b = developments.pop()
            first, second = world.rng.sample(names, 2)
            world.publish(world.feeds[first], f"d-{code}-a", a)
            world.publish(world.feeds[second], f"d-{code}-b", b)
            world.developments[code] = [first, second]
            next_development = time.time() + world.rng.uniform(2, 5)


# --- replicas ---------------------------------------------------------------------------------------


@dataclass
class Replica:
    name: str
    config: Path
    logs: list[Path] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.config.with_name(f"{self.name}-{len(self.logs)}.log")
        self.logs.append(log)
        cmd = [sys.executable, "-m", "monitor", "--config", str(self.config), "--log-format", "json"]
        cmd += ["--log-level", "DEBUG", "run", "--replica-id", self.name, "--stop-timeout", "2"]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=out)

    def wait_started(self, within: float) -> None:
        deadline = time.time() + within
        while time.time() < deadline:
            if "daemon started" in self.logs[-1].read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise SystemExit(f"{self.name} did not start within {within:.0f} s: see {self.logs[-1]}")

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def lines(self) -> Iterator[dict[str, Any]]:
        for log in self.logs:
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    yield json.loads(line)


def write_config(folder: Path, database: str, name: str, feeds: list[str], base_url: str, hook: str) -> Path:
    entries = "".join(f"  - name: {f}\n    url: {base_url}/{f}\n" for f in feeds)
    path = folder / f"{name}.yaml"
    path.write_text(
        f"database: {database}\nbaseline: {BASELINE}\n"
        f"defaults:\n  interval: {INTERVAL}s\n  jitter: 0s\n  timeout: 3s\n  backoff_cap: {BACKOFF_CAP}s\n"
        f"  user_agent: chaos-{name}\n  per_host: 20\n"
        f"replicas:\n  lease: {LEASE}s\n  tick: {TICK}s\n  heartbeat: 1s\n"
        "delivery:\n  timeout: 1s\n  backoff: [0s, 500ms, 1s]\n  digest_after: 1000\n"
        f"webhooks:\n  - name: receiver\n    kind: generic\n    url: {hook}\n    secret: {SECRET}\n"
        f"feeds:\n{entries}",
        encoding="utf-8",
    )
    return path


# --- the run ----------------------------------------------------------------------------------------


@dataclass
class Actions:
    # (when, replica, feeds it held): when it was killed, or (alone) when its restart was up
    kills: list[tuple[float, str, list[str]]] = field(default_factory=list)
    stops: list[tuple[float, float, str]] = field(default_factory=list)  # (from, to, replica)
    refused_second: bool | None = None


def held_feeds(engine: sa.Engine, replica: str) -> list[str]:
    return claims.held_by(engine).get(replica, [])


def wait_for_slow_fetch(world: World, within: float) -> str | None:
    """The replica that next begins fetching a slow feed (so a signal lands mid-poll), if any does."""
    start = time.time()

    def began() -> str | None:
        return next((name for name, at in world.slow_by.items() if at > start), None)

    with world.slow_fetch:
        return world.slow_fetch.wait_for(began, timeout=within)


def chaos(
    world: World, replicas: list[Replica], engine: sa.Engine, until: float, rng: random.Random
) -> Actions:
    actions = Actions()
    by_name = {r.name: r for r in replicas}
    pause = rng.uniform(1, 2)  # the first trouble comes early, and always: a short run has at least one
    while time.time() < until + 30 and (
        not (actions.kills or actions.stops) or time.time() < until - LEASE - 4
    ):
        time.sleep(pause)
        pause = rng.uniform(2, 4)
        name = wait_for_slow_fetch(world, 10.0)
        if name not in by_name:
            continue
        victim = by_name[name]
        if rng.random() < 0.5 or len(replicas) == 1:
            victim.signal(signal.SIGKILL)
            assert victim.proc is not None
            victim.proc.wait()
            killed_at, held = time.time(), held_feeds(engine, victim.name)
            time.sleep(rng.uniform(0.5, 1.5))
            victim.start()
            victim.wait_started(60)
            # Alone, the replica takes its own feeds back: the lease counts from when it is up again.
            actions.kills.append((killed_at if len(replicas) > 1 else time.time(), victim.name, held))
        else:
            began = time.time()
            victim.signal(signal.SIGSTOP)
            time.sleep(LEASE + 2)
            victim.signal(signal.SIGCONT)
            actions.stops.append((began, time.time(), victim.name))
    return actions


def second_run_refused(config: Path) -> bool:
    cmd = [sys.executable, "-m", "monitor", "--config", str(config), "run", "--replica-id", "intruder"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    return done.returncode == 2 and "PostgreSQL" in done.stderr and "Traceback" not in done.stderr


def wait_settled(world: World, engine: sa.Engine, within: float) -> None:
    """Until every published item is stored and every delivery sent (or `within` seconds pass)."""
    published = sum(len(f.items) for f in world.feeds.values())
    deadline = time.time() + within
    while time.time() < deadline:
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM items")).scalar()
            pending = conn.execute(sa.text("SELECT count(*) FROM deliveries WHERE status != 'sent'")).scalar()
        if stored == published and not pending:
            return
        time.sleep(0.5)


@contextmanager
def database(url: str | None, sqlite: bool, folder: Path) -> Iterator[str]:
    if sqlite:
        yield f"sqlite:///{folder / 'monitor.db'}"
        return
    if url:
        yield url
        return
    with pg_schema(PG_ADMIN, "chaos") as fresh:
        yield fresh


@contextmanager
def pg_schema(admin_url: str, prefix: str) -> Iterator[str]:
    """A URL whose search_path is a fresh schema of its own, dropped afterwards (the server is shared)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{admin_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def run(args: argparse.Namespace) -> list[str]:
    rng = random.Random(args.seed)
    count = 1 if args.sqlite else args.replicas
    feeds = {f"feed{i:02d}": Feed(f"feed{i:02d}", FAULTS[i % len(FAULTS)]) for i in range(args.feeds)}
    world = World(feeds, random.Random(args.seed + 1))
    server = serve(world)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    developments = alerting_states(max(1, int(args.seconds / 4)), rng)
    keep = tempfile.mkdtemp(prefix="chaos-") if args.keep else None
    with tempfile.TemporaryDirectory() as tmp, database(args.database, args.sqlite, Path(keep or tmp)) as url:
        folder = Path(keep or tmp)
        if keep:
            print(f"logs and configs kept in {keep}", flush=True)
        replicas = [
            Replica(f"r{i}", write_config(folder, url, f"r{i}", sorted(feeds), base, base + "/hook"))
            for i in range(count)
        ]
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.wait_started(60)
        from monitor.db import create_engine

        engine = create_engine(url)
        stop_publishing = threading.Event()
        started = time.time()
        until = started + args.seconds
        pub = threading.Thread(target=publisher, args=(world, stop_publishing, developments), daemon=True)
        pub.start()
        refused_second = second_run_refused(replicas[0].config) if args.sqlite else None
        actions = chaos(world, replicas, engine, max(until, time.time() + LEASE + 6), rng)
        actions.refused_second = refused_second
        time.sleep(max(0.0, until - time.time()))
        stop_publishing.set()
        published_until = time.time()
        world.calm = True
        wait_settled(world, engine, 2 * GAP_MAX + 30)
        ended = time.time()
        for replica in replicas:
            replica.signal(signal.SIGCONT)
            replica.signal(signal.SIGTERM)
        for replica in replicas:
            assert replica.proc is not None
            replica.proc.wait(timeout=30)
        server.shutdown()
        report = verify(world, replicas, engine, actions, (started, published_until, ended))
        engine.dispose()
    return report


# --- the invariants ---------------------------------------------------------------------------------


def verify(
    world: World,
    replicas: list[Replica],
    engine: sa.Engine,
    actions: Actions,
    times: tuple[float, float, float],
) -> list[str]:
    started, published_until, ended = times
    problems: list[str] = []
    found = takeovers(world, actions)
    problems += check_polls(world, replicas, found, started, published_until)
    problems += check_items(world, engine)
    problems += check_alerts(world, engine)
    problems += check_takeover(found)
    if actions.refused_second is False:
        problems.append("a second monitor run on the SQLite file was not refused")
    refused = _refused(replicas)
    stalled = sum(1 for at, name, _ in refused if any(n == name and b <= at for b, _, n in actions.stops))
    summary = (
        f"chaos: {len(replicas)} replicas, {len(world.feeds)} feeds, {ended - started:.0f} s; "
        f"{len(world.fetches)} fetches, {sum(len(f.items) for f in world.feeds.values())} items published, "
        f"{len(world.developments)} developments, {len(world.hooks)} webhook requests; "
        f"{len(actions.kills)} kills, {len(actions.stops)} stops; late commits refused: "
        f"{stalled} after a stop, {len(refused) - stalled} of polls slower than the lease"
    )
    return [summary, *takeover_summary(found), *(f"FAILED: {p}" for p in problems)]


def check_polls(
    world: World, replicas: list[Replica], found: list[Takeover], started: float, published_until: float
) -> list[str]:
    problems = []
    by_feed: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for at, feed, fetcher in world.fetches:
        by_feed[feed].append((at, fetcher))
    refused = _refused(replicas)
    for feed, fetches in sorted(by_feed.items()):
        fetches.sort()
        for (t1, r1), (t2, r2) in itertools.pairwise(fetches):
            # Two fetches for one due time only when the first lost its lease and its commit was refused.
            excused = any(name == r1 and f == feed and at >= t1 for at, name, f in refused)
            if t2 - t1 < INTERVAL / 2 and not excused:
                seen = _log_near(replicas, feed, t1 - 1, t2 + 3)
                problems.append(
                    f"{feed} fetched twice within {t2 - t1:.2f} s (by {r1}, then {r2}); logs: {seen}"
                )
            # A kill whose feeds' taker was then stopped too: the feed waited for a second lease.
            second = any(t.feed == feed and t.stalled_taker and t1 < t.killed_at < t2 for t in found)
            if t2 - t1 > GAP_MAX + (LEASE if second else 0.0) and started + 5 < t1:
                problems.append(f"{feed} not fetched for {t2 - t1:.1f} s (bound {GAP_MAX:.1f} s)")
        if fetches[-1][0] < published_until - GAP_MAX:
            problems.append(f"{feed} last fetched {published_until - fetches[-1][0]:.1f} s before the end")
    for feed in world.feeds:
        if feed not in by_feed:
            problems.append(f"{feed} never fetched")
    return problems


def _refused(replicas: list[Replica]) -> list[tuple[float, str, str]]:
    """(time, replica, feed) of every late commit refused because the lease had passed to another replica."""
    return [
        (datetime.fromisoformat(str(line["ts"])).timestamp(), replica.name, str(line.get("feed")))
        for replica in replicas
        for line in replica.lines()
        if str(line.get("msg", "")).startswith("lease lost")
    ]


def _log_near(replicas: list[Replica], feed: str, begin: float, end: float) -> list[str]:
    """What the replicas logged about `feed` in a time window (to explain a failed check)."""
    found = []
    for replica in replicas:
        for line in replica.lines():
            at = datetime.fromisoformat(str(line["ts"])).timestamp()
            if line.get("feed") == feed and begin <= at <= end:
                found.append(f"{at:.2f} {replica.name} {line.get('msg')} token={line.get('token')}")
    return sorted(found)


def check_items(world: World, engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT f.name, i.key FROM items i JOIN feeds f ON f.id = i.feed_id")
        ).all()
    stored: dict[str, list[str]] = defaultdict(list)
    for name, key in rows:
        stored[name].append(key)
    problems = []
    for name, feed in world.feeds.items():
        want = sorted(f"guid:{guid}" for guid, _, _ in feed.items)
        if sorted(stored[name]) != want:
            missing = set(want) - set(stored[name])
            extra = len(stored[name]) - len(set(stored[name]))
            problems.append(f"{name}: items stored {len(stored[name])}, published {len(want)}; missing "
                            f"{sorted(missing)[:5]}, repeated {extra}")  # fmt: skip
    return problems


def check_alerts(world: World, engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        events = conn.execute(sa.text("SELECT actor, count(*) FROM events GROUP BY actor")).all()
        ids = (
            conn.execute(sa.text("SELECT msg_id FROM deliveries WHERE event_id IS NOT NULL")).scalars().all()
        )
    problems = []
    per_actor: dict[str, int] = {actor: n for actor, n in events}
    for code in world.developments:
        if per_actor.get(code) != 1:
            problems.append(f"development {code}: {per_actor.get(code, 0)} events (want 1)")
    extra = set(per_actor) - set(world.developments)
    if extra:
        problems.append(f"events nobody published: {sorted(extra)}")
    bodies: dict[str, set[bytes]] = defaultdict(set)
    for _, webhook_id, body in world.hooks:
        bodies[webhook_id].add(body)
    for msg_id in ids:
        if msg_id not in bodies:
            problems.append(f"delivery {msg_id} never reached the receiver")
    for webhook_id, seen in bodies.items():
        if len(seen) > 1:
            first, *others = sorted(seen)
            difference = _difference(json.loads(first), json.loads(others[0]))
            problems.append(f"webhook-id {webhook_id} came with {len(seen)} different bodies ({difference})")
    return problems


def _difference(a: object, b: object, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _difference(a.get(key), b.get(key), f"{path}.{key}")
    return f"{path}: {a!r} != {b!r}"


@dataclass
class Takeover:
    feed: str
    victim: str
    killed_at: float
    took: float | None  # seconds from the kill to another replica's first fetch; None: never
    # The replica that had taken the feeds over and was then stopped before fetching this one, and when its
    # own first fetch of the victim's feeds came (seconds after the kill): the feed waits for that lease too.
    stalled_taker: tuple[str, float] | None = None


def takeovers(world: World, actions: Actions) -> list[Takeover]:
    found = []
    for killed_at, name, held in actions.kills:
        for feed in held:
            later = [at for at, f, r in world.fetches if f == feed and at > killed_at]
            took = later[0] - killed_at if later else None
            stalled = _stalled_taker(world, actions, killed_at, held, took)
            found.append(Takeover(feed, name, killed_at, took, stalled))
    return found


def _stalled_taker(
    world: World, actions: Actions, killed_at: float, held: list[str], took: float | None
) -> tuple[str, float] | None:
    """A replica stopped after it had begun fetching the victim's feeds, before this one's takeover."""
    end = killed_at + (took if took is not None else float("inf"))
    for began, _, stopped in actions.stops:
        if not killed_at < began < end:
            continue
        fetched = [at for at, f, r in world.fetches if r == stopped and f in held and killed_at < at <= began]
        if fetched:
            return stopped, fetched[0] - killed_at
    return None


def check_takeover(found: list[Takeover]) -> list[str]:
    problems = []
    for t in found:
        # A kill's feeds are due again at the end of its lease; a replica that took them over and was then
        # stalled holds them for a lease of its own (a second fault inside the first one's window).
        start = t.stalled_taker[1] if t.stalled_taker else 0.0
        if t.took is None or t.took > start + LEASE + TICK + SLACK:
            took = f"{t.took:.1f} s" if t.took is not None else "never"
            problems.append(f"{t.feed}, held by killed {t.victim}, taken over after {took}")
    return problems


def takeover_summary(found: list[Takeover]) -> list[str]:
    times = sorted(t.took for t in found if t.took is not None)
    if not times:
        return ["takeovers after a kill: none"]
    bound = LEASE + TICK + SLACK
    lines = [
        f"takeovers after a kill: {len(times)} feeds, median {times[len(times) // 2]:.1f} s, "
        f"max {times[-1]:.1f} s (bound lease + tick + slack = {bound:.1f} s)"
    ]
    for t in found:
        if t.stalled_taker and t.took is not None and t.took > bound:
            taker, at = t.stalled_taker
            lines.append(
                f"  {t.feed} (killed {t.victim}): {t.took:.1f} s; {taker} had taken it over at {at:.1f} s "
                "and was stopped before fetching it: a second lease"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to publish and cause trouble")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--feeds", type=int, default=12)
    parser.add_argument("--sqlite", action="store_true", help="one replica on a SQLite file")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: a fresh schema)")
    parser.add_argument("--keep", action="store_true", help="keep the replicas' logs and configs")
    args = parser.parse_args()
    print(f"seed {args.seed}", flush=True)
    report = run(args)
    print("\n".join(report))
    sys.exit(1 if any(line.startswith("FAILED") for line in report) else 0)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
