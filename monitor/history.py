"""Read-only queries over the history: feeds, events, items, stats, deliveries. Rows come back as dicts."""

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
from monitor.models import DELIVERIES, EVENTS, FEEDS, ITEM_DAYS, ITEMS, WEBHOOKS
from monitor.redact import redact_url

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
    query = sa.select(
        FEEDS.c.name,
        FEEDS.c.url,
        FEEDS.c.learned_url,
        FEEDS.c.last_status,
        FEEDS.c.item_count.label("items"),
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
    ).order_by(FEEDS.c.name)
    with engine.connect() as conn:
        return [_without_secrets(_plain(row)) for row in conn.execute(query)]


def _without_secrets(row: dict[str, object]) -> dict[str, object]:
    """Feed URLs may carry tokens (query, userinfo): show them redacted, like the logs do."""
    for key in ("url", "learned_url"):
        if isinstance(url := row[key], str):
            row[key] = redact_url(url)
    return row


_SEARCH: sa.ColumnElement[Any] = sa.literal_column(
    "items.search"
)  # PostgreSQL's stored tsvector (db.py), not in the model


# The vector of classified items only, as ix_items_classified_search indexes it (db.py). A type or actor
# filter keeps only classified items, so with one the two match the same rows.
_CLASSIFIED_SEARCH = sa.case((ITEMS.c.event_type.is_not(None) | ITEMS.c.actor.is_not(None), _SEARCH))


def _tsquery(query: search.Query, vector: sa.ColumnElement[Any] = _SEARCH) -> sa.ColumnElement[Any]:
    # Inlined, not bound: the planner sees the words, so it can tell a rare word (use the index) from a
    # common one (walk newest first). The text is letters, digits and our own quoting (search.tsquery).
    text: sa.BindParameter[str] = sa.bindparam("tsq", search.tsquery(query), literal_execute=True)
    return vector.op("@@")(sa.func.to_tsquery("simple", text))


def _filtered(query: sa.Select[Any], f: Filters, cols: Columns) -> sa.Select[Any]:
    if f.event_type:
        query = query.where(cols.event_type == f.event_type)
    if f.actor:
        query = query.where(cols.actor == f.actor)
    if f.since:
        query = query.where(cols.time >= f.since)
    if f.until:
        query = query.where(cols.time < f.until)
    if f.feed:
        query = query.where(
            cols.feed_id == sa.select(FEEDS.c.id).where(FEEDS.c.name == f.feed).scalar_subquery()
        )
    return query.limit(f.limit)


@dataclass(frozen=True)
class Columns:
    """The columns a filter applies to: the events' or the items'."""

    time: sa.ColumnElement[Any]
    event_type: sa.ColumnElement[Any]
    actor: sa.ColumnElement[Any]
    feed_id: sa.ColumnElement[Any]


EVENT_COLUMNS = Columns(EVENTS.c.detected_at, EVENTS.c.event_type, EVENTS.c.actor, EVENTS.c.feed_id)
ITEM_COLUMNS = Columns(ITEMS.c.first_seen_at, ITEMS.c.event_type, ITEMS.c.actor, ITEMS.c.feed_id)


def _reports_matching(conn: sa.Connection, query: search.Query) -> Any:
    """Ids of the events whose reports match, through the search index of event reports only."""
    if conn.dialect.name == "sqlite":
        return (
            sa.text(
                "SELECT i.event_id FROM reports_fts JOIN items i ON i.id = reports_fts.rowid "
                "WHERE reports_fts MATCH :q"
            )
            .bindparams(q=search.fts5(query))
            .columns(sa.column("event_id"))
        )
    reports = sa.select(ITEMS.c.event_id).where(ITEMS.c.event_id.is_not(None), _tsquery(query))
    return _through_gin(conn, reports) or [-1]  # a few hundred event reports a year: all of them


def _through_gin(conn: sa.Connection, query: sa.Select[Any]) -> list[int]:
    """Run `query` through the search index alone, in a transaction of its own (the caller's statement
    walks a date index)."""
    with conn.engine.connect() as own:
        _bitmap_scans_only(own)
        return [int(v) for v in own.execute(query).scalars() if v is not None]


def _bitmap_scans_only(conn: sa.Connection) -> None:
    """For the rest of this transaction, only bitmap (GIN) scans: the planner prices a walk of the date
    index that finds a rare word's few matches (or none) as cheap, and it reads a million rows. JIT off:
    the sort's estimate adds a guess per form of each word, and compiling cost more than the query."""
    conn.exec_driver_sql(
        "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true), "
        "set_config('jit', 'off', true)"
    )


_GIN_MATCHES = 5000  # up to about this many matches the search index lists them; beyond, a walk wins
# ANALYZE's most common words of the stored search vectors with the share of items holding each, and the
# planner's count of items. A word not among them is in fewer items than the least common listed.
_WORD_STATISTICS = sa.text(
    "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples FROM pg_class c "
    "LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = 'items' "
    "AND s.attname = 'search' WHERE c.oid = to_regclass('items')"
)


def events(engine: Engine, f: Filters) -> list[dict[str, object]]:
    """One row per development, newest first, with the feed of its first report and how many sources
    reported it."""
    sources = sa.select(sa.func.count()).where(ITEMS.c.event_id == EVENTS.c.id).scalar_subquery()
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
        .select_from(EVENTS.outerjoin(FEEDS, FEEDS.c.id == EVENTS.c.feed_id))
        .order_by(EVENTS.c.detected_at.desc(), EVENTS.c.id.desc())
    )
    terms = search.parse(f.search or "")
    with engine.connect() as conn:
        if terms:
            query = query.where(EVENTS.c.id.in_(_reports_matching(conn, terms)))
        return [_plain(row) for row in conn.execute(_filtered(query, f, EVENT_COLUMNS))]


_ITEM_FIELDS = (
    ITEMS.c.id.label("item"),
    ITEMS.c.first_seen_at,
    ITEMS.c.published,
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


def items(engine: Engine, f: Filters) -> list[dict[str, object]]:
    """Every stored (unpruned) item with its decision, newest first."""
    terms = search.parse(f.search or "")
    with engine.connect() as conn:
        rows = _item_rows(conn, f, terms)
    rows.sort(key=lambda r: (str(r["first_seen_at"]), int(str(r["item"]))), reverse=True)
    return [{k: v for k, v in row.items() if k != "feed_id"} for row in rows]


def _item_rows(conn: sa.Connection, f: Filters, terms: search.Query | None) -> list[dict[str, object]]:
    if terms and conn.dialect.name == "sqlite":
        return _fetch(conn, _items_by_text(conn, f, terms))
    if terms and (f.event_type or f.actor):
        recent = _fetch(conn, _recent_classified(f, terms))
        return recent if len(recent) >= f.limit else _fetch(conn, _classified_items(f, terms))
    query = _items_query(f, terms)
    if terms and _few_matches(conn, terms):
        _bitmap_scans_only(conn)
    return _fetch(conn, query)


def _fetch(conn: sa.Connection, query: sa.Select[Any] | sa.CompoundSelect[Any]) -> list[dict[str, object]]:
    page = query.subquery()
    named = sa.select(page, FEEDS.c.name.label("feed")).join(FEEDS, FEEDS.c.id == page.c.feed_id)
    return [_plain(row) for row in conn.execute(named)]


_WINDOW = 4  # times --limit: the filter's newest items a word is looked for in before its index is probed


def _recent_classified(f: Filters, terms: search.Query) -> sa.Select[Any]:
    """On PostgreSQL with a type or actor filter, the matches among the filter's newest --limit x _WINDOW
    items, reading them newest first and stopping at --limit. When --limit are found they are the page
    (every match beyond the window is older); a word that frequent among the filter's items would
    otherwise cost a probe of the classified items' index that reads every one holding it (21 ms for
    `--type --search the` at a million items, growing with the history)."""
    unpruned = ITEMS.c.pruned == False  # noqa: E712 (written as the partial indexes' condition)
    newest = sa.select(*_ITEM_FIELDS, ITEMS.c.feed_id, _SEARCH.label("vector")).where(unpruned)
    newest = newest.order_by(ITEMS.c.first_seen_at.desc(), ITEMS.c.id.desc())
    window = _filtered(newest, replace(f, limit=f.limit * _WINDOW), ITEM_COLUMNS).subquery("window")
    found = _tsquery(terms, window.c.vector)
    fields = [column for column in window.c if column.name != "vector"]
    newest_first = (window.c.first_seen_at.desc(), window.c.item.desc())  # the window's own order: no sort
    return sa.select(*fields).where(found).order_by(*newest_first).limit(f.limit)


def _few_matches(conn: sa.Connection, terms: search.Query) -> bool:
    """On PostgreSQL, whether a query matches few items (a rare or absent word), which the GIN index lists
    and sorting costs little; a common word is found sooner by walking the date index newest first,
    reading each row's stored vector. ANALYZE's most common words tell which: the planner's own estimate
    adds a guess for each of a word's forms, most of which no item holds, and took rare words for common."""
    words, shares, items = conn.execute(_WORD_STATISTICS).first() or (None, None, 0.0)
    common = dict(zip(words or (), shares or (), strict=False))
    return search.share(terms, common) * max(float(items), 0.0) < _GIN_MATCHES


_CLASSIFIED_PROBE = 1000  # fewer matches than this among a type's or actor's items: list them


def _classified_items(f: Filters, terms: search.Query) -> sa.CompoundSelect[Any]:
    """On PostgreSQL with a type or actor filter, one statement that decides in the database. It probes the
    search index of classified items for up to _CLASSIFIED_PROBE matches among the filter's items: fewer,
    and the page is those matches, looked up by id and sorted; as many, and the word is frequent among them,
    so a walk of the filter's index newest first finds --limit of them soon (the branch not taken does not
    run). As two statements (a probe on a connection of its own, then the page) it cost two round trips
    and a checkout: 5.6 ms at 10k, 10.1 ms at a million items."""
    probe = _classified_matches(f, terms).cte("probe").prefix_with("MATERIALIZED")
    few = sa.select(sa.func.count() < _CLASSIFIED_PROBE).select_from(probe).scalar_subquery()
    listed = sa.select(*_ITEM_FIELDS, ITEMS.c.feed_id).where(ITEMS.c.id.in_(sa.select(probe.c.id)), few)
    listed = _filtered(listed.order_by(ITEMS.c.first_seen_at.desc(), ITEMS.c.id.desc()), f, ITEM_COLUMNS)
    return sa.union_all(listed, _items_query(f, terms).where(sa.not_(few)))


def _classified_matches(f: Filters, terms: search.Query) -> sa.Select[Any]:
    """Up to _CLASSIFIED_PROBE ids of the filter's items that match, through the classified items' index.
    The scan is fenced (OFFSET 0) so the type and actor conditions stay outside it: given them, the planner
    may walk the type's index testing each item, which reads every one of them when few match."""
    unpruned = ITEMS.c.pruned == False  # noqa: E712 (written as the partial index's condition)
    classified = ITEMS.c.event_type.is_not(None) | ITEMS.c.actor.is_not(None)
    word = _tsquery(terms, _CLASSIFIED_SEARCH)
    scan = sa.select(ITEMS.c.id, ITEMS.c.event_type, ITEMS.c.actor).where(unpruned, classified, word)
    found = scan.offset(0).subquery("found")
    probe = sa.select(found.c.id)
    if f.event_type:
        probe = probe.where(found.c.event_type == f.event_type)
    if f.actor:
        probe = probe.where(found.c.actor == f.actor)
    return probe.limit(_CLASSIFIED_PROBE)


def _items_query(f: Filters, terms: search.Query | None) -> sa.Select[Any]:
    unpruned = ITEMS.c.pruned == False  # noqa: E712 (written as the partial indexes' condition)
    query: sa.Select[Any] = sa.select(*_ITEM_FIELDS, ITEMS.c.feed_id).where(unpruned)
    if terms:
        query = query.where(_tsquery(terms, _CLASSIFIED_SEARCH if f.event_type or f.actor else _SEARCH))
    return _filtered(query.order_by(ITEMS.c.first_seen_at.desc(), ITEMS.c.id.desc()), f, ITEM_COLUMNS)


def _items_by_text(conn: sa.Connection, f: Filters, terms: search.Query) -> sa.Select[Any]:
    """On SQLite the full-text index drives: its matches newest first (by id, the order items arrive in),
    stopping at --limit. A word in every other item costs as little as a rare one, and one in no item
    costs nothing. A feed, type or actor filter is part of the match (its tokens are indexed with the text,
    db._SEARCH_FILTERS), so FTS5 steps through the word's and the filter's matches together instead of
    each match being read and checked: a common word none of whose matches had the type cost 68 ms at a
    million items, checking 250,000 matches. A type or actor is searched among classified items only."""
    tokens = _filter_tokens(conn, f)
    table = "classified_fts" if f.event_type or f.actor else "items_fts"
    fts = sa.table(table, sa.column("rowid"), sa.column(table))
    # Columns named: a typed word never matches a filter token (`f12` is also a word), nor a filter a word.
    match = " AND ".join(
        [f"{{title summary}}: ({search.fts5(terms)})", *(f'search_filters: "{t}"' for t in tokens or ())]
    )
    query = (
        sa.select(*_ITEM_FIELDS, ITEMS.c.feed_id)
        .select_from(fts.join(ITEMS, ITEMS.c.id == fts.c.rowid))
        .where(fts.c[table].op("MATCH")(match), ITEMS.c.pruned == False)  # noqa: E712
        .order_by(fts.c.rowid.desc())
    )
    if tokens is None:  # no feed of that name
        query = query.where(sa.false())
    return _filtered(query, Filters(since=f.since, until=f.until, limit=f.limit), ITEM_COLUMNS)


def _filter_tokens(conn: sa.Connection, f: Filters) -> list[str] | None:
    """The full-text index's tokens of the feed, type and actor filters (as db._SEARCH_FILTERS writes
    them; FTS5 folds hex to lower case); None when the feed named does not exist."""
    tokens = []
    if f.feed:
        feed_id = conn.execute(sa.select(FEEDS.c.id).where(FEEDS.c.name == f.feed)).scalar()
        if feed_id is None:
            return None
        tokens.append(f"f{feed_id}")
    if f.event_type:
        tokens.append("t" + f.event_type.encode().hex())
    if f.actor:
        tokens.append("a" + f.actor.encode().hex())
    return tokens


def stats(engine: Engine) -> dict[str, list[dict[str, object]]]:
    """Counts per feed, event type, actor and day, all from the counters the write path keeps
    (feeds.item_count, item_days, event_counts), so they cost the same at a million items as at ten."""
    counts = models.EVENT_COUNTS
    actor = sa.func.nullif(counts.c.key, models.NO_ACTOR)
    queries = {
        "feeds": sa.select(
            FEEDS.c.name.label("feed"),
            FEEDS.c.item_count.label("items"),
            FEEDS.c.event_report_count.label("event_reports"),
        ).order_by(FEEDS.c.name),
        "event_types": sa.select(counts.c.key.label("event_type"), counts.c.events)
        .where(counts.c.kind == "event_type")
        .order_by(counts.c.key),
        "actors": sa.select(actor.label("actor"), counts.c.events)
        .where(counts.c.kind == "actor")
        .order_by(counts.c.events.desc(), actor),
        "days": sa.select(ITEM_DAYS.c.day, ITEM_DAYS.c["items"], ITEM_DAYS.c.event_reports)
        .order_by(ITEM_DAYS.c.day.desc())
        .limit(60),
        "event_days": sa.select(counts.c.key.label("day"), counts.c.events)
        .where(counts.c.kind == "day")
        .order_by(counts.c.key.desc())
        .limit(60),
    }
    with engine.connect() as conn:
        return {name: [_plain(row) for row in conn.execute(query)] for name, query in queries.items()}


def list_changes(
    engine: Engine, *, event_id: int | None = None, item_id: int | None = None
) -> list[dict[str, Any]]:
    """The sanctions-list changes behind an event (one per list that reported it) or one item, oldest
    first, with the entry's before and after (decoded JSON; None when added or removed)."""
    changes = models.LIST_CHANGES
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


def deliveries(
    engine: Engine, status: str | None = None, limit: int | None = None
) -> list[dict[str, object]]:
    """Deliveries in id order; with `limit`, the newest that many (read newest first through an index)."""
    query = (
        sa.select(DELIVERIES, WEBHOOKS.c.broken, WEBHOOKS.c.broken_reason, EVENTS.c.headline)
        .join(WEBHOOKS, WEBHOOKS.c.name == DELIVERIES.c.webhook)
        .outerjoin(EVENTS, EVENTS.c.id == DELIVERIES.c.event_id)
        .order_by(DELIVERIES.c.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(DELIVERIES.c.status == status)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)][::-1]


def broken_webhooks(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(WEBHOOKS).where(WEBHOOKS.c.broken.is_(True)))
        return [dict(r._mapping) for r in rows]
