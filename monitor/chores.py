"""Work that must run on one replica at a time (pruning old items, merging the full-text index of items)
takes a lease row first.

A chore's lease lasts its period: whichever replica takes it runs the chore,
and nobody runs it again until the period has passed. Other periodic writes
are idempotent and need no lease (expiring old deliveries is one UPDATE;
feed-health notices are written with their feed's poll, under its lease).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from monitor import db, dbclock, store
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


# SQLite's full-text index is a set of b-trees ("segments"): every batch of stored items writes one, and
# FTS5's automerge keeps up to about three per level, so a year of polls left 21 at a million items (7 at
# 10k), and a search looks each word form up in every one of them (`items --search rare` 1.2 -> 2.4 ms).
# Once an hour, past _SEGMENTS_MAX, the chore merges them into one, in steps of _MERGE_PAGES pages, each its
# own transaction so polls store between them; at most _MERGE_STEPS steps a run (a million items' index is
# 46,000 pages: 24 steps, 4 s of CPU), and the next run, or FTS5's automerge, carries on where it stopped.
_SEGMENTS_MAX = 4
_MERGE_PAGES = 2000
_MERGE_STEPS = 50


def merge_search_index(engine: Engine, holder: str, stop: Callable[[], bool] = lambda: False) -> int | None:
    """Once per period, the full-text indexes of items merged; None when another process has it. SQLite:
    their segments (items_fts, and classified_fts, which a type or actor search reads), how many are left in
    the one with most. PostgreSQL: the GIN pending lists, how many pages were cleaned."""
    if acquire(engine, "merge-search", holder, PERIOD) is None:
        return None
    if engine.dialect.name == "postgresql":
        return _clean_pending_lists(engine, stop)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        left = [_merge_index(conn, table, stop) for table in db.SEARCH_INDEXES]
    return max(left)


def _merge_index(conn: Connection, table: str, stop: Callable[[], bool]) -> int:
    """Merge one FTS5 table's segments, at most _MERGE_STEPS steps; how many segments are left."""
    raw: Any = conn.connection.dbapi_connection
    before = search_segments(conn, table)
    steps = _merge_steps(raw, table, _MERGE_STEPS, stop)  # carries on a merge an earlier run left unfinished
    if search_segments(conn, table) > _SEGMENTS_MAX and steps < _MERGE_STEPS and not stop():
        _merge_step(raw, table, -_MERGE_PAGES)  # negative: start merging every segment into one
        _merge_steps(raw, table, _MERGE_STEPS - steps - 1, stop)
    after = search_segments(conn, table)
    log.info("search index merged", extra={"index": table, "segments_before": before, "segments": after})
    return after


# PostgreSQL: the GIN index over every item keeps fast update (turned off, every stored item would write
# into its tree), so new entries gather in a pending list that every search reads whole. Autovacuum merges
# it only after a fifth of the table changed: it stays near its 4 MB limit (444 pages at a million items,
# `items --search rare` 29-36 ms at either size). The chore merges the lists of the indexes that keep one.
_FAST_UPDATE_GIN = (
    "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = 'items'::regclass AND a.amname = 'gin' "
    "AND NOT coalesce(c.reloptions && ARRAY['fastupdate=off', 'fastupdate=false'], false) ORDER BY 1"
)


_CLEAN_PENDING_LIST = sa.text("SELECT gin_clean_pending_list(CAST(:index AS regclass))")
# gin_clean_pending_list needs the index's owner. A daemon may run as a role granted only the tables (an
# administrator migrates): it leaves the lists to autovacuum, which is slower search, not a failure, and
# says so once a process, not every hour.
_INSUFFICIENT_PRIVILEGE = "42501"
_NOT_OWNER_TOLD: set[str] = set()  # the indexes this process has said it of


def _clean_pending_lists(engine: Engine, stop: Callable[[], bool]) -> int:
    """Each fast-update GIN index of items has its pending list merged into its tree (its own transaction),
    until `stop()`: the pages cleaned."""
    cleaned = 0
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for index in conn.exec_driver_sql(_FAST_UPDATE_GIN).scalars().all():
            if stop():
                break
            try:
                cleaned += int(conn.execute(_CLEAN_PENDING_LIST, {"index": index}).scalar_one())
            except sa.exc.DBAPIError as error:
                if getattr(error.orig, "sqlstate", None) != _INSUFFICIENT_PRIVILEGE:
                    raise
                _tell_not_owner(index)
                return cleaned
    log.info("search index pending lists cleaned", extra={"pages": cleaned})
    return cleaned


def _tell_not_owner(index: str) -> None:
    if index not in _NOT_OWNER_TOLD:
        _NOT_OWNER_TOLD.add(index)
        log.info(
            "search index pending lists left to autovacuum: the database role does not own the index",
            extra={"index": index},
        )


def _merge_steps(raw: Any, table: str, most: int, stop: Callable[[], bool]) -> int:
    """Positive merges until one does nothing, `most` are done or `stop()`: how many did work. They carry
    on a merge in progress (or merge a level holding more than FTS5's usermerge segments)."""
    done = 0
    while done < most and not stop() and _merge_step(raw, table, _MERGE_PAGES):
        done += 1
    return done


def _merge_step(raw: Any, table: str, pages: int) -> bool:
    """One FTS5 'merge' of about `pages` pages; whether it did any work (FTS5 counts two changes or more
    then, as its documentation describes)."""
    changes = raw.total_changes
    raw.execute(f"INSERT INTO {table}({table}, rank) VALUES ('merge', ?)", (pages,))
    return bool(raw.total_changes - changes >= 2)


def search_segments(conn: Connection, table: str = "items_fts") -> int:
    """How many segments one of SQLite's full-text indexes has (each leaf page is listed under its
    segment's id)."""
    return int(conn.exec_driver_sql(f"SELECT count(DISTINCT segid) FROM {table}_idx").scalar_one())
