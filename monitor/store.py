"""All writes to the feeds, items and events tables (the one write path).

Every function takes the engine and runs one short transaction. The daemon
calls them from a single worker thread, which is what SQLite wants: one writer.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from monitor import cluster, db, event_counts, models, outbox
from monitor.domain import Decision, FeedItem
from monitor.models import EVENTS, FEEDS, ITEM_DAYS, ITEMS, LIST_CHANGES, WEBHOOKS

_CHUNK = 400  # bound parameters per IN (...) query


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the pipeline needs to know about a feed before polling it."""

    id: int
    name: str
    url: str  # the URL to fetch: learned from a permanent redirect, else configured
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    error_count: int
    gone: bool
    polled_before: bool
    next_poll_at: datetime | None
    notice_state: str | None
    last_new_item_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event created by save_items: the pipeline queues its deliveries."""

    event_id: int
    decision: Decision
    item: FeedItem


@dataclass(frozen=True, slots=True)
class SaveResult:
    stored: int
    events: list[NewEvent]
    attached: int  # alerting items that joined an existing event instead of alerting again


def state_of(row: sa.Row[tuple[object, ...]]) -> FeedState:
    m = row._mapping
    return FeedState(
        id=m["id"],
        name=m["name"],
        url=m["learned_url"] or m["url"],
        etag=m["etag"],
        last_modified=m["last_modified"],
        body_hash=m["body_hash"],
        error_count=m["error_count"],
        gone=m["gone"],
        polled_before=m["last_success_at"] is not None,
        next_poll_at=m["next_poll_at"],
        notice_state=m["notice_state"],
        last_new_item_at=m["last_new_item_at"],
    )


def sync_feeds(
    engine: Engine,
    feeds: Sequence[tuple[str, str]],
    now: datetime,
    *,
    enabled: Collection[str] | None = None,
    spread: float = 0.0,
) -> dict[str, FeedState]:
    """Make a row for every configured (name, url); a changed URL resets what was learned from the old one.
    Only feeds in `enabled` (default: all given) are claimed for polling; a new feed is first due within
    `spread` seconds (first polls spread out, not all at once). Replicas starting together may run this at
    the same time: inserts tolerate a row another one just made, and only differences are written."""
    on = {name for name, _ in feeds} if enabled is None else set(enabled)
    with engine.begin() as conn:
        known = {row.name: row for row in conn.execute(sa.select(FEEDS.c.id, FEEDS.c.name, FEEDS.c.url))}
        added = [(name, url) for name, url in feeds if name not in known]
        new = [
            {
                "name": name,
                "url": url,
                "created_at": now,
                "error_count": 0,
                "gone": False,
                "enabled": name in on,
                "next_poll_at": now + timedelta(seconds=spread * index / max(1, len(added))),
            }
            for index, (name, url) in enumerate(added)
        ]
        if new:
            conn.execute(_insert_new(conn, FEEDS, FEEDS.c.name), new)
        for name, url in feeds:
            row = known.get(name)
            if row is not None and row.url != url:
                forget = sa.update(FEEDS).where(FEEDS.c.id == row.id)
                conn.execute(forget.values(url=url, **_FORGET, next_poll_at=now))
        _set_enabled(conn, on, now)
    return feed_states(engine)


# What a feed's row learned from its old URL.
_FORGET = {
    "learned_url": None,
    "etag": None,
    "last_modified": None,
    "body_hash": None,
    "gone": False,
    "error_count": 0,
}


def _insert_new(conn: Connection, table: sa.Table, key: sa.Column[str]) -> Any:
    """An INSERT that skips rows whose key exists (another replica made them a moment ago)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=[key])


def _set_enabled(conn: Connection, names: set[str], now: datetime) -> None:
    """Feeds dropped from the config (or disabled) stay as rows, with their items, but are not claimed.
    A feed switched on without a due time (a row from before the schedule was stored) is due now."""
    rows = conn.execute(sa.select(FEEDS.c.name, FEEDS.c.enabled)).all()
    flips = {
        True: [n for n, on in rows if not on and n in names],
        False: [n for n, on in rows if on and n not in names],
    }
    for value, flipped in flips.items():
        for start in range(0, len(flipped), _CHUNK):
            chunk = flipped[start : start + _CHUNK]
            conn.execute(sa.update(FEEDS).where(FEEDS.c.name.in_(chunk)).values(enabled=value))
            if value:
                unscheduled = sa.and_(FEEDS.c.name.in_(chunk), FEEDS.c.next_poll_at.is_(None))
                conn.execute(sa.update(FEEDS).where(unscheduled).values(next_poll_at=now))


def feed_states(engine: Engine) -> dict[str, FeedState]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(FEEDS)).all()
    return {row.name: state_of(row) for row in rows}


def record_quiet(engine: Engine, updates: Sequence[tuple[int, int, Mapping[str, object]]]) -> list[int]:
    """Several feeds' quiet polls (304, unchanged body) in one transaction: the warm path. Each row is
    written only under the lease token it was claimed with (`feed_id, token, values`); returns the ids of
    feeds whose lease had passed to another replica (nothing written for them)."""
    with engine.begin() as conn:
        # One executemany per set of columns (psycopg pipelines it: one round trip, not one per feed).
        for columns, rows in _by_columns(updates).items():
            statement = (
                sa.update(FEEDS)
                .where(FEEDS.c.id == sa.bindparam("q_id"), FEEDS.c.lease_token == sa.bindparam("q_token"))
                .values({column: sa.bindparam(f"q_{column}") for column in columns} | {"leased_by": None})
            )
            conn.execute(statement, rows)
        # Tokens only grow, and a row updated above stays locked: a different token now means fenced.
        ids = [feed_id for feed_id, _, _ in updates]
        tokens: dict[int, int] = {}
        for start in range(0, len(ids), _CHUNK):
            query = sa.select(FEEDS.c.id, FEEDS.c.lease_token).where(
                FEEDS.c.id.in_(ids[start : start + _CHUNK])
            )
            tokens.update((row.id, row.lease_token) for row in conn.execute(query))
    return [feed_id for feed_id, token, _ in updates if tokens.get(feed_id) != token]


def _by_columns(
    updates: Sequence[tuple[int, int, Mapping[str, object]]],
) -> dict[tuple[str, ...], list[dict[str, object]]]:
    """The updates' parameters, grouped by which columns they set (an executemany sets the same ones)."""
    groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for feed_id, token, values in updates:
        params = {"q_id": feed_id, "q_token": token} | {f"q_{k}": v for k, v in values.items()}
        groups.setdefault(tuple(sorted(values)), []).append(params)
    return groups


def load_feed(engine: Engine, name: str) -> FeedState | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(FEEDS).where(FEEDS.c.name == name)).first()
    return None if row is None else state_of(row)


def record_poll(engine: Engine, feed_id: int, **values: object) -> None:
    """Update a feed's polling state (status, validators, errors, next poll...)."""
    with engine.begin() as conn:
        conn.execute(sa.update(FEEDS).where(FEEDS.c.id == feed_id).values(**values))


# The de-duplication check: which of a batch's keys and link keys the feed has stored, in one statement
# (each index is probed for its own list). Built once: executing it costs no compilation.
_SEEN_KEYS = sa.select(ITEMS.c.key, ITEMS.c.link_key).where(
    ITEMS.c.feed_id == sa.bindparam("feed_id"), ITEMS.c.key.in_(sa.bindparam("keys", expanding=True))
)
_SEEN_KEYS_OR_LINKS = sa.select(ITEMS.c.key, ITEMS.c.link_key).where(
    ITEMS.c.feed_id == sa.bindparam("feed_id"),
    sa.or_(
        ITEMS.c.key.in_(sa.bindparam("keys", expanding=True)),
        ITEMS.c.link_key.in_(sa.bindparam("links", expanding=True)),
    ),
)


def _seen(
    conn: Connection, feed_id: int, keys: Sequence[str], links: Sequence[str]
) -> tuple[set[str], set[str]]:
    """(keys, link keys) among those given that this feed has stored."""
    wanted_keys, wanted_links = set(keys), set(links)
    seen_keys: set[str] = set()
    seen_links: set[str] = set()
    step = _CHUNK // 2
    for start in range(0, max(len(keys), len(links)), step):
        chunk = {"feed_id": feed_id, "keys": list(keys[start : start + step])}
        if links[start : start + step]:
            query, chunk["links"] = _SEEN_KEYS_OR_LINKS, list(links[start : start + step])
        else:
            query = _SEEN_KEYS
        for key, lkey in conn.execute(query, chunk):
            if key in wanted_keys:
                seen_keys.add(key)
            if lkey in wanted_links:
                seen_links.add(lkey)
    return seen_keys, seen_links


def link_keys(items: Sequence[FeedItem], link_key_of: dict[str, str | None]) -> dict[str, str | None]:
    """Link keys usable for de-duplication: those unique within this document (a feed linking every
    entry to its home page must not collapse into one item)."""
    counts = Counter(v for v in link_key_of.values() if v)
    return {
        item.key: (lk if (lk := link_key_of.get(item.key)) and counts[lk] == 1 else None) for item in items
    }


def filter_new(
    engine: Engine, feed_id: int, items: Sequence[FeedItem], lkeys: dict[str, str | None]
) -> list[FeedItem]:
    """Items whose key, and whose link, this feed has not stored before (GUIDs that change on every
    fetch are caught by the link)."""
    if not items:
        return []
    with engine.connect() as conn:
        links = [lk for lk in lkeys.values() if lk]
        seen_keys, seen_links = _seen(conn, feed_id, [i.key for i in items], links)
    fresh: dict[str, FeedItem] = {}  # one row per key, even if a key repeats: the insert must not fail
    for i in items:
        if i.key not in seen_keys and (lkeys.get(i.key) or "") not in seen_links:
            fresh.setdefault(i.key, i)
    return list(fresh.values())


_ITEM_ROW_KEYS = tuple(column.name for column in ITEMS.c if column.name != "id")  # what _item_row gives


def _item_row(
    feed_id: int, item: FeedItem, decision: Decision, backlog: bool, lkey: str | None, now: datetime
) -> dict[str, object]:
    evidence = decision.evidence
    return {
        "feed_id": feed_id,
        "key": item.key,
        "link_key": lkey,
        "title": item.title[:2000],
        "summary": item.summary,
        "link": item.link[:2000] if item.link else None,
        "published": item.published,
        "published_known": item.published_known,
        "first_seen_at": now,
        "authors": "; ".join(item.authors)[:1000],
        "tags": "; ".join(item.tags)[:1000],
        "backlog": backlog,
        "pruned": False,
        "event_type": decision.event_type,
        "actor": decision.actor,
        "modality": decision.modality,
        "novel": decision.novel,
        "confidence": decision.confidence,
        "alert": decision.alert and not backlog,
        "reason": "backlog" if backlog and decision.alert else decision.reason,
        "rule": evidence.rule if evidence else None,
        "evidence": evidence.sentence if evidence else None,
        "event_id": None,
    }


@dataclass(frozen=True, slots=True)
class _PrebuiltInsert:
    """The items insert compiled for one dialect, with the bind processors SQLAlchemy would apply."""

    sql: str
    slots: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # (_item_row key, its processor), in order
    positional: bool


_PREBUILT: dict[tuple[str, str], _PrebuiltInsert] = {}


def _prebuilt_insert(dialect: sa.Dialect) -> _PrebuiltInsert:
    # Keyed by driver too: two drivers of one database differ in parameter style (psycopg vs psycopg2).
    key = (dialect.name, dialect.driver)
    prebuilt = _PREBUILT.get(key)
    if prebuilt is None:
        compiled = sa.insert(ITEMS).compile(dialect=dialect, column_keys=list(_ITEM_ROW_KEYS))
        # Each column type's own processors (UTCDateTime's storage format, SQLite's booleans): the values
        # written are those `conn.execute(sa.insert(ITEMS), rows)` writes.
        processors = {
            column.name: column.type.dialect_impl(dialect).bind_processor(dialect) for column in ITEMS.c
        }
        names = compiled.positiontup or _ITEM_ROW_KEYS
        slots = tuple((name, processors.get(name)) for name in names)
        prebuilt = _PREBUILT[key] = _PrebuiltInsert(str(compiled), slots, compiled.positional)
    return prebuilt


def insert_items(conn: Connection, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert `_item_row`s in one executemany, compiled once per dialect: executing `sa.insert(ITEMS)` looks
    its compiled form up and binds each row through SQLAlchemy's generic parameter handling on every poll
    (the cold cycle's hot path)."""
    prebuilt = _prebuilt_insert(conn.dialect)
    slots = prebuilt.slots
    if prebuilt.positional:
        values: list[Any] = [tuple([row[n] if p is None else p(row[n]) for n, p in slots]) for row in rows]
    else:
        values = [{n: row[n] if p is None else p(row[n]) for n, p in slots} for row in rows]
    conn.exec_driver_sql(prebuilt.sql, values)


def last_item_id(conn: Connection) -> int:
    return int(conn.execute(_LAST_ITEM_ID).scalar_one())


_LAST_ITEM_ID = sa.select(sa.func.coalesce(sa.func.max(ITEMS.c.id), 0))  # built once, as it runs every poll


def _index_text(conn: Connection, after_id: int) -> None:
    """Add this transaction's items to SQLite's full-text indexes, each in one statement (Postgres indexes
    an expression by itself): every item to items_fts, classified ones to classified_fts too. A write
    transaction is exclusive, so `id > after_id` is exactly this batch."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_INDEX_TEXT, (after_id,))
        conn.exec_driver_sql(_INDEX_CLASSIFIED, (after_id,))


_INDEX_TEXT = (
    "INSERT INTO items_fts(rowid, title, summary, search_filters) "
    "SELECT id, title, summary, search_filters FROM items WHERE id > ?"
)
_INDEX_CLASSIFIED = (
    "INSERT INTO classified_fts(rowid, title, summary, search_filters) "
    f"SELECT id, title, summary, search_filters FROM items WHERE id > ? AND {db.CLASSIFIED}"
)


def _index_reports(conn: Connection, item_ids: Sequence[int]) -> None:
    """Add event reports (items given an event) to SQLite's event-report search index, by id: a range
    condition on `event_id IS NOT NULL` would walk every report of the history through its index."""
    if conn.dialect.name == "sqlite" and item_ids:
        conn.execute(_INDEX_REPORTS, {"ids": list(item_ids)})


_INDEX_REPORTS = sa.text(
    "INSERT INTO reports_fts(rowid, title, summary) SELECT id, title, summary FROM items WHERE id IN :ids"
).bindparams(sa.bindparam("ids", expanding=True))
# A batch's counters; the same SQL on SQLite and PostgreSQL, text so that executing it compiles nothing.
_COUNT_FEED = sa.text(
    "UPDATE feeds SET item_count = item_count + :items, event_report_count = event_report_count + :reports "
    "WHERE id = :feed_id"
)
_COUNT_DAY = sa.text(
    "INSERT INTO item_days (day, items, event_reports) VALUES (:day, :items, :reports) "
    "ON CONFLICT (day) DO UPDATE SET items = item_days.items + excluded.items, "
    "event_reports = item_days.event_reports + excluded.event_reports"
)


def _count_items(conn: Connection, feed_id: int, day: str, items: int, reports: int) -> None:
    """Add a batch to its feed's and its day's counters (the rows `feeds` and `stats` read)."""
    counts = {"feed_id": feed_id, "day": day, "items": items, "reports": reports}
    conn.execute(_COUNT_FEED, counts)
    conn.execute(_COUNT_DAY, counts)


def note_items(conn: Connection, feed_id: int, after_id: int, now: datetime) -> None:
    """Counters and the event-report search index for a feed's items written outside save_items (official
    lists' changes): those with an id above `after_id`, in this transaction (it holds the feed's lease)."""
    mine = sa.and_(ITEMS.c.feed_id == feed_id, ITEMS.c.id > after_id)
    items, reports = conn.execute(
        sa.select(sa.func.count(), sa.func.count(ITEMS.c.event_id)).where(mine)
    ).one()
    if not items:
        return
    _count_items(conn, feed_id, now.astimezone(UTC).date().isoformat(), int(items), int(reports))
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "INSERT INTO reports_fts(rowid, title, summary) SELECT id, title, summary FROM items "
            "WHERE feed_id = ? AND id > ? AND event_id IS NOT NULL",
            (feed_id, after_id),
        )


def recount_items(conn: Connection) -> None:
    """Rebuild the item counters from the items table (the migration that added them; after rows were
    changed behind the write path's back)."""
    conn.execute(
        sa.update(FEEDS).values(
            item_count=sa.select(sa.func.count()).where(ITEMS.c.feed_id == FEEDS.c.id).scalar_subquery(),
            event_report_count=sa.select(sa.func.count(ITEMS.c.event_id))
            .where(ITEMS.c.feed_id == FEEDS.c.id)
            .scalar_subquery(),
        )
    )
    conn.execute(sa.delete(ITEM_DAYS))
    day = models.utc_day(ITEMS.c.first_seen_at, conn.dialect.name)
    counts = sa.select(day, sa.func.count(), sa.func.count(ITEMS.c.event_id)).group_by(day)
    conn.execute(sa.insert(ITEM_DAYS).from_select(["day", "items", "event_reports"], counts))


# The list ledger (monitor/lists/ledger.py) stores list changes as items through these two.
item_row = _item_row
index_items = _index_text


def mark_official(engine: Engine, names: Iterable[str]) -> None:
    """Set each feed's `official` flag from the config: only the named feeds are official."""
    official = list(names)
    with engine.begin() as conn:
        conn.execute(sa.update(FEEDS).values(official=FEEDS.c.name.in_(official) if official else False))


def _restates_event(decision: Decision, row: dict[str, object]) -> bool:
    """A restatement may report an event already in the database (the baseline grew from it): such an item
    is attached to that event as another source."""
    return decision.reason == "restatement" and not row["backlog"] and decision.event_type is not None


def save_items(
    engine: Engine,
    feed_id: int,
    batch: Sequence[tuple[FeedItem, Decision, bool]],
    lkeys: Mapping[str, str | None],
    now: datetime,
    on_event: cluster.OnEvent,
) -> SaveResult:
    """Insert new items with their decisions in a transaction of their own (see `_save_items`)."""
    with engine.begin() as conn:
        return _save_items(conn, feed_id, batch, lkeys, now, on_event)


@dataclass(frozen=True, slots=True)
class PollWrite:
    """Everything one poll writes, committed together under the lease token it was claimed with."""

    feed_id: int
    token: int
    values: Mapping[str, object]  # the feed row's new state, next due time included
    batch: Sequence[tuple[FeedItem, Decision, bool]] = ()  # (item, decision, backlog) of new items
    lkeys: Mapping[str, str | None] = field(default_factory=dict)
    notice: tuple[str, str] | None = None  # (kind, detail): a feed-health notice to queue


OnNotice = Callable[[Connection, int, str, str], None]


def fence(conn: Connection, feed_id: int, token: int, values: Mapping[str, object]) -> bool:
    """Write the feed row's new state if the lease token is still ours; a poll's first write, so it also
    locks the row until commit. False: another replica holds the feed now (roll back)."""
    query = sa.update(FEEDS).where(FEEDS.c.id == feed_id, FEEDS.c.lease_token == token)
    return bool(conn.execute(query.values(**values, leased_by=None)).rowcount == 1)


def commit_poll(
    engine: Engine, write: PollWrite, now: datetime, on_event: cluster.OnEvent, on_notice: OnNotice
) -> SaveResult | None:
    """Write a poll's results in one transaction that first checks the lease token (fencing): None, and
    nothing written, when the lease passed to another replica while this one polled."""
    with engine.begin() as conn:
        if not fence(conn, write.feed_id, write.token, write.values):
            conn.rollback()
            return None
        saved = _save_items(conn, write.feed_id, write.batch, write.lkeys, now, on_event)
        if write.notice is not None:
            on_notice(conn, write.feed_id, *write.notice)
    return saved


def _save_items(
    conn: Connection,
    feed_id: int,
    batch: Sequence[tuple[FeedItem, Decision, bool]],
    lkeys: Mapping[str, str | None],
    now: datetime,
    on_event: cluster.OnEvent,
) -> SaveResult:
    """Insert new items with their decisions; cluster alerting ones into events; for each new event,
    call `on_event(conn, event_id, decision)` in the same transaction (the outbox writes its rows there)."""
    events: list[NewEvent] = []
    attached = 0
    rows = [
        (item, decision, _item_row(feed_id, item, decision, backlog, lkeys.get(item.key), now))
        for item, decision, backlog in batch
    ]
    quiet = [row for _, d, row in rows if not row["alert"] and not _restates_event(d, row)]
    loud = [(item, d, row) for item, d, row in rows if row["alert"] or _restates_event(d, row)]
    first_ids = []
    reports: list[int] = []  # ids of items given an event: the event-report search index takes them
    if quiet:
        insert_items(conn, quiet)  # executemany: the cold cycle's hot path
        # The write lock is held: these rows got the ids just below the current maximum.
        first_ids.append(last_item_id(conn) - len(quiet) + 1)
    # Another replica may be storing a report of the same development right now: take turns on it.
    cluster.lock_identities(conn, [d for _, d, _ in loud], now)
    for item, decision, row in loud:
        item_id = conn.execute(sa.insert(ITEMS).values(**row).returning(ITEMS.c.id)).scalar_one()
        first_ids.append(item_id)
        existing = cluster.find_event(conn, decision, item, now)
        if existing is not None:
            # Another outlet's report of a known development: a source, not a new alert.
            conn.execute(sa.update(ITEMS).where(ITEMS.c.id == item_id).values(event_id=existing))
            attached += 1
            reports.append(item_id)
            continue
        if not row["alert"]:
            continue
        event_id = cluster.create_event(conn, decision, item, item_id, now)
        reports.append(item_id)
        on_event(conn, event_id, decision)
        events.append(NewEvent(event_id, decision, item))
    if first_ids:
        _index_text(conn, min(first_ids) - 1)
        _index_reports(conn, reports)
        _count_items(conn, feed_id, now.astimezone(UTC).date().isoformat(), len(rows), attached + len(events))
        event_counts.count(conn, [event.decision for event in events], now)  # last: see its docstring
    return SaveResult(stored=len(batch), events=events, attached=attached)


def sync_webhooks(engine: Engine, hooks: Iterable[tuple[str, str, str]], now: datetime | None = None) -> None:
    """Make a row for every configured (name, kind, url); a changed URL clears `broken`."""
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        for name, kind, url in hooks:
            url_hash = hashlib.sha256(url.encode()).hexdigest()[:16]
            row = conn.execute(sa.select(WEBHOOKS).where(WEBHOOKS.c.name == name)).first()
            if row is None:
                conn.execute(
                    _insert_new(conn, WEBHOOKS, WEBHOOKS.c.name).values(
                        name=name, kind=kind, url_hash=url_hash, broken=False
                    )
                )
            elif row.url_hash != url_hash or row.kind != kind:
                if row.broken:  # fixed: its kept deliveries resume (the broken spell does not age them)
                    outbox.resume_target(conn, name, row.broken_at, now)
                conn.execute(
                    sa.update(WEBHOOKS)
                    .where(WEBHOOKS.c.name == name)
                    .values(kind=kind, url_hash=url_hash, broken=False, broken_reason=None, broken_at=None)
                )


def last_event_id(engine: Engine) -> int:
    """The newest event's id (0: none yet); it moves whenever any replica records an event."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(EVENTS.c.id), 0))).scalar_one())


def confirmed_facts(engine: Engine) -> list[tuple[str, str, str | None]]:
    """(actor, event_type, act) of asserted events: they grow the classifier's baseline."""
    query = (
        sa.select(EVENTS.c.actor, EVENTS.c.event_type, EVENTS.c.act)
        .where(EVENTS.c.modality == "asserted", EVENTS.c.actor.is_not(None))
        .distinct()
    )
    with engine.connect() as conn:
        return [(row.actor, row.event_type, row.act) for row in conn.execute(query)]


_BLANK: dict[str, object] = {
    "title": "",
    "summary": "",
    "authors": "",
    "tags": "",
    "evidence": None,
    "pruned": True,
}


_PRUNE_CHUNK = 5000  # rows per transaction: the write lock and the WAL stay small while a big prune runs


def prune_items(
    engine: Engine, older_than: datetime, *, prune_events: bool, stop: Callable[[], bool] = lambda: False
) -> int:
    """Blank the content of old items; keep their keys so they never come back as new. Runs in chunks of
    short transactions, so a first prune of a large history never holds the database for long; `stop()`
    true ends it between chunks (the daemon is shutting down: the next run carries on)."""
    unpruned = ITEMS.c.pruned == False  # noqa: E712 (the condition of the partial index it walks)
    old = sa.and_(ITEMS.c.first_seen_at < older_than, unpruned)
    # A list change points at its item: on SQLite that row is blanked in place (the second kind), never
    # deleted and inserted again by _rewrite_blank (the first), which the foreign key would refuse.
    pointed_at = sa.exists().where(LIST_CHANGES.c.item_id == ITEMS.c.id)
    kinds = [
        sa.and_(ITEMS.c.event_id.is_(None), ~pointed_at),
        sa.and_(ITEMS.c.event_id.is_(None), pointed_at),
        *([ITEMS.c.event_id.is_not(None)] if prune_events else []),
    ]
    count = 0
    for kind in kinds:
        while True:
            chunk = sa.select(ITEMS.c.id).where(old, kind).limit(_PRUNE_CHUNK).scalar_subquery()
            with engine.begin() as conn:
                if conn.dialect.name == "sqlite" and kind is kinds[0]:
                    done = _rewrite_blank(conn, ITEMS.c.id.in_(chunk))
                else:
                    done = conn.execute(
                        sa.update(ITEMS).where(ITEMS.c.id.in_(chunk)).values(**_BLANK)
                    ).rowcount
            count += done
            if done < _PRUNE_CHUNK or stop():
                break
    return count


def _rewrite_blank(conn: Connection, which: sa.ColumnElement[bool]) -> int:
    """SQLite frees a page only when rows are deleted from it, not when they shrink: blanked rows are deleted
    and inserted again, same ids, so their old pages can be given back (return_space). Not for rows another
    table points at (event reports, list changes' items): the foreign keys would refuse the delete."""
    columns = [sa.literal(_BLANK[c.name]).label(c.name) if c.name in _BLANK else c for c in ITEMS.c]
    conn.exec_driver_sql("DROP TABLE IF EXISTS temp.blanked")
    rows = sa.select(*columns).where(which)
    conn.exec_driver_sql(
        "CREATE TEMP TABLE blanked AS " + str(rows.compile(conn, compile_kwargs={"literal_binds": True}))
    )
    count = int(conn.exec_driver_sql("SELECT count(*) FROM temp.blanked").scalar_one())
    conn.exec_driver_sql("DELETE FROM items WHERE id IN (SELECT id FROM temp.blanked)")
    names = ", ".join(c.name for c in ITEMS.c)
    conn.exec_driver_sql(f"INSERT INTO items ({names}) SELECT {names} FROM temp.blanked")
    conn.exec_driver_sql("DROP TABLE temp.blanked")
    return count


def return_space(engine: Engine) -> int | None:
    """After a prune, give the space it freed back to the file system; the bytes returned. SQLite only:
    the full-text indexes drop the pruned text (FTS5 'optimize'), then the freed pages leave the file
    (incremental vacuum; a file made before auto_vacuum was on is converted by one full VACUUM). On
    PostgreSQL None: (auto)vacuum makes the space reusable for new rows, and the files keep their size."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        before = _file_bytes(conn)
        for table in db.SEARCH_INDEXES:
            conn.exec_driver_sql(f"INSERT INTO {table}({table}) VALUES ('optimize')")
        if conn.exec_driver_sql("PRAGMA auto_vacuum").scalar_one() == 2:  # incremental
            # executescript runs it to the end; a plain execute() frees one page per step.
            raw: Any = conn.connection.dbapi_connection
            raw.executescript("PRAGMA incremental_vacuum;")
        else:
            conn.exec_driver_sql("VACUUM")  # auto_vacuum=INCREMENTAL was set on connect: VACUUM applies it
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return before - _file_bytes(conn)


def _file_bytes(conn: Connection) -> int:
    pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
    return pages * int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())


def stale_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
