"""Feeds whose row has no `next_poll_at` (made before the schedule moved into the database, or disabled
then) are claimed after an upgrade and when they are switched on; real SQLite files and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from monitor import claims, db, models, store
from monitor.db import open_database

FEEDS = models.FEEDS
VERSIONS = models.SCHEMA_VERSION
NOW = datetime.now(UTC)
TWO = [("a", "https://a.example/feed"), ("b", "https://b.example/feed")]


def forget_schedule(engine: sa.Engine, name: str, *, undo_migration: bool) -> None:
    """Make `name`'s row look like one written by an older version: no next poll time."""
    with engine.begin() as conn:
        conn.execute(sa.update(FEEDS).where(FEEDS.c.name == name).values(next_poll_at=None))
        if undo_migration:
            version = next(
                i for i, step in enumerate(db.MIGRATIONS, 1) if step.__name__ == "_schedule_every_feed"
            )
            conn.execute(sa.delete(VERSIONS).where(VERSIONS.c.version == version))


def test_a_feed_without_a_next_poll_time_is_claimed_after_the_upgrade(db_url: str) -> None:
    engine = open_database(db_url)
    store.sync_feeds(engine, TWO, NOW)
    forget_schedule(engine, "b", undo_migration=True)
    assert [c.state.name for c in claims.claim_due(engine, "r", 10, lease=60)] == ["a"]  # b: never, before
    engine.dispose()

    engine = open_database(db_url)  # the upgrade
    try:
        assert [c.state.name for c in claims.claim_due(engine, "r", 10, lease=60)] == ["b"]
    finally:
        engine.dispose()


def test_a_feed_switched_on_is_claimed_even_without_a_next_poll_time(db_url: str) -> None:
    engine = open_database(db_url)
    try:
        store.sync_feeds(engine, TWO, NOW, enabled=["a"])
        forget_schedule(engine, "b", undo_migration=False)
        store.sync_feeds(engine, TWO, NOW)  # b switched on
        names = sorted(c.state.name for c in claims.claim_due(engine, "r", 10, lease=60))
        assert names == ["a", "b"]
    finally:
        engine.dispose()
