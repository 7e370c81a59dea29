"""Who is running: each `monitor run` registers a row, heartbeats while it runs, and marks itself stopped.

`monitor replicas` reads these rows with what each replica holds (feeds under
a live lease, chore leases). A replica killed with SIGKILL stops heartbeating;
it drops off the list once its heartbeat is older than a few periods.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from monitor import claims, dbclock
from monitor.models import LEASES, REPLICAS

STALE_AFTER = 3  # heartbeat periods without a beat before a replica counts as gone


def default_id() -> str:
    """Host name and pid: unique on one machine, readable in logs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def register(engine: Engine, replica: str) -> int:
    """A fresh row for this replica (a restart under the same id starts its counts over, and takes back at
    once the feeds its previous process held: claims.take_back). The number of feeds taken back."""
    now = dbclock.now(engine)
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    values = {
        "id": replica,
        "host": socket.gethostname()[:200],
        "pid": os.getpid(),
        "started_at": now,
        "heartbeat_at": now,
        "stopped_at": None,
        "claims": 0,
    }
    insert = dialect.insert(REPLICAS).values(**values)
    changed = {k: insert.excluded[k] for k in values if k != "id"}
    with engine.begin() as conn:
        conn.execute(insert.on_conflict_do_update(index_elements=[REPLICAS.c.id], set_=changed))
    return claims.take_back(engine, replica)


def heartbeat(engine: Engine, replica: str, claimed: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(REPLICAS)
            .where(REPLICAS.c.id == replica)
            .values(heartbeat_at=dbclock.now(engine), claims=claimed, stopped_at=None)
        )


def stopped(engine: Engine, replica: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(REPLICAS).where(REPLICAS.c.id == replica).values(stopped_at=dbclock.now(engine))
        )


def live(engine: Engine, heartbeat_period: float) -> list[dict[str, object]]:
    """Replicas that beat within the last few periods, each with the feeds and chores it holds now."""
    now = dbclock.now(engine)
    query = (
        sa.select(REPLICAS, now.label("now")).where(REPLICAS.c.stopped_at.is_(None)).order_by(REPLICAS.c.id)
    )
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
        chores = conn.execute(
            sa.select(LEASES.c.holder, LEASES.c.name).where(LEASES.c.expires_at > now).order_by(LEASES.c.name)
        ).all()
    held = claims.held_by(engine)
    window = timedelta(seconds=STALE_AFTER * heartbeat_period)
    shown = []
    for row in rows:
        at: datetime = row.pop("now")
        if row["heartbeat_at"] is None or at - row["heartbeat_at"] > window:
            continue
        row["heartbeat_age_seconds"] = round((at - row["heartbeat_at"]).total_seconds(), 1)
        row["feeds_held"] = held.get(str(row["id"]), [])
        row["chores_held"] = [name for holder, name in chores if holder == row["id"]]
        shown.append(row)
    return shown
