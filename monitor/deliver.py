"""Drain the outbox: send due deliveries to their webhooks, retry, give up, or mark targets broken.

Targets are served concurrently; within one target, deliveries go in order and
a failure stops that target's pass (a later alert never overtakes an earlier
one). Each target is paced (Slack about 1/s; Discord from its rate-limit
headers). When more alerts are due for one target than `delivery.digest_after`,
they go out as one digest instead of a storm.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.engine import Engine

from monitor import outbox
from monitor.config import Delivery, WebhookConfig
from monitor.dbthread import DbThread
from monitor.domain import Alert, Digest, Notice
from monitor.errors import DeliveryRejected, DeliveryRetryable, TargetBroken
from monitor.notify import Rendered, render
from monitor.notify.response import interpret, min_interval, rate_wait

log = logging.getLogger("monitor.deliver")
DIGEST_MAX = 25  # alerts per digest message; more go in the next one


@dataclass
class DrainCounts:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    broken: int = 0

    def add(self, other: DrainCounts) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.dead += other.dead
        self.broken += other.broken


@dataclass
class Sender:
    """Owns nothing but pacing state: the engine, client and config come from the daemon."""

    engine: Engine
    hooks: dict[str, WebhookConfig]
    settings: Delivery
    client: httpx.AsyncClient
    db: DbThread
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    on_outcome: Callable[[str, str, int], None] = lambda webhook, outcome, count: None  # metrics hook
    _next_allowed: dict[str, float] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        self._wake.set()

    async def drain(self) -> DrainCounts:
        """One pass over everything due now."""
        now = self.clock()
        expired = await self.db(outbox.expire, self.engine, now, self.settings.max_age)
        counts = DrainCounts(dead=expired)
        rows = await self.db(outbox.due, self.engine, now, list(self.hooks))
        by_target: dict[str, list[outbox.Due]] = defaultdict(list)
        for row in rows:
            by_target[row.webhook].append(row)
        results = await asyncio.gather(*(self._serve(name, due) for name, due in by_target.items()))
        for result in results:
            counts.add(result)
        return counts

    async def run(self, stop: asyncio.Event, idle: float = 30.0) -> None:
        """Drain until `stop` is set, sleeping until the next due row or a wake-up."""
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.drain()
            except Exception:  # the sender must outlive a database hiccup; the rows stay
                log.exception("outbox drain failed")
            wait = idle
            next_at = await self.db(outbox.next_due_at, self.engine, list(self.hooks))
            if next_at is not None:
                wait = min(idle, max(0.05, (next_at - self.clock()).total_seconds()))
            await _wait_any(self._wake, stop, wait)

    async def _serve(self, name: str, rows: list[outbox.Due]) -> DrainCounts:
        counts = DrainCounts()
        hook = self.hooks[name]  # due() returns rows of configured, enabled webhooks only
        for group in self._groups(rows):
            await self._pace(name)
            outcome = await self._attempt(hook, group)
            if outcome == "taken":
                break  # another sender holds these rows; it keeps this target's order
            setattr(counts, outcome, getattr(counts, outcome) + len(group))
            self.on_outcome(name, outcome, len(group))
            if outcome != "sent" and outcome != "dead":
                break  # keep order: nothing later overtakes a failed delivery
        return counts

    def _groups(self, rows: list[outbox.Due]) -> list[list[outbox.Due]]:
        events = [r for r in rows if r.event_id is not None]
        if len(events) <= self.settings.digest_after:
            return [[r] for r in rows]
        notices = [[r] for r in rows if r.event_id is None]
        return [events[i : i + DIGEST_MAX] for i in range(0, len(events), DIGEST_MAX)] + notices

    async def _pace(self, name: str) -> None:
        wait = self._next_allowed.get(name, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _message(self, group: Sequence[outbox.Due]) -> Alert | Notice | Digest:
        if group[0].notice_id is not None:
            return await self.db(outbox.load_notice, self.engine, group[0].notice_id)
        alerts = [await self.db(outbox.load_alert, self.engine, r.event_id) for r in group if r.event_id]
        return alerts[0] if len(alerts) == 1 else Digest(tuple(alerts))

    async def _attempt(self, hook: WebhookConfig, group: list[outbox.Due]) -> str:
        """Send one message for `group`; record the outcome; return sent | retried | dead | broken, or taken
        when another sender leased the rows first."""
        ids = [r.id for r in group]
        now = self.clock()
        secret = hook.secret.get_secret_value() if hook.secret is not None else None
        rendered = render(
            hook.kind,
            await self._message(group),
            msg_id=message_id(group),
            timestamp=int(now.timestamp()),
            secret=secret,
        )
        lease_until = now + timedelta(seconds=self.settings.timeout + 30)
        if not await self.db(outbox.lease, self.engine, ids, now, lease_until):
            return "taken"
        try:
            status = await self._post(hook, rendered)
        except DeliveryRetryable as error:
            return await self._retry(hook.name, group, error)
        except DeliveryRejected as error:
            log.error(
                "delivery rejected", extra={"webhook": hook.name, "delivery": ids[0], "error": error.reason}
            )
            await self.db(
                outbox.mark_failed,
                self.engine,
                ids,
                status=error.status,
                error=error.reason,
                next_attempt_at=None,
            )
            return "dead"
        except TargetBroken as error:
            log.error(
                "webhook broken: sending to it stopped until its URL changes",
                extra={"webhook": hook.name, "status": error.status, "error": error.reason},
            )
            await self.db(
                outbox.mark_broken,
                self.engine,
                hook.name,
                ids,
                status=error.status,
                reason=error.reason,
                now=self.clock(),
            )
            return "broken"
        await self.db(outbox.mark_sent, self.engine, ids, hook.name, status, self.clock())
        log.info("delivered", extra={"webhook": hook.name, "delivery": ids[0], "count": len(ids)})
        return "sent"

    async def _post(self, hook: WebhookConfig, rendered: Rendered) -> int:
        url = hook.url.get_secret_value()
        try:
            response = await self.client.post(
                httpx.URL(url).copy_merge_params(rendered.query),  # keep the URL's own query (Teams sig=...)
                content=rendered.body,
                headers=rendered.headers,
                timeout=self.settings.timeout,
            )
        except httpx.TimeoutException:
            raise DeliveryRetryable(hook.name, "timed out") from None
        except httpx.TransportError as error:  # refused, reset, dropped after the request was sent
            raise DeliveryRetryable(hook.name, f"connection failed ({type(error).__name__})") from None
        self._note_rate(hook, response.headers)
        interpret(
            hook.kind, hook.name, response.status_code, response.headers, response.content, self.clock()
        )
        return response.status_code

    def _note_rate(self, hook: WebhookConfig, headers: httpx.Headers) -> None:
        wait = rate_wait(headers) or 0.0
        self._next_allowed[hook.name] = time.monotonic() + max(wait, min_interval(hook.kind))

    async def _retry(self, name: str, group: list[outbox.Due], error: DeliveryRetryable) -> str:
        attempts = group[0].attempts + 1
        delay = backoff_delay(self.settings.backoff, attempts)
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
            self._next_allowed[name] = time.monotonic() + error.retry_after
        now = self.clock()
        next_at: datetime | None = now + timedelta(seconds=delay)
        age = (now - group[0].created_at).total_seconds()
        if age + delay > self.settings.max_age:
            next_at = None
        await self.db(
            outbox.mark_failed,
            self.engine,
            [r.id for r in group],
            status=error.status,
            error=error.reason,
            next_attempt_at=next_at,
        )
        log.warning(
            "delivery failed",
            extra={
                "webhook": name,
                "delivery": group[0].id,
                "error": error.reason,
                "attempts": attempts,
                "retry_in": round(delay, 1) if next_at else None,
            },
        )
        return "retried" if next_at else "dead"


def message_id(group: Sequence[outbox.Due]) -> str:
    """The webhook-id: the delivery's own for one alert; for a digest, one derived from exactly its members,
    so a receiver de-duplicating by id never drops a digest that carries new alerts."""
    if len(group) == 1:
        return group[0].msg_id
    members = ",".join(str(r.id) for r in group)
    return "msg_digest_" + hashlib.sha256(members.encode()).hexdigest()[:32]


def backoff_delay(schedule: Sequence[float], attempts: int, rng: random.Random | None = None) -> float:
    """The wait after the `attempts`-th failure: the schedule's next step (the last repeats), +-20% jitter."""
    base = schedule[min(attempts, len(schedule) - 1)]
    return base * (rng or random).uniform(0.8, 1.2)


async def _wait_any(wake: asyncio.Event, stop: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
