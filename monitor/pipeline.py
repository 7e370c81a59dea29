"""One poll of one feed, spelt out: fetch -> parse -> filter -> classify -> store -> push.

`poll_feed` is the only function that calls the stages, and the stages never
call each other (the Miniflux shape). Expected outcomes (304, an unchanged
body, nothing new) are values of `PollOutcome.outcome`; a failing feed is
recorded on its row and backed off, never raised to the scheduler.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from sqlalchemy.engine import Connection, Engine

from monitor import notices, outbox, store
from monitor.classify import Baseline, Fact, classify
from monitor.config import Config, FeedConfig
from monitor.dbthread import DbThread
from monitor.domain import Decision, FeedItem, ParsedFeed
from monitor.errors import FeedGone, FetchError, FetchRateLimited, FetchStatusError, ParseError
from monitor.fetch import FetchSettings, HostClients, HostLimiter, fetch
from monitor.metrics import Metrics
from monitor.parse import link_key, parse
from monitor.recorder import Recorder

log = logging.getLogger("monitor.pipeline")
Outcome = Literal["new", "unchanged", "not_modified", "failed", "rate_limited", "gone", "skipped"]


@dataclass
class Context:
    """Resources built once by the daemon (or `poll --once`) and shared by every poll."""

    config: Config
    engine: Engine
    db: DbThread
    clients: HostClients
    limiter: HostLimiter
    fetch_settings: FetchSettings
    baseline: Baseline
    metrics: Metrics
    recorder: Recorder
    states: dict[str, store.FeedState]  # every feed's row as last written: no read before each poll
    on_events: Callable[[], None] = lambda: None  # wakes the outbox sender
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    rng: random.Random = field(default_factory=random.Random)


@dataclass(frozen=True, slots=True)
class PollOutcome:
    feed: str
    outcome: Outcome
    status: int | None = None
    new_items: int = 0
    events: int = 0
    error: str | None = None
    next_poll_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Ingested:
    new_items: int
    events: list[store.NewEvent]
    unrouted: frozenset[int] = frozenset()  # events no webhook takes: the log is all they get


async def poll_feed(ctx: Context, feed: FeedConfig) -> PollOutcome:
    """Poll `feed` (a config.FeedConfig) once and record everything about it."""
    now = ctx.clock()
    state = ctx.states.get(feed.name) or await ctx.db(store.load_feed, ctx.engine, feed.name)
    if state is None or state.gone:
        return PollOutcome(feed.name, "skipped")
    try:
        async with ctx.limiter.slot(state.url):
            result = await fetch(
                ctx.clients.for_url(state.url),
                state.url,
                etag=state.etag,
                last_modified=state.last_modified,
                settings=ctx.fetch_settings,
            )
    except FetchError as error:
        return await _record_failure(ctx, feed, state, error, now)
    ctx.metrics.fetch_latency.observe(result.elapsed)
    common: dict[str, object] = {
        "last_status": result.status,
        "last_polled_at": now,
        "error_count": 0,
        "last_error": None,
        "last_success_at": now,
    }
    if result.permanent_url:
        common["learned_url"] = result.permanent_url
        log.warning("feed moved permanently; polling the new URL", extra={"feed": feed.name})
    next_at = next_poll(ctx, feed, now, errors=0)
    if result.not_modified:
        return await _record_quiet(ctx, feed, state, "not_modified", next_at, common)
    body_hash = hashlib.sha256(result.body).hexdigest()
    if body_hash == state.body_hash:
        return await _record_quiet(ctx, feed, state, "unchanged", next_at, common)
    try:
        # Relative item links resolve against the URL that answered (parse() strips its credentials).
        headers = {**result.headers, "content-location": result.headers.get("content-location") or result.url}
        parsed = await ctx.db(parse, result.body, headers, fetched_at=now)
    except ParseError as error:
        return await _record_failure(ctx, feed, state, error, now)
    ingested = await ctx.db(ingest, ctx, state, parsed)
    validators = {
        "etag": _fits(result.etag, 500),
        "last_modified": _fits(result.last_modified, 100),
        "body_hash": body_hash,
        "problem": parsed.problem,
        "title": (parsed.title or "")[:500] or None,
        "next_poll_at": next_at,
    }
    if ingested.new_items:
        validators["last_new_item_at"] = now
    await write_state(ctx, state, **common, **validators)
    await _maybe_recovered(ctx, state, new_items=ingested.new_items > 0)
    if ingested.events:
        ctx.baseline = grow(ctx.baseline, ingested.events)
        log_unrouted(feed, ingested)
        ctx.on_events()
    ctx.metrics.polled(feed.name, "new", ingested.new_items, [e.decision.event_type for e in ingested.events])
    log.info(
        "polled",
        extra={
            "feed": feed.name,
            "status": result.status,
            "items_new": ingested.new_items,
            "events": len(ingested.events),
        },
    )
    return PollOutcome(
        feed.name, "new", result.status, ingested.new_items, len(ingested.events), None, next_at
    )


def ingest(ctx: Context, state: store.FeedState, parsed: ParsedFeed) -> Ingested:
    """Filter out what this feed already had, classify the rest, store it with its events and outbox rows.
    Runs on the database thread."""
    now = ctx.clock()  # detection time: what alert latency is measured from
    lkeys = store.link_keys(parsed.items, {i.key: link_key(i) for i in parsed.items})
    fresh = store.filter_new(ctx.engine, state.id, parsed.items, lkeys)
    if not fresh:
        return Ingested(0, [])
    max_age = timedelta(seconds=ctx.config.defaults.max_item_age)
    batch = [
        (item, decide(ctx.baseline, item), is_backlog(item, now, max_age, state.polled_before))
        for item in fresh
    ]
    hooks = ctx.config.webhooks
    unrouted: set[int] = set()

    def on_event(conn: Connection, event_id: int, decision: Decision) -> None:
        if not outbox.enqueue_event(conn, event_id, decision, hooks, now):
            unrouted.add(event_id)

    saved = store.save_items(ctx.engine, state.id, batch, lkeys, now, on_event)
    return Ingested(saved.stored, saved.events, frozenset(unrouted))


def log_unrouted(feed: FeedConfig, ingested: Ingested) -> None:
    """An alert no webhook takes (none configured, or every filter refuses it) is not dropped silently:
    one log line with its evidence shows what would have been sent."""
    for event in ingested.events:
        if event.event_id in ingested.unrouted:
            decision = event.decision
            log.warning(
                "alert not sent: no webhook takes it",
                extra={
                    "feed": feed.name,
                    "event": event.event_id,
                    "event_type": decision.event_type,
                    "actor": decision.actor,
                    "modality": decision.modality,
                    "headline": event.item.title,
                    "evidence": decision.evidence.sentence if decision.evidence else None,
                    "link": event.item.link,
                },
            )


def _fits(value: str | None, limit: int) -> str | None:
    """A validator too long for its column is dropped: the body hash still saves the parse."""
    return value if value is not None and len(value) <= limit else None


def decide(baseline: Baseline, item: FeedItem) -> Decision:
    published: date | None = item.published.date() if item.published_known else None
    return classify(item.title, item.summary, baseline, published)


def is_backlog(item: FeedItem, now: datetime, max_age: timedelta, polled_before: bool) -> bool:
    """Too old to alert on: older than the max item age, or undated on a feed's first poll (its backlog)."""
    if not item.published_known:
        return not polled_before
    return now - item.published > max_age


def grow(baseline: Baseline, events: Sequence[store.NewEvent]) -> Baseline:
    """Confirmed (asserted) events become baseline facts, so their restatements stop alerting."""
    facts = [
        Fact(
            actor=e.decision.actor,
            relation=e.decision.event_type,
            target="taliban",
            date=e.item.published.date(),
            source=e.item.link or "",
            note=e.item.title[:200],
        )
        for e in events
        if e.decision.modality == "asserted" and e.decision.actor and e.decision.event_type
    ]
    return baseline.with_facts(facts) if facts else baseline


def next_poll(ctx: Context, feed: FeedConfig, now: datetime, errors: int) -> datetime:
    """The feed's interval with jitter; after failures, exponential backoff up to the cap."""
    defaults = ctx.config.defaults
    base = (
        feed.interval if errors == 0 else min(defaults.backoff_cap, feed.interval * 2 ** min(errors - 1, 20))
    )
    jitter = (
        ctx.rng.uniform(-defaults.jitter, defaults.jitter) if errors == 0 else ctx.rng.uniform(0, base * 0.2)
    )
    return now + timedelta(seconds=max(1.0, base + jitter))


async def write_state(ctx: Context, state: store.FeedState, **values: object) -> None:
    """Write a feed's row and keep the in-memory copy equal to it."""
    ctx.states[state.name] = store.applied(state, values)
    await ctx.db(store.record_poll, ctx.engine, state.id, **values)


async def _record_quiet(
    ctx: Context,
    feed: FeedConfig,
    state: store.FeedState,
    outcome: Outcome,
    next_at: datetime,
    common: dict[str, object],
) -> PollOutcome:
    values = {**common, "next_poll_at": next_at}
    ctx.states[state.name] = store.applied(state, values)
    ctx.recorder.add(state.id, values)  # batched: the warm path
    await _maybe_recovered(ctx, state, new_items=False)
    await _maybe_silent(ctx, feed, state)
    ctx.metrics.polled(feed.name, outcome, 0, [])
    log.debug("polled", extra={"feed": feed.name, "outcome": outcome})
    status = 304 if outcome == "not_modified" else 200
    return PollOutcome(feed.name, outcome, status, next_poll_at=next_at)


async def _record_failure(
    ctx: Context, feed: FeedConfig, state: store.FeedState, error: Exception, now: datetime
) -> PollOutcome:
    status = error.status if isinstance(error, FetchStatusError) else None
    gone = isinstance(error, FeedGone)
    if isinstance(error, FetchRateLimited) and error.retry_after is not None:
        return await _record_rate_limited(ctx, feed, state, error, error.retry_after, now)
    count = state.error_count + 1
    next_at = None if gone else next_poll(ctx, feed, now, errors=count)
    await write_state(
        ctx,
        state,
        error_count=count,
        last_error=str(error)[:1000],
        last_status=status,
        last_polled_at=now,
        next_poll_at=next_at,
        gone=gone,
    )
    outcome: Outcome = "gone" if gone else "failed"
    ctx.metrics.polled(feed.name, outcome, 0, [])
    if gone:
        log.error("feed is gone (HTTP 410); polling it stopped", extra={"feed": feed.name})
    else:
        log.warning(
            "poll failed",
            extra={
                "feed": feed.name,
                "error": str(error),
                "error_count": count,
                "retry_at": next_at.isoformat() if next_at else None,
            },
        )
    kind = notices.after_failure(count, ctx.config.health.failing_after, state.notice_state, gone)
    if kind:
        await _notify(ctx, state, kind, f"{count} consecutive failures; last: {error}")
    return PollOutcome(feed.name, outcome, status, error=str(error), next_poll_at=next_at)


async def _record_rate_limited(
    ctx: Context,
    feed: FeedConfig,
    state: store.FeedState,
    error: FetchRateLimited,
    retry_after: float,
    now: datetime,
) -> PollOutcome:
    """Not a breakage: come back when the server says, and not sooner than usual."""
    wait = max(retry_after, feed.interval)
    next_at = now + timedelta(seconds=wait)
    await write_state(
        ctx,
        state,
        last_status=error.status,
        last_error=str(error)[:1000],
        last_polled_at=now,
        next_poll_at=next_at,
    )
    ctx.metrics.polled(feed.name, "rate_limited", 0, [])
    log.warning(
        "feed rate limited", extra={"feed": feed.name, "status": error.status, "retry_in": round(wait)}
    )
    return PollOutcome(feed.name, "rate_limited", error.status, error=str(error), next_poll_at=next_at)


async def _maybe_recovered(ctx: Context, state: store.FeedState, *, new_items: bool) -> None:
    if state.notice_state == "failing":
        await _notify(ctx, state, "recovered", f"polling succeeds again after {state.error_count} failures")
    elif state.notice_state == "silent" and new_items:
        await _notify(ctx, state, "recovered", "new items again after a silence")


async def _maybe_silent(ctx: Context, feed: FeedConfig, state: store.FeedState) -> None:
    now = ctx.clock()
    # Silence needs a quiet spell longer than MIN_SILENCE: no query until one is possible (the warm path).
    if state.notice_state is not None or state.last_new_item_at is None:
        return
    if (now - state.last_new_item_at).total_seconds() <= notices.MIN_SILENCE:
        return
    gap = await ctx.db(notices.usual_gap, ctx.engine, state.id)
    if notices.is_silent(
        state.last_new_item_at, gap, now, ctx.config.health.silent_factor, state.notice_state
    ):
        quiet = now - state.last_new_item_at if state.last_new_item_at else timedelta(0)
        await _notify(
            ctx,
            state,
            "silent",
            f"no new items for {quiet.days}d {quiet.seconds // 3600}h "
            f"(usually every {round(gap or 0) // 60} min)",
        )


async def _notify(ctx: Context, state: store.FeedState, kind: str, detail: str) -> None:
    now = ctx.clock()
    await ctx.db(outbox.record_notice, ctx.engine, state.id, kind, detail, ctx.config.webhooks, now)
    await write_state(
        ctx, ctx.states.get(state.name, state), notice_state=None if kind == "recovered" else kind
    )
    log.warning("feed notice", extra={"feed": state.name, "notice": kind, "detail": detail})
    ctx.on_events()
