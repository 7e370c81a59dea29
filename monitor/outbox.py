"""The transactional outbox: delivery rows written with their event, read and updated by the sender.

A delivery is `pending` until its webhook accepts it (`sent`), refuses the
payload or outlives `delivery.max_age` (`dead`). Before each attempt the row is
leased (attempts + 1, next attempt pushed past the request timeout) and
committed, so a killed process retries it after the lease: a duplicate can
only follow a request that may already have been received, and it carries the
same `msg_id` (the generic target's webhook-id). A digest's membership and
webhook-id are written with its lease, so a resend after a kill is the same
message with the same id. In a burst the sender records an accepted request in
the transaction that leases the next one (`record_and_lease`).

A delivery's age (for `delivery.max_age`) counts from `age_from` when set: an
operator's retry restarts it, and time spent while its target was broken
does not count.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor import models
from monitor.classify import actor_name
from monitor.config import WebhookConfig
from monitor.domain import Alert, Decision, ListReference, Notice
from monitor.models import DELIVERIES, EVENTS, FEEDS, ITEMS, LIST_CHANGES, NOTICES, WEBHOOKS
from monitor.target_claims import Claim, db_now, held_by, with_stored_pause


@dataclass(frozen=True, slots=True)
class Due:
    """A delivery whose time has come."""

    id: int
    msg_id: str
    webhook: str
    event_id: int | None
    notice_id: int | None
    attempts: int
    created_at: datetime  # the age base: age_from when set, else when the row was written
    digest_msg_id: str | None = None  # set: this row goes out in that digest again, with that id


def matches(hook: WebhookConfig, decision: Decision) -> bool:
    """Does a webhook's filter select this event?"""
    flt = hook.filter
    if flt.event_types is not None and decision.event_type not in flt.event_types:
        return False
    if flt.actors is not None and decision.actor not in flt.actors:
        return False
    if decision.modality == "planned" and not flt.planned:
        return False
    return bool(decision.confidence >= flt.min_confidence)


def _row(webhook: str, now: datetime, **target: int) -> dict[str, object]:
    return {
        "msg_id": f"msg_{uuid.uuid4().hex}",
        "webhook": webhook,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        **target,
    }


def enqueue_event(
    conn: Connection, event_id: int, decision: Decision, hooks: Iterable[WebhookConfig], now: datetime
) -> int:
    """Write one pending delivery per enabled webhook whose filter matches; in the event's transaction."""
    rows = [_row(h.name, now, event_id=event_id) for h in hooks if h.enabled and matches(h, decision)]
    if rows:
        conn.execute(sa.insert(DELIVERIES), rows)
    return len(rows)


def record_notice(
    engine: Engine, feed_id: int, kind: str, detail: str, hooks: Iterable[WebhookConfig], now: datetime
) -> int:
    """Store a feed-health notice and queue it for the webhooks that asked for notices."""
    with engine.begin() as conn:
        return insert_notice(conn, feed_id, kind, detail, hooks, now)


def insert_notice(
    conn: Connection,
    feed_id: int,
    kind: str,
    detail: str,
    hooks: Iterable[WebhookConfig],
    now: datetime,
    wants: Callable[[WebhookConfig], bool] | None = None,
) -> int:
    """record_notice inside a caller's transaction (a poll's results commit in one). `wants` picks the
    webhooks (default: those that asked for notices)."""
    notice_id = conn.execute(
        sa.insert(NOTICES)
        .values(feed_id=feed_id, kind=kind, detail=detail[:1000], created_at=now)
        .returning(NOTICES.c.id)
    ).scalar_one()
    chosen = wants or (lambda hook: hook.filter.notices)
    rows = [_row(h.name, now, notice_id=notice_id) for h in hooks if h.enabled and chosen(h)]
    if rows:
        conn.execute(sa.insert(DELIVERIES), rows)
    return int(notice_id)


def _sendable(webhooks: Collection[str]) -> sa.ColumnElement[bool]:
    """Pending rows of configured, enabled webhooks that are not broken."""
    return sa.and_(
        DELIVERIES.c.status == "pending", DELIVERIES.c.webhook.in_(webhooks), WEBHOOKS.c.broken.is_(False)
    )


def due_targets(engine: Engine, now: datetime, webhooks: Collection[str]) -> list[str]:
    """The targets with at least one delivery due now."""
    query = (
        sa.select(DELIVERIES.c.webhook)
        .join(WEBHOOKS, WEBHOOKS.c.name == DELIVERIES.c.webhook)
        .where(_sendable(webhooks), DELIVERIES.c.next_attempt_at <= now)
        .distinct()
    )
    with engine.connect() as conn:
        return sorted(conn.execute(query).scalars())


def due(engine: Engine, now: datetime, webhooks: Collection[str], limit: int = 500) -> list[Due]:
    """Deliveries whose next attempt is due, oldest first. A row waits while an earlier row of its webhook
    waits for a retry, so a later alert never overtakes an earlier one."""
    earlier = DELIVERIES.alias("earlier")
    blocked = sa.exists().where(
        earlier.c.webhook == DELIVERIES.c.webhook,
        earlier.c.status == "pending",
        earlier.c.id < DELIVERIES.c.id,
        earlier.c.next_attempt_at > now,
    )
    query = (
        sa.select(DELIVERIES)
        .join(WEBHOOKS, WEBHOOKS.c.name == DELIVERIES.c.webhook)
        .where(_sendable(webhooks), DELIVERIES.c.next_attempt_at <= now, ~blocked)
        .order_by(DELIVERIES.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [
            Due(
                r.id,
                r.msg_id,
                r.webhook,
                r.event_id,
                r.notice_id,
                r.attempts,
                r.age_from or r.created_at,
                r.digest_msg_id,
            )
            for r in conn.execute(query)
        ]


def next_due_at(engine: Engine, webhooks: Collection[str]) -> datetime | None:
    """When the first of `webhooks` has something to send: the next attempt of each target's oldest pending
    row (the rows behind it wait for it, in order)."""
    heads = (
        sa.select(sa.func.min(DELIVERIES.c.id))
        .where(DELIVERIES.c.status == "pending", DELIVERIES.c.webhook.in_(webhooks))
        .group_by(DELIVERIES.c.webhook)
    )
    query = (
        sa.select(sa.func.min(DELIVERIES.c.next_attempt_at))
        .join(WEBHOOKS, WEBHOOKS.c.name == DELIVERIES.c.webhook)
        .where(_sendable(webhooks), DELIVERIES.c.id.in_(heads))
    )
    with engine.connect() as conn:
        value = conn.execute(query).scalar()
    return models.UTCDateTime().process_result_value(value, engine.dialect) if value else None


def lease(
    engine: Engine,
    ids: Sequence[int],
    now: datetime,
    until: datetime,
    *,
    claim: Claim | None = None,
    digest_msg_id: str | None = None,
) -> bool:
    """Count an attempt and hold the rows until `until`, committed before the request goes out.
    A compare-and-set: False (and nothing held) when another sender took any of the rows first, or when
    `claim` is no longer the target's current claim. A digest's rows get its id and carrier here."""
    with engine.begin() as conn:
        if not _lease(conn, ids, now, until, claim, digest_msg_id):
            conn.rollback()
            return False
    return True


@dataclass(frozen=True, slots=True)
class Sent:
    """A request its webhook accepted (2xx), to be recorded: the rows it carried, the status, when."""

    ids: tuple[int, ...]
    webhook: str
    status: int | None
    at: datetime


def record_and_lease(
    engine: Engine,
    sent: Sent | None,
    ids: Sequence[int],
    now: datetime,
    until: datetime,
    *,
    claim: Claim,
    digest_msg_id: str | None = None,
) -> Claim | None:
    """`mark_sent` of the previous request and `lease` of the next, in one write transaction (a lane's
    burst commits once per alert). `sent` is recorded whatever becomes of the lease. Returns `claim` with
    the pause now stored on its target (as a renewal would), or None when the lease is refused.
    The lease goes first: on PostgreSQL it locks the rows, as `requeue` does, before the target's row.
    """
    with engine.begin() as conn:
        if _lease(conn, ids, now, until, claim, digest_msg_id):
            if sent is not None:
                _mark_sent(conn, sent)
            return with_stored_pause(conn, claim)
        conn.rollback()
    if sent is not None:  # the lease was refused; the delivery it followed still happened
        mark_sent(engine, sent.ids, sent.webhook, sent.status, sent.at)
    return None


def _lease(
    conn: Connection,
    ids: Sequence[int],
    now: datetime,
    until: datetime,
    claim: Claim | None,
    digest_msg_id: str | None,
) -> bool:
    """The lease's statement; False when it did not take every row (the caller rolls back)."""
    values: dict[str, object] = {"attempts": DELIVERIES.c.attempts + 1, "next_attempt_at": until}
    if digest_msg_id is not None:
        values.update(digest_msg_id=digest_msg_id, digest_id=ids[0])
    fenced = [held_by(claim, db_now(conn, now))] if claim is not None else []
    result = conn.execute(
        sa.update(DELIVERIES)
        .where(
            DELIVERIES.c.id.in_(ids),
            DELIVERIES.c.status == "pending",
            DELIVERIES.c.next_attempt_at <= now,
            *fenced,
        )
        .values(**values)
    )
    return bool(result.rowcount == len(ids))


def mark_sent(engine: Engine, ids: Sequence[int], webhook: str, status: int | None, now: datetime) -> None:
    with engine.begin() as conn:
        _mark_sent(conn, Sent(tuple(ids), webhook, status, now))


def _mark_sent(conn: Connection, sent: Sent) -> None:
    carrier = sent.ids[0] if len(sent.ids) > 1 else None
    conn.execute(
        sa.update(DELIVERIES)
        .where(DELIVERIES.c.id.in_(sent.ids))
        .values(
            status="sent",
            sent_at=sent.at,
            last_status_code=sent.status,
            last_error=None,
            next_attempt_at=None,
            digest_id=carrier,
        )
    )
    conn.execute(sa.update(WEBHOOKS).where(WEBHOOKS.c.name == sent.webhook).values(last_sent_at=sent.at))


def mark_failed(
    engine: Engine, ids: Sequence[int], *, status: int | None, error: str, next_attempt_at: datetime | None
) -> None:
    """Record a failed attempt: retry at `next_attempt_at`, or dead when it is None."""
    values: dict[str, object] = {
        "last_status_code": status,
        "last_error": error[:1000],
        "next_attempt_at": next_attempt_at,
    }
    if next_attempt_at is None:
        values["status"] = "dead"
    with engine.begin() as conn:
        conn.execute(sa.update(DELIVERIES).where(DELIVERIES.c.id.in_(ids)).values(**values))


def mark_broken(
    engine: Engine, webhook: str, ids: Sequence[int], *, status: int | None, reason: str, now: datetime
) -> None:
    """Stop sending to a revoked or unknown target; its rows stay pending for when it is fixed."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(WEBHOOKS)
            .where(WEBHOOKS.c.name == webhook)
            .values(broken=True, broken_reason=reason[:1000], broken_at=now)
        )
        conn.execute(
            sa.update(DELIVERIES)
            .where(DELIVERIES.c.id.in_(ids))
            .values(last_status_code=status, last_error=reason[:1000], next_attempt_at=now)
        )


@dataclass(frozen=True, slots=True)
class Lost:
    """A delivery that went dead without being sent."""

    id: int
    webhook: str
    event_id: int | None
    notice_id: int | None
    reason: str


def expire(engine: Engine, now: datetime, max_age: float) -> list[Lost]:
    """Pending deliveries older than `max_age` seconds are dead: an alert that late is noise.
    Returns them, so that each is logged and counted (a lost alert is never silent)."""
    cutoff = now - timedelta(seconds=max_age)
    where = sa.and_(
        DELIVERIES.c.status == "pending",
        sa.func.coalesce(DELIVERIES.c.age_from, DELIVERIES.c.created_at) < cutoff,
        # A row under lease may be in flight right now: it is judged once its request has ended.
        sa.or_(DELIVERIES.c.next_attempt_at.is_(None), DELIVERIES.c.next_attempt_at <= now),
        # A broken target keeps its rows until its URL is fixed or it is retried.
        DELIVERIES.c.webhook.not_in(sa.select(WEBHOOKS.c.name).where(WEBHOOKS.c.broken.is_(True))),
    )
    # One statement: two replicas expiring at once each report only the rows they changed.
    with engine.begin() as conn:
        rows = conn.execute(
            sa.update(DELIVERIES)
            .where(where)
            .values(
                status="dead",
                last_error=sa.func.coalesce(DELIVERIES.c.last_error, "") + " [expired]",
                next_attempt_at=None,
            )
            .returning(
                DELIVERIES.c.id,
                DELIVERIES.c.webhook,
                DELIVERIES.c.event_id,
                DELIVERIES.c.notice_id,
                DELIVERIES.c.last_error,
            )
        ).all()
    return [
        Lost(
            r.id,
            r.webhook,
            r.event_id,
            r.notice_id,
            f"not delivered within max_age; last: {str(r.last_error).removesuffix(' [expired]') or None}",
        )
        for r in rows
    ]


def resume_target(conn: Connection, webhook: str, broken_at: datetime | None, now: datetime) -> None:
    """A broken target was fixed: its kept deliveries resume, their age not counting the broken spell."""
    if broken_at is None:
        return
    broken_for = now - broken_at
    rows = conn.execute(
        sa.select(DELIVERIES.c.id, DELIVERIES.c.age_from, DELIVERIES.c.created_at).where(
            DELIVERIES.c.webhook == webhook, DELIVERIES.c.status == "pending"
        )
    ).all()
    utc = models.UTCDateTime()
    for row in rows:
        base = utc.process_result_value(row.age_from or row.created_at, conn.dialect)
        if base is None:
            continue
        shifted = min(now, base + broken_for) if base < broken_at else base
        conn.execute(sa.update(DELIVERIES).where(DELIVERIES.c.id == row.id).values(age_from=shifted))


@dataclass(frozen=True, slots=True)
class Requeued:
    count: int  # rows requeued
    digest_peers: int = 0  # of them, the other members of the asked row's digest


def requeue(engine: Engine, now: datetime, delivery_id: int | None = None) -> Requeued:
    """Requeue one unsent delivery with every other unsent member of its digest (a digest goes out whole
    or not at all: one member alone under the digest's id would be a different body with the same
    webhook-id), or (without an id) every dead one: due now, with a fresh age. Asking to retry also clears
    a `broken` mark on their webhooks (a transient 404 or 410 is not final); their other kept deliveries
    resume with their age, untouched otherwise."""
    with engine.begin() as conn:
        where, peers = _requeue_rows(conn, delivery_id)
        hooks = list(conn.execute(sa.select(DELIVERIES.c.webhook).where(where).distinct()).scalars())
        broken = conn.execute(
            sa.select(WEBHOOKS.c.name, WEBHOOKS.c.broken_at).where(
                WEBHOOKS.c.name.in_(hooks), WEBHOOKS.c.broken.is_(True)
            )
        ).all()
        utc = models.UTCDateTime()
        for hook in broken:
            resume_target(conn, hook.name, utc.process_result_value(hook.broken_at, conn.dialect), now)
        result = conn.execute(
            sa.update(DELIVERIES)
            .where(where)
            .values(
                status="pending",
                next_attempt_at=now,
                age_from=now,
                # A dead digest's rows go out afresh (perhaps alone): a new message, so a new id.
                digest_msg_id=sa.case(
                    (DELIVERIES.c.status == "dead", None), else_=DELIVERIES.c.digest_msg_id
                ),
            )
        )
        conn.execute(
            sa.update(WEBHOOKS)
            .where(WEBHOOKS.c.name.in_(hooks))
            .values(broken=False, broken_reason=None, broken_at=None, paused_until=None)
        )
    return Requeued(int(result.rowcount), peers)


def _requeue_rows(conn: Connection, delivery_id: int | None) -> tuple[sa.ColumnElement[bool], int]:
    """Which rows a retry requeues, and how many of them are the asked row's digest peers."""
    unsent = DELIVERIES.c.status != "sent"
    if delivery_id is None:
        return DELIVERIES.c.status == "dead", 0
    digest = conn.execute(
        sa.select(DELIVERIES.c.digest_msg_id).where(DELIVERIES.c.id == delivery_id, unsent)
    ).scalar()
    if digest is None:
        return sa.and_(DELIVERIES.c.id == delivery_id, unsent), 0
    where = sa.and_(DELIVERIES.c.digest_msg_id == digest, unsent)
    peers = conn.execute(sa.select(sa.func.count()).where(where, DELIVERIES.c.id != delivery_id)).scalar_one()
    return where, int(peers)


def load_alert(engine: Engine, event_id: int) -> Alert:
    query = (
        sa.select(EVENTS, FEEDS.c.name.label("feed"), FEEDS.c.official, ITEMS.c.summary)
        .select_from(
            EVENTS.outerjoin(ITEMS, ITEMS.c.id == EVENTS.c.first_item_id).outerjoin(
                FEEDS, FEEDS.c.id == ITEMS.c.feed_id
            )
        )
        .where(EVENTS.c.id == event_id)
    )
    with engine.connect() as conn:
        row = conn.execute(query).one()
        # Reports known when the event was detected: later ones must not change a resent alert's body.
        known = sa.and_(ITEMS.c.event_id == event_id, ITEMS.c.first_seen_at <= row.detected_at)
        sources = conn.execute(sa.select(sa.func.count()).where(known)).scalar_one()
    return Alert(
        event_id=row.id,
        event_type=row.event_type,
        actor=row.actor,
        actor_name=actor_name(row.actor) if row.actor else None,
        modality=row.modality,
        confidence=row.confidence,
        headline=row.headline,
        link=row.link,
        feed=row.feed or "",
        published=row.published or row.detected_at,
        evidence=row.evidence,
        rule=row.rule,
        sources=max(1, int(sources)),
        summary=row.summary or "",
        official=bool(row.official),
        list_entry=_list_reference(engine, row.first_item_id),
    )


def _list_reference(engine: Engine, item_id: int | None) -> ListReference | None:
    """The sanctions-list entry behind an event's first report, when it is a list change."""
    if item_id is None:
        return None
    with engine.connect() as conn:
        row = conn.execute(sa.select(LIST_CHANGES).where(LIST_CHANGES.c.item_id == item_id)).first()
    if row is None:
        return None
    substance = json.loads(row.after or row.before or "{}")

    def first(name: str) -> str | None:
        found = substance.get(name) or [None]
        return str(found[0]) if found[0] else None

    return ListReference(row.key, first("name") or "", row.change, first("listed_on"), row.un_ref)


def load_notice(engine: Engine, notice_id: int) -> Notice:
    query = (
        sa.select(NOTICES, FEEDS.c.name.label("feed"))
        .join(FEEDS, FEEDS.c.id == NOTICES.c.feed_id)
        .where(NOTICES.c.id == notice_id)
    )
    with engine.connect() as conn:
        row = conn.execute(query).one()
    return Notice(feed=row.feed, kind=row.kind, detail=row.detail, at=row.created_at)
