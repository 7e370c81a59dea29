"""Counters of events per type, per actor and per UTC day (table `event_counts`), so `monitor stats` reads
a few rows instead of grouping every event.

Events are only ever inserted (by cluster.create_event; prune blanks items and never deletes an event), so
the counters only grow. The write paths that create events (store.save_items, the list ledger) add their
new events here at the end of the same transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from monitor import models
from monitor.domain import Decision
from monitor.models import EVENT_COUNTS, EVENTS, NO_ACTOR

# The same SQL on SQLite and PostgreSQL, text so that executing it compiles nothing (as store's counters).
_ADD = sa.text(
    "INSERT INTO event_counts (kind, key, events) VALUES (:kind, :key, :events) "
    "ON CONFLICT (kind, key) DO UPDATE SET events = event_counts.events + excluded.events"
)


def count(conn: Connection, decisions: Iterable[Decision], now: datetime) -> None:
    """Add a transaction's new events (detected at `now`, created from `decisions`) to their counters,
    last in the transaction and in sorted order: replicas writing concurrently lock the shared rows
    (today's, a type's) in the same order, so they never deadlock, and hold them only until their commit."""
    day = now.astimezone(UTC).date().isoformat()
    counts: Counter[tuple[str, str]] = Counter()
    for decision in decisions:
        counts.update([("event_type", str(decision.event_type)), ("actor", decision.actor or NO_ACTOR)])
        counts[("day", day)] += 1
    rows = [{"kind": kind, "key": key, "events": n} for (kind, key), n in sorted(counts.items())]
    if rows:
        conn.execute(_ADD, rows)


def recount(conn: Connection) -> None:
    """Rebuild the counters from the events table (the migration that added them; after events were
    changed behind the write path's back)."""
    conn.execute(sa.delete(EVENT_COUNTS))
    day = models.utc_day(EVENTS.c.detected_at, conn.dialect.name)
    keys = {
        "event_type": EVENTS.c.event_type,
        "actor": sa.func.coalesce(EVENTS.c.actor, NO_ACTOR),
        "day": day,
    }
    for kind, key in keys.items():
        # An event without a detection time (none the write path makes) has no day to count it under.
        counts = sa.select(sa.literal(kind), key, sa.func.count()).where(key.is_not(None)).group_by(key)
        conn.execute(sa.insert(EVENT_COUNTS).from_select(["kind", "key", "events"], counts))
