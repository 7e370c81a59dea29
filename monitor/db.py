"""Open the database (SQLite or PostgreSQL) and bring its schema up to date.

Migrations are a numbered list applied in order, each recorded in
`schema_version`; start-up runs the missing ones in one transaction.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor import models
from monitor.errors import StoreError

log = logging.getLogger("monitor.db")
Migration = Callable[[Connection], None]


def _create_tables(conn: Connection) -> None:
    models.METADATA.create_all(conn)


_SQLITE_FTS = [
    # External-content FTS5 over items: full-text search without a second copy of the text.
    "CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5("
    "title, summary, content='items', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS items_fts_ai AFTER INSERT ON items BEGIN "
    "INSERT INTO items_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary); END",
    "CREATE TRIGGER IF NOT EXISTS items_fts_ad AFTER DELETE ON items BEGIN "
    "INSERT INTO items_fts(items_fts, rowid, title, summary) "
    "VALUES ('delete', old.id, old.title, old.summary); END",
    "CREATE TRIGGER IF NOT EXISTS items_fts_au AFTER UPDATE OF title, summary ON items BEGIN "
    "INSERT INTO items_fts(items_fts, rowid, title, summary) "
    "VALUES ('delete', old.id, old.title, old.summary); "
    "INSERT INTO items_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary); END",
]

_POSTGRES_FTS = [
    "CREATE INDEX IF NOT EXISTS ix_items_fts ON items "
    "USING GIN (to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(summary, '')))",
]

# One row per event, with its first report and how many items (outlets) reported it.
_ALERTS_VIEW = """
CREATE VIEW alerts AS
SELECT e.id AS event_id, e.detected_at, e.published, e.event_type, e.actor, e.modality, e.confidence,
       e.headline, e.link, e.evidence, e.rule, f.name AS feed,
       (SELECT count(*) FROM items s WHERE s.event_id = e.id) AS sources
FROM events e
LEFT JOIN items i ON i.id = e.first_item_id
LEFT JOIN feeds f ON f.id = i.feed_id
"""

# Every stored item with its decision and feed name, for browsing in Datasette or the sqlite3 shell.
_ITEMS_VIEW = """
CREATE VIEW item_decisions AS
SELECT i.id, f.name AS feed, i.published, i.first_seen_at, i.title, i.link, i.event_type, i.actor,
       i.modality, i.novel, i.confidence, i.alert, i.reason, i.rule, i.event_id, i.backlog
FROM items i JOIN feeds f ON f.id = i.feed_id
WHERE NOT i.pruned
"""


def _full_text_and_views(conn: Connection) -> None:
    statements = _SQLITE_FTS if conn.dialect.name == "sqlite" else _POSTGRES_FTS
    for statement in statements:
        conn.exec_driver_sql(statement)
    conn.exec_driver_sql(_ALERTS_VIEW)
    conn.exec_driver_sql(_ITEMS_VIEW)


def _batch_full_text(conn: Connection) -> None:
    # A row-by-row insert trigger cost ~70% of storing an item; store.save_items indexes each batch instead.
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS items_fts_ai")


_FEED_LEASE_COLUMNS = {
    "enabled": "BOOLEAN NOT NULL DEFAULT TRUE",
    "lease_token": "INTEGER NOT NULL DEFAULT 0",
    "leased_by": "VARCHAR(200)",
}


def _replica_coordination(conn: Connection) -> None:
    """Replicas (issue 10): the feed schedule is claimed from the feeds table, events have an identity row,
    replicas and chore leases have tables. A database created by step 1 today already has all of it."""
    for table in ("event_keys", "replicas", "leases"):
        models.METADATA.tables[table].create(conn, checkfirst=True)
    have = {column["name"] for column in sa.inspect(conn).get_columns("feeds")}
    for name, ddl in _FEED_LEASE_COLUMNS.items():
        if name not in have:
            conn.exec_driver_sql(f"ALTER TABLE feeds ADD COLUMN {name} {ddl}")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_feeds_next_poll_at ON feeds (next_poll_at)")


def _official_sources(conn: Connection) -> None:
    """Official sanctions lists (list_entries, list_changes, list_state) and the feeds' `official` flag."""
    for table in (models.LIST_ENTRIES, models.LIST_CHANGES, models.LIST_STATE):
        table.create(conn, checkfirst=True)
    if "official" not in {column["name"] for column in sa.inspect(conn).get_columns("feeds")}:
        conn.exec_driver_sql("ALTER TABLE feeds ADD COLUMN official BOOLEAN NOT NULL DEFAULT false")


def _add_columns(conn: Connection, table: sa.Table, names: list[str]) -> None:
    """Add the model's `names` columns to an older table (a new database already has them)."""
    present = {column["name"] for column in sa.inspect(conn).get_columns(table.name)}
    for name in names:
        if name in present:
            continue
        column = table.c[name]
        ddl = f"ALTER TABLE {table.name} ADD COLUMN {name} {column.type.compile(dialect=conn.dialect)}"
        if not column.nullable:
            ddl += " NOT NULL DEFAULT 0"  # the only non-null ones added are counters
        conn.exec_driver_sql(ddl)


def _delivery_lanes(conn: Connection) -> None:
    # Per-target claims and pauses; a digest's id persisted before sending; an age that survives a fix.
    webhooks = models.WEBHOOKS
    deliveries = models.DELIVERIES
    _add_columns(conn, webhooks, ["lease_owner", "lease_until", "lease_token", "paused_until"])
    _add_columns(conn, deliveries, ["digest_msg_id", "age_from"])


# Indexes that history at scale replaced (issue 13): each filter now has one in newest-first order.
_REPLACED_INDEXES = (
    "ix_items_feed_id",  # the unique (feed_id, key) serves de-duplication; ix_items_feed_seen the listing
    "ix_items_published",  # nothing filters on it
    "ix_items_first_seen_at",
    "ix_items_event_type",
    "ix_items_event_id",
    "ix_events_actor",
    "ix_events_detected_at",
)

# Full-text search over the reports of events only (a few hundred rows a year), so `history --search`
# never walks every item's matches to find the few that reported an event.
_SQLITE_REPORTS_FTS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS reports_fts USING fts5("
    "title, summary, content='items', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS reports_fts_au AFTER UPDATE OF title, summary ON items "
    "WHEN old.event_id IS NOT NULL BEGIN "
    "INSERT INTO reports_fts(reports_fts, rowid, title, summary) "
    "VALUES ('delete', old.id, old.title, old.summary); "
    "INSERT INTO reports_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary); END",
    "CREATE TRIGGER IF NOT EXISTS reports_fts_ad AFTER DELETE ON items WHEN old.event_id IS NOT NULL BEGIN "
    "INSERT INTO reports_fts(reports_fts, rowid, title, summary) "
    "VALUES ('delete', old.id, old.title, old.summary); END",
    "INSERT INTO reports_fts(reports_fts) VALUES ('delete-all')",
    "INSERT INTO reports_fts(rowid, title, summary) SELECT id, title, summary FROM items "
    "WHERE event_id IS NOT NULL",
]
_POSTGRES_REPORTS_FTS = [
    "CREATE INDEX IF NOT EXISTS ix_items_reports_fts ON items "
    "USING GIN (to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(summary, ''))) "
    "WHERE event_id IS NOT NULL",
]


def _history_at_scale(conn: Connection) -> None:
    """Issue 13: newest-first indexes for every history filter, per-feed and per-day item counters, the first
    report's feed on each event, and a search index of event reports. Counters and the event feed are filled
    from the rows already stored."""
    from monitor import store

    models.METADATA.tables["item_days"].create(conn, checkfirst=True)
    _add_columns(conn, models.FEEDS, ["item_count", "event_report_count"])
    _add_columns(conn, models.EVENTS, ["feed_id"])
    for name in _REPLACED_INDEXES:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    for table in ("items", "events", "deliveries"):
        for index in models.METADATA.tables[table].indexes:
            index.create(conn, checkfirst=True)
    conn.exec_driver_sql(
        "UPDATE events SET feed_id = (SELECT i.feed_id FROM items i WHERE i.id = events.first_item_id) "
        "WHERE feed_id IS NULL"
    )
    store.recount_items(conn)
    for statement in _SQLITE_REPORTS_FTS if conn.dialect.name == "sqlite" else _POSTGRES_REPORTS_FTS:
        conn.exec_driver_sql(statement)


def _event_acts(conn: Connection) -> None:
    # The kind of step of each event, so a confirmed one-off act (a recognition, a delisting) is known as
    # such after a restart; older events keep NULL, which reads as "any kind".
    _add_columns(conn, models.EVENTS, ["act"])


def _schedule_every_feed(conn: Connection) -> None:
    """Rows made before the schedule moved into the database (disabled feeds among them) have no
    `next_poll_at`, and a claim compares it with now: they were never polled. They are due now."""
    feeds = models.FEEDS
    conn.execute(
        sa.update(feeds).where(feeds.c.next_poll_at.is_(None)).values(next_poll_at=datetime.now(UTC))
    )


# PostgreSQL: each item's search vector stored beside it (computed by the server on every insert and
# update, so the write path is unchanged). A walk of the date index then reads it instead of parsing the
# text again per row, the GIN indexes are built on it, and ANALYZE keeps per-word statistics for it, so the
# planner can tell a rare word (list the matches through GIN) from a common one (walk newest first).
_POSTGRES_SEARCH_COLUMN = [
    "ALTER TABLE items ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(summary, ''))) STORED",
    "CREATE INDEX IF NOT EXISTS ix_items_search ON items USING GIN (search)",
    "CREATE INDEX IF NOT EXISTS ix_items_reports_search ON items USING GIN (search) "
    "WHERE event_id IS NOT NULL",
    "DROP INDEX IF EXISTS ix_items_fts",
    "DROP INDEX IF EXISTS ix_items_reports_fts",
    "ANALYZE items",
]


def _stored_search_vector(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for statement in _POSTGRES_SEARCH_COLUMN:
            conn.exec_driver_sql(statement)


# PostgreSQL: the search vectors of classified items only (a type or an actor: a few percent of items),
# indexed under an expression no other index serves, so `--type X --search word` lists the type's matches
# from it (0.3 ms at a million items) instead of walking every item of the type (97 ms when none held the
# word) or ANDing the type's index with the word's matches in the whole table. history._tsquery writes
# the same expression.
_POSTGRES_CLASSIFIED_SEARCH = (
    "CREATE INDEX IF NOT EXISTS ix_items_classified_search ON items USING GIN "
    "((CASE WHEN event_type IS NOT NULL OR actor IS NOT NULL THEN search END)) "
    "WHERE (event_type IS NOT NULL OR actor IS NOT NULL) AND NOT pruned"
)


def _classified_search(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_POSTGRES_CLASSIFIED_SEARCH)


def _event_counters(conn: Connection) -> None:
    """Issue 13: per-type, per-actor and per-day event counters for `stats`, filled from the events stored."""
    from monitor import event_counts

    models.EVENT_COUNTS.create(conn, checkfirst=True)
    event_counts.recount(conn)


# PostgreSQL: the GIN indexes of a few percent of items (classified items, event reports) take new entries
# straight into their trees. With GIN's default fast update they collect in a pending list, which every
# search reads whole, and at these indexes' rate of inserts it stays long at its 4 MB limit: 450 pages read
# to find a type's matches at a million items (7.5 ms) against 25 at 10k. The existing list is merged now.
_FEW_ROWS_GIN = ("ix_items_classified_search", "ix_items_reports_search")


def _gin_without_pending_list(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for index in _FEW_ROWS_GIN:
        conn.exec_driver_sql(f"ALTER INDEX {index} SET (fastupdate = off)")
        conn.exec_driver_sql(f"SELECT gin_clean_pending_list('{index}'::regclass)")


# SQLite: a search with a --feed, --type or --actor filter is one FTS5 query. Each item's feed, event type
# and actor are tokens of a third indexed column (`f<feed id>`, `t<hex of the type>`, `a<hex of the actor>`,
# from a virtual generated column: nothing stored), so FTS5 intersects the word's doclists with the filter's,
# newest first, and stops at --limit. Searches name the columns (`{title summary}: ...`, `search_filters:
# ...`), so a typed word never matches a filter token. A type or actor is searched in classified_fts, the
# same index over classified items only (a few percent of items): a word in every fourth item but never
# with the type is there a few dozen matches to step over, not 250,000 (69 ms at a million items; 3 now).
# A pruned item has no filter tokens (its text is blank too) and leaves classified_fts.
_SEARCH_FILTERS = (
    "CASE WHEN pruned THEN NULL ELSE 'f' || feed_id || iif(event_type IS NULL, '', ' t' || hex(event_type)) "
    "|| iif(actor IS NULL, '', ' a' || hex(actor)) END"
)


def _classified(row: str = "") -> str:
    """The condition on an items row (`row` = "old." or "new." in a trigger) for being in classified_fts."""
    return f"({row}event_type IS NOT NULL OR {row}actor IS NOT NULL) AND NOT {row}pruned"


CLASSIFIED = _classified()
SEARCH_INDEXES = ("items_fts", "classified_fts")  # SQLite's full-text indexes of items (chores merge them)
_FTS_COLUMNS = (
    "title, summary, search_filters, content='items', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2'"
)
_INDEXED_COLUMNS = "title, summary, pruned, feed_id, event_type, actor"  # what an indexed row is made of


def _fts_triggers(table: str, old_when: str, new_when: str) -> list[str]:
    """Triggers keeping an external-content FTS5 table over items true on delete and update; the rows
    it holds are those for which `*_when` (of old. or new.) holds. Inserts are indexed per batch (store)."""
    delete = (
        f"INSERT INTO {table}({table}, rowid, title, summary, search_filters) "
        f"SELECT 'delete', old.id, old.title, old.summary, old.search_filters WHERE {old_when};"
    )
    insert = (
        f"INSERT INTO {table}(rowid, title, summary, search_filters) "
        f"SELECT new.id, new.title, new.summary, new.search_filters WHERE {new_when};"
    )
    return [
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON items BEGIN {delete} END",
        f"CREATE TRIGGER {table}_au AFTER UPDATE OF {_INDEXED_COLUMNS} ON items BEGIN {delete} {insert} END",
    ]


_SQLITE_FILTERED_SEARCH = [
    *(f"DROP TRIGGER IF EXISTS {t}_{when}" for t in SEARCH_INDEXES for when in ("ad", "au")),
    "DROP TABLE IF EXISTS items_fts",
    "DROP TABLE IF EXISTS classified_fts",
    f"CREATE VIRTUAL TABLE items_fts USING fts5({_FTS_COLUMNS})",
    f"CREATE VIRTUAL TABLE classified_fts USING fts5({_FTS_COLUMNS})",
    *_fts_triggers("items_fts", "true", "true"),
    *_fts_triggers("classified_fts", _classified("old."), _classified("new.")),
    "INSERT INTO items_fts(items_fts) VALUES ('rebuild')",
    "INSERT INTO classified_fts(rowid, title, summary, search_filters) "
    f"SELECT id, title, summary, search_filters FROM items WHERE {CLASSIFIED}",
    # One segment each: a rebuild leaves merges pending that the next writes would pay for (store cost at 1M
    # 442 us/item just after, 338 after this), and every word is looked up in every segment.
    "INSERT INTO items_fts(items_fts) VALUES ('optimize')",
    "INSERT INTO classified_fts(classified_fts) VALUES ('optimize')",
]


def _filtered_search(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    if "search_filters" not in {c["name"] for c in sa.inspect(conn).get_columns("items")}:
        generated = f"GENERATED ALWAYS AS ({_SEARCH_FILTERS}) VIRTUAL"
        conn.exec_driver_sql(f"ALTER TABLE items ADD COLUMN search_filters TEXT {generated}")
    for statement in _SQLITE_FILTERED_SEARCH:
        conn.exec_driver_sql(statement)


MIGRATIONS: list[Migration] = [
    _create_tables,
    _full_text_and_views,
    _batch_full_text,
    _replica_coordination,
    _official_sources,
    _delivery_lanes,
    _history_at_scale,
    _event_acts,
    _schedule_every_feed,
    _stored_search_vector,
    _classified_search,
    _event_counters,
    _gin_without_pending_list,
    _filtered_search,
]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # A new file gives pages that `monitor prune` frees back to the file system (store.return_space); on
    # a file made before this, prune converts it once.
    cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
    # 32 MB of page cache instead of 2: the inner pages of a million items' indexes stay in memory, so
    # storing an item costs about the same in a large history as in a new one.
    cursor.execute("PRAGMA cache_size=-32000")
    cursor.close()


def create_engine(url: str) -> Engine:
    """An engine for `url`; for SQLite, create the folder and set WAL and a busy timeout."""
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    engine = sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "postgresql":
        sa.event.listen(engine, "connect", _postgres_session)
    return engine


def _postgres_session(dbapi_connection: Any, _record: Any) -> None:
    """Bound what one stuck replica can hold: a transaction left idle (a process stopped or cut off mid-way)
    is ended by the server, and a lock wait gives up instead of stalling a healthy replica's only database
    thread; the supervised loops retry. Statements themselves are not bounded (migrations may be long)."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '30s'")
        cursor.execute("SET idle_in_transaction_session_timeout = '120s'")
    dbapi_connection.commit()


# Replicas starting together migrate one at a time (released at commit). Advisory locks are per database;
# keyed on the schema too, a migration never waits for one in another schema of the same database (another
# deployment, or a test).
_MIGRATION_KEY = "4242010, hashtext(coalesce(current_schema(), ''))"
# Mixed versions: releases before the schema's key took the one-int key (4242010) alone, so during a rolling
# upgrade an old and a new replica starting together on a database the old one would migrate must still
# exclude each other. The new code takes that key too, after its own (one order for every new replica, so no
# two wait on each other), and shared: an old replica takes it exclusively and waits for (or holds off) every
# new one, while new replicas of different schemas still never wait for each other. Remove it once every
# replica of every deployment runs a release with the schema's key (commit 4743f6f on).
_PREVIOUS_RELEASES_KEY = "4242010"
_MIGRATION_LOCKS = (
    ("pg_try_advisory_xact_lock", "pg_advisory_xact_lock", _MIGRATION_KEY),
    ("pg_try_advisory_xact_lock_shared", "pg_advisory_xact_lock_shared", _PREVIOUS_RELEASES_KEY),
)
# A migration of a large history takes minutes (rebuilding an index over a million items), longer than the
# sessions' lock_timeout: a replica that starts meanwhile waits this long for it, instead of failing.
MIGRATION_WAIT = "15min"


def migrate(engine: Engine) -> int:
    """Apply missing migrations; return the schema version."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            models.add_postgresql_conditions()  # before any DDL: its partial indexes' conditions
            _wait_for_other_migrations(conn)
        models.SCHEMA_VERSION.create(conn, checkfirst=True)
        done = {row[0] for row in conn.execute(sa.text("SELECT version FROM schema_version"))}
        for version, step in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            step(conn)
            conn.execute(
                sa.insert(models.SCHEMA_VERSION),
                {"version": version, "applied_at": datetime.now(UTC)},
            )
    return len(MIGRATIONS)


def _wait_for_other_migrations(conn: Connection) -> None:
    """Take the migration locks in order; when another process holds one, say so (once) and wait for it (up
    to MIGRATION_WAIT, this transaction only)."""
    waiting = False
    for try_lock, lock, key in _MIGRATION_LOCKS:
        if conn.exec_driver_sql(f"SELECT {try_lock}({key})").scalar():
            continue
        if not waiting:
            log.info(
                "waiting for another process to finish migrating this database",
                extra={"up_to": MIGRATION_WAIT},
            )
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{MIGRATION_WAIT}'")
            waiting = True
        conn.exec_driver_sql(f"SELECT {lock}({key})")


def store_error(url: str, error: BaseException) -> StoreError:
    """A database failure as a StoreError naming the database without its password."""
    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
    return StoreError(f"database {_shown(url)}: {reason}")


def _shown(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True) if "://" in url else url


def open_database(url: str) -> Engine:
    """Open and migrate; any failure is a StoreError naming the (password-free) database."""
    try:
        engine = create_engine(url)
        migrate(engine)
    except (sa.exc.SQLAlchemyError, OSError, ImportError) as error:
        raise store_error(url, error) from None
    return engine


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL that does not exist yet; None for anything else."""
    if not url.startswith("sqlite"):
        return None
    path = sa.engine.make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:") or Path(path).exists():
        return None
    return Path(path)


def open_existing(url: str, *, writes: bool = False) -> tuple[Engine, str | None]:
    """For commands that read (or, with `writes`, tidy) what the daemon stored. Nothing is created: for a
    SQLite file that does not exist yet, or a database without tables, an empty in-memory database stands
    in, and a note comes back for the command to show. A read-only open migrates nothing (see open_current);
    one that writes brings the schema up to date, as a daemon's start does."""
    missing = missing_sqlite_file(url)
    if missing is not None:
        _check_creatable(missing)
        return open_database("sqlite://"), f"no database yet at {missing} (the first run or poll creates it)"
    if writes:
        return open_database(url), None
    engine = open_current(url)
    if engine is None:
        note = f"no tables yet in {_shown(url)} (the first run or poll creates them)"
        return open_database("sqlite://"), note
    return engine, None


def open_current(url: str) -> Engine | None:
    """Open a database whose schema this code reads as it is, checked with one query: a StoreError if it is
    older (a read-only command never migrates) or newer than this code; None if it has no tables yet."""
    try:
        engine = create_engine(url)
    except (sa.exc.SQLAlchemyError, OSError, ImportError) as error:
        raise store_error(url, error) from None
    try:
        applied = _read_applied(url, engine)
        if applied is not None:
            _check_current(url, *applied)
    except StoreError:
        engine.dispose()
        raise
    if applied is None:
        engine.dispose()
        return None
    return engine


def _read_applied(url: str, engine: Engine) -> tuple[int, int] | None:
    try:
        with engine.connect() as conn:
            return _applied(conn)
    except (sa.exc.SQLAlchemyError, OSError) as error:
        raise store_error(url, error) from None


def _applied(conn: Connection) -> tuple[int, int] | None:
    """(how many migrations are recorded, the highest); None when there is no schema_version table."""
    try:
        count, top = conn.exec_driver_sql("SELECT count(*), max(version) FROM schema_version").one()
    except sa.exc.DBAPIError:
        conn.rollback()  # PostgreSQL: the failed statement ended the transaction
        if sa.inspect(conn).has_table("schema_version"):
            raise
        return None
    return int(count), int(top or 0)


def _check_current(url: str, count: int, top: int) -> None:
    current = len(MIGRATIONS)
    if top > current:
        raise StoreError(
            f"database {_shown(url)}: its schema is version {top}, newer than this monitor's {current}; "
            "use the release that wrote it (or a newer one)"
        )
    if count < current:
        raise StoreError(
            f"database {_shown(url)}: its schema ({count} of {current} migrations) is older than this "
            "monitor's; 'monitor run' or 'monitor poll --once' brings it up to date (this command only reads)"
        )


def _check_creatable(file: Path) -> None:
    folder = next(p for p in (file.parent, *file.parent.parents) if p.exists())
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(f"database {file}: cannot be created ({folder} is not a writable folder)")


def probe(url: str) -> str:
    """One line on the database's state for `check-config`, creating nothing; a StoreError if it cannot
    be opened."""
    missing = missing_sqlite_file(url)
    if missing is not None:
        _check_creatable(missing)
        return "not created yet; the first run or poll creates it"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("schema_version"):
                return "reachable, empty; the first run or poll creates the tables"
            done = len(list(conn.execute(sa.text("SELECT version FROM schema_version"))))
    except (sa.exc.SQLAlchemyError, OSError, ImportError) as error:
        raise store_error(url, error) from None
    finally:
        engine.dispose()
    if done >= len(MIGRATIONS):
        return f"reachable, schema up to date (version {done})"
    return f"reachable, schema version {done}; the next run migrates it to {len(MIGRATIONS)}"
