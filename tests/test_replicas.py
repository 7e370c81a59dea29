"""Replicas sharing one database: claims, fencing, one event per development, chores, the SQLite guard.

The seams run in-process against real SQLite files and a real PostgreSQL schema;
a lease of 0 s stands in for one that ran out (no sleeping).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from support import BASELINE

from monitor import chores, claims, outbox, replicas, store
from monitor.classify import load_baseline
from monitor.config import Retention, WebhookConfig, load_config
from monitor.db import open_database
from monitor.domain import Decision, Evidence, FeedItem
from monitor.errors import ConfigError
from monitor.pipeline import decide
from monitor.resources import BaselineRefresh

NOW = datetime.now(UTC)
HOOK = WebhookConfig.model_validate({"name": "chat", "kind": "slack", "url": "https://hooks.example/x"})


@pytest.fixture
def engine(db_url: str) -> sa.Engine:
    engine = open_database(db_url)
    names = [(f"feed{i}", f"https://{i}.example/rss") for i in range(10)]
    store.sync_feeds(engine, names, NOW)
    store.sync_webhooks(engine, [("chat", "slack", "https://hooks.example/x")])
    yield engine
    engine.dispose()


def recognition(title: str, key: str) -> tuple[FeedItem, Decision, bool]:
    item = FeedItem(key=key, title=title, summary="", link=None, published=NOW, published_known=True)
    evidence = Evidence(title, "recognition.verb")
    decision = Decision(True, "recognition", "KZ", "asserted", True, 0.9, evidence)
    return item, decision, False


def commit(
    engine: sa.Engine,
    claim: claims.Claim,
    *batch: tuple[FeedItem, Decision, bool],
    inside: Callable[[], None] = lambda: None,
) -> store.SaveResult | None:
    write = store.PollWrite(claim.state.id, claim.token, {"last_status": 200}, batch)

    def on_event(conn: sa.Connection, event_id: int, decision: Decision) -> None:
        outbox.enqueue_event(conn, event_id, decision, [HOOK], NOW)
        inside()  # still in the poll's transaction

    return store.commit_poll(engine, write, NOW, on_event, lambda *args: None)


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_due_feed_goes_to_one_replica_until_its_lease_ends(engine: sa.Engine) -> None:
    first = claims.claim_due(engine, "a", 6, lease=60)
    second = claims.claim_due(engine, "b", 6, lease=60)
    assert len(first) == 6 and len(second) == 4  # ten due feeds, each claimed once
    assert not {c.state.name for c in first} & {c.state.name for c in second}
    assert claims.claim_due(engine, "c", 10, lease=60) == []  # all held
    assert {len(v) for v in claims.held_by(engine).values()} == {6, 4}


def test_a_late_commit_after_the_lease_passed_writes_nothing(engine: sa.Engine) -> None:
    (stale,) = claims.claim_named(engine, "a", ["feed0"], lease=0)  # a lease that has run out
    (fresh,) = claims.claim_named(engine, "b", ["feed0"], lease=60)
    assert fresh.state.name == "feed0" and fresh.token == stale.token + 1
    assert commit(engine, stale, recognition("Kazakhstan recognises the Taliban", "k1")) is None
    assert (count(engine, "items"), count(engine, "events"), count(engine, "deliveries")) == (0, 0, 0)
    saved = commit(engine, fresh, recognition("Kazakhstan recognises the Taliban", "k1"))
    assert saved is not None and count(engine, "events") == 1
    feed = store.load_feed(engine, "feed0")
    assert feed is not None and feed.next_poll_at is not None


def test_quiet_polls_are_written_together_except_where_the_lease_passed(engine: sa.Engine) -> None:
    held = {c.state.name: c for c in claims.claim_due(engine, "a", 10, lease=0)}  # leases that ran out
    assert len(claims.claim_named(engine, "b", ["feed3"], lease=60)) == 1  # replica b holds feed3 now
    later = NOW + timedelta(minutes=5)
    quiet = {"last_success_at": NOW, "next_poll_at": later}
    moved = quiet | {"learned_url": "https://moved.example/rss"}  # another set of columns, same batch
    updates = [(c.state.id, c.token, moved if name == "feed1" else quiet) for name, c in held.items()]
    assert store.record_quiet(engine, updates) == [held["feed3"].state.id]
    feeds = {name: store.load_feed(engine, name) for name in held}
    written = [f for name, f in feeds.items() if name != "feed3"]
    assert all(f is not None and f.polled_before and f.next_poll_at == later for f in written)
    assert feeds["feed1"] is not None and feeds["feed1"].url == "https://moved.example/rss"
    assert claims.held_by(engine) == {"b": ["feed3"]}  # a's written feeds are free, b's lease untouched
    fenced = feeds["feed3"]
    assert fenced is not None and not fenced.polled_before and fenced.next_poll_at != later


def test_a_released_claim_is_due_at_once_for_another_replica(engine: sa.Engine) -> None:
    held = claims.claim_due(engine, "a", 2, lease=60)
    (stale,) = claims.claim_named(engine, "a", ["feed9"], lease=0)
    assert len(claims.claim_named(engine, "b", ["feed9"], lease=60)) == 1
    claims.release(engine, [(c.state.id, c.token) for c in [*held, stale]])
    got = claims.claim_due(engine, "c", 10, lease=60)
    assert {c.state.name for c in held} <= {c.state.name for c in got}
    assert "feed9" not in {c.state.name for c in got}  # b's lease was not given away by a's release
    assert claims.held_by(engine)["b"] == ["feed9"]


def test_a_replica_restarted_under_its_id_takes_its_feeds_back_at_once(engine: sa.Engine) -> None:
    (before,) = claims.claim_named(engine, "r0", ["feed0"], lease=60)  # then r0 is killed mid-poll
    claims.claim_named(engine, "r1", ["feed1"], lease=60)
    assert replicas.register(engine, "r0") == 1  # the restart, under the same id
    again = {c.state.name: c for c in claims.claim_due(engine, "r0", 10, lease=60)}
    assert "feed0" in again and "feed1" not in again  # r1's lease is r1's
    assert commit(engine, before, recognition("Kazakhstan recognises the Taliban", "k1")) is None


def test_poll_once_skips_a_feed_another_replica_is_polling(engine: sa.Engine) -> None:
    claims.claim_named(engine, "daemon", ["feed1"], lease=60)
    got = claims.claim_named(engine, "once", ["feed1", "feed2"], lease=60)
    assert [c.state.name for c in got] == ["feed2"]


def test_a_disabled_or_removed_feed_is_not_claimed(engine: sa.Engine) -> None:
    store.sync_feeds(engine, [("feed0", "https://0.example/rss"), ("feed1", "https://1.example/rss")], NOW,
                     enabled=["feed1"])  # fmt: skip
    assert [c.state.name for c in claims.claim_due(engine, "a", 10, lease=60)] == ["feed1"]


@pytest.mark.postgres
def test_two_replicas_reporting_one_development_make_one_event(pg_url: str) -> None:
    """Replica A has created the event and not committed yet; replica B stores another outlet's report of the
    same development meanwhile: B waits on the identity row, then joins A's event as a source."""
    engine = open_database(pg_url)
    try:
        store.sync_feeds(engine, [("blog", "https://b.example/"), ("wire", "https://a.example/")], NOW)
        store.sync_webhooks(engine, [("chat", "slack", "https://hooks.example/x")])
        blog, wire = claims.claim_due(engine, "r", 2, lease=60)
        a_inside, a_may_commit = threading.Event(), threading.Event()
        results: dict[str, store.SaveResult | None] = {}

        def replica_a() -> None:
            def hold() -> None:
                a_inside.set()
                a_may_commit.wait(10)

            report = recognition("Kazakhstan recognises the Taliban government", "a1")
            results["a"] = commit(engine, wire, report, inside=hold)

        def replica_b() -> None:
            results["b"] = commit(engine, blog, recognition("Kazakhstan formally recognises Taliban", "b1"))

        first, second = threading.Thread(target=replica_a), threading.Thread(target=replica_b)
        first.start()
        assert a_inside.wait(10)
        second.start()
        second.join(0.5)
        assert second.is_alive()  # B waits for A's identity row
        a_may_commit.set()
        first.join(10)
        second.join(10)
        a, b = results["a"], results["b"]
        assert a is not None and len(a.events) == 1
        assert b is not None and b.events == [] and b.attached == 1
        assert (count(engine, "events"), count(engine, "deliveries")) == (1, 1)
        with engine.connect() as conn:
            sources = conn.execute(sa.text("SELECT sources FROM alerts")).scalar_one()
        assert sources == 2
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_replica_learns_the_events_another_recorded_and_does_not_alert_again(pg_url: str) -> None:
    """Past the event's window the identity row no longer joins a restatement to A's event: only B's baseline,
    refreshed from the database, keeps B from alerting again on a development A recorded."""
    headline = "Kazakhstan accredits Taliban ambassador"
    later = NOW - timedelta(days=15)  # A's event is older than diplomatic_upgrade's 14-day window
    engine_a, engine_b = open_database(pg_url), open_database(pg_url)
    try:
        store.sync_feeds(engine_a, [("wire", "https://a.example/"), ("blog", "https://b.example/")], later)
        store.sync_webhooks(engine_a, [("chat", "slack", "https://hooks.example/x")])
        seed = load_baseline(BASELINE)
        replica_a, replica_b = BaselineRefresh(seed, engine_a), BaselineRefresh(seed, engine_b)
        replica_a.load()
        stale = replica_b.load()
        assert replica_b.changed() is None  # nothing new: the facts are not read again
        item = FeedItem("a1", headline, "", None, later, published_known=True)
        decision = decide(replica_a.seed, item)
        assert decision.alert and decision.event_type == "diplomatic_upgrade"
        (wire,) = claims.claim_named(engine_a, "a", ["wire"], lease=60)
        write = store.PollWrite(wire.state.id, wire.token, {"last_status": 200}, [(item, decision, False)])

        def on_event(conn: sa.Connection, event_id: int, d: Decision) -> None:
            outbox.enqueue_event(conn, event_id, d, [HOOK], later)

        assert store.commit_poll(engine_a, write, later, on_event, lambda *args: None) is not None

        restated = FeedItem("b1", headline, "", None, NOW, published_known=True)
        assert decide(stale, restated).alert  # what B would do without the refresh
        fresh = replica_b.changed()
        assert fresh is not None
        again = decide(fresh, restated)
        assert not again.alert and again.reason == "restatement"
        (blog,) = claims.claim_named(engine_b, "b", ["blog"], lease=60)
        write = store.PollWrite(blog.state.id, blog.token, {"last_status": 200}, [(restated, again, False)])
        saved = store.commit_poll(engine_b, write, NOW, on_event, lambda *args: None)
        assert saved is not None and saved.events == []
        assert (count(engine_b, "events"), count(engine_b, "deliveries")) == (1, 1)
    finally:
        engine_a.dispose()
        engine_b.dispose()


def test_a_chore_runs_on_one_replica_per_period(engine: sa.Engine) -> None:
    retention = Retention(items_days=30)
    assert chores.prune(engine, retention, "a") == 0
    assert chores.prune(engine, retention, "b") is None  # a holds it for the period
    assert chores.acquire(engine, "other", "b", ttl=0) == 1
    assert chores.acquire(engine, "other", "a", ttl=60) == 2  # b's lease ran out


def test_replicas_lists_live_replicas_with_what_they_hold(engine: sa.Engine) -> None:
    replicas.register(engine, "host:1")
    replicas.register(engine, "host:2")
    claims.claim_named(engine, "host:1", ["feed3", "feed4"], lease=60)
    chores.acquire(engine, "prune", "host:2", ttl=60)
    replicas.heartbeat(engine, "host:1", 2)
    replicas.stopped(engine, "host:2")
    (live,) = replicas.live(engine, heartbeat_period=10)
    assert live["id"] == "host:1" and live["claims"] == 2
    assert live["feeds_held"] == ["feed3", "feed4"] and live["chores_held"] == []


def test_a_lease_shorter_than_a_poll_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("defaults:\n  timeout: 30s\nreplicas:\n  lease: 20s\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "replicas.lease" in str(error.value) and "defaults.timeout" in str(error.value)


def test_a_lease_shorter_than_a_feeds_own_timeout_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "replicas:\n  lease: 2m\nfeeds:\n  - name: wire\n    url: https://wire.example/rss\n"
        "  - name: eu-fsf\n    url: https://eu.example/list.xml\n    format: eu-fsf\n    timeout: 3m\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(f"{path}:2: replicas.lease: ")
    assert "feeds[1].timeout (eu-fsf)" in message and "225s" in message
    path.write_text(path.read_text(encoding="utf-8").replace("lease: 2m", "lease: 4m"), encoding="utf-8")
    assert load_config(path).replicas.lease == 240


def test_the_shipped_config_gives_every_poll_its_lease() -> None:
    config = load_config(Path(__file__).resolve().parents[1] / "feeds.yaml")
    longest = max([config.defaults.timeout, *(f.timeout or 0 for f in config.feeds)])
    assert config.replicas.lease > longest * 1.25
