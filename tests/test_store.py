"""The store on SQLite and PostgreSQL: no duplicates across cycles, clustering, outbox atomicity,
retention."""

from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from monitor import db, history, models, outbox, store
from monitor.config import WebhookConfig
from monitor.db import MIGRATIONS, migrate, open_database
from monitor.domain import Decision, Evidence, FeedItem

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def item(key: str, title: str = "Weather report", link: str | None = None) -> FeedItem:
    return FeedItem(key=key, title=title, summary="", link=link, published=NOW, published_known=True)


def quiet() -> Decision:
    return Decision(False, None, None, None, None, 0.0, None, "not_relevant")


def event(actor: str | None = "KZ", event_type: str = "recognition", modality: str = "asserted") -> Decision:
    evidence = Evidence("Kazakhstan recognised the Taliban government.", "recognition.verb")
    return Decision(True, event_type, actor, modality, True, 0.9, evidence)  # type: ignore[arg-type]


def hook(name: str = "chat", **flt: object) -> WebhookConfig:
    return WebhookConfig.model_validate(
        {"name": name, "kind": "slack", "url": "https://hooks.example/x", "filter": flt}
    )


def save(
    engine: sa.Engine, feed_id: int, batch: list[tuple[FeedItem, Decision]], hooks: list[WebhookConfig]
) -> store.SaveResult:
    lkeys = store.link_keys(
        [i for i, _ in batch], {i.key: ("link:" + i.link if i.link else None) for i, _ in batch}
    )
    fresh = store.filter_new(engine, feed_id, [i for i, _ in batch], lkeys)
    chosen = [(i, d, False) for i, d in batch if i in fresh]
    return store.save_items(
        engine,
        feed_id,
        chosen,
        lkeys,
        NOW,
        lambda conn, eid, dec: outbox.enqueue_event(conn, eid, dec, hooks, NOW),
    )


@pytest.fixture
def engine(db_url: str) -> sa.Engine:
    engine = open_database(db_url)
    store.sync_feeds(engine, [("wire", "https://a.example/rss"), ("blog", "https://b.example/rss")], NOW)
    store.sync_webhooks(engine, [("chat", "slack", "https://hooks.example/x")])
    yield engine
    engine.dispose()


def feed_id(engine: sa.Engine, name: str = "wire") -> int:
    state = store.load_feed(engine, name)
    assert state is not None
    return state.id


def test_migrations_are_idempotent(engine: sa.Engine) -> None:
    assert migrate(engine) == migrate(engine)
    with engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT count(*) FROM schema_version")).scalar_one()
    assert versions == len(MIGRATIONS)


@pytest.mark.postgres
def test_a_migration_waits_for_one_in_its_own_schema_only(pg_url: str, other_pg_url: str) -> None:
    """Replicas starting together migrate one at a time; a migration in another schema of the database
    does not wait for them (each takes about a second, longer at scale)."""
    holder = db.create_engine(pg_url)
    try:
        with ThreadPoolExecutor(2) as pool, holder.begin() as conn:  # a failure ends conn first
            db._wait_for_other_migrations(conn)  # a migration of pg_url's schema in progress
            same = pool.submit(lambda: open_database(pg_url).dispose())
            other = pool.submit(lambda: open_database(other_pg_url).dispose())
            other.result(timeout=20)
            assert not same.done()
            with holder.connect() as old_release:  # nor could a replica of the previous release migrate
                assert not old_release.exec_driver_sql("SELECT pg_try_advisory_xact_lock(4242010)").scalar()
            conn.commit()  # that migration ends
            same.result(timeout=20)
    finally:
        holder.dispose()


@pytest.mark.postgres
def test_a_replica_waits_out_a_migration_longer_than_its_lock_timeout(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A large history's migration outlasts the sessions' lock_timeout (30 s; 0.2 s here): a replica that
    starts meanwhile says it waits, and migrates once the other is done, instead of failing to start."""
    caplog.set_level(logging.INFO, "monitor.db")
    holder, waiter = db.create_engine(pg_url), db.create_engine(pg_url)
    # After the monitor's own session settings: a lock wait shorter than the migration below.
    sa.event.listen(waiter, "connect", lambda conn, _: _set_lock_timeout(conn, "200ms"))
    try:
        with holder.begin() as conn, ThreadPoolExecutor(1) as pool:
            db._wait_for_other_migrations(conn)  # another replica's long migration
            waiting = pool.submit(migrate, waiter)
            time.sleep(1.0)  # five lock timeouts
            assert not waiting.done()
            conn.commit()
            assert waiting.result(timeout=20) == len(MIGRATIONS)
    finally:
        holder.dispose()
        waiter.dispose()
    said = [r for r in caplog.records if r.name == "monitor.db" and getattr(r, "up_to", None)]
    assert [r.up_to for r in said] == [db.MIGRATION_WAIT]  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_a_migration_waits_for_a_replica_of_the_previous_release(pg_url: str, other_pg_url: str) -> None:
    """A replica of a release before the schema's key takes the one-int key, for the whole database: while
    one migrates, a new replica of any schema waits for it (before, both migrated at once) and says so."""
    holder = db.create_engine(pg_url)
    waiters = [db.create_engine(url) for url in (pg_url, other_pg_url)]
    for waiter in waiters:  # a short lock_timeout: migrate must wait past it, not fail
        sa.event.listen(waiter, "connect", lambda conn, _: _set_lock_timeout(conn, "200ms"))
    try:
        with ThreadPoolExecutor(2) as pool, holder.begin() as conn:  # a failure ends conn first
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242010)")  # what the previous release takes
            waiting = [pool.submit(migrate, waiter) for waiter in waiters]
            time.sleep(1.0)
            assert not any(w.done() for w in waiting)
            conn.commit()
            assert [w.result(timeout=20) for w in waiting] == [len(MIGRATIONS)] * 2
    finally:
        holder.dispose()
        for waiter in waiters:
            waiter.dispose()


def _set_lock_timeout(dbapi_connection: Any, value: str) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = '{value}'")
    dbapi_connection.commit()


def test_the_prebuilt_items_insert_stores_what_sqlalchemy_stores(engine: sa.Engine) -> None:
    # Rows bound through the columns' processors once per dialect must be stored exactly as SQLAlchemy's own
    # executemany stores them: the UTC text (SQLite) or timestamptz, booleans, floats, NULLs.
    kabul = timezone(timedelta(hours=4, minutes=30))
    decisions = [
        quiet(),
        event(),
        Decision(False, "recognition", None, "planned", None, 0.25, None, "backlog"),
    ]
    items = [
        FeedItem(
            "k", "T", "S", None, datetime(2026, 2, 1, 9, 30, 15, 123456, tzinfo=kabul), False, ("a",), ()
        ),
        FeedItem("k", "Title", "", "https://a.example/1", NOW, True, (), ("x", "y")),
        FeedItem("k", "", "Summary", None, datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), True),
    ]
    rows = [
        store._item_row(
            feed_id(engine), i, d, backlog, "link:x" if i.link else None, NOW - timedelta(hours=1)
        )
        for i, d, backlog in zip(items, decisions, [False, True, False], strict=True)
    ]
    columns = ", ".join(c.name for c in models.ITEMS.c if c.name not in ("id", "key"))
    with engine.begin() as conn:
        store.insert_items(conn, [{**row, "key": f"fast:{n}"} for n, row in enumerate(rows)])
        conn.execute(sa.insert(models.ITEMS), [{**row, "key": f"sa:{n}"} for n, row in enumerate(rows)])
        stored = conn.exec_driver_sql(f"SELECT key, {columns} FROM items ORDER BY id").all()
    assert [row[0] for row in stored] == ["fast:0", "fast:1", "fast:2", "sa:0", "sa:1", "sa:2"]
    assert [tuple(row[1:]) for row in stored[:3]] == [tuple(row[1:]) for row in stored[3:]]
    with engine.connect() as conn:
        published = (
            conn.execute(sa.select(models.ITEMS.c.published).order_by(models.ITEMS.c.id)).scalars().all()
        )
    assert published[0] == datetime(2026, 2, 1, 5, 0, 15, 123456, tzinfo=UTC)


def test_second_cycle_stores_nothing_new(engine: sa.Engine) -> None:
    batch = [(item("guid:1"), quiet()), (item("guid:2"), quiet())]
    assert save(engine, feed_id(engine), batch, []).stored == 2
    assert save(engine, feed_id(engine), batch, []).stored == 0


def test_same_key_in_two_feeds_is_two_items(engine: sa.Engine) -> None:
    assert save(engine, feed_id(engine, "wire"), [(item("guid:1"), quiet())], []).stored == 1
    assert save(engine, feed_id(engine, "blog"), [(item("guid:1"), quiet())], []).stored == 1


def test_changing_guid_with_same_link_is_not_new(engine: sa.Engine) -> None:
    fid = feed_id(engine)
    save(engine, fid, [(item("guid:a1", link="https://x/1"), quiet())], [])
    assert save(engine, fid, [(item("guid:a2", link="https://x/1"), quiet())], []).stored == 0


def test_a_large_poll_finds_old_items_by_key_and_by_link_wherever_they_sit(engine: sa.Engine) -> None:
    """The check runs in chunks of keys and links: a repeat far down a long document is still caught."""
    fid = feed_id(engine)
    save(engine, fid, [(item("guid:old", link="https://x/old"), quiet())], [])
    batch = [(item(f"guid:{n}", link=f"https://x/{n}"), quiet()) for n in range(450)]
    batch[300] = (item("guid:old"), quiet())  # the same key, no link
    batch[420] = (item("guid:renamed", link="https://x/old"), quiet())  # a new GUID, the same link
    result = save(engine, fid, batch, [])
    assert result.stored == 448
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(models.ITEMS)).scalar_one()
    assert stored == 449


def test_the_write_path_walks_no_whole_table(engine: sa.Engine) -> None:
    """The duplicate check and the search-index updates use indexes: a poll's cost must not grow with the
    history (EXPLAIN on both databases; PostgreSQL's seqscan switched off, as the tables are tiny)."""
    fid = feed_id(engine)
    save(engine, fid, [(item("guid:0", link="https://x/0"), quiet())], [])
    ran: list[tuple[str, object]] = []

    def record(conn: object, cursor: object, statement: str, parameters: object, *rest: object) -> None:
        ran.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    save(engine, fid, [(item("guid:1", link="https://x/1"), quiet()), (item("guid:2"), event())], [])
    sa.event.remove(engine, "before_cursor_execute", record)
    explained = [(s, _plan(engine, s, p)) for s, p in ran if "SELECT" in s and "items" in s]
    assert any("link_key IN" in s for s, _ in explained)
    assert any("reports_fts" in s for s, _ in explained) == (engine.dialect.name == "sqlite")
    for statement, lines in explained:
        assert not re.search(r"^SCAN items$|Seq Scan on items", lines, re.M), f"{statement}\n{lines}"
        if "reports_fts" in statement:  # this poll's reports by id, not every report in the history
            assert "USING INTEGER PRIMARY KEY" in lines, f"{statement}\n{lines}"


def _plan(engine: sa.Engine, statement: str, parameters: object) -> str:
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        if engine.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + statement, parameters)
        return "\n".join(str(row[0]) for row in cursor.fetchall())


def test_entries_sharing_a_home_page_link_are_kept(engine: sa.Engine) -> None:
    batch = [(item(f"guid:{n}", link="https://x/"), quiet()) for n in range(3)]
    assert save(engine, feed_id(engine), batch, []).stored == 3


def test_twenty_outlets_one_event_one_delivery(engine: sa.Engine) -> None:
    first = save(
        engine,
        feed_id(engine, "wire"),
        [(item("guid:1", "Kazakhstan recognises Taliban"), event())],
        [hook()],
    )
    again = save(
        engine, feed_id(engine, "blog"), [(item("guid:9", "Astana recognises Kabul"), event())], [hook()]
    )
    assert len(first.events) == 1 and again.events == [] and again.attached == 1
    rows = history.deliveries(engine)
    assert len(rows) == 1 and rows[0]["status"] == "pending"
    assert outbox.load_alert(engine, first.events[0].event_id).sources == 2


def test_planned_and_asserted_are_separate_events(engine: sa.Engine) -> None:
    save(engine, feed_id(engine), [(item("guid:1"), event(modality="planned"))], [hook()])
    result = save(engine, feed_id(engine), [(item("guid:2"), event())], [hook()])
    assert len(result.events) == 1


def test_filter_selects_webhooks(engine: sa.Engine) -> None:
    store.sync_webhooks(engine, [("sanctions-desk", "slack", "https://hooks.example/y")])
    hooks = [hook(), hook("sanctions-desk", event_types=["sanctions_imposed"])]
    save(engine, feed_id(engine), [(item("guid:1"), event())], hooks)
    assert [r["webhook"] for r in history.deliveries(engine)] == ["chat"]


def test_outbox_rows_roll_back_with_the_event(engine: sa.Engine) -> None:
    def explode(conn: sa.Connection, event_id: int, decision: Decision) -> None:
        outbox.enqueue_event(conn, event_id, decision, [hook()], NOW)
        raise RuntimeError("crash between event and commit")

    with pytest.raises(RuntimeError):
        store.save_items(engine, feed_id(engine), [(item("guid:1"), event(), False)], {}, NOW, explode)
    with engine.connect() as conn:
        counts = [
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("items", "events", "deliveries")
        ]
    assert counts == [0, 0, 0]


def test_backlog_items_never_alert(engine: sa.Engine) -> None:
    result = store.save_items(
        engine, feed_id(engine), [(item("guid:1"), event(), True)], {}, NOW, lambda *a: None
    )
    assert result.events == []
    with engine.connect() as conn:
        alert, reason = conn.execute(sa.text("SELECT alert, reason FROM items")).one()
    assert not alert and reason == "backlog"


def test_pruned_items_do_not_come_back(engine: sa.Engine) -> None:
    fid = feed_id(engine)
    save(engine, fid, [(item("guid:1", "old news"), quiet())], [])
    assert store.prune_items(engine, NOW + timedelta(days=1), prune_events=False) == 1
    assert save(engine, fid, [(item("guid:1", "old news"), quiet())], []).stored == 0


def test_pruning_keeps_event_reports(engine: sa.Engine) -> None:
    save(engine, feed_id(engine), [(item("guid:1"), event())], [])
    assert store.prune_items(engine, NOW + timedelta(days=1), prune_events=False) == 0


def test_changed_feed_url_forgets_learned_state(engine: sa.Engine) -> None:
    fid = feed_id(engine)
    store.record_poll(engine, fid, learned_url="https://moved.example/rss", etag='"v1"')
    states = store.sync_feeds(engine, [("wire", "https://new.example/rss")], NOW)
    assert states["wire"].url == "https://new.example/rss" and states["wire"].etag is None


def test_a_key_repeated_in_one_batch_is_stored_once(engine: sa.Engine) -> None:
    batch = [(item("guid:1", "first"), quiet()), (item("guid:1", "second"), quiet())]
    assert save(engine, feed_id(engine), batch, []).stored == 1


def test_a_confirmed_one_off_act_is_known_after_a_restart(
    engine: sa.Engine, tmp_path: pytest.TempPathFactory
) -> None:
    """A delisting the daemon found once stays known with its act: a later present-tense report of it,
    after a restart, is a restatement (it joins the event as a source), not a second alert."""
    from monitor.classify import classify, load_baseline
    from monitor.resources import baseline_with_history

    headline = "Kazakhstan removes the Taliban from its list of terrorist organisations"
    seed = load_baseline(None)
    first = classify(headline, "", seed)
    assert first.alert and first.act == "terror_delisting"
    saved = save(engine, feed_id(engine), [(item("a", headline), first)], [hook()])
    assert len(saved.events) == 1

    config = type("Config", (), {"baseline": None})()  # only the baseline path is read
    grown = baseline_with_history(config, engine)  # type: ignore[arg-type]
    again = classify("Kazakhstan strikes Taliban off terrorist list", "", grown)
    assert (again.alert, again.reason, again.act) == (False, "restatement", "terror_delisting")


@pytest.mark.postgres
def test_postgres_sessions_bound_lock_waits_and_idle_transactions(pg_url: str) -> None:
    """A replica stopped mid-transaction must not hold its locks for ever, nor a lock wait stall a healthy
    replica's database thread: every session the monitor opens carries both bounds."""
    engine = open_database(pg_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "30s"
        assert conn.exec_driver_sql("SHOW idle_in_transaction_session_timeout").scalar() == "2min"
    engine.dispose()


def test_expiry_spares_a_delivery_in_flight_and_reports_each_loss_once(engine: sa.Engine) -> None:
    """A pending delivery past max_age is dead and reported once; one under lease (its request may be in
    flight) is judged only after the lease, so it is never reported lost and then sent."""
    saved = save(
        engine, feed_id(engine), [(item("a", "Kazakhstan recognises the Taliban"), event())], [hook()]
    )
    saved_b = save(
        engine,
        feed_id(engine, "blog"),
        [(item("b", "Uzbekistan recognises the Taliban"), event("UZ"))],
        [hook()],
    )
    assert len(saved.events) == len(saved_b.events) == 1
    deliveries = models.DELIVERIES
    later = NOW + timedelta(hours=2)
    with engine.begin() as conn:
        in_flight = conn.execute(
            sa.select(deliveries.c.id).where(deliveries.c.event_id == saved_b.events[0].event_id)
        ).scalar_one()
        conn.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == in_flight)
            .values(next_attempt_at=later + timedelta(seconds=40))
        )
    lost = outbox.expire(engine, later, 3600)
    assert [entry.event_id for entry in lost] == [saved.events[0].event_id]
    assert outbox.expire(engine, later, 3600) == []


@pytest.mark.postgres
def test_postgres_partial_indexes_keep_their_conditions(pg_url: str) -> None:
    # Their PostgreSQL conditions are attached when a PostgreSQL database is migrated (models.py): without
    # them each index would hold pruned rows too, and the history's walks would step over them.
    engine = open_database(pg_url)
    with engine.connect() as conn:
        found = dict(
            conn.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename = 'items' AND indexdef LIKE '%% WHERE %%'"
            ).all()
        )
    engine.dispose()
    assert {name: found.get(name, "").split(" WHERE ")[-1] for name in PARTIAL} == PARTIAL


PARTIAL = {
    "ix_items_seen": "(NOT pruned)",
    "ix_items_feed_seen": "(NOT pruned)",
    "ix_items_type_seen": "((NOT pruned) AND (event_type IS NOT NULL))",
    "ix_items_actor_seen": "((NOT pruned) AND (actor IS NOT NULL))",
    "ix_items_event": "(event_id IS NOT NULL)",
}
