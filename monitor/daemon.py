"""The daemon (`monitor run`): a few interval jobs, the outbox sender, signals, and a bounded shutdown.

APScheduler 3 is only the in-process ticker. The per-feed schedule is in the
database (claims.py), so several replicas can share it: every `replicas.tick`
this process claims due feeds for its free slots (pollloop.py); every
`replicas.heartbeat` it records that it is alive and takes up the events other
replicas recorded into its baseline (resources.BaselineRefresh); every hour it offers to run
the chores (chores.py), which one replica at a time takes. SIGINT/SIGTERM stop
claiming, give in-flight polls `stop_timeout` seconds, cancel the rest, close
everything and log counts. SIGHUP reloads the config; an invalid one keeps the
old running.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor import chores, health, logs, replicas, resources
from monitor.config import Config, FeedConfig
from monitor.errors import MonitorError
from monitor.pollloop import PollLoop
from monitor.redact import config_redactor
from monitor.supervise import Streak
from monitor.worker import Worker

log = logging.getLogger("monitor.daemon")


class Daemon:
    def __init__(
        self, rt: resources.Resources, load_config: Callable[[], Config], stop_timeout: float, replica: str
    ) -> None:
        self.rt = rt
        self.load_config = load_config
        self.stop_timeout = stop_timeout
        self.replica = replica
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.stop = asyncio.Event()
        self.feeds: dict[str, FeedConfig] = {f.name: f for f in rt.config.enabled_feeds}
        self.claimed = 0
        self.loop = PollLoop(rt.ctx, replica, lambda: self.feeds, self._count_claims)
        self._tasks: set[asyncio.Task[None]] = set()  # reloads and chores, kept alive until done
        self._summarised: Counter[str] = Counter()  # poll outcomes up to the last summary line
        # Chores on a thread of their own: a long first prune never holds up the polls' database work.
        self.chore_db = Worker("monitor-chores")
        # A database outage fails these on every tick: each streak logs one line (no traceback for an
        # outage) and one when the work recovers, as the poll loop's claims do.
        self.streaks = {name: Streak(name) for name in ("heartbeat", "baseline refresh", "chores")}

    @property
    def counts(self) -> Counter[str]:
        return self.loop.counts

    def _count_claims(self, count: int) -> None:
        self.claimed += count
        self.rt.metrics.claimed(self.replica, count)

    def _add_jobs(self) -> None:
        settings = self.rt.config.replicas
        now = datetime.now(UTC)
        jobs = [
            (self.loop.fill, settings.tick, now),
            (self._heartbeat, settings.heartbeat, now + timedelta(seconds=settings.heartbeat)),
            (self._refresh_baseline, settings.heartbeat, now + timedelta(seconds=settings.heartbeat)),
            (self._chores, chores.PERIOD, now + timedelta(seconds=min(60.0, settings.heartbeat))),
        ]
        every = self.rt.config.logging.summary
        if every:  # quiet (304) polls log at DEBUG: this line shows a healthy daemon is working
            jobs.append((self._summary, every, now + timedelta(seconds=every)))
        for job, every, first in jobs:
            self.scheduler.add_job(
                job,
                IntervalTrigger(seconds=every),
                id=job.__name__,
                max_instances=1,
                coalesce=True,
                next_run_time=first,
                misfire_grace_time=None,
            )

    async def _summary(self) -> None:
        counts = Counter(self.counts)
        polls = counts - self._summarised
        self._summarised = counts
        log.info(
            "polls since the last summary",
            extra={"polls": sum(polls.values()), **dict(sorted(polls.items())), "feeds": len(self.feeds)},
        )

    async def _heartbeat(self) -> None:
        await self._supervised(
            "heartbeat", self.rt.db(replicas.heartbeat, self.rt.engine, self.replica, self.claimed)
        )

    async def _refresh_baseline(self) -> None:
        await self._supervised("baseline refresh", self.rt.refresh_baseline())

    async def _chores(self) -> None:
        await self._supervised("chores", self._run_chores())

    async def _run_chores(self) -> None:
        retention = self.rt.config.retention
        await self.chore_db(chores.prune, self.rt.engine, retention, self.replica, self.stop.is_set)
        await self.chore_db(chores.merge_search_index, self.rt.engine, self.replica, self.stop.is_set)

    async def _supervised(self, name: str, work: Coroutine[Any, Any, object]) -> None:
        """Run one interval job's work; the database may be down for a moment, and the next tick retries."""
        streak = self.streaks[name]
        try:
            await work
        except Exception as error:
            streak.failed(error)
        else:
            streak.succeeded()

    async def reload(self) -> None:
        """SIGHUP: apply a new config's feeds and webhooks; keep the old one if the new is invalid.
        Settings built once at start-up (defaults.*, replicas.*, health, logging, database) need a restart."""
        try:
            config = await self.rt.db(self.load_config)
            await self.rt.db(resources.sync_config, config, self.rt.engine)
        except MonitorError as error:
            log.error("config reload refused; the old config keeps running", extra={"error": str(error)})
            return
        except Exception as error:  # e.g. the database is locked: the old config keeps running
            log.error(
                "config reload failed; the old config keeps running", extra={"error": type(error).__name__}
            )
            return
        old, self.feeds = self.feeds, {f.name: f for f in config.enabled_feeds}
        changed = [f for name, f in self.feeds.items() if old.get(name) != f]
        self.rt.config = self.rt.ctx.config = config
        # Secrets first: a webhook URL or key added or rotated by this reload is masked before it is used.
        redact = config_redactor(config)
        self.rt.sender.redact = redact
        logs.use_redactor(redact)
        self.rt.sender.hooks = {h.name: h for h in config.enabled_webhooks}
        self.rt.sender.settings = config.delivery
        self.rt.sender.wake()
        log.info(
            "config reloaded",
            extra={
                "feeds": len(self.feeds),
                "added_or_changed": len(changed),
                "removed": len(old.keys() - self.feeds.keys()),
            },
        )

    async def _say_where_it_resumes(self) -> None:
        """A restarted daemon says what comes first: feeds due now, feeds that wait for a stored next poll
        (backoff, Retry-After), feeds that are gone."""
        from monitor import feedlist, history

        try:
            stored = await self.rt.db(history.feeds, self.rt.engine)
        except Exception as error:  # only a log line is lost; polling goes on
            log.error("could not read the feeds' state", extra={"error": type(error).__name__})
            return
        rows = feedlist.listing(self.rt.config.feeds, stored, datetime.now(UTC))
        log.info("schedule", extra=feedlist.resume_summary(rows, datetime.now(UTC)))

    def _spawn(self, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
        task = asyncio.create_task(job())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self) -> Counter[str]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: self._spawn(self.reload))
        # The health port first: if it is taken, nothing else has started yet.
        server = await health.serve(self, self.rt.config.health.host, self.rt.config.health.port)
        taken_back = await self.rt.db(replicas.register, self.rt.engine, self.replica)
        if taken_back:
            log.info(
                "took back the feeds this replica id held before its restart", extra={"feeds": taken_back}
            )
        self._add_jobs()
        self.scheduler.start()
        sender = asyncio.create_task(self.rt.sender.run(self.stop))
        log.info("daemon started", extra={"feeds": len(self.feeds), "webhooks": len(self.rt.config.webhooks)})
        await self._say_where_it_resumes()
        await self.stop.wait()
        await self._shutdown(sender, server)
        return self.counts

    async def _shutdown(self, sender: asyncio.Task[None], server: asyncio.AbstractServer | None) -> None:
        # Pause first: APScheduler's shutdown would cancel running jobs at once.
        self.scheduler.pause()
        deadline = time.monotonic() + self.stop_timeout
        await self.loop.stop(self.stop_timeout)
        self.scheduler.shutdown(wait=False)
        # A delivery in flight may finish within what is left of the bound.
        await asyncio.wait({sender}, timeout=max(0.5, deadline - time.monotonic()))
        sender.cancel()
        await asyncio.gather(sender, *self._tasks, return_exceptions=True)
        self.chore_db.close()
        try:
            await self.rt.db(replicas.stopped, self.rt.engine, self.replica)
        except Exception as error:
            log.error("could not record the stop", extra={"error": type(error).__name__})
        if server is not None:
            server.close()
            await server.wait_closed()

    def healthy(self) -> tuple[bool, str]:
        if not self.scheduler.running:
            return False, "scheduler not running"
        # A dead or failing sender, or claims failing again and again, is not healthy.
        polling = self.loop.claiming.problem()
        problems = [*([polling] if polling else []), *self.rt.sender.loops.problems()]
        if problems:
            return False, "; ".join(problems)
        return True, "ok"


async def run_daemon(
    config: Config, load_config: Callable[[], Config], stop_timeout: float, replica: str
) -> dict[str, int]:
    async with resources.open_resources(config, replica) as rt:
        daemon = Daemon(rt, load_config, stop_timeout, replica)
        counts = await daemon.run()
    summary = dict(counts)
    log.info("daemon stopped", extra={"counts": summary})
    return summary
