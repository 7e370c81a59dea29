"""The full-text index of items as a long-running daemon keeps it. On SQLite every stored batch writes a
segment, and the hourly chore (chores.merge_search_index) merges them, so a search looks each word up in one
b-tree, not in one per level of a year of polls. On PostgreSQL new entries gather in the GIN index's pending
list, which every search reads whole, and the chore merges it into the tree."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import chores, history, store
from monitor.db import open_database
from monitor.domain import Decision, FeedItem
from monitor.models import LEASES

NOW = datetime(2026, 11, 1, tzinfo=UTC)
QUIET = Decision(False, None, None, None, None, 0.0, None, "not_relevant")


def store_polls(engine: Engine, polls: int) -> None:
    """`polls` polls of three items each, as the daemon stores them. Each summary has words of its own, so the
    index spans pages, not one; one poll in ten has `quokka`."""
    feed = store.sync_feeds(engine, [("feed-1", "https://a.example/rss")], NOW)["feed-1"]
    for poll in range(polls):
        batch = []
        for n in range(3):
            words = " ".join(f"w{poll}x{n}x{k}" for k in range(100))
            summary = f"{words} {'quokka' if poll % 10 == 0 and n == 0 else 'news'}"
            batch.append(
                (FeedItem(f"{poll}-{n}", f"Story {poll} {n}", summary, None, NOW, True), QUIET, False)
            )
        store.save_items(engine, feed.id, batch, {}, NOW, lambda *args: None)


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    """Forty polls: forty segments written to the index."""
    engine = open_database(sqlite_url)
    store_polls(engine, 40)
    yield engine
    engine.dispose()


def segments(engine: Engine) -> int:
    with engine.connect() as conn:
        return chores.search_segments(conn)


def test_the_hourly_chore_keeps_the_search_index_in_few_segments(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = ("quokka", "news", "story", "w7x1x42")
    found = [history.items(engine, history.Filters(search=word)) for word in words]
    assert [len(rows) for rows in found] == [4, 50, 50, 1]
    assert segments(engine) > chores._SEGMENTS_MAX  # what FTS5's automerge leaves
    left = chores.merge_search_index(engine, "a")
    assert left is not None and left <= chores._SEGMENTS_MAX
    assert chores.merge_search_index(engine, "a") is None  # once per period
    next_period(engine)
    monkeypatch.setattr(chores, "_SEGMENTS_MAX", 1)  # more than one left: every segment merged into one
    assert chores.merge_search_index(engine, "a") == 1 == segments(engine)
    assert [history.items(engine, history.Filters(search=word)) for word in words] == found


def next_period(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(LEASES))


def test_a_merge_cut_short_is_carried_on_by_the_next_run(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each run does bounded work (steps of a few pages, each its own transaction); the next carries on."""
    monkeypatch.setattr(chores, "_SEGMENTS_MAX", 1)
    monkeypatch.setattr(chores, "_MERGE_PAGES", 1)
    monkeypatch.setattr(chores, "_MERGE_STEPS", 1)
    runs = [segments(engine)]
    while runs[-1] > 1 and len(runs) < 1000:
        next_period(engine)
        runs.append(chores.merge_search_index(engine, "a") or 0)
    assert len(runs) > 3 and runs[-1] == 1, runs
    assert len(history.items(engine, history.Filters(search="quokka"))) == 4


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = open_database(pg_url)
    store_polls(engine, 20)
    yield engine
    engine.dispose()


def pending_pages(engine: Engine, index: str) -> int:
    """Pages left in `index`'s pending list, found by cleaning them."""
    with engine.begin() as conn:
        return int(conn.exec_driver_sql(f"SELECT gin_clean_pending_list('{index}'::regclass)").scalar_one())


@pytest.mark.postgres
def test_the_hourly_chore_empties_postgresql_pending_lists(pg_engine: Engine) -> None:
    words = ("quokka", "news", "story", "w7x1x42")
    found = [history.items(pg_engine, history.Filters(search=word)) for word in words]
    assert [len(rows) for rows in found] == [2, 50, 50, 1]
    cleaned = chores.merge_search_index(pg_engine, "a")
    assert cleaned is not None and cleaned > 0
    assert pending_pages(pg_engine, "ix_items_search") == 0
    assert chores.merge_search_index(pg_engine, "a") is None  # once per period
    assert [history.items(pg_engine, history.Filters(search=word)) for word in words] == found


@pytest.mark.postgres
def test_a_stopped_chore_leaves_the_pending_lists(pg_engine: Engine) -> None:
    assert chores.merge_search_index(pg_engine, "a", stop=lambda: True) == 0
    assert pending_pages(pg_engine, "ix_items_search") > 0


@pytest.fixture
def not_owner_url(pg_url: str) -> Iterator[str]:
    """`pg_url` migrated by its owner, then reached as a role granted what the daemon does there (read and
    write every table) that owns none of it, as a deployment that keeps DDL to an administrator has it."""
    open_database(pg_url).dispose()
    schema = pg_url.rsplit("search_path%3D", 1)[1]
    role = f"r_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        conn.exec_driver_sql(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"
        )
        conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
    yield pg_url.replace("//postgres@", f"//{role}@")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP OWNED BY {role}")  # its grants, so the role can go
        conn.exec_driver_sql(f"DROP ROLE {role}")
    admin.dispose()


@pytest.mark.postgres
def test_a_role_that_does_not_own_the_indexes_leaves_the_pending_lists_quietly(
    not_owner_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gin_clean_pending_list needs the index's owner: the chore then cleans nothing, without failing (a
    chore failure every hour), and says why once a process, not every hour."""
    monkeypatch.setattr(chores, "_NOT_OWNER_TOLD", set())
    caplog.set_level(logging.INFO, "monitor.chores")
    engine = open_database(not_owner_url)
    try:
        store_polls(engine, 3)  # the role stores what polls find
        assert chores.merge_search_index(engine, "a") == 0
        next_period(engine)
        assert chores.merge_search_index(engine, "a") == 0
    finally:
        engine.dispose()
    lines = [r.getMessage() for r in caplog.records if r.name == "monitor.chores"]
    assert lines == [
        "search index pending lists left to autovacuum: the database role does not own the index"
    ]


def test_the_classified_items_index_is_merged_too(sqlite_url: str) -> None:
    """`--type/--actor --search` reads classified_fts, which every batch holding a classified item adds a
    segment to: the chore merges it as it does items_fts."""
    engine = open_database(sqlite_url)
    try:
        feed = store.sync_feeds(engine, [("feed-1", "https://a.example/rss")], NOW)["feed-1"]
        typed = Decision(False, "sanctions_eased", "KZ", "planned", True, 0.5, None, "speculative")
        for poll in range(40):
            item = FeedItem(f"{poll}", f"Story {poll}", f"eases w{poll}", None, NOW, True)
            store.save_items(engine, feed.id, [(item, typed, False)], {}, NOW, lambda *args: None)
        eased = history.Filters(event_type="sanctions_eased", search="eases")
        found = history.items(engine, eased)
        with engine.connect() as conn:
            assert chores.search_segments(conn, "classified_fts") > chores._SEGMENTS_MAX
        assert chores.merge_search_index(engine, "a") is not None
        with engine.connect() as conn:
            assert chores.search_segments(conn, "classified_fts") <= chores._SEGMENTS_MAX
        assert history.items(engine, eased) == found and len(found) == 40
    finally:
        engine.dispose()
