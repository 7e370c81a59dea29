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
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from monitor import models
from monitor.domain import Decision
from monitor.models import EVENT_COUNTS, EVENTS, NO_ACTOR


def count(conn: Connection, decisions: Iterable[Decision], now: datetime) -> None:
    """Add a transaction's new events (detected at `now`, created from `decisions`) to their counters.
    One upsert of rows in sorted order, last in the transaction: replicas writing concurrently lock the
    shared rows (today's, a type's) in the same order, so they never deadlock, and hold them only until
    their commit."""
    day = now.astimezone(UTC).date().isoformat()
    counts: Counter[tuple[str, str]] = Counter()
    for decision in decisions:
        counts.update([("event_type", str(decision.event_type)), ("actor", decision.actor or NO_ACTOR)])
        counts[("day", day)] += 1
    if not counts:
        return
    rows = [{"kind": kind, "key": key, "events": n} for (kind, key), n in sorted(counts.items())]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(EVENT_COUNTS).values(rows)
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[EVENT_COUNTS.c.kind, EVENT_COUNTS.c.key],
            set_={"events": EVENT_COUNTS.c.events + insert.excluded.events},
        )
    )


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
