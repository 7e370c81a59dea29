"""The database side of official lists: the tracked entries, the last good fetch, and each change
stored as an item (so history, search and the outbox see it) plus its before/after in `list_changes`.

A list change joins an existing event when an earlier change on another list has the same UN
reference and kind (a UN listing copied by the UK and the EU is one development with several sources).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor import cluster, event_counts, models, store
from monitor.domain import Decision, FeedItem
from monitor.lists.diff import Change, ListDiff, Previous, Substance
from monitor.lists.entry import ParsedList, substance_hash
from monitor.models import ITEMS

ENTRIES = models.LIST_ENTRIES
CHANGES = models.LIST_CHANGES
STATE = models.LIST_STATE
# How long a UN listing waits for its UK and EU copies to join it (the EU act can take weeks).
COPY_WINDOW = timedelta(days=180)

OnEvent = Callable[[Connection, int, Decision], None]


@dataclass(frozen=True, slots=True)
class Described:
    change: Change
    item: FeedItem
    decision: Decision


def tracked_keys(engine: Engine, feed_id: int) -> frozenset[str]:
    with engine.connect() as conn:
        return frozenset(conn.execute(sa.select(ENTRIES.c.key).where(ENTRIES.c.feed_id == feed_id)).scalars())


def load_previous(engine: Engine, feed_id: int) -> Previous | None:
    """The last good fetch of this list, or None before its first (the baseline)."""
    with engine.connect() as conn:
        total = conn.execute(sa.select(STATE.c.entries_total).where(STATE.c.feed_id == feed_id)).scalar()
        if total is None:
            return None
        rows = conn.execute(sa.select(ENTRIES.c.key, ENTRIES.c.substance).where(ENTRIES.c.feed_id == feed_id))
        return Previous(int(total), {row.key: json.loads(row.substance) for row in rows})


@dataclass(frozen=True, slots=True)
class ListWrite:
    """Everything one list poll writes, committed together under the poll's lease token."""

    feed_id: int
    token: int
    values: Mapping[str, object]  # the feed row's new state
    parsed: ParsedList
    found: ListDiff
    described: Sequence[Described]


def commit(
    engine: Engine,
    write: ListWrite,
    now: datetime,
    on_event: OnEvent,
    on_notice: store.OnNotice,
    notices: Sequence[tuple[str, str]],
) -> list[store.NewEvent] | None:
    """Write the new state, the changes, their events and `notices` in one transaction that first checks
    the lease token; None, and nothing written, when the lease was lost. Returns the new events."""
    events: list[store.NewEvent] = []
    with engine.begin() as conn:
        if not store.fence(conn, write.feed_id, write.token, write.values):
            conn.rollback()
            return None
        _write_state(conn, write.feed_id, write.parsed, now)
        _write_entries(conn, write.feed_id, write.found, now)
        # Another replica may be storing the same listing from another list: take turns on it.
        cluster.lock_keys(conn, [_copy_key(d.change) for d in write.described if d.decision.alert], now)
        before = store.last_item_id(conn)
        for one in write.described:
            event = _write_change(conn, write.feed_id, one, write.found.held, now, on_event)
            if event is not None:
                events.append(event)
        store.note_items(conn, write.feed_id, before, now)  # stats counters, event-report search
        event_counts.count(conn, [event.decision for event in events], now)
        for kind, detail in notices:
            on_notice(conn, write.feed_id, kind, detail)
    return events


def _copy_key(change: Change) -> str:
    return f"list|{change.kind}|{change.un_ref or change.key}"


def _write_state(conn: Connection, feed_id: int, parsed: ParsedList, now: datetime) -> None:
    values = {
        "entries_total": parsed.total,
        "entries_selected": len(parsed.entries),
        "generated": (parsed.generated or "")[:100] or None,
        "checked_at": now,
    }
    updated = conn.execute(sa.update(STATE).where(STATE.c.feed_id == feed_id).values(**values))
    if not updated.rowcount:
        conn.execute(sa.insert(STATE).values(feed_id=feed_id, **values))


def _write_entries(conn: Connection, feed_id: int, found: ListDiff, now: datetime) -> None:
    if found.untracked:
        conn.execute(
            sa.delete(ENTRIES).where(ENTRIES.c.feed_id == feed_id, ENTRIES.c.key.in_(found.untracked))
        )
    for key, substance in found.upserts.items():
        values = _entry_values(substance, now)
        updated = conn.execute(
            sa.update(ENTRIES).where(ENTRIES.c.feed_id == feed_id, ENTRIES.c.key == key).values(**values)
        )
        if not updated.rowcount:
            conn.execute(sa.insert(ENTRIES).values(feed_id=feed_id, key=key, first_seen_at=now, **values))


def _entry_values(substance: Substance, now: datetime) -> dict[str, object]:
    return {
        "un_ref": _first(substance, "un_ref"),
        "name": (_first(substance, "name") or "")[:1000],
        "substance": _json(substance),
        "hash": substance_hash(substance),
        "updated_at": now,
    }


def _write_change(
    conn: Connection, feed_id: int, one: Described, held: bool, now: datetime, on_event: OnEvent
) -> store.NewEvent | None:
    change, decision = one.change, one.decision
    row = store.item_row(feed_id, one.item, decision, False, None, now)
    item_id = conn.execute(sa.insert(ITEMS).values(**row).returning(ITEMS.c.id)).scalar_one()
    store.index_items(conn, item_id - 1)
    conn.execute(
        sa.insert(CHANGES).values(
            feed_id=feed_id,
            item_id=item_id,
            key=change.key,
            un_ref=change.un_ref,
            change=change.kind,
            changed_fields=",".join(change.changed)[:500],
            before=_json(change.before) if change.before is not None else None,
            after=_json(change.after) if change.after is not None else None,
            alert=decision.alert,
            held=held and change.event_type is not None,
            detected_at=now,
        )
    )
    if not decision.alert:
        return None
    existing = _copied_event(conn, feed_id, change, now)
    if existing is not None:  # another list's copy of a UN listing: a source, not a new alert
        conn.execute(sa.update(ITEMS).where(ITEMS.c.id == item_id).values(event_id=existing))
        return None
    event_id = cluster.create_event(conn, decision, one.item, item_id, now)
    on_event(conn, event_id, decision)
    return store.NewEvent(event_id, decision, one.item)


def _copied_event(conn: Connection, feed_id: int, change: Change, now: datetime) -> int | None:
    """The event of the same change (kind, UN reference) seen on another list recently, if any."""
    if change.un_ref is None or change.kind == "amended":
        return None
    query = (
        sa.select(ITEMS.c.event_id)
        .select_from(CHANGES.join(ITEMS, ITEMS.c.id == CHANGES.c.item_id))
        .where(
            CHANGES.c.un_ref == change.un_ref,
            CHANGES.c.change == change.kind,
            CHANGES.c.feed_id != feed_id,
            CHANGES.c.detected_at >= now - COPY_WINDOW,
            ITEMS.c.event_id.is_not(None),
        )
        .order_by(CHANGES.c.id)
        .limit(1)
    )
    found = conn.execute(query).scalar()
    return None if found is None else int(found)


def _first(substance: Substance, name: str) -> str | None:
    found = substance.get(name) or []
    return found[0] if found else None


def _json(substance: Substance) -> str:
    return json.dumps(substance, sort_keys=True, ensure_ascii=False)
