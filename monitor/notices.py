"""When a feed's health deserves a notice: failing N times in a row, recovering, or going quiet.

Each notice is sent once per episode: the feed row remembers the last one
(`notice_state`) until the feed recovers.
"""

from __future__ import annotations

import itertools
import statistics
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import models
from monitor.models import ITEMS

MIN_BATCHES = 5  # fewer arrivals than this say nothing about a feed's rhythm
MIN_SILENCE = 6 * 3600.0  # never call a feed silent after less than this


def after_failure(count: int, threshold: int, notice_state: str | None, gone: bool) -> str | None:
    """'failing' when this failure reaches the threshold (or the feed is gone), once per episode."""
    if notice_state == "failing":
        return None
    return "failing" if gone or count >= threshold else None


def usual_gap(engine: Engine, feed_id: int) -> float | None:
    """Median seconds between the last arrivals of new items, or None with too little history."""
    query = (
        sa.select(ITEMS.c.first_seen_at)
        .where(ITEMS.c.feed_id == feed_id)
        .distinct()
        .order_by(ITEMS.c.first_seen_at.desc())
        .limit(30)
    )
    with engine.connect() as conn:
        times = [
            models.UTCDateTime().process_result_value(t, engine.dialect)
            for t in conn.execute(query).scalars()
        ]
    arrivals = sorted(t for t in times if t is not None)
    if len(arrivals) < MIN_BATCHES:
        return None
    return statistics.median((b - a).total_seconds() for a, b in itertools.pairwise(arrivals))


def is_silent(
    last_new: datetime | None, gap: float | None, now: datetime, factor: float, notice_state: str | None
) -> bool:
    if notice_state is not None or last_new is None or gap is None:
        return False
    return (now - last_new).total_seconds() > max(MIN_SILENCE, factor * gap)
