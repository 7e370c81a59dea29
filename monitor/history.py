"""Read-only queries over the history: feeds, events, items, stats. Rows come back as plain dicts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import models, search
from monitor.errors import InputError
from monitor.redact import redact_url

FEEDS = models.Feed.__table__  # type: ignore[attr-defined]
ITEMS = models.Item.__table__  # type: ignore[attr-defined]
EVENTS = models.Event.__table__  # type: ignore[attr-defined]
_RELATIVE = re.compile(r"^(\d+)([hdw])$")


@dataclass(frozen=True)
class Filters:
    event_type: str | None = None
    actor: str | None = None  # a code, already resolved
    since: datetime | None = None
    until: datetime | None = None
    feed: str | None = None
    search: str | None = None
    limit: int = 50


def parse_when(value: str, now: datetime, *, end: bool = False) -> datetime:
    """`2026-01-31`, an ISO timestamp, or relative `12h`, `7d`, `2w` (before now)."""
    value = value.strip()
    try:
        if match := _RELATIVE.match(value):
            unit = {"h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
            return now - timedelta(**{unit: int(match.group(1))})
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r}: not a date (YYYY-MM-DD), timestamp or relative time like 7d") from None
    except OverflowError:  # 99999999d, or the day after 9999-12-31
        raise InputError(f"{value!r}: out of the range of dates") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def _plain(row: Any) -> dict[str, object]:
    return {key: _iso(value) for key, value in row._mapping.items()}


def feeds(engine: Engine) -> list[dict[str, object]]:
    counts = sa.select(ITEMS.c.feed_id, sa.func.count().label("n")).group_by(ITEMS.c.feed_id).subquery()
    query = (
        sa.select(
            FEEDS.c.name,
            FEEDS.c.url,
            FEEDS.c.learned_url,
            FEEDS.c.last_status,
            sa.func.coalesce(counts.c.n, 0).label("items"),
            FEEDS.c.error_count,
            FEEDS.c.last_error,
            FEEDS.c.problem,
            FEEDS.c.gone,
            FEEDS.c.last_polled_at,
            FEEDS.c.next_poll_at,
            FEEDS.c.last_success_at,
            FEEDS.c.last_new_item_at,
            FEEDS.c.notice_state,
            FEEDS.c.created_at,
        )
        .outerjoin(counts, counts.c.feed_id == FEEDS.c.id)
        .order_by(FEEDS.c.name)
    )
    with engine.connect() as conn:
        return [_without_secrets(_plain(row)) for row in conn.execute(query)]


def _without_secrets(row: dict[str, object]) -> dict[str, object]:
    """Feed URLs may carry tokens (query, userinfo): show them redacted, like the logs do."""
    for key in ("url", "learned_url"):
        if isinstance(url := row[key], str):
            row[key] = redact_url(url)
    return row


def _search_ids(conn: sa.Connection, query: search.Query) -> Any:
    if conn.dialect.name == "sqlite":
        ids = sa.text("SELECT rowid FROM items_fts WHERE items_fts MATCH :q").bindparams(q=search.fts5(query))
        return ITEMS.c.id.in_(ids.columns(sa.column("rowid")))
    document = sa.func.to_tsvector(
        "simple", sa.func.coalesce(ITEMS.c.title, "") + " " + sa.func.coalesce(ITEMS.c.summary, "")
    )
    return document.op("@@")(sa.func.to_tsquery("simple", search.tsquery(query)))


def _filtered(
    query: sa.Select[Any],
    f: Filters,
    time_col: sa.ColumnElement[Any],
    conn: sa.Connection,
    type_col: sa.ColumnElement[Any],
    actor_col: sa.ColumnElement[Any],
) -> sa.Select[Any]:
    if f.event_type:
        query = query.where(type_col == f.event_type)
    if f.actor:
        query = query.where(actor_col == f.actor)
    if f.since:
        query = query.where(time_col >= f.since)
    if f.until:
        query = query.where(time_col < f.until)
    if f.feed:
        query = query.where(FEEDS.c.name == f.feed)
    if terms := search.parse(f.search or ""):
        query = query.where(_search_ids(conn, terms))
    return query.limit(f.limit)


def events(engine: Engine, f: Filters) -> list[dict[str, object]]:
    """One row per development, newest first, with its first report and how many sources reported it."""
    sources = sa.select(sa.func.count()).where(ITEMS.c.event_id == EVENTS.c.id).scalar_subquery()
    first = ITEMS.alias("first")
    query = (
        sa.select(
            EVENTS.c.id.label("event"),
            EVENTS.c.detected_at,
            EVENTS.c.event_type,
            EVENTS.c.actor,
            EVENTS.c.modality,
            EVENTS.c.confidence,
            EVENTS.c.headline,
            EVENTS.c.link,
            FEEDS.c.name.label("feed"),
            sources.label("sources"),
            EVENTS.c.evidence,
        )
        .select_from(
            EVENTS.outerjoin(first, first.c.id == EVENTS.c.first_item_id).outerjoin(
                FEEDS, FEEDS.c.id == first.c.feed_id
            )
        )
        .order_by(EVENTS.c.detected_at.desc(), EVENTS.c.id.desc())
    )
    with engine.connect() as conn:
        if terms := search.parse(f.search or ""):  # match events whose reports mention the text
            reports = sa.select(ITEMS.c.event_id).where(_search_ids(conn, terms))
            query = query.where(EVENTS.c.id.in_(reports))
            f = replace(f, search=None)
        query = _filtered(query, f, EVENTS.c.detected_at, conn, EVENTS.c.event_type, EVENTS.c.actor)
        return [_plain(row) for row in conn.execute(query)]


def items(engine: Engine, f: Filters) -> list[dict[str, object]]:
    """Every stored item with its decision, newest first."""
    query = (
        sa.select(
            ITEMS.c.id.label("item"),
            ITEMS.c.first_seen_at,
            ITEMS.c.published,
            FEEDS.c.name.label("feed"),
            ITEMS.c.title,
            ITEMS.c.link,
            ITEMS.c.event_type,
            ITEMS.c.actor,
            ITEMS.c.modality,
            ITEMS.c.confidence,
            ITEMS.c.alert,
            ITEMS.c.reason,
            ITEMS.c.event_id.label("event"),
            ITEMS.c.backlog,
        )
        .join(FEEDS, FEEDS.c.id == ITEMS.c.feed_id)
        .where(ITEMS.c.pruned.is_(False))
        .order_by(ITEMS.c.first_seen_at.desc(), ITEMS.c.id.desc())
    )
    with engine.connect() as conn:
        query = _filtered(query, f, ITEMS.c.first_seen_at, conn, ITEMS.c.event_type, ITEMS.c.actor)
        return [_plain(row) for row in conn.execute(query)]


def _utc_day(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[str]:
    """`YYYY-MM-DD` of a time column, in UTC like every other time the monitor shows."""
    if dialect == "postgresql":
        # A timestamptz cast to text is in the session's time zone, which need not be UTC.
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD")
    return sa.func.substr(sa.cast(column, sa.String), 1, 10)  # SQLite stores UTC text


def stats(engine: Engine) -> dict[str, list[dict[str, object]]]:
    """Counts per feed, event type, actor and day."""
    day = _utc_day(EVENTS.c.detected_at, engine.dialect.name)
    item_day = _utc_day(ITEMS.c.first_seen_at, engine.dialect.name)
    queries = {
        "feeds": sa.select(
            FEEDS.c.name.label("feed"),
            sa.func.count(ITEMS.c.id).label("items"),
            sa.func.count(ITEMS.c.event_id).label("event_reports"),
        )
        .outerjoin(ITEMS, ITEMS.c.feed_id == FEEDS.c.id)
        .group_by(FEEDS.c.name)
        .order_by(FEEDS.c.name),
        "event_types": sa.select(EVENTS.c.event_type, sa.func.count().label("events"))
        .group_by(EVENTS.c.event_type)
        .order_by(EVENTS.c.event_type),
        "actors": sa.select(EVENTS.c.actor, sa.func.count().label("events"))
        .group_by(EVENTS.c.actor)
        .order_by(sa.func.count().desc(), EVENTS.c.actor),
        "days": sa.select(
            item_day.label("day"),
            sa.func.count().label("items"),
            sa.func.count(ITEMS.c.event_id).label("event_reports"),
        )
        .group_by(item_day)
        .order_by(item_day.desc())
        .limit(60),
        "event_days": sa.select(day.label("day"), sa.func.count().label("events"))
        .group_by(day)
        .order_by(day.desc())
        .limit(60),
    }
    with engine.connect() as conn:
        return {name: [_plain(row) for row in conn.execute(query)] for name, query in queries.items()}


def list_changes(
    engine: Engine, *, event_id: int | None = None, item_id: int | None = None
) -> list[dict[str, Any]]:
    """The sanctions-list changes behind an event (one per list that reported it) or one item, oldest
    first, with the entry's before and after (decoded JSON; None when added or removed)."""
    changes = models.ListChange.__table__  # type: ignore[attr-defined]
    query = (
        sa.select(
            changes.c.item_id.label("item"),
            ITEMS.c.event_id.label("event"),
            FEEDS.c.name.label("feed"),
            changes.c.key.label("reference"),
            changes.c.un_ref,
            changes.c.change,
            changes.c.changed_fields,
            changes.c.alert,
            changes.c.held,
            changes.c.detected_at,
            ITEMS.c.title,
            ITEMS.c.link,
            changes.c.before,
            changes.c.after,
        )
        .join(ITEMS, ITEMS.c.id == changes.c.item_id)
        .join(FEEDS, FEEDS.c.id == changes.c.feed_id)
        .order_by(changes.c.id)
    )
    query = (
        query.where(ITEMS.c.event_id == event_id) if item_id is None else query.where(ITEMS.c.id == item_id)
    )
    with engine.connect() as conn:
        rows = [_plain(row) for row in conn.execute(query)]
    for row in rows:
        row["before"] = json.loads(str(row["before"])) if row["before"] else None
        row["after"] = json.loads(str(row["after"])) if row["after"] else None
    return rows
