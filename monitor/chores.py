"""Work that must run on one replica at a time (pruning old items) takes a lease row first.

A chore's lease lasts its period: whichever replica takes it runs the chore,
and nobody runs it again until the period has passed. Other periodic writes
are idempotent and need no lease (expiring old deliveries is one UPDATE;
feed-health notices are written with their feed's poll, under its lease).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from monitor import dbclock, store
from monitor.config import Retention
from monitor.models import LEASES

log = logging.getLogger("monitor.chores")
PERIOD = 3600.0  # seconds between runs of each chore, across all replicas


def acquire(engine: Engine, name: str, holder: str, ttl: float) -> int | None:
    """Take chore `name` for `ttl` seconds if nobody holds it; its new token, or None when held."""
    now = dbclock.now(engine)
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    with engine.begin() as conn:
        conn.execute(
            dialect.insert(LEASES)
            .values(name=name, holder=None, token=0, expires_at=datetime(2000, 1, 1, tzinfo=UTC))
            .on_conflict_do_nothing(index_elements=[LEASES.c.name])
        )
        token = conn.execute(
            sa.update(LEASES)
            .where(LEASES.c.name == name, LEASES.c.expires_at <= now)
            .values(holder=holder, token=LEASES.c.token + 1, expires_at=dbclock.later(engine, ttl))
            .returning(LEASES.c.token)
        ).scalar()
    return None if token is None else int(token)


def prune(
    engine: Engine, retention: Retention, holder: str, stop: Callable[[], bool] = lambda: False
) -> int | None:
    """Retention, once per period across replicas: the number of items pruned, or None when another
    replica has it (or retention is off). `stop()` true ends it between batches."""
    if not retention.items_days or acquire(engine, "prune", holder, PERIOD) is None:
        return None
    cutoff = store.stale_cutoff(datetime.now(UTC), retention.items_days)
    count = store.prune_items(engine, cutoff, prune_events=retention.prune_events, stop=stop)
    log.info("old items pruned", extra={"count": count, "before": cutoff.date().isoformat()})
    return count
