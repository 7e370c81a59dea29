"""Drain the outbox: each webhook target is a lane of its own that sends, retries, gives up or marks broken.

A lane serves one target: it claims the target in the database (one sender
at a time per target, across processes and replicas: `target_claims`), sends
its due deliveries in order (a failure stops the pass, so a later alert never
overtakes an earlier one), paces itself (Slack about 1/s; Discord from its
rate-limit headers) and backs off on its own. A slow, hostile or dead target
therefore delays only itself:

- every request has one deadline, `delivery.timeout`, for connect + send +
  answer, even against a server that drips its answer a byte at a time;
- at most `BODY_READ_MAX` bytes of an answer are read, never the whole of it;
- Retry-After and empty rate-limit buckets pause the lane for at most
  `delivery.retry_after_max`, and never once the row they came with is dead;
- a 2xx is a delivery whatever its body.

When more alerts are due for one target than `delivery.digest_after`, they go
out as one digest, whose membership and webhook-id are stored with its lease.
In the daemon each lane is a supervised loop (`supervise.Loops`); `poll --once`
runs one pass of every due lane concurrently (`drain`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx
from sqlalchemy.engine import Engine

from monitor import outbox, target_claims
from monitor.config import Delivery, WebhookConfig
from monitor.domain import Alert, Digest, Notice
from monitor.errors import DeliveryError, DeliveryRejected, DeliveryRetryable, TargetBroken
from monitor.notify import Rendered, render
from monitor.notify.response import BODY_READ_MAX, decode_body, interpret, min_interval, rate_wait
from monitor.redact import Redactor
from monitor.supervise import Loops
from monitor.target_claims import Claim
from monitor.worker import Worker

log = logging.getLogger("monitor.deliver")
DIGEST_MAX = 25  # alerts per digest message; more go in the next one
SHORT_PAUSE = 5.0  # a lane sleeps through a pause this short; a longer one gives the target up till then
SOON = 0.05  # seconds: "now, but do not spin"
Outcome = Literal["sent", "retried", "dead", "broken", "taken"]


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


@dataclass(frozen=True, slots=True)
class Group:
    """What one request carries: one delivery, or a digest of several under one webhook-id."""

    rows: list[outbox.Due]
    msg_id: str
    stored: bool = False  # a digest whose membership and id are already in the database


@dataclass
class Lane:
    """One pass of a lane: its claim, when that was last taken or renewed (time.monotonic(), read before
    asking), and its last accepted request while that is not yet recorded as sent."""

    claim: Claim
    renewed_at: float
    unrecorded: outbox.Sent | None = None


def default_owner() -> str:
    """Who holds a target's claim: this process (host name and pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Sender:
    """Owns the lanes and their pacing; the engine, client and config come from the daemon."""

    engine: Engine
    hooks: dict[str, WebhookConfig]
    settings: Delivery
    client: httpx.AsyncClient
    db: Worker
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    on_outcome: Callable[[str, str, int], None] = lambda webhook, outcome, count: None  # metrics hook
    on_lost: Callable[[str, str, int], None] = lambda webhook, reason, count: None  # metrics hook
    redact: Redactor = field(default_factory=Redactor)
    owner: str = field(default_factory=default_owner)
    idle: float = 30.0  # the longest a lane sleeps without a wake-up
    lease_margin: float = 30.0  # seconds a claim or a row's lease outlasts `delivery.timeout`
    loops: Loops = field(default_factory=Loops)
    counts: DrainCounts = field(default_factory=DrainCounts)  # since start; kept even if a pass is cut short
    _next_allowed: dict[str, float] = field(default_factory=dict)
    _expired_at: float = float("-inf")  # time.monotonic() of the daemon loop's last expiry pass
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _lane_wakes: dict[str, asyncio.Event] = field(default_factory=dict)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        self._wake.set()
        for event in self._lane_wakes.values():
            event.set()

    async def drain(self) -> float | None:
        """One pass over everything due now, each target in its own task. Returns the seconds until
        something is due again (None: nothing is waiting)."""
        await self._expire()
        names = await self.db(outbox.due_targets, self.engine, self.clock(), list(self.hooks))
        waits = await asyncio.gather(*(self.serve(name) for name in names))
        later = await self._seconds_to_due(list(self.hooks))
        known = [wait for wait in [*waits, later] if wait is not None]
        return min(known) if known else None

    async def run(self, stop: asyncio.Event) -> None:
        """The daemon's sender: a supervised loop that expires old rows and keeps one lane loop per target."""
        self._stop = stop
        self.loops.start("sender", self._round, stop, self._wake)
        try:
            await stop.wait()
            await asyncio.gather(*self._tasks(), return_exceptions=True)  # each finishes its request
        finally:
            for task in self._tasks():
                task.cancel()
            await asyncio.gather(*self._tasks(), return_exceptions=True)

    def _tasks(self) -> list[asyncio.Task[None]]:
        return [t for name in self.loops.names() if (t := self.loops.task(name)) is not None]

    async def _round(self) -> float:
        # Old rows are judged once per idle period, not on every wake-up: each poll that stores an event
        # wakes this loop, and each pass is a write transaction queued behind the polls' own (in a burst of
        # alerts, 40 passes took a third of the sender's database time). Expiry is about max_age (hours).
        if time.monotonic() - self._expired_at >= self.idle:
            await self._expire()
            self._expired_at = time.monotonic()
        for name in self.hooks.keys() - self._lane_wakes.keys():
            wake = self._lane_wakes[name] = asyncio.Event()
            self.loops.start(f"webhook {name}", self._lane(name), self._stop, wake)
        for name in self._lane_wakes.keys() - self.hooks.keys():  # removed by a reload
            self.loops.stop(f"webhook {name}")
            del self._lane_wakes[name]
        return self.idle

    def _lane(self, name: str) -> Callable[[], Awaitable[float]]:
        async def round_() -> float:
            wait = await self.serve(name)
            return self.idle if wait is None else min(self.idle, max(SOON, wait))

        return round_

    async def serve(self, name: str) -> float | None:
        """One pass of `name`'s lane: claim the target, send what is due in order, give the claim back.
        Returns the seconds until the lane has work again (None: nothing is waiting)."""
        hook = self.hooks.get(name)
        if hook is None:
            return None
        now = self.clock()
        asked = time.monotonic()
        claim = await self.db(
            target_claims.claim_target, self.engine, name, self.owner, now, self._lease_seconds()
        )
        if claim is None:  # another sender serves it; look again when its claim lapses
            until = await self.db(target_claims.claimed_until, self.engine, name, now)
            log.debug("target claimed by another sender", extra={"webhook": name, "until": until})
            return max(SOON, (until - now).total_seconds()) if until else SOON
        lane = Lane(claim, asked)
        try:
            return await self._serve_claimed(hook, lane)
        finally:
            await self.db(target_claims.release_target, self.engine, lane.claim)

    async def _serve_claimed(self, hook: WebhookConfig, lane: Lane) -> float | None:
        rows = await self.db(outbox.due, self.engine, self.clock(), [hook.name])
        log.debug("target claimed", extra={"webhook": hook.name, "due": len(rows), "token": lane.claim.token})
        try:
            for group in groups(rows, self.settings.digest_after):
                if self._stop.is_set():
                    return SOON
                pause = self._pause_left(hook.name, lane.claim)
                if pause > 0:  # a sent request is recorded now, not held across the wait
                    await self._record(lane)
                if pause > SHORT_PAUSE:
                    return pause
                if pause > 0:
                    await asyncio.sleep(pause)
                if not await self._keep_claim(lane):
                    return SOON  # the claim lapsed and moved on: the new holder keeps the order
                outcome = await self._attempt(hook, group, lane)
                if outcome == "taken":
                    log.debug("deliveries taken by another sender", extra={"webhook": hook.name})
                    return SOON
                self._count(hook.name, outcome, len(group.rows))
                if outcome not in ("sent", "dead"):
                    break  # keep order: nothing later overtakes a failed delivery
        finally:
            await self._record(lane)
        wait = await self._seconds_to_due([hook.name])
        return None if wait is None else max(wait, self._pause_left(hook.name, lane.claim))

    async def _keep_claim(self, lane: Lane) -> bool:
        """Renew the lane's claim once a third of the lease's margin has gone since it was last taken, so
        that each request starts with at least `delivery.timeout` + two thirds of the margin (20 s) of
        claim left; False when it was lost. (Renewing before every request cost a write transaction per
        alert; fencing does not need it: each lease checks in its own statement that the claim is current.)"""
        if time.monotonic() - lane.renewed_at < self.lease_margin / 3:
            return True
        await self._record(lane)
        asked = time.monotonic()
        renewed = await self.db(
            target_claims.claim_target,
            self.engine,
            lane.claim.webhook,
            self.owner,
            self.clock(),
            self._lease_seconds(),
        )
        if renewed is None or renewed.token != lane.claim.token:
            return False
        lane.claim, lane.renewed_at = renewed, asked  # with the target's pause as another sender stored it
        return True

    async def _record(self, lane: Lane) -> None:
        """Record the lane's last accepted request as sent, if it is not yet."""
        sent = lane.unrecorded
        if sent is not None:
            await self.db(outbox.mark_sent, self.engine, sent.ids, sent.webhook, sent.status, sent.at)
            lane.unrecorded = None

    def _count(self, name: str, outcome: str, count: int) -> None:
        setattr(self.counts, outcome, getattr(self.counts, outcome) + count)
        self.on_outcome(name, outcome, count)

    def _pause_left(self, name: str, claim: Claim) -> float:
        local = self._next_allowed.get(name, 0.0) - time.monotonic()
        stored = (claim.paused_until - self.clock()).total_seconds() if claim.paused_until else 0.0
        return min(self.settings.retry_after_max, max(0.0, local, stored))

    def _lease_seconds(self) -> float:
        return self.settings.timeout + self.lease_margin

    async def _seconds_to_due(self, names: list[str]) -> float | None:
        next_at = await self.db(outbox.next_due_at, self.engine, names)
        return None if next_at is None else max(0.0, (next_at - self.clock()).total_seconds())

    async def _expire(self) -> None:
        lost = await self.db(outbox.expire, self.engine, self.clock(), self.settings.max_age)
        for row in lost:
            self._lost(row.webhook, row.id, row.event_id, self.redact(row.reason), "expired")

    def _lost(self, webhook: str, delivery: int, event: int | None, reason: str, why: str) -> None:
        log.warning(
            "alert lost: delivery is dead",
            extra={"webhook": webhook, "delivery": delivery, "event": event, "reason": why, "error": reason},
        )
        self.on_lost(webhook, why, 1)
        if why == "expired":
            self._count(webhook, "dead", 1)

    async def _message(self, group: Sequence[outbox.Due]) -> Alert | Notice | Digest:
        if group[0].notice_id is not None:
            return await self.db(outbox.load_notice, self.engine, group[0].notice_id)
        alerts = [await self.db(outbox.load_alert, self.engine, r.event_id) for r in group if r.event_id]
        return alerts[0] if len(alerts) == 1 else Digest(tuple(alerts))

    async def _attempt(self, hook: WebhookConfig, group: Group, lane: Lane) -> Outcome:
        """Send one message for `group` and record the outcome; "taken" when its rows were leased first by
        another sender (or the claim was lost). The lease commits with the record of the lane's previous
        request; an accepted request is left for the next lease (or `_record`) to record."""
        ids = [r.id for r in group.rows]
        now = self.clock()
        secret = hook.secret.get_secret_value() if hook.secret is not None else None
        message = await self._message(group.rows)
        rendered = render(
            hook.kind, message, msg_id=group.msg_id, timestamp=int(now.timestamp()), secret=secret
        )
        until = now + timedelta(seconds=self._lease_seconds())
        new_digest = group.msg_id if len(ids) > 1 and not group.stored else None
        leased = await self.db(
            outbox.record_and_lease,
            self.engine,
            lane.unrecorded,
            ids,
            now,
            until,
            claim=lane.claim,
            digest_msg_id=new_digest,
        )
        lane.unrecorded = None  # recorded, with the lease or without it
        if leased is None:
            return "taken"
        lane.claim = leased
        try:
            status = await self._post(hook, rendered)
        except DeliveryRetryable as error:
            return await self._retry(hook.name, group.rows, error)
        except DeliveryRejected as error:
            return await self._rejected(hook.name, group.rows, error)
        except TargetBroken as error:
            return await self._broken(hook.name, group.rows, error)
        lane.unrecorded = outbox.Sent(tuple(ids), hook.name, status, self.clock())
        log.info("delivered", extra={"webhook": hook.name, "delivery": ids[0], "count": len(ids)})
        return "sent"

    async def _post(self, hook: WebhookConfig, rendered: Rendered) -> int:
        """POST within one deadline; return the status of an accepted answer, raise DeliveryError else."""
        answer = await exchange(self.client, hook, rendered, self.settings.timeout)
        await self._note_rate(hook, answer.headers)
        accept(hook, answer, self.clock())
        return answer.status

    async def _note_rate(self, hook: WebhookConfig, headers: httpx.Headers) -> None:
        wait = min(rate_wait(headers) or 0.0, self.settings.retry_after_max)
        await self._pause(hook.name, max(wait, min_interval(hook.kind)))

    async def _retry(self, name: str, rows: list[outbox.Due], error: DeliveryRetryable) -> Outcome:
        attempts = rows[0].attempts + 1
        delay = backoff_delay(self.settings.backoff, attempts)
        wait = None if error.retry_after is None else min(error.retry_after, self.settings.retry_after_max)
        if wait is not None:
            delay = max(delay, wait)
        now = self.clock()
        age = (now - rows[0].created_at).total_seconds()
        next_at = None if age + delay > self.settings.max_age else now + timedelta(seconds=delay)
        reason = await self._failed(name, rows, error, next_at, "retries_exhausted")
        if next_at is None:  # dead: its Retry-After must not hold the lane's later alerts
            return "dead"
        if wait is not None:
            await self._pause(name, wait)
        log.warning(
            "delivery failed",
            extra={
                "webhook": name,
                "delivery": rows[0].id,
                "error": reason,
                "attempts": attempts,
                "retry_in": round(delay, 1),
            },
        )
        return "retried"

    async def _rejected(self, name: str, rows: list[outbox.Due], error: DeliveryRejected) -> Outcome:
        await self._failed(name, rows, error, None, "rejected")
        return "dead"

    async def _failed(
        self, name: str, rows: list[outbox.Due], error: DeliveryError, next_at: datetime | None, why: str
    ) -> str:
        """Record a failed attempt: retry at `next_at`, or dead (and said so) when it is None. Returns the
        error's words with every secret masked, as stored."""
        reason = self.redact(error.reason)
        ids = [r.id for r in rows]
        await self.db(
            outbox.mark_failed, self.engine, ids, status=error.status, error=reason, next_attempt_at=next_at
        )
        if next_at is None:
            for row in rows:
                self._lost(name, row.id, row.event_id, reason, why)
        return reason

    async def _pause(self, name: str, wait: float) -> None:
        """Hold the target for `wait` seconds; a long pause is stored so every sender keeps it."""
        self._next_allowed[name] = time.monotonic() + wait
        if wait > SHORT_PAUSE:
            until = self.clock() + timedelta(seconds=wait)
            await self.db(target_claims.pause_target, self.engine, name, until)

    async def _broken(self, name: str, rows: list[outbox.Due], error: TargetBroken) -> Outcome:
        reason = self.redact(error.reason)
        log.error(
            "webhook broken: sending to it stopped until its URL changes",
            extra={"webhook": name, "status": error.status, "error": reason},
        )
        ids = [r.id for r in rows]
        await self.db(
            outbox.mark_broken, self.engine, name, ids, status=error.status, reason=reason, now=self.clock()
        )
        return "broken"


@dataclass(frozen=True, slots=True)
class Answer:
    """A webhook's answer: its status, headers and at most BODY_READ_MAX raw (still encoded) bytes."""

    status: int
    headers: httpx.Headers
    raw: bytes


async def exchange(
    client: httpx.AsyncClient, hook: WebhookConfig, rendered: Rendered, timeout: float
) -> Answer:
    """POST `rendered` to `hook` with one deadline for connect, send and answer; DeliveryRetryable when it
    cannot be made or no status line arrives in time. The body is streamed and capped."""
    deadline = asyncio.get_running_loop().time() + timeout
    request = client.build_request(
        "POST",
        httpx.URL(hook.url.get_secret_value()).copy_merge_params(rendered.query),  # keep the URL's own query
        content=rendered.body,
        headers=rendered.headers,
        timeout=timeout,
    )
    try:
        async with asyncio.timeout_at(deadline):
            response = await client.send(request, stream=True)
    except (TimeoutError, httpx.TimeoutException):
        raise DeliveryRetryable(hook.name, f"no answer within {timeout:g}s") from None
    except httpx.TransportError as error:  # refused, reset, dropped after the request was sent
        raise DeliveryRetryable(hook.name, f"connection failed ({type(error).__name__})") from None
    try:
        raw = await _read_capped(response, deadline)
    finally:
        await response.aclose()
    return Answer(response.status_code, response.headers, raw)


def accept(hook: WebhookConfig, answer: Answer, now: datetime) -> None:
    """Return when the target accepted the message: any 2xx, whatever its body (resending an accepted alert
    would duplicate it); raise the DeliveryError that says what to do otherwise."""
    if 200 <= answer.status < 300:
        return
    body = decode_body(answer.raw, answer.headers.get("content-encoding"))
    if body is None:
        log.info("webhook error answer not decodable", extra={"webhook": hook.name})
    interpret(hook.kind, hook.name, answer.status, answer.headers, body or b"", now)


async def _read_capped(response: httpx.Response, deadline: float) -> bytes:
    """At most BODY_READ_MAX raw bytes of the answer, before `deadline`; what came in time otherwise.
    Streamed: a 1 GiB answer costs 64 KiB of memory and is then cut off."""
    body = bytearray()
    try:
        async with asyncio.timeout_at(deadline):
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) >= BODY_READ_MAX:
                    break
    except (TimeoutError, httpx.HTTPError):
        pass  # the status line already said what happened; the body only adds words
    return bytes(body[:BODY_READ_MAX])


def groups(rows: list[outbox.Due], digest_after: int) -> list[Group]:
    """The messages for a target's due rows, in order: a digest stored earlier goes out again as it was;
    more new alerts than `digest_after` go out as digests; everything else one by one."""
    stored: dict[str, list[outbox.Due]] = {}
    fresh: list[outbox.Due] = []
    for row in rows:
        if row.digest_msg_id:
            stored.setdefault(row.digest_msg_id, []).append(row)
        else:
            fresh.append(row)
    found = [Group(members, key, stored=True) for key, members in stored.items()]
    # A row already tried on its own may have been received under its own id: it never joins a digest.
    events = [r for r in fresh if r.event_id is not None and r.attempts == 0]
    if len(events) <= digest_after:
        events = []
    chunks = [events[i : i + DIGEST_MAX] for i in range(0, len(events), DIGEST_MAX)]
    found += [Group(c, message_id(c)) for c in chunks]
    in_digest = {r.id for r in events}
    found += [Group([r], r.msg_id) for r in fresh if r.id not in in_digest]
    return sorted(found, key=lambda group: group.rows[0].id)


def message_id(group: Sequence[outbox.Due]) -> str:
    """The webhook-id: the delivery's own for one alert; for a new digest, one derived from exactly its
    members (stored with the digest's lease, so every resend carries it)."""
    if len(group) == 1:
        return group[0].msg_id
    members = ",".join(str(r.id) for r in group)
    return "msg_digest_" + hashlib.sha256(members.encode()).hexdigest()[:32]


def backoff_delay(schedule: Sequence[float], attempts: int, rng: random.Random | None = None) -> float:
    """The wait after the `attempts`-th failure: the schedule's next step (the last repeats), +-20% jitter."""
    base = schedule[min(attempts, len(schedule) - 1)]
    return base * (rng or random).uniform(0.8, 1.2)
