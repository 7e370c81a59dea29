"""Group reports of one development into one event, so twenty outlets alert once.

An alerting item joins an existing event when both name the same act by the
same actor (event type, actor, modality) within that act's window. A formal
recognition happens once per state, so it has no window; sanctions recur (a
new designation next month is news), so their window is short. Without an
actor, the headlines must also be near-duplicates (word-set Jaccard).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from monitor.domain import Decision, FeedItem
from monitor.events import REGISTRY
from monitor.models import EVENT_KEYS, EVENTS, ITEMS

OnEvent = Callable[[Connection, int, Decision], None]

WINDOWS: dict[tuple[str, str], timedelta | None] = {(kind.name, "asserted"): kind.window for kind in REGISTRY}
PLANNED_WINDOW = timedelta(days=14)
SIMILAR = 0.5
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the of to in on for and or by with as at from is are its it after over says said".split()  # noqa: SIM905
)


def words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP)


def similarity(a: str, b: str) -> float:
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def window(decision: Decision) -> timedelta | None:
    key = (decision.event_type or "", decision.modality or "")
    return WINDOWS.get(key, PLANNED_WINDOW)


def identity(decision: Decision) -> str:
    """What makes two reports one development before the window and headline are compared."""
    return f"{decision.event_type}|{decision.actor or '-'}|{decision.modality}"


def lock_identities(conn: Connection, decisions: Sequence[Decision], now: datetime) -> None:
    """Upsert the identity rows of these decisions, which locks them until the transaction ends, so that
    find_event and create_event run one transaction at a time per identity, across replicas. The unique
    key is the identity; the insert tolerates the conflict (it only touches the row). Sorted: two
    transactions lock shared identities in the same order and never deadlock."""
    lock_keys(conn, [identity(d) for d in decisions if d.event_type is not None], now)


def lock_keys(conn: Connection, names: Sequence[str], now: datetime) -> None:
    """Upsert (and so lock until commit) these identity rows, in sorted order."""
    keys = sorted(set(names))
    if not keys:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(EVENT_KEYS).values([{"identity": key, "touched_at": now} for key in keys])
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[EVENT_KEYS.c.identity], set_={"touched_at": insert.excluded.touched_at}
        )
    )


def find_event(conn: Connection, decision: Decision, item: FeedItem, now: datetime) -> int | None:
    """The id of the event this alerting item reports again, or None when it is a new development."""
    query = sa.select(EVENTS.c.id, EVENTS.c.headline).where(
        EVENTS.c.event_type == decision.event_type, EVENTS.c.modality == decision.modality
    )
    span = window(decision)
    if span is not None:
        query = query.where(EVENTS.c.detected_at >= now - span)
    if decision.actor is not None:
        row = conn.execute(
            query.where(EVENTS.c.actor == decision.actor).order_by(EVENTS.c.id).limit(1)
        ).first()
        return None if row is None else int(row.id)
    for row in conn.execute(query.where(EVENTS.c.actor.is_(None)).order_by(EVENTS.c.id)):
        if similarity(row.headline, item.title) >= SIMILAR:
            return int(row.id)
    return None


def create_event(conn: Connection, decision: Decision, item: FeedItem, item_id: int, now: datetime) -> int:
    """Insert the event `item` reports first (the only place events are written). The caller adds its new
    events to monitor.event_counts at the end of the transaction."""
    evidence = decision.evidence
    values = {
        "event_type": decision.event_type,
        "actor": decision.actor,
        "modality": decision.modality,
        "confidence": decision.confidence,
        "headline": item.title[:1000],
        "link": item.link[:2000] if item.link else None,
        "evidence": (evidence.sentence if evidence else item.title)[:4000],
        "rule": evidence.rule if evidence else "",
        "act": decision.act,
        "first_item_id": item_id,
        "feed_id": sa.select(ITEMS.c.feed_id).where(ITEMS.c.id == item_id).scalar_subquery(),
        "detected_at": now,
        "published": item.published,
    }
    event_id = int(conn.execute(sa.insert(EVENTS).values(**values).returning(EVENTS.c.id)).scalar_one())
    conn.execute(sa.update(ITEMS).where(ITEMS.c.id == item_id).values(event_id=event_id))
    return event_id
