"""Paths shared by the tests (import as `from support import ...`; conftest modules are not importable by name
once several directories have one)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import history, models

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL_FEEDS = SHARED / "corpora" / "real-feeds"
BASELINE = REPO / "seeds" / "baseline.yaml"


Counts = dict[str, dict[object, object]]


def counted_and_stated(engine: Engine) -> tuple[Counts, Counts]:
    """Events per type, actor and UTC day twice: counted directly from the events table, and as `stats`
    states them (from the counters the write path keeps)."""
    events = models.EVENTS
    day = models.utc_day(events.c.detected_at, engine.dialect.name)
    counted: Counts = {}
    with engine.connect() as conn:
        for name, column in (
            ("event_types", events.c.event_type),
            ("actors", events.c.actor),
            ("event_days", day),
        ):
            rows = conn.execute(sa.select(column, sa.func.count()).group_by(column))
            counted[name] = {key: n for key, n in rows}
    stats = history.stats(engine)
    keys = {"event_types": "event_type", "actors": "actor", "event_days": "day"}
    stated: Counts = {name: {r[key]: r["events"] for r in stats[name]} for name, key in keys.items()}
    return counted, stated
