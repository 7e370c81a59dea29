"""Build the shared resources once (database, HTTP clients, baseline, sender) and close them in order.

Both the daemon (`monitor run`) and a single cycle (`monitor poll --once`)
start here, so they behave the same.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import models, replicas, store
from monitor.classify import Baseline, Fact, load_baseline
from monitor.config import Config, FeedConfig
from monitor.db import open_database
from monitor.deliver import DrainCounts, Sender
from monitor.errors import StoreError
from monitor.events import EventType
from monitor.fetch import FetchSettings, HostClients, HostLimiter
from monitor.metrics import Metrics
from monitor.pipeline import Context, PollOutcome
from monitor.pollloop import PollLoop
from monitor.recorder import Recorder
from monitor.redact import config_redactor, quiet_http_loggers
from monitor.worker import Worker

log = logging.getLogger("monitor.resources")
FIRST_POLLS_SPREAD = 60.0  # seconds over which new feeds' first polls are spread


@dataclass
class Resources:
    config: Config
    engine: Engine
    db: Worker
    ctx: Context
    sender: Sender
    metrics: Metrics
    replica: str
    baseline: BaselineRefresh

    async def refresh_baseline(self) -> None:
        """Take up the events other replicas recorded since the last look (a daemon job)."""
        fresh = await self.db(self.baseline.changed)
        if fresh is not None:
            # A poll that grew the old baseline meanwhile may lose its fact here, but only until the next
            # look: its event is newer than the id this read saw.
            self.ctx.baseline = fresh


def fetch_settings(config: Config) -> FetchSettings:
    d = config.defaults
    return FetchSettings(
        connect_timeout=d.connect_timeout,
        read_timeout=d.read_timeout,
        total_timeout=d.timeout,
        user_agent=d.user_agent,
        max_body_bytes=d.max_body_size,
    )


def baseline_with_history(config: Config, engine: Engine) -> Baseline:
    """The seed baseline grown by every asserted event already in the database."""
    return grown_by_history(load_baseline(config.baseline), engine)


def grown_by_history(baseline: Baseline, engine: Engine) -> Baseline:
    """`baseline` grown by every asserted event in the database (whichever replica recorded it)."""
    today = datetime.now(UTC).date()
    facts = [
        Fact(
            actor=actor,
            relation=cast(EventType, event_type),
            target="taliban",
            date=today,
            source="database",
            note="",
            act=act,
        )
        for actor, event_type, act in store.confirmed_facts(engine)
    ]
    return baseline.with_facts(facts) if facts else baseline


class BaselineRefresh:
    """Keeps a replica's baseline level with the events other replicas record. Within an event's window the
    identity row already makes another replica's report a source (cluster.find_event); past it, only the
    baseline stops a restatement of what another replica recorded from alerting again. A cheap check of
    the newest event id decides whether the facts are read again."""

    def __init__(self, seed: Baseline, engine: Engine) -> None:
        self.seed = seed  # the configured baseline file, read once
        self.engine = engine
        self.seen: int | None = None

    def load(self) -> Baseline:
        """The seed grown by the database's events, remembering the newest event id it covers."""
        self.seen = store.last_event_id(self.engine)
        return grown_by_history(self.seed, self.engine)

    def changed(self) -> Baseline | None:
        """A fresh baseline when an event was recorded (here or on another replica) since the last load."""
        if store.last_event_id(self.engine) == self.seen:
            return None
        return self.load()


def sync_config(config: Config, engine: Engine) -> None:
    """Record the configured feeds (which are enabled; new ones first due within a minute) and webhooks."""
    now = datetime.now(UTC)
    spread = min([FIRST_POLLS_SPREAD, *(f.interval for f in config.enabled_feeds)])
    store.sync_feeds(
        engine,
        [(f.name, f.url) for f in config.feeds],
        now,
        enabled=[f.name for f in config.enabled_feeds],
        spread=spread,
    )
    store.mark_official(engine, [f.name for f in config.feeds if f.official or f.is_list])
    store.sync_webhooks(engine, [(h.name, h.kind, h.url.get_secret_value()) for h in config.webhooks])


def state_gauges(engine: Engine) -> Any:
    deliveries = models.DELIVERIES
    feeds = models.FEEDS

    def read(now: datetime) -> tuple[int, float, int]:
        with engine.connect() as conn:
            depth, oldest = conn.execute(
                sa.select(sa.func.count(), sa.func.min(deliveries.c.created_at)).where(
                    deliveries.c.status == "pending"
                )
            ).one()
            broken = conn.execute(
                sa.select(sa.func.count()).where(sa.or_(feeds.c.gone.is_(True), feeds.c.error_count >= 3))
            ).scalar_one()
        oldest_at = models.UTCDateTime().process_result_value(oldest, engine.dialect)
        return int(depth), (now - oldest_at).total_seconds() if oldest_at else 0.0, int(broken)

    return read


@asynccontextmanager
async def open_resources(config: Config, replica: str | None = None) -> AsyncIterator[Resources]:
    """Everything a poll or a delivery needs; closed in reverse order on the way out. `replica` names this
    process in claims and metrics (default: host name and pid)."""
    replica = replica or replicas.default_id()
    quiet_http_loggers()
    engine = open_database(config.database)
    db = Worker("monitor-db")
    # The sender's own thread: its short outbox transactions never wait behind a cycle's parsing.
    sender_db = Worker("monitor-sender")
    settings = fetch_settings(config)
    clients = HostClients(settings)
    hook_client = httpx.AsyncClient(
        headers={"user-agent": config.defaults.user_agent}, follow_redirects=False
    )
    metrics = Metrics(replica)
    recorder = Recorder(db, engine, on_fenced=lambda feed: metrics.polled(feed, "fenced", 0, []))
    try:
        try:
            await db(sync_config, config, engine)
        except sa.exc.SQLAlchemyError as error:
            reason = f"database: cannot record the configured feeds ({type(error).__name__})"
            raise StoreError(reason) from None
        refresh = BaselineRefresh(load_baseline(config.baseline), engine)
        baseline = await db(refresh.load)
        metrics.watch_state(state_gauges(engine))
        sender = Sender(
            engine,
            {h.name: h for h in config.enabled_webhooks},
            config.delivery,
            hook_client,
            sender_db,
            on_outcome=metrics.delivered,
            on_lost=metrics.lost_delivery,
            redact=config_redactor(config),
            owner=replica,  # holds the targets' delivery claims
        )
        ctx = Context(
            config,
            engine,
            db,
            clients,
            HostLimiter(config.defaults.per_host),
            settings,
            baseline,
            metrics,
            recorder,
            on_events=sender.wake,
        )
        if not config.enabled_webhooks:
            log.warning(
                "no webhook configured: alerts are stored and written to this log, not sent "
                "(add webhooks: to the config; `monitor demo` shows what they receive)",
                extra={"config": str(config.path)},
            )
        yield Resources(config, engine, db, ctx, sender, metrics, replica, refresh)
    finally:
        await recorder.close()
        await clients.aclose()
        await hook_client.aclose()
        db.close()
        sender_db.close()
        engine.dispose()


async def poll_all(rt: Resources, feeds: list[FeedConfig]) -> list[PollOutcome]:
    """One cycle: every given feed once, due or not, concurrently up to `defaults.max_concurrency`."""
    by_name = {f.name: f for f in feeds}
    loop = PollLoop(rt.ctx, rt.replica, lambda: by_name, lambda count: rt.metrics.claimed(rt.replica, count))
    return await loop.poll_named(feeds)


async def drain_outbox(rt: Resources, timeout: float) -> DrainCounts:
    """Send until nothing is due soon, or `timeout` seconds pass (cron-style use of `poll --once`).
    The counts are what was actually sent, even when the timeout cuts a pass short."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            wait = await asyncio.wait_for(rt.sender.drain(), max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        if wait is None or wait > deadline - time.monotonic():
            break
        await asyncio.sleep(max(0.05, wait))
    return DrainCounts(**vars(rt.sender.counts))
