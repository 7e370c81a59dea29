"""Database tables (SQLAlchemy Core). Plain table names, documented in docs/schema.md.

Rows are not domain types: store.py converts between the two, so a column can
change without changing a webhook payload. Core tables rather than ORM classes: nothing maps rows to
objects, and a read-only command then never imports the ORM (tests/test_cli_startup.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


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


METADATA = sa.MetaData()


# One configured feed and its polling state.
FEEDS = sa.Table(
    "feeds",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True, index=True),
    sa.Column("url", sa.String(2000), nullable=False),  # as configured (the audit trail)
    sa.Column("learned_url", sa.String(2000)),  # from a 301/308
    sa.Column("title", sa.String(500)),
    sa.Column("etag", sa.String(500)),
    sa.Column("last_modified", sa.String(100)),
    sa.Column("body_hash", sa.String(64)),
    sa.Column("last_status", sa.Integer),
    sa.Column("error_count", sa.Integer, nullable=False, default=0),  # consecutive failures
    sa.Column("last_error", sa.String(1000)),
    sa.Column("problem", sa.String(1000)),  # last bozo problem
    sa.Column("gone", sa.Boolean, nullable=False, default=False),  # 410: polling stopped
    sa.Column("last_polled_at", UTCDateTime),
    sa.Column("last_success_at", UTCDateTime),
    sa.Column("last_new_item_at", UTCDateTime),
    sa.Column("next_poll_at", UTCDateTime, index=True),  # the schedule: replicas claim due rows
    sa.Column("notice_state", sa.String(20)),  # failing | silent: the last notice sent
    sa.Column("created_at", UTCDateTime),
    # In the config and enabled: only these are claimed.
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    # Bumped by every claim; a poll's results commit only under its own token.
    sa.Column("lease_token", sa.Integer, nullable=False, default=0),
    sa.Column("leased_by", sa.String(200)),  # the replica that claimed it last
    # The publisher's own source (a sanctions list, a press office): alerts say so.
    sa.Column("official", sa.Boolean, nullable=False, default=False),
    # Kept by store.save_items in the items' transaction, so `feeds` and `stats` never count the items table.
    sa.Column("item_count", sa.Integer, nullable=False, default=0, server_default="0"),
    # Of those, the items that report an event.
    sa.Column("event_report_count", sa.Integer, nullable=False, default=0, server_default="0"),
)


# One development (a cluster of reports), e.g. Kazakhstan recognises the Taliban government.
# Every `history` filter walks one of these newest first and stops at --limit (docs/schema.md).
EVENTS = sa.Table(
    "events",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_type", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(8)),
    sa.Column("modality", sa.String(10), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("headline", sa.String(1000), nullable=False),
    sa.Column("link", sa.String(2000)),
    sa.Column("evidence", sa.String(4000), nullable=False),
    sa.Column("rule", sa.String(100), nullable=False),
    sa.Column("act", sa.String(40)),  # the kind of step; one-off acts never alert twice
    sa.Column("first_item_id", sa.Integer, sa.ForeignKey("items.id")),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id")),  # the first report's feed
    sa.Column("detected_at", UTCDateTime),
    sa.Column("published", UTCDateTime),
    sa.Index("ix_events_type_actor", "event_type", "actor"),
    sa.Index("ix_events_detected", "detected_at", "id"),
    sa.Index("ix_events_type_detected", "event_type", "detected_at", "id"),
    sa.Index("ix_events_actor_detected", "actor", "detected_at", "id"),
    sa.Index("ix_events_feed_detected", "feed_id", "detected_at", "id"),
)


# Partial-index conditions, written as the queries write them (SQLite matches a partial index by the text
# of the condition; sqlalchemy renders `pruned == False` as `pruned = 0` there and `NOT pruned` is what
# PostgreSQL reduces `pruned = false` to).
def _unpruned(also: str = "") -> dict[str, Any]:
    extra = f" AND {also}" if also else ""
    return {"sqlite_where": sa.text(f"pruned = 0{extra}"), "postgresql_where": sa.text(f"NOT pruned{extra}")}


_REPORTS: dict[str, Any] = {
    "sqlite_where": sa.text("event_id IS NOT NULL"),
    "postgresql_where": sa.text("event_id IS NOT NULL"),
}


# One feed entry, with the classifier's decision about it.
# `history --items` lists unpruned items newest first: each filter has an index in that order, holding
# only the rows it can return (partial), so a walk never steps over pruned or undecided items.
ITEMS = sa.Table(
    "items",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id"), nullable=False),
    sa.Column("key", sa.String(600), nullable=False),
    sa.Column("link_key", sa.String(600)),
    sa.Column("title", sa.String(2000), nullable=False, default=""),
    sa.Column("summary", sa.Text, nullable=False, default=""),
    sa.Column("link", sa.String(2000)),
    sa.Column("published", UTCDateTime),
    sa.Column("published_known", sa.Boolean, nullable=False, default=True),
    sa.Column("first_seen_at", UTCDateTime),
    sa.Column("authors", sa.String(1000), nullable=False, default=""),  # "; "-joined
    sa.Column("tags", sa.String(1000), nullable=False, default=""),
    # Older than max_item_age on first sight: never alerts.
    sa.Column("backlog", sa.Boolean, nullable=False, default=False),
    # Content removed by retention; the key stays so it never comes back as new.
    sa.Column("pruned", sa.Boolean, nullable=False, default=False),
    sa.Column("event_type", sa.String(40)),
    sa.Column("actor", sa.String(8)),
    sa.Column("modality", sa.String(10)),
    sa.Column("novel", sa.Boolean),
    sa.Column("confidence", sa.Float),
    sa.Column("alert", sa.Boolean, nullable=False, default=False),
    sa.Column("reason", sa.String(40)),
    sa.Column("rule", sa.String(100)),
    sa.Column("evidence", sa.Text),
    sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id")),
    sa.UniqueConstraint("feed_id", "key", name="uq_items_feed_key"),
    sa.Index("ix_items_feed_link_key", "feed_id", "link_key"),
    sa.Index("ix_items_seen", "first_seen_at", "id", **_unpruned()),
    sa.Index("ix_items_feed_seen", "feed_id", "first_seen_at", "id", **_unpruned()),
    sa.Index(
        "ix_items_type_seen", "event_type", "first_seen_at", "id", **_unpruned("event_type IS NOT NULL")
    ),
    sa.Index("ix_items_actor_seen", "actor", "first_seen_at", "id", **_unpruned("actor IS NOT NULL")),
    sa.Index("ix_items_event", "event_id", **_REPORTS),
)


# A feed-health notice (failing, recovered, silent).
NOTICES = sa.Table(
    "notices",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("detail", sa.String(1000), nullable=False),
    sa.Column("created_at", UTCDateTime, index=True),
)


# A configured webhook target's health (its URL and secret live only in the config).
# The per-target delivery claim (monitor/target_claims.py) and the target's rate-limit pause.
WEBHOOKS = sa.Table(
    "webhooks",
    METADATA,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    # A changed URL clears `broken`; the URL itself is not stored.
    sa.Column("url_hash", sa.String(64), nullable=False, default=""),
    sa.Column("broken", sa.Boolean, nullable=False, default=False),
    sa.Column("broken_reason", sa.String(1000)),
    sa.Column("broken_at", UTCDateTime),
    sa.Column("last_sent_at", UTCDateTime),
    sa.Column("lease_owner", sa.String(200)),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("lease_token", sa.Integer, nullable=False, default=0),
    sa.Column("paused_until", UTCDateTime),
)


# The outbox: one row per (event or notice, webhook). Written with the event, in one transaction.
DELIVERIES = sa.Table(
    "deliveries",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    # The generic target's webhook-id, stable across retries.
    sa.Column("msg_id", sa.String(64), nullable=False, unique=True),
    sa.Column("webhook", sa.String(200), sa.ForeignKey("webhooks.name"), nullable=False, index=True),
    sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id")),
    sa.Column("notice_id", sa.Integer, sa.ForeignKey("notices.id")),
    # pending | sending | sent | dead | digested
    sa.Column("status", sa.String(12), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.String(1000)),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("digest_id", sa.Integer),  # the delivery that carried this one in a digest
    sa.Column("digest_msg_id", sa.String(64)),  # its digest's webhook-id, set before sending
    sa.Column("age_from", UTCDateTime),  # max_age counts from here when set (a retry, a fixed target)
    sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
    sa.Index("ix_deliveries_status_id", "status", "id"),  # `deliveries --status`, in id order
    sa.UniqueConstraint("event_id", "webhook", name="uq_deliveries_event_webhook"),
)


# One row per event identity (type, actor, modality). Creating or joining an event first upserts this row,
# which locks it until the transaction ends: two replicas reporting one development take turns, and the
# second finds the first's event (store.save_items).
EVENT_KEYS = sa.Table(
    "event_keys",
    METADATA,
    sa.Column("identity", sa.String(80), primary_key=True),
    sa.Column("touched_at", UTCDateTime),
)


# A `monitor run` process sharing the database: registered at start, heartbeat while it runs.
REPLICAS = sa.Table(
    "replicas",
    METADATA,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime),
    sa.Column("heartbeat_at", UTCDateTime),
    sa.Column("stopped_at", UTCDateTime),
    sa.Column("claims", sa.Integer, nullable=False, default=0),  # feeds claimed since start
)


# A named piece of work (a chore) held by one replica until `expires_at`.
LEASES = sa.Table(
    "leases",
    METADATA,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("holder", sa.String(200)),
    sa.Column("token", sa.Integer, nullable=False, default=0),
    sa.Column("expires_at", UTCDateTime),
)


# Items first seen per UTC day, kept by store.save_items: `stats` reads days without counting items.
ITEM_DAYS = sa.Table(
    "item_days",
    METADATA,
    sa.Column("day", sa.String(10), primary_key=True),  # YYYY-MM-DD
    sa.Column("items", sa.Integer, nullable=False, default=0),
    sa.Column("event_reports", sa.Integer, nullable=False, default=0),
)


# Applied migrations.
SCHEMA_VERSION = sa.Table(
    "schema_version",
    METADATA,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", UTCDateTime),
)


# A tracked (selected) entry of an official sanctions list, as of its last fetch.
LIST_ENTRIES = sa.Table(
    "list_entries",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id"), nullable=False, index=True),
    # The trimmed reference number (TAi.144, OFAC uid, AFG0006, EU.27.28).
    sa.Column("key", sa.String(100), nullable=False),
    sa.Column("un_ref", sa.String(100), index=True),
    sa.Column("name", sa.String(1000), nullable=False, default=""),
    sa.Column("substance", sa.Text, nullable=False),  # JSON: the normalised substantive fields
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("first_seen_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime),
    sa.UniqueConstraint("feed_id", "key", name="uq_list_entries_feed_key"),
)


# An entry added to, removed from or amended on a list; `item_id` is its row in `items`.
LIST_CHANGES = sa.Table(
    "list_changes",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id"), nullable=False, index=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), index=True),
    sa.Column("key", sa.String(100), nullable=False, index=True),
    sa.Column("un_ref", sa.String(100), index=True),
    sa.Column("change", sa.String(10), nullable=False),  # added | removed | amended
    # Comma-separated, for amendments.
    sa.Column("changed_fields", sa.String(500), nullable=False, default=""),
    sa.Column("before", sa.Text),  # JSON substance, None when added
    sa.Column("after", sa.Text),  # JSON substance, None when removed
    sa.Column("alert", sa.Boolean, nullable=False, default=False),
    sa.Column("held", sa.Boolean, nullable=False, default=False),  # part of a mass change held by the breaker
    sa.Column("detected_at", UTCDateTime, index=True),
)


# The last good fetch of a list: its size guards the next one.
LIST_STATE = sa.Table(
    "list_state",
    METADATA,
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id"), primary_key=True),
    sa.Column("entries_total", sa.Integer, nullable=False),
    sa.Column("entries_selected", sa.Integer, nullable=False),
    sa.Column("generated", sa.String(100)),
    sa.Column("checked_at", UTCDateTime),
)
