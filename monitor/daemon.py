"""The daemon: one APScheduler job per feed, the outbox sender, signals, and a bounded shutdown.

Each feed's job never overlaps itself (max_instances=1); after every poll its
next run is set from the pipeline's answer (interval with jitter, or backoff
after failures, or the server's Retry-After). First polls are spread over the
first minute rather than fired at once. SIGINT/SIGTERM stop scheduling, give
in-flight polls `stop_timeout` seconds, cancel the rest, close everything and
log counts. SIGHUP reloads the config; an invalid one keeps the old running.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor import health, resources, store
from monitor.config import Config, FeedConfig
from monitor.errors import MonitorError
from monitor.pipeline import PollOutcome, poll_feed

log = logging.getLogger("monitor.daemon")
SPREAD = 60.0  # seconds over which first polls are spread


class Daemon:
    def __init__(
        self, rt: resources.Resources, load_config: Callable[[], Config], stop_timeout: float
    ) -> None:
        self.rt = rt
        self.load_config = load_config
        self.stop_timeout = stop_timeout
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.stop = asyncio.Event()
        self.inflight: set[asyncio.Task[Any]] = set()
        self.counts: Counter[str] = Counter()
        self.feeds: dict[str, FeedConfig] = {}
        self._reloads: set[asyncio.Task[None]] = set()  # keeps reload tasks alive until done

    def add_feeds(
        self, feeds: list[FeedConfig], states: dict[str, store.FeedState], spread: bool = True
    ) -> None:
        """Schedule feeds: first polls spread over a minute, but never before a stored next poll (a restart
        keeps a server's Retry-After and a failing feed's backoff)."""
        enabled = [f for f in feeds if f.enabled]
        now = datetime.now(UTC)
        for index, feed in enumerate(enabled):
            window = min(SPREAD, feed.interval) if spread else 0.0  # never later than one interval
            first = now + timedelta(seconds=window * index / max(1, len(enabled)))
            stored = states[feed.name].next_poll_at if feed.name in states else None
            self.scheduler.add_job(
                self._poll,
                IntervalTrigger(seconds=feed.interval, jitter=self.rt.config.defaults.jitter),
                id=feed.name,
                name=feed.name,
                args=[feed.name],
                max_instances=1,
                coalesce=True,
                next_run_time=max(first, stored) if stored else first,
                replace_existing=True,
                misfire_grace_time=None,
            )
            self.feeds[feed.name] = feed

    async def _poll(self, name: str) -> None:
        feed = self.feeds.get(name)
        if feed is None or self.stop.is_set():
            return
        task = asyncio.current_task()
        assert task is not None  # APScheduler runs coroutine jobs as tasks
        self.inflight.add(task)
        try:
            outcome = await poll_feed(self.rt.ctx, feed)
        except asyncio.CancelledError:  # shutdown ran out of time; every write is its own transaction
            self.counts["cancelled"] += 1
            return
        except Exception:  # a bug in one poll must not kill the feed's schedule
            log.exception("poll crashed", extra={"feed": name})
            self.counts["crashed"] += 1
            return
        finally:
            self.inflight.discard(task)
        self.counts[outcome.outcome] += 1
        self._reschedule(name, outcome)

    def _reschedule(self, name: str, outcome: PollOutcome) -> None:
        job = self.scheduler.get_job(name)
        if job is None:
            return
        if outcome.outcome in ("gone", "skipped"):
            job.remove()
        elif outcome.next_poll_at is not None:
            job.modify(next_run_time=outcome.next_poll_at)

    async def reload(self) -> None:
        """SIGHUP: apply a new config's feeds and webhooks; keep the old one if the new is invalid.
        Settings built once at start-up (defaults.*, health, logging, database) need a restart."""
        try:
            config = await self.rt.db(self.load_config)
            states = await self.rt.db(resources.sync_config, config, self.rt.engine)
        except MonitorError as error:
            log.error("config reload refused; the old config keeps running", extra={"error": str(error)})
            return
        except Exception as error:  # e.g. the database is locked: the old config keeps running
            log.error(
                "config reload failed; the old config keeps running", extra={"error": type(error).__name__}
            )
            return
        new = {f.name: f for f in config.feeds if f.enabled}
        removed = self.feeds.keys() - new.keys()
        changed = [f for name, f in new.items() if self.feeds.get(name) != f]
        for name in removed:
            if self.scheduler.get_job(name):
                self.scheduler.remove_job(name)
            del self.feeds[name]
        self.rt.config = self.rt.ctx.config = config
        # Added or changed feeds start from their rows (a changed URL reset what was learned).
        self.rt.ctx.states.update({f.name: states[f.name] for f in changed if f.name in states})
        self.rt.sender.hooks = {h.name: h for h in config.enabled_webhooks}
        self.rt.sender.settings = config.delivery
        self.add_feeds(changed, states, spread=False)
        self.rt.sender.wake()
        log.info(
            "config reloaded",
            extra={"feeds": len(new), "added_or_changed": len(changed), "removed": len(removed)},
        )

    async def run(self) -> Counter[str]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: self._reloads.add(asyncio.create_task(self.reload())))
        # The health port first: if it is taken, nothing else has started yet.
        server = await health.serve(self, self.rt.config.health.host, self.rt.config.health.port)
        states = await self.rt.db(store.feed_states, self.rt.engine)
        self.add_feeds(self.rt.config.feeds, states)
        self.scheduler.start()
        sender = asyncio.create_task(self.rt.sender.run(self.stop))
        log.info("daemon started", extra={"feeds": len(self.feeds), "webhooks": len(self.rt.config.webhooks)})
        await self.stop.wait()
        await self._shutdown(sender, server)
        return self.counts

    async def _shutdown(self, sender: asyncio.Task[None], server: asyncio.AbstractServer | None) -> None:
        # Pause first: APScheduler's shutdown would cancel running polls at once.
        self.scheduler.pause()
        deadline = time.monotonic() + self.stop_timeout
        pending = set(self.inflight)
        if pending:
            _, late = await asyncio.wait(pending, timeout=self.stop_timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self.scheduler.shutdown(wait=False)
        # A delivery in flight may finish within what is left of the bound.
        await asyncio.wait({sender}, timeout=max(0.5, deadline - time.monotonic()))
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        if server is not None:
            server.close()
            await server.wait_closed()

    def healthy(self) -> tuple[bool, str]:
        if not self.scheduler.running:
            return False, "scheduler not running"
        return True, "ok"


async def run_daemon(
    config: Config, load_config: Callable[[], Config], stop_timeout: float
) -> dict[str, int]:
    async with resources.open_resources(config) as rt:
        daemon = Daemon(rt, load_config, stop_timeout)
        counts = await daemon.run()
    summary = dict(counts)
    log.info("daemon stopped", extra={"counts": summary})
    return summary
