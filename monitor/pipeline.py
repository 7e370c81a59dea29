"""One poll of one feed, spelt out: fetch -> parse -> filter -> classify -> store -> push.

A feed is an RSS/Atom/JSON feed or an official sanctions list (`format:`); only the parse and
ingest stages differ: a list is read into its selected entries and diffed against the last good fetch
(monitor/lists/) instead of classified item by item.

`poll_feed` is the only function that calls the stages, and the stages never
call each other (the Miniflux shape). Expected outcomes (304, an unchanged
body, nothing new) are values of `PollOutcome.outcome`; a failing feed is
recorded on its row and backed off, never raised to the scheduler.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy.engine import Connection, Engine

from monitor import cluster, notices, outbox, store
from monitor.claims import Claim
from monitor.classify import Baseline, Fact, classify
from monitor.config import Config, FeedConfig, WebhookConfig
from monitor.domain import Decision, FeedItem, FetchResult, ParsedFeed
from monitor.errors import FeedGone, FetchError, FetchRateLimited, FetchStatusError, MonitorError, ParseError
from monitor.fetch import FetchSettings, HostClients, HostLimiter, fetch
from monitor.lists import ParsedList, Selection, describe, diff, ledger, load_selection, read_list
from monitor.metrics import Metrics
from monitor.parse import parse
from monitor.recorder import Recorder
from monitor.supervise import OUTAGE
from monitor.worker import Worker

log = logging.getLogger("monitor.pipeline")
Outcome = Literal["new", "unchanged", "not_modified", "failed", "rate_limited", "gone", "skipped", "fenced"]
Notice = tuple[str, str]  # (kind, detail) of a feed-health notice


@dataclass
class Context:
    """Resources built once by the daemon (or `poll --once`) and shared by every poll. It holds no feed
    state: a feed's row is read by its claim and written by its poll's commit, nowhere else."""

    config: Config
    engine: Engine
    db: Worker
    clients: HostClients
    limiter: HostLimiter
    fetch_settings: FetchSettings
    baseline: Baseline
    metrics: Metrics
    recorder: Recorder
    on_events: Callable[[], None] = lambda: None  # wakes the outbox sender
    rng: random.Random = field(default_factory=random.Random)
    selection: Selection = field(default_factory=load_selection)  # which list entries concern us


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
    notice: Notice | None
    unrouted: frozenset[int] = frozenset()  # events no webhook takes: the log is all they get


async def poll_feed(ctx: Context, feed: FeedConfig, claim: Claim) -> PollOutcome:
    """Poll a claimed feed once and record everything about it, under the claim's lease token. A failure
    of any kind, a bug included, is recorded on the feed's row (counted, backed off, in `monitor feeds`)."""
    try:
        return await _poll(ctx, feed, claim)
    except Exception as error:
        # A traceback for a bug; a database outage is expected and says so in one line.
        bug = not isinstance(error, OUTAGE)
        log.error("poll crashed", exc_info=bug, extra={"feed": feed.name, "error": type(error).__name__})
        internal = MonitorError(f"internal error ({type(error).__name__})")
        try:
            return await _record_failure(ctx, feed, claim, internal, claim.now())
        except Exception:  # the database itself is failing: the caller logs it, the row cannot say it
            raise error from None


async def _poll(ctx: Context, feed: FeedConfig, claim: Claim) -> PollOutcome:
    state = claim.state
    now = claim.now()
    try:
        async with ctx.limiter.slot(state.url):
            result = await fetch(
                ctx.clients.for_url(state.url),
                state.url,
                etag=state.etag,
                last_modified=state.last_modified,
                settings=feed_settings(ctx.fetch_settings, feed),
            )
    except FetchError as error:
        return await _record_failure(ctx, feed, claim, error, now)
    ctx.metrics.fetch_latency.observe(result.elapsed)
    values: dict[str, object] = {
        "last_status": result.status,
        "last_polled_at": now,
        "error_count": 0,
        "last_error": None,
        "last_success_at": now,
        "next_poll_at": next_poll(ctx, feed, claim.now(), errors=0),
    }
    if result.permanent_url:
        values["learned_url"] = result.permanent_url
        log.warning("feed moved permanently; polling the new URL", extra={"feed": feed.name})
    if result.not_modified:
        return await _record_quiet(ctx, feed, claim, "not_modified", values)
    body_hash = hashlib.sha256(result.body).hexdigest()
    if body_hash == state.body_hash:
        return await _record_quiet(ctx, feed, claim, "unchanged", values)
    try:
        parsed = await ctx.db(parse_document, ctx, feed, state, result, now)
    except ParseError as error:
        return await _record_failure(ctx, feed, claim, error, now)
    values |= {
        "etag": _fits(result.etag, 500),
        "last_modified": _fits(result.last_modified, 100),
        "body_hash": body_hash,
        "problem": parsed.problem,
        "title": (parsed.title or "")[:500] or None,
    }
    try:
        ingested = await ctx.db(ingest_document, ctx, feed, claim, parsed, values)
    except ParseError as error:  # a list fetch that fails validation against the last good one
        return await _record_failure(ctx, feed, claim, error, now)
    if ingested is None:
        return _fenced(ctx, feed, claim)
    _after_commit(ctx, state, ingested.notice)
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
            "token": claim.token,
        },
    )
    return PollOutcome(
        feed.name, "new", result.status, ingested.new_items, len(ingested.events), None, _next(values)
    )


def feed_settings(settings: FetchSettings, feed: FeedConfig) -> FetchSettings:
    """The defaults with this feed's own body cap and timeout, where it sets them (full lists are big).
    A feed's own timeout also bounds the wait for the first byte: the EU file takes over a minute to
    generate before it sends anything."""
    if feed.max_body_size is None and feed.timeout is None:
        return settings
    return dataclasses.replace(
        settings,
        max_body_bytes=feed.max_body_size or settings.max_body_bytes,
        total_timeout=feed.timeout or settings.total_timeout,
        read_timeout=max(settings.read_timeout, feed.timeout or 0),
    )


def parse_document(
    ctx: Context, feed: FeedConfig, state: store.FeedState, result: FetchResult, now: datetime
) -> ParsedFeed | ParsedList:
    """Read a fetched body as the feed's format. Runs on the database thread."""
    if feed.is_list:
        tracked = ledger.tracked_keys(ctx.engine, state.id)
        return read_list(feed.format, result.body, ctx.selection, tracked)
    # Relative item links resolve against the URL that answered (parse() strips its credentials).
    headers = {**result.headers, "content-location": result.headers.get("content-location") or result.url}
    return parse(result.body, headers, fetched_at=now)


def ingest_document(
    ctx: Context, feed: FeedConfig, claim: Claim, parsed: ParsedFeed | ParsedList, values: dict[str, object]
) -> Ingested | None:
    if isinstance(parsed, ParsedList):
        return ingest_list(ctx, feed, claim, parsed, values)
    return ingest(ctx, claim, parsed, values)


def ingest_list(
    ctx: Context, feed: FeedConfig, claim: Claim, parsed: ParsedList, values: dict[str, object]
) -> Ingested | None:
    """Validate against the last good fetch, diff per entry, and commit every change with its events,
    outbox rows and the feed's new state (one fenced transaction); None when the lease was lost. The first
    fetch is the baseline: recorded, nothing alerts. Raises ParseError when the fetch fails validation.
    Runs on the database thread."""
    state = claim.state
    now = claim.now()
    previous = ledger.load_previous(ctx.engine, state.id)
    found = diff.compare(previous, parsed, ctx.config.lists)
    rules = ctx.selection.rules(feed.format)
    described = [
        ledger.Described(change, describe.item(change, rules, now), describe.decision(change, rules, found))
        for change in found.changes
    ]
    notice = _recovery(state, new_items=bool(described))
    held = ("bulk_change", describe.bulk_detail(found, rules)) if found.held else None
    write = ledger.ListWrite(state.id, claim.token, _with_notice(values, notice), parsed, found, described)
    unrouted: set[int] = set()
    hooks = ctx.config.webhooks

    def on_notice(conn: Connection, feed_id: int, kind: str, detail: str) -> None:
        wants = (lambda h: h.filter.notices or _wants_list(h, rules.actor)) if kind == "bulk_change" else None
        outbox.insert_notice(conn, feed_id, kind, detail, hooks, now, wants)

    notices_ = [n for n in (notice, held) if n is not None]
    events = ledger.commit(ctx.engine, write, now, _enqueue(ctx, now, unrouted), on_notice, notices_)
    if events is None:
        return None
    if held is not None:
        log.warning("list mass change held for review", extra={"feed": feed.name, "detail": held[1]})
        ctx.on_events()
    return Ingested(len(described), events, notice, frozenset(unrouted))


def _wants_list(hook: WebhookConfig, actor: str) -> bool:
    """Would this webhook take a sanctions alert from this list's actor?"""
    return any(
        outbox.matches(hook, Decision(True, kind, actor, "asserted", True, 1.0, None))
        for kind in ("sanctions_imposed", "sanctions_eased")
    )


def ingest(ctx: Context, claim: Claim, parsed: ParsedFeed, values: dict[str, object]) -> Ingested | None:
    """Filter out what this feed already had, classify the rest, and commit it with its events, outbox rows
    and the feed's new state; None when the lease was lost. Runs on the database thread."""
    state = claim.state
    now = claim.now()  # detection time: what alert latency is measured from
    lkeys = store.link_keys(parsed.items, parsed.link_keys)
    fresh = store.filter_new(ctx.engine, state.id, parsed.items, lkeys)
    max_age = timedelta(seconds=ctx.config.defaults.max_item_age)
    batch = [
        (item, decide(ctx.baseline, item), is_backlog(item, now, max_age, state.polled_before))
        for item in fresh
    ]
    if fresh:
        values = {**values, "last_new_item_at": now}
    notice = _recovery(state, new_items=bool(fresh))
    write = store.PollWrite(state.id, claim.token, _with_notice(values, notice), batch, lkeys, notice)
    unrouted: set[int] = set()
    saved = store.commit_poll(ctx.engine, write, now, _enqueue(ctx, now, unrouted), _queue_notice(ctx, now))
    return None if saved is None else Ingested(saved.stored, saved.events, notice, frozenset(unrouted))


def _enqueue(ctx: Context, now: datetime, unrouted: set[int]) -> cluster.OnEvent:
    """Queue a new event's deliveries in its transaction; note the events no webhook takes."""
    hooks = ctx.config.webhooks

    def on_event(conn: Connection, event_id: int, decision: Decision) -> None:
        if not outbox.enqueue_event(conn, event_id, decision, hooks, now):
            unrouted.add(event_id)

    return on_event


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


def _queue_notice(ctx: Context, now: datetime) -> store.OnNotice:
    hooks = ctx.config.webhooks

    def on_notice(conn: Connection, feed_id: int, kind: str, detail: str) -> None:
        outbox.insert_notice(conn, feed_id, kind, detail, hooks, now)

    return on_notice


def _no_event(conn: Connection, event_id: int, decision: Decision) -> None:
    raise AssertionError("a poll without items created an event")


def _with_notice(values: dict[str, object], notice: Notice | None) -> dict[str, object]:
    """The feed row remembers the last notice sent (one per episode) until it recovers."""
    if notice is None:
        return values
    return {**values, "notice_state": None if notice[0] == "recovered" else notice[0]}


def _next(values: dict[str, object]) -> datetime | None:
    value = values.get("next_poll_at")
    return value if isinstance(value, datetime) else None


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
            act=e.decision.act,
        )
        for e in events
        if e.decision.modality == "asserted" and e.decision.actor and e.decision.event_type
    ]
    return baseline.with_facts(facts) if facts else baseline


def next_poll(ctx: Context, feed: FeedConfig, now: datetime, errors: int) -> datetime:
    """The feed's interval with jitter; after failures, exponential backoff up to the cap. Counted from the
    answer (`now` after the fetch), so a slow poll is never due again the moment it commits."""
    defaults = ctx.config.defaults
    base = (
        feed.interval if errors == 0 else min(defaults.backoff_cap, feed.interval * 2 ** min(errors - 1, 20))
    )
    jitter = (
        ctx.rng.uniform(-defaults.jitter, defaults.jitter) if errors == 0 else ctx.rng.uniform(0, base * 0.2)
    )
    return now + timedelta(seconds=max(1.0, base + jitter))


async def _commit(ctx: Context, claim: Claim, values: dict[str, object], notice: Notice | None) -> bool:
    """Write a poll without new items (a failure, a notice); False when the lease was lost."""
    write = store.PollWrite(claim.state.id, claim.token, _with_notice(values, notice), notice=notice)
    saved = await ctx.db(
        store.commit_poll, ctx.engine, write, claim.now(), _no_event, _queue_notice(ctx, claim.now())
    )
    if saved is None:
        return False
    _after_commit(ctx, claim.state, notice)
    return True


def _fenced(ctx: Context, feed: FeedConfig, claim: Claim) -> PollOutcome:
    ctx.metrics.polled(feed.name, "fenced", 0, [])
    log.warning(
        "lease lost while polling: another replica holds the feed now; results discarded",
        extra={"feed": feed.name, "token": claim.token},
    )
    return PollOutcome(feed.name, "fenced")


def _after_commit(ctx: Context, state: store.FeedState, notice: Notice | None) -> None:
    if notice is not None:
        log.warning("feed notice", extra={"feed": state.name, "notice": notice[0], "detail": notice[1]})
        ctx.on_events()


async def _record_quiet(
    ctx: Context, feed: FeedConfig, claim: Claim, outcome: Outcome, values: dict[str, object]
) -> PollOutcome:
    notice = _recovery(claim.state, new_items=False) or await _silence(ctx, feed, claim)
    if notice is None:
        ctx.recorder.add(feed.name, claim.state.id, claim.token, values)  # batched: the warm path
    elif not await _commit(ctx, claim, values, notice):
        return _fenced(ctx, feed, claim)
    ctx.metrics.polled(feed.name, outcome, 0, [])
    log.debug("polled", extra={"feed": feed.name, "outcome": outcome, "token": claim.token})
    status = 304 if outcome == "not_modified" else 200
    return PollOutcome(feed.name, outcome, status, next_poll_at=_next(values))


async def _record_failure(
    ctx: Context, feed: FeedConfig, claim: Claim, error: Exception, now: datetime
) -> PollOutcome:
    state = claim.state
    status = error.status if isinstance(error, FetchStatusError) else None
    gone = isinstance(error, FeedGone)
    if isinstance(error, FetchRateLimited) and error.retry_after is not None:
        return await _record_rate_limited(ctx, feed, claim, error, error.retry_after, now)
    count = state.error_count + 1
    next_at = None if gone else next_poll(ctx, feed, claim.now(), errors=count)
    values: dict[str, object] = {
        "error_count": count,
        "last_error": str(error)[:1000],
        "last_status": status,
        "last_polled_at": now,
        "next_poll_at": next_at,
        "gone": gone,
    }
    kind = notices.after_failure(count, ctx.config.health.failing_after, state.notice_state, gone)
    notice = (kind, f"{count} consecutive failures; last: {error}") if kind else None
    if not await _commit(ctx, claim, values, notice):
        return _fenced(ctx, feed, claim)
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
                "token": claim.token,
            },
        )
    return PollOutcome(feed.name, outcome, status, error=str(error), next_poll_at=next_at)


async def _record_rate_limited(
    ctx: Context,
    feed: FeedConfig,
    claim: Claim,
    error: FetchRateLimited,
    retry_after: float,
    now: datetime,
) -> PollOutcome:
    """Come back when the server says, and not sooner than usual. Not a breakage, unless the server asks
    for longer than `backoff_cap`: that wait is cut to the cap (a Retry-After of 10^12 s would silence the
    feed for good) and the poll counts as failed (error count, the failing notice after
    `health.failing_after`)."""
    state = claim.state
    cap = ctx.config.defaults.backoff_cap
    wait = min(max(retry_after, feed.interval), cap)
    next_at = claim.now() + timedelta(seconds=wait)
    count = state.error_count + 1 if retry_after > cap else state.error_count
    values: dict[str, object] = {
        "error_count": count,
        "last_status": error.status,
        "last_error": str(error)[:1000],
        "last_polled_at": now,
        "next_poll_at": next_at,
    }
    kind = notices.after_failure(count, ctx.config.health.failing_after, state.notice_state, gone=False)
    notice = (
        (kind, f"{count} consecutive failures; last: {error}") if kind and count > state.error_count else None
    )
    if not await _commit(ctx, claim, values, notice):
        return _fenced(ctx, feed, claim)
    ctx.metrics.polled(feed.name, "rate_limited", 0, [])
    log.warning(
        "feed rate limited",
        extra={"feed": feed.name, "status": error.status, "retry_in": round(wait), "token": claim.token},
    )
    return PollOutcome(feed.name, "rate_limited", error.status, error=str(error), next_poll_at=next_at)


def _recovery(state: store.FeedState, *, new_items: bool) -> Notice | None:
    if state.notice_state == "failing":
        return "recovered", f"polling succeeds again after {state.error_count} failures"
    if state.notice_state == "silent" and new_items:
        return "recovered", "new items again after a silence"
    return None


async def _silence(ctx: Context, feed: FeedConfig, claim: Claim) -> Notice | None:
    state = claim.state
    now = claim.now()
    # Silence needs a quiet spell longer than MIN_SILENCE: no query until one is possible (the warm path).
    # A sanctions list is quiet for months by nature: silence says nothing about it.
    if feed.is_list or state.notice_state is not None or state.last_new_item_at is None:
        return None
    if (now - state.last_new_item_at).total_seconds() <= notices.MIN_SILENCE:
        return None
    gap = await ctx.db(notices.usual_gap, ctx.engine, state.id)
    if not notices.is_silent(
        state.last_new_item_at, gap, now, ctx.config.health.silent_factor, state.notice_state
    ):
        return None
    quiet = now - state.last_new_item_at
    detail = (
        f"no new items for {quiet.days}d {quiet.seconds // 3600}h (usually every {round(gap or 0) // 60} min)"
    )
    return "silent", detail
