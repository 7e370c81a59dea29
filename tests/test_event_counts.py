"""`monitor stats` counts events per type, actor and day from counters the write path keeps: after any mix of
writes and prunes, and after the migration that fills them on an older database, they say what a direct
count of the events table says (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from support import counted_and_stated

from monitor import store
from monitor.db import MIGRATIONS, migrate, open_database
from monitor.domain import Decision, Evidence, FeedItem
from monitor.events import EventType

NOON = datetime(2026, 10, 20, 12, tzinfo=UTC)
# 02:00 on the 21st at UTC+5 is still the 20th in UTC: the day an event counts under is its UTC day.
EARLY_EAST = datetime(2026, 10, 21, 2, tzinfo=timezone(timedelta(hours=5)))


def alerting(kind: EventType, actor: str | None) -> Decision:
    return Decision(True, kind, actor, "asserted", True, 0.9, Evidence(f"{kind} {actor}", "x"))


QUIET = Decision(False, None, None, None, None, 0.0, None, "not_relevant")


def save(engine: Engine, feed_id: int, at: datetime, stories: list[tuple[str, Decision]]) -> None:
    batch = [(FeedItem(key, title, "", None, at, True), d, False) for key, (title, d) in _keyed(stories)]
    store.save_items(engine, feed_id, batch, {}, at, lambda conn, event_id, decision: None)


def _keyed(stories: list[tuple[str, Decision]]) -> list[tuple[str, tuple[str, Decision]]]:
    return [(f"k-{title}", (title, d)) for title, d in stories]


def write_history(engine: Engine) -> int:
    """Polls over three days: several events of one type in one batch, events without an actor (told apart
    by their headlines), another outlet's report of a known event (a source, not an event) and quiet items."""
    feeds = store.sync_feeds(engine, [("wire", "https://w.example/"), ("agency", "https://a.example/")], NOON)
    wire, agency = feeds["wire"].id, feeds["agency"].id
    save(
        engine,
        wire,
        NOON - timedelta(days=2),
        [
            ("EU eases sanctions on Kazakhstan", alerting("sanctions_eased", "KZ")),
            ("EU eases sanctions on Uzbekistan", alerting("sanctions_eased", "UZ")),
            ("Markets calm", QUIET),
        ],
    )
    save(
        engine,
        agency,
        NOON - timedelta(days=2),
        [("Brussels lifts Kazakh measures", alerting("sanctions_eased", "KZ"))],  # a source of the first
    )
    save(
        engine,
        wire,
        EARLY_EAST,
        [
            ("Embassy opens in the capital", alerting("diplomatic_upgrade", None)),
            ("Weather report for the region", alerting("sanctions_imposed", None)),
            ("China imposes sanctions", alerting("sanctions_imposed", "CN")),
        ],
    )
    save(engine, agency, NOON, [("Qatar upgrades ties", alerting("diplomatic_upgrade", "QA"))])
    return wire


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = open_database(db_url)
    yield engine
    engine.dispose()


def test_stats_count_what_the_events_table_holds_after_writes_and_prunes(engine: Engine) -> None:
    wire = write_history(engine)
    counted, stated = counted_and_stated(engine)
    assert stated == counted
    assert stated["event_types"] == {"diplomatic_upgrade": 2, "sanctions_eased": 2, "sanctions_imposed": 2}
    assert stated["actors"] == {"KZ": 1, "UZ": 1, "CN": 1, "QA": 1, None: 2}
    assert stated["event_days"] == {"2026-10-18": 2, "2026-10-20": 4}

    # Prune blanks items (event reports too when asked) and never removes an event: the counts stay.
    for prune_events in (False, True):
        store.prune_items(engine, NOON + timedelta(days=1), prune_events=prune_events)
        assert counted_and_stated(engine) == (counted, stated)
    save(engine, wire, NOON, [("Turkey eases sanctions", alerting("sanctions_eased", "TR"))])
    counted, stated = counted_and_stated(engine)
    assert stated == counted and stated["event_types"]["sanctions_eased"] == 3


def test_the_migration_fills_the_counters_from_an_older_databases_events(engine: Engine) -> None:
    write_history(engine)
    expected = counted_and_stated(engine)[0]
    version = next(i for i, step in enumerate(MIGRATIONS, 1) if step.__name__ == "_event_counters")
    with engine.begin() as conn:  # back to the schema before the counters
        conn.exec_driver_sql("DROP TABLE event_counts")
        conn.exec_driver_sql(f"DELETE FROM schema_version WHERE version >= {version}")
    assert migrate(engine) == len(MIGRATIONS)
    assert "event_counts" in sa.inspect(engine).get_table_names()
    counted, stated = counted_and_stated(engine)
    assert stated == counted == expected


@pytest.mark.postgres
def test_replicas_writing_events_at_once_lose_no_count(pg_url: str) -> None:
    """Four writers store events of the same types on the same day at the same time (each its own feed and
    actors, as replicas holding different feeds): every event is counted once."""
    engine = open_database(pg_url)
    names = [f"feed-{n}" for n in range(4)]
    feeds = store.sync_feeds(engine, [(name, f"https://{name}.example/") for name in names], NOON)
    actors = ["KZ", "UZ", "TJ", "CN", "RU", "IR", "PK", "QA"]

    def write(n: int) -> None:
        for poll in range(5):
            stories = [
                (f"{names[n]} poll {poll} story {k}", alerting(kind, actors[2 * n + k]))
                for k, kind in enumerate(("sanctions_eased", "sanctions_imposed"))
            ]
            save(engine, feeds[names[n]].id, NOON + timedelta(days=poll), stories)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    counted, stated = counted_and_stated(engine)
    engine.dispose()
    assert stated == counted and sum(stated["event_types"].values()) >= 8
