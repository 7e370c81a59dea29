"""Database rows (SQLModel tables). Plain table names, documented in docs/schema.md.

Rows are not domain types: store.py converts between the two, so a column can
change without changing a webhook payload. The classes declare the schema; queries use their tables through
the typed names at the end (FEEDS, ITEMS, ...), as SQLAlchemy Core statements.

Every command that opens the database imports this module, so its cost is start-up time (issue 13). Two
choices keep it down: no `from __future__ import annotations` (pydantic and SQLAlchemy evaluate every field's
annotation when a class is built; as strings, each is compiled and evaluated, twice), and `defer_build` (no
row is ever validated through pydantic, so no validator is built unless something asks for one).
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ConfigDict
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and Postgres alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        # SQLite has no time zones: store naive UTC text that sorts correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_day(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[str]:
    """`YYYY-MM-DD` of a time column, in UTC like every other time the monitor shows."""
    if dialect == "postgresql":
        # A timestamptz cast to text is in the session's time zone, which need not be UTC.
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD")
    return sa.func.substr(sa.cast(column, sa.String), 1, 10)  # SQLite stores UTC text


class _Table(SQLModel):
    """The base of every table class below."""

    # Merged into SQLModel's own config at class creation; sqlmodel types the attribute as its private
    # SQLModelConfig, a ConfigDict with its table keys.
    model_config = ConfigDict(defer_build=True)  # type: ignore[assignment]


def utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class Feed(_Table, table=True):
    """One configured feed and its polling state."""

    __tablename__ = "feeds"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=200)
    url: str = Field(max_length=2000)  # as configured (the audit trail)
    learned_url: str | None = Field(default=None, max_length=2000)  # from a 301/308
    title: str | None = Field(default=None, max_length=500)
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    body_hash: str | None = Field(default=None, max_length=64)
    last_status: int | None = None
    error_count: int = 0  # consecutive failures
    last_error: str | None = Field(default=None, max_length=1000)
    problem: str | None = Field(default=None, max_length=1000)  # last bozo problem
    gone: bool = False  # 410: polling stopped
    last_polled_at: datetime | None = utc_column()
    last_success_at: datetime | None = utc_column()
    last_new_item_at: datetime | None = utc_column()
    next_poll_at: datetime | None = utc_column(index=True)  # the schedule: replicas claim due rows
    notice_state: str | None = Field(default=None, max_length=20)  # failing | silent: the last notice sent
    created_at: datetime | None = utc_column()
    enabled: bool = True  # in the config and enabled: only these are claimed
    lease_token: int = 0  # bumped by every claim; a poll's results commit only under its own token
    leased_by: str | None = Field(default=None, max_length=200)  # the replica that claimed it last
    official: bool = False  # the publisher's own source (a sanctions list, a press office): alerts say so
    # Kept by store.save_items in the items' transaction, so `feeds` and `stats` never count the items table.
    item_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    event_report_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # event reports


class Event(_Table, table=True):
    """One development (a cluster of reports), e.g. Kazakhstan recognises the Taliban government."""

    __tablename__ = "events"
    # Every `history` filter walks one of these newest first and stops at --limit (docs/schema.md).
    __table_args__ = (
        sa.Index("ix_events_type_actor", "event_type", "actor"),
        sa.Index("ix_events_detected", "detected_at", "id"),
        sa.Index("ix_events_type_detected", "event_type", "detected_at", "id"),
        sa.Index("ix_events_actor_detected", "actor", "detected_at", "id"),
        sa.Index("ix_events_feed_detected", "feed_id", "detected_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_type: str = Field(max_length=40)
    actor: str | None = Field(default=None, max_length=8)
    modality: str = Field(max_length=10)
    confidence: float
    headline: str = Field(max_length=1000)
    link: str | None = Field(default=None, max_length=2000)
    evidence: str = Field(max_length=4000)
    rule: str = Field(max_length=100)
    act: str | None = Field(default=None, max_length=40)  # the kind of step; one-off acts never alert twice
    first_item_id: int | None = Field(default=None, foreign_key="items.id")
    feed_id: int | None = Field(default=None, foreign_key="feeds.id")  # the first report's feed
    detected_at: datetime | None = utc_column()
    published: datetime | None = utc_column()


# Partial-index conditions, written as the queries write them (SQLite matches a partial index by the text
# of the condition; sqlalchemy renders `pruned == False` as `pruned = 0` there and `NOT pruned` is what
# PostgreSQL reduces `pruned = false` to). The PostgreSQL ones are kept apart and attached by
# `add_postgresql_conditions` when a PostgreSQL database is migrated: a `postgresql_where` argument makes
# SQLAlchemy import its PostgreSQL dialect and drivers' modules, a tenth of a SQLite command's start-up.
_POSTGRESQL_WHERE: dict[str, str] = {}


_REPORTS = "event_id IS NOT NULL"


def _partial(name: str, *columns: str, sqlite: str, postgresql: str) -> sa.Index:
    _POSTGRESQL_WHERE[name] = postgresql
    return sa.Index(name, *columns, sqlite_where=sa.text(sqlite))


def _unpruned(name: str, *columns: str, also: str = "") -> sa.Index:
    extra = f" AND {also}" if also else ""
    return _partial(name, *columns, sqlite=f"pruned = 0{extra}", postgresql=f"NOT pruned{extra}")


class Item(_Table, table=True):
    """One feed entry, with the classifier's decision about it."""

    __tablename__ = "items"
    # `history --items` lists unpruned items newest first: each filter has an index in that order, holding
    # only the rows it can return (partial), so a walk never steps over pruned or undecided items.
    __table_args__ = (
        sa.UniqueConstraint("feed_id", "key", name="uq_items_feed_key"),
        sa.Index("ix_items_feed_link_key", "feed_id", "link_key"),
        _unpruned("ix_items_seen", "first_seen_at", "id"),
        _unpruned("ix_items_feed_seen", "feed_id", "first_seen_at", "id"),
        _unpruned("ix_items_type_seen", "event_type", "first_seen_at", "id", also="event_type IS NOT NULL"),
        _unpruned("ix_items_actor_seen", "actor", "first_seen_at", "id", also="actor IS NOT NULL"),
        _partial("ix_items_event", "event_id", sqlite=_REPORTS, postgresql=_REPORTS),
    )

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feeds.id")
    key: str = Field(max_length=600)
    link_key: str | None = Field(default=None, max_length=600)
    title: str = Field(default="", max_length=2000)
    summary: str = Field(default="", sa_type=sa.Text)
    link: str | None = Field(default=None, max_length=2000)
    published: datetime | None = utc_column()
    published_known: bool = True
    first_seen_at: datetime | None = utc_column()
    authors: str = Field(default="", max_length=1000)  # "; "-joined
    tags: str = Field(default="", max_length=1000)
    backlog: bool = False  # older than max_item_age on first sight: never alerts
    pruned: bool = False  # content removed by retention; the key stays so it never comes back as new
    event_type: str | None = Field(default=None, max_length=40)
    actor: str | None = Field(default=None, max_length=8)
    modality: str | None = Field(default=None, max_length=10)
    novel: bool | None = None
    confidence: float | None = None
    alert: bool = False
    reason: str | None = Field(default=None, max_length=40)
    rule: str | None = Field(default=None, max_length=100)
    evidence: str | None = Field(default=None, sa_type=sa.Text)
    event_id: int | None = Field(default=None, foreign_key="events.id")


class Notice(_Table, table=True):
    """A feed-health notice (failing, recovered, silent)."""

    __tablename__ = "notices"

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feeds.id", index=True)
    kind: str = Field(max_length=20)
    detail: str = Field(max_length=1000)
    created_at: datetime | None = utc_column(index=True)


class Webhook(_Table, table=True):
    """A configured webhook target's health (its URL and secret live only in the config)."""

    __tablename__ = "webhooks"

    name: str = Field(primary_key=True, max_length=200)
    kind: str = Field(max_length=20)
    url_hash: str = Field(
        default="", max_length=64
    )  # a changed URL clears `broken`; the URL itself is not stored
    broken: bool = False
    broken_reason: str | None = Field(default=None, max_length=1000)
    broken_at: datetime | None = utc_column()
    last_sent_at: datetime | None = utc_column()
    # The per-target delivery claim (monitor/target_claims.py) and the target's rate-limit pause.
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = utc_column()
    lease_token: int = 0
    paused_until: datetime | None = utc_column()


class Delivery(_Table, table=True):
    """The outbox: one row per (event or notice, webhook). Written with the event, in one transaction."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_deliveries_status_id", "status", "id"),  # `deliveries --status`, in id order
        sa.UniqueConstraint("event_id", "webhook", name="uq_deliveries_event_webhook"),
    )

    id: int | None = Field(default=None, primary_key=True)
    msg_id: str = Field(max_length=64, unique=True)  # the generic target's webhook-id, stable across retries
    webhook: str = Field(foreign_key="webhooks.name", max_length=200, index=True)
    event_id: int | None = Field(default=None, foreign_key="events.id")
    notice_id: int | None = Field(default=None, foreign_key="notices.id")
    status: str = Field(default="pending", max_length=12)  # pending | sending | sent | dead | digested
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=1000)
    next_attempt_at: datetime | None = utc_column()
    created_at: datetime | None = utc_column()
    sent_at: datetime | None = utc_column()
    digest_id: int | None = None  # the delivery that carried this one in a digest
    digest_msg_id: str | None = Field(
        default=None, max_length=64
    )  # its digest's webhook-id, set before sending
    age_from: datetime | None = utc_column()  # max_age counts from here when set (a retry, a fixed target)


class EventKey(_Table, table=True):
    """One row per event identity (type, actor, modality). Creating or joining an event first upserts this
    row, which locks it until the transaction ends: two replicas reporting one development take turns, and
    the second finds the first's event (store.save_items)."""

    __tablename__ = "event_keys"

    identity: str = Field(primary_key=True, max_length=80)
    touched_at: datetime | None = utc_column()


class Replica(_Table, table=True):
    """A `monitor run` process sharing the database: registered at start, heartbeat while it runs."""

    __tablename__ = "replicas"

    id: str = Field(primary_key=True, max_length=200)
    host: str = Field(max_length=200)
    pid: int
    started_at: datetime | None = utc_column()
    heartbeat_at: datetime | None = utc_column()
    stopped_at: datetime | None = utc_column()
    claims: int = 0  # feeds claimed since start


class Lease(_Table, table=True):
    """A named piece of work (a chore) held by one replica until `expires_at`."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=100)
    holder: str | None = Field(default=None, max_length=200)
    token: int = 0
    expires_at: datetime | None = utc_column()


class ItemDay(_Table, table=True):
    """Items first seen per UTC day, kept by store.save_items: `stats` reads days without counting items."""

    __tablename__ = "item_days"

    day: str = Field(primary_key=True, max_length=10)  # YYYY-MM-DD
    items: int = 0
    event_reports: int = 0


NO_ACTOR = ""  # event_counts' key for events without an actor (a primary key cannot hold NULL)


class EventCount(_Table, table=True):
    """Events recorded per type, per actor and per UTC day of detection, kept by monitor.event_counts in the
    events' transaction: `stats` reads these few rows instead of grouping every event."""

    __tablename__ = "event_counts"

    kind: str = Field(primary_key=True, max_length=10)  # event_type | actor | day
    key: str = Field(primary_key=True, max_length=40)  # the type, the actor ('' for none), or YYYY-MM-DD
    events: int = 0


class SchemaVersion(_Table, table=True):
    """Applied migrations."""

    __tablename__ = "schema_version"

    version: int = Field(primary_key=True)
    applied_at: datetime | None = utc_column()


class ListEntry(_Table, table=True):
    """A tracked (selected) entry of an official sanctions list, as of its last fetch."""

    __tablename__ = "list_entries"
    __table_args__ = (sa.UniqueConstraint("feed_id", "key", name="uq_list_entries_feed_key"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feeds.id", index=True)
    key: str = Field(max_length=100)  # the trimmed reference number (TAi.144, OFAC uid, AFG0006, EU.27.28)
    un_ref: str | None = Field(default=None, max_length=100, index=True)
    name: str = Field(default="", max_length=1000)
    substance: str = Field(sa_type=sa.Text)  # JSON: the normalised substantive fields
    hash: str = Field(max_length=64)
    first_seen_at: datetime | None = utc_column()
    updated_at: datetime | None = utc_column()


class ListChange(_Table, table=True):
    """An entry added to, removed from or amended on a list; `item_id` is its row in `items`."""

    __tablename__ = "list_changes"

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feeds.id", index=True)
    item_id: int | None = Field(default=None, foreign_key="items.id", index=True)
    key: str = Field(max_length=100, index=True)
    un_ref: str | None = Field(default=None, max_length=100, index=True)
    change: str = Field(max_length=10)  # added | removed | amended
    changed_fields: str = Field(default="", max_length=500)  # comma-separated, for amendments
    before: str | None = Field(default=None, sa_type=sa.Text)  # JSON substance, None when added
    after: str | None = Field(default=None, sa_type=sa.Text)  # JSON substance, None when removed
    alert: bool = False
    held: bool = False  # part of a mass change held by the breaker
    detected_at: datetime | None = utc_column(index=True)


class ListState(_Table, table=True):
    """The last good fetch of a list: its size guards the next one."""

    __tablename__ = "list_state"

    feed_id: int = Field(foreign_key="feeds.id", primary_key=True)
    entries_total: int
    entries_selected: int
    generated: str | None = Field(default=None, max_length=100)
    checked_at: datetime | None = utc_column()


def _table(model: type[SQLModel]) -> sa.Table:
    # SQLModel types `__table__` loosely; every class above is `table=True`, so it is a Table.
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


METADATA = SQLModel.metadata
FEEDS = _table(Feed)
EVENTS = _table(Event)
ITEMS = _table(Item)
NOTICES = _table(Notice)
WEBHOOKS = _table(Webhook)
DELIVERIES = _table(Delivery)
EVENT_KEYS = _table(EventKey)
REPLICAS = _table(Replica)
LEASES = _table(Lease)
ITEM_DAYS = _table(ItemDay)
EVENT_COUNTS = _table(EventCount)
SCHEMA_VERSION = _table(SchemaVersion)
LIST_ENTRIES = _table(ListEntry)
LIST_CHANGES = _table(ListChange)
LIST_STATE = _table(ListState)


def add_postgresql_conditions() -> None:
    """Give the partial indexes their PostgreSQL conditions (idempotent). db.migrate, the one path that
    creates tables and indexes, calls it first on PostgreSQL; a SQLite process never loads that dialect."""
    for index in ITEMS.indexes:
        if (where := _POSTGRESQL_WHERE.get(str(index.name))) is not None:
            index.dialect_options["postgresql"]["where"] = sa.text(where)
