"""Feed-health notices: a feed failing `health.failing_after` times in a row is announced once to the
webhooks that asked for notices, and its recovery too; the silence rules as unit tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from history_cases.wire import FOOTBALL, WEATHER, poll, rss, write_config
from httpserver import LoopbackServer, Reply

from monitor import models, notices, store
from monitor.db import open_database

ITEMS = models.ITEMS
NOTICES = models.NOTICES
HOOKS = """webhooks:
  - name: ops
    kind: generic
    url: {ops}
    filter:
      notices: true
  - name: chat
    kind: generic
    url: {chat}
health:
  failing_after: 2
delivery:
  backoff: [0s, 100ms]
  timeout: 2s
"""


def notice_kinds(database: str) -> list[str]:
    engine = sa.create_engine(database)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(NOTICES.c.kind).order_by(NOTICES.c.id)).scalars())
    finally:
        engine.dispose()


def posted(server: LoopbackServer, path: str) -> list[dict[str, object]]:
    return [json.loads(r.body) for r in server.requests if r.method == "POST" and r.path == path]


def test_failing_then_recovered_reaches_only_the_webhook_that_asked(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    with LoopbackServer() as server:
        server.route("/feed", Reply(500), Reply(500), Reply(500), Reply(200, rss("wire", FOOTBALL, WEATHER)))
        server.route("/ops", Reply(204))
        server.route("/chat", Reply(204))
        extra = HOOKS.format(ops=server.url("/ops"), chat=server.url("/chat"))
        config = write_config(tmp_path, database, {"wire": server.url("/feed")}, extra)

        assert poll(config)[0] == 0
        assert notice_kinds(database) == []  # one failure is not yet "failing"
        assert poll(config)[0] == 0
        assert notice_kinds(database) == ["failing"]
        assert poll(config)[0] == 0
        assert notice_kinds(database) == ["failing"]  # once per episode
        assert poll(config)[0] == 0
        assert notice_kinds(database) == ["failing", "recovered"]
        ops, chat = posted(server, "/ops"), posted(server, "/chat")
    assert [(p["type"], p["notice"]["feed"], p["notice"]["status"]) for p in ops] == [  # type: ignore[index]
        ("feed.notice", "wire", "failing"),
        ("feed.notice", "wire", "recovered"),
    ]
    assert chat == []


def test_a_gone_feed_is_failing_at_once(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    with LoopbackServer() as server:
        server.route("/feed", Reply(410))
        server.route("/ops", Reply(204))
        server.route("/chat", Reply(204))
        extra = HOOKS.format(ops=server.url("/ops"), chat=server.url("/chat")).replace(
            "failing_after: 2", "failing_after: 5"
        )
        config = write_config(tmp_path, database, {"wire": server.url("/feed")}, extra)
        assert poll(config)[0] == 0
        ops = posted(server, "/ops")
    assert notice_kinds(database) == ["failing"]
    assert [p["notice"]["status"] for p in ops] == ["failing"]  # type: ignore[index]


def test_rate_limiting_is_not_failing(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    with LoopbackServer() as server:
        server.route("/feed", Reply(429, headers={"Retry-After": "1"}))
        config = write_config(
            tmp_path, database, {"wire": server.url("/feed")}, "health:\n  failing_after: 1\n"
        )
        for _ in range(2):
            assert poll(config)[0] == 0
        assert len(server.requests) == 2
    assert notice_kinds(database) == []


@pytest.mark.parametrize(
    ("count", "threshold", "state", "gone", "expected"),
    [
        (1, 2, None, False, None),
        (2, 2, None, False, "failing"),
        (7, 2, None, False, "failing"),  # e.g. the threshold was lowered meanwhile
        (3, 2, "failing", False, None),  # already announced
        (1, 5, None, True, "failing"),
        (1, 5, "failing", True, None),
        (2, 2, "silent", False, "failing"),  # a silent feed that starts failing is news
    ],
)
def test_after_failure(
    count: int, threshold: int, state: str | None, gone: bool, expected: str | None
) -> None:
    assert notices.after_failure(count, threshold, state, gone) == expected


NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOUR = 3600.0


@pytest.mark.parametrize(
    ("quiet_hours", "gap", "state", "expected"),
    [
        (9, HOUR, None, True),  # 8 usual gaps of an hour have passed
        (7, HOUR, None, False),
        (5, 60.0, None, False),  # a busy feed is still given MIN_SILENCE (6 h)
        (7, 60.0, None, True),
        (100, HOUR, "silent", False),  # already announced
        (100, HOUR, "failing", False),  # a failing feed is not also silent
        (100, None, None, False),  # no rhythm known yet
    ],
)
def test_is_silent(quiet_hours: float, gap: float | None, state: str | None, expected: bool) -> None:
    last_new = NOW - timedelta(hours=quiet_hours)
    assert notices.is_silent(last_new, gap, NOW, 8.0, state) is expected


def test_is_silent_needs_a_last_arrival() -> None:
    assert notices.is_silent(None, HOUR, NOW, 8.0, None) is False


def _arrivals(engine: sa.Engine, feed_id: int, times: list[datetime], per_batch: int = 2) -> None:
    rows = [
        {
            "feed_id": feed_id,
            "key": f"guid:{n}-{k}",
            "title": "t",
            "summary": "",
            "published": at,
            "published_known": True,
            "first_seen_at": at,
            "authors": "",
            "tags": "",
            "backlog": False,
            "pruned": False,
            "alert": False,
        }
        for n, at in enumerate(times)
        for k in range(per_batch)
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(ITEMS), rows)


def test_usual_gap_is_the_median_between_batches(db_url: str) -> None:
    engine = open_database(db_url)
    try:
        feeds = store.sync_feeds(engine, [("steady", "http://a.example/"), ("new", "http://b.example/")], NOW)
        steady, new = feeds["steady"].id, feeds["new"].id
        # Hourly batches of two items, with one long outage that the median ignores.
        hours = [0, 1, 2, 3, 4, 5, 30]
        _arrivals(engine, steady, [NOW - timedelta(hours=h) for h in hours])
        _arrivals(engine, new, [NOW - timedelta(hours=h) for h in range(notices.MIN_BATCHES - 1)])
        assert notices.usual_gap(engine, steady) == pytest.approx(HOUR)
        assert notices.usual_gap(engine, new) is None  # too few arrivals to know its rhythm
    finally:
        engine.dispose()
