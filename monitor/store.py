"""All writes to the feeds, items and events tables (the one write path).

Every function takes the engine and runs one short transaction. The daemon
calls them from a single worker thread, which is what SQLite wants: one writer.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor import cluster, models
from monitor.domain import Decision, FeedItem

FEEDS = models.Feed.__table__  # type: ignore[attr-defined]
ITEMS = models.Item.__table__  # type: ignore[attr-defined]
EVENTS = models.Event.__table__  # type: ignore[attr-defined]
WEBHOOKS = models.Webhook.__table__  # type: ignore[attr-defined]
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


def _state(row: sa.Row[tuple[object, ...]]) -> FeedState:
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


def sync_feeds(engine: Engine, feeds: Sequence[tuple[str, str]], now: datetime) -> dict[str, FeedState]:
    """Make a row for every configured (name, url); a changed URL resets what was learned from the old one."""
    with engine.begin() as conn:
        known = {row.name: row for row in conn.execute(sa.select(FEEDS.c.id, FEEDS.c.name, FEEDS.c.url))}
        new = [
            {"name": name, "url": url, "created_at": now, "error_count": 0, "gone": False}
            for name, url in feeds
            if name not in known
        ]
        if new:
            conn.execute(sa.insert(FEEDS), new)
        for name, url in feeds:
            row = known.get(name)
            if row is not None and row.url != url:
                conn.execute(
                    sa.update(FEEDS)
                    .where(FEEDS.c.id == row.id)
                    .values(
                        url=url,
                        learned_url=None,
                        etag=None,
                        last_modified=None,
                        body_hash=None,
                        gone=False,
                        error_count=0,
                        next_poll_at=None,
                    )
                )
    return feed_states(engine)


def feed_states(engine: Engine) -> dict[str, FeedState]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(FEEDS)).all()
    return {row.name: _state(row) for row in rows}


_CACHED = (
    "etag",
    "last_modified",
    "body_hash",
    "error_count",
    "gone",
    "next_poll_at",
    "notice_state",
    "last_new_item_at",
)


def applied(state: FeedState, values: Mapping[str, object]) -> FeedState:
    """The state after `values` are written to its row: the pipeline's in-memory copy stays equal to it."""
    changes: dict[str, Any] = {key: values[key] for key in _CACHED if key in values}
    if values.get("learned_url"):
        changes["url"] = values["learned_url"]
    if values.get("last_success_at") is not None:
        changes["polled_before"] = True
    return dataclasses.replace(state, **changes)


def record_polls(engine: Engine, updates: Sequence[tuple[int, Mapping[str, object]]]) -> None:
    """Several feeds' updates in one transaction (the warm path: hundreds of 304s)."""
    with engine.begin() as conn:
        for feed_id, values in updates:
            conn.execute(sa.update(FEEDS).where(FEEDS.c.id == feed_id).values(**values))


def load_feed(engine: Engine, name: str) -> FeedState | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(FEEDS).where(FEEDS.c.name == name)).first()
    return None if row is None else _state(row)


def record_poll(engine: Engine, feed_id: int, **values: object) -> None:
    """Update a feed's polling state (status, validators, errors, next poll...)."""
    with engine.begin() as conn:
        conn.execute(sa.update(FEEDS).where(FEEDS.c.id == feed_id).values(**values))


def _existing(conn: Connection, feed_id: int, column: sa.Column[str], values: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        query = sa.select(column).where(ITEMS.c.feed_id == feed_id, column.in_(chunk))
        found.update(conn.execute(query).scalars())
    return found


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
        seen_keys = _existing(conn, feed_id, ITEMS.c.key, [i.key for i in items])
        wanted_links = [lk for lk in lkeys.values() if lk]
        seen_links = _existing(conn, feed_id, ITEMS.c.link_key, wanted_links) if wanted_links else set()
    fresh: dict[str, FeedItem] = {}  # one row per key, even if a key repeats: the insert must not fail
    for i in items:
        if i.key not in seen_keys and (lkeys.get(i.key) or "") not in seen_links:
            fresh.setdefault(i.key, i)
    return list(fresh.values())


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


def _last_item_id(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(ITEMS.c.id), 0))).scalar_one())


def _index_text(conn: Connection, after_id: int) -> None:
    """Add this transaction's items to SQLite's full-text index in one statement (Postgres indexes an
    expression by itself). A write transaction is exclusive, so `id > after_id` is exactly this batch."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "INSERT INTO items_fts(rowid, title, summary) SELECT id, title, summary FROM items WHERE id > ?",
            (after_id,),
        )


def _restates_event(decision: Decision, row: dict[str, object]) -> bool:
    """A restatement may report an event already in the database (the baseline grew from it): such an item
    is attached to that event as another source."""
    return decision.reason == "restatement" and not row["backlog"] and decision.event_type is not None


def save_items(
    engine: Engine,
    feed_id: int,
    batch: Sequence[tuple[FeedItem, Decision, bool]],
    lkeys: dict[str, str | None],
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
    with engine.begin() as conn:
        quiet = [row for _, d, row in rows if not row["alert"] and not _restates_event(d, row)]
        first_ids = []
        if quiet:
            conn.execute(sa.insert(ITEMS), quiet)  # executemany: the cold cycle's hot path
            # The write lock is held: these rows got the ids just below the current maximum.
            first_ids.append(_last_item_id(conn) - len(quiet) + 1)
        for item, decision, row in rows:
            if not row["alert"] and not _restates_event(decision, row):
                continue
            item_id = conn.execute(sa.insert(ITEMS).values(**row).returning(ITEMS.c.id)).scalar_one()
            first_ids.append(item_id)
            existing = cluster.find_event(conn, decision, item, now)
            if existing is not None:
                # Another outlet's report of a known development: a source, not a new alert.
                conn.execute(sa.update(ITEMS).where(ITEMS.c.id == item_id).values(event_id=existing))
                attached += 1
                continue
            if not row["alert"]:
                continue
            event_id = cluster.create_event(conn, decision, item, item_id, now)
            on_event(conn, event_id, decision)
            events.append(NewEvent(event_id, decision, item))
        if first_ids:
            _index_text(conn, min(first_ids) - 1)
    return SaveResult(stored=len(batch), events=events, attached=attached)


def sync_webhooks(engine: Engine, hooks: Iterable[tuple[str, str, str]]) -> None:
    """Make a row for every configured (name, kind, url); a changed URL clears `broken`."""
    with engine.begin() as conn:
        for name, kind, url in hooks:
            url_hash = hashlib.sha256(url.encode()).hexdigest()[:16]
            row = conn.execute(sa.select(WEBHOOKS).where(WEBHOOKS.c.name == name)).first()
            if row is None:
                conn.execute(
                    sa.insert(WEBHOOKS).values(name=name, kind=kind, url_hash=url_hash, broken=False)
                )
            elif row.url_hash != url_hash or row.kind != kind:
                conn.execute(
                    sa.update(WEBHOOKS)
                    .where(WEBHOOKS.c.name == name)
                    .values(kind=kind, url_hash=url_hash, broken=False, broken_reason=None, broken_at=None)
                )


def confirmed_facts(engine: Engine) -> list[tuple[str, str]]:
    """(actor, event_type) of asserted events: they grow the classifier's baseline."""
    query = (
        sa.select(EVENTS.c.actor, EVENTS.c.event_type)
        .where(EVENTS.c.modality == "asserted", EVENTS.c.actor.is_not(None))
        .distinct()
    )
    with engine.connect() as conn:
        return [(row.actor, row.event_type) for row in conn.execute(query)]


def prune_items(engine: Engine, older_than: datetime, *, prune_events: bool) -> int:
    """Blank the content of old items; keep their keys so they never come back as new."""
    query = sa.update(ITEMS).where(ITEMS.c.first_seen_at < older_than, ITEMS.c.pruned.is_(False))
    if not prune_events:
        query = query.where(ITEMS.c.event_id.is_(None))
    with engine.begin() as conn:
        result = conn.execute(
            query.values(title="", summary="", authors="", tags="", evidence=None, pruned=True)
        )
    return int(result.rowcount)


def stale_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
