"""Retention: `monitor prune` blanks old items that reported nothing, keeps event reports, and a pruned
item never comes back as new when its feed is polled again."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from history_cases.wire import FOOTBALL, KZ, OIL, WEATHER, Story, cli, poll, rss, write_config
from httpserver import LoopbackServer, Reply

from monitor import chores, models, resources, store
from monitor.config import Retention, load_config
from monitor.daemon import Daemon

ITEMS = models.ITEMS
EVENTS = models.EVENTS


def stored(url: str) -> dict[str, dict[str, object]]:
    """Every item row by link, pruned or not."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {str(r.link): dict(r._mapping) for r in conn.execute(sa.select(ITEMS))}
    finally:
        engine.dispose()


def event_count(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(EVENTS)).scalar_one())
    finally:
        engine.dispose()


def age_everything(url: str, days: int) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.update(ITEMS).values(first_seen_at=datetime.now(UTC) - timedelta(days=days)))
    engine.dispose()


def link(story: Story) -> str:
    return f"https://wire.example/{story.guid}"


def history(config: Path, *args: str) -> list[dict[str, object]]:
    code, out, err = cli(config, "history", "--format", "json", *args)
    assert code == 0, err
    return list(json.loads(out))


def test_prune_blanks_old_non_event_items_and_they_never_return(tmp_path: Path, db_url: str) -> None:
    with LoopbackServer() as server:
        # The second poll sees the same three stories plus one really new one.
        server.route(
            "/wire",
            Reply(200, rss("wire", KZ, FOOTBALL, WEATHER)),
            Reply(200, rss("wire", OIL, KZ, FOOTBALL, WEATHER)),
        )
        config = write_config(tmp_path, db_url, {"wire": server.url("/wire")})
        assert poll(config)[0] == 0
        age_everything(db_url, 40)

        code, _, err = cli(config, "prune", "--days", "30")
        assert code == 0, err
        rows = stored(db_url)
        for story in (FOOTBALL, WEATHER):
            assert rows[link(story)]["pruned"] is True
            assert rows[link(story)]["title"] == "" and rows[link(story)]["summary"] == ""
        assert rows[link(KZ)]["pruned"] is False and rows[link(KZ)]["title"] == KZ.title
        assert [e["headline"] for e in history(config)] == [KZ.title]
        assert {i["title"] for i in history(config, "--items")} == {KZ.title}
        assert history(config, "--items", "--search", "Arsenal") == []  # the text is gone from the index

        assert poll(config)[0] == 0
        assert len(server.requests) == 2
    after = stored(db_url)
    assert set(after) == set(rows) | {link(OIL)}  # only the new story was added
    assert event_count(db_url) == 1
    assert all(after[link(s)]["pruned"] for s in (FOOTBALL, WEATHER))


def test_prune_is_idempotent_and_respects_the_age(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with LoopbackServer() as server:
        server.route("/wire", Reply(200, rss("wire", FOOTBALL, WEATHER)))
        config = write_config(tmp_path, url, {"wire": server.url("/wire")})
        assert poll(config)[0] == 0
    age_everything(url, 40)
    assert cli(config, "prune", "--days", "60")[0] == 0  # 40 days old is within 60 days
    assert not any(r.get("pruned") for r in stored(url).values())
    assert cli(config, "prune", "--days", "30")[0] == 0
    assert cli(config, "prune", "--days", "30")[0] == 0
    assert all(r["pruned"] for r in stored(url).values())


def test_prune_events_also_blanks_event_reports_but_keeps_the_event(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with LoopbackServer() as server:
        server.route("/wire", Reply(200, rss("wire", KZ, FOOTBALL)))
        config = write_config(
            tmp_path, url, {"wire": server.url("/wire")}, "retention:\n  prune_events: true\n"
        )
        assert poll(config)[0] == 0
    age_everything(url, 100)
    assert cli(config, "prune")[0] == 0  # retention.items_days defaults to 90
    rows = stored(url)
    assert rows[link(KZ)]["pruned"] is True and rows[link(FOOTBALL)]["pruned"] is True
    assert [e["headline"] for e in history(config)] == [KZ.title]
    assert history(config, "--search", "Kazakhstan") == []  # its reports' text is gone from the index too


def test_retention_disabled_prunes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with LoopbackServer() as server:
        server.route("/wire", Reply(200, rss("wire", FOOTBALL)))
        config = write_config(tmp_path, url, {"wire": server.url("/wire")}, "retention:\n  items_days: 0\n")
        assert poll(config)[0] == 0
    age_everything(url, 1000)
    assert cli(config, "prune")[0] == 0
    assert stored(url)[link(FOOTBALL)]["pruned"] is False


def test_prune_gives_the_space_back_to_the_file_system(tmp_path: Path) -> None:
    """A SQLite file shrinks after a prune (incremental vacuum), instead of keeping its size for ever."""
    from monitor.db import open_database
    from monitor.domain import Decision, FeedItem

    db = tmp_path / "monitor.db"
    url = f"sqlite:///{db}"
    config = write_config(tmp_path, url, {"wire": "http://127.0.0.1:9/rss"})
    engine = open_database(url)
    feed_id = store.sync_feeds(engine, [("wire", "http://127.0.0.1:9/rss")], datetime.now(UTC))["wire"].id
    quiet = Decision(False, None, None, None, None, 0.0, None, "not_relevant")
    old = datetime.now(UTC) - timedelta(days=40)
    for poll_no in range(20):
        batch = [
            (
                FeedItem(f"guid:{poll_no}-{n}", f"Story {n}", f"words {n} " * 150, None, old, True),
                quiet,
                False,
            )
            for n in range(50)
        ]
        store.save_items(engine, feed_id, batch, {}, old, lambda *_: None)
    engine.dispose()
    before = db.stat().st_size

    code, out, err = cli(config, "prune", "--days", "30")
    assert code == 0, err
    assert "1000 items pruned" in out and "MB returned to the file system" in out
    assert db.stat().st_size < before / 2
    code, out, _ = cli(config, "prune", "--days", "30")  # nothing left to prune: nothing to return
    assert code == 0 and out.startswith("0 items pruned") and "returned" not in out


def test_the_daemons_prune_never_holds_up_the_polls_and_ends_with_the_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large first prune runs for minutes: on its own database thread, the polls' thread stays free, and
    a stopping daemon ends it between batches."""
    pruning, ended, batch = threading.Event(), threading.Event(), threading.Event()

    def long_prune(engine: sa.Engine, retention: Retention, holder: str, stop: Callable[[], bool]) -> int:
        pruning.set()
        while not stop():
            batch.wait(0.01)  # one more batch; never set
        ended.set()
        return 0

    monkeypatch.setattr(chores, "prune", long_prune)
    config = load_config(
        write_config(tmp_path, f"sqlite:///{tmp_path / 'm.db'}", {"wire": "http://127.0.0.1:9/"})
    )

    async def scenario() -> str:
        async with resources.open_resources(config) as rt:
            daemon = Daemon(rt, lambda: config, 1.0, rt.replica)
            chore = asyncio.create_task(daemon._chores())
            assert await asyncio.to_thread(pruning.wait, 5)
            answer = await asyncio.wait_for(rt.db(lambda: "the poll thread answers"), 2)
            daemon.stop.set()
            await asyncio.wait_for(chore, 5)
            daemon.chore_db.close()
            return answer

    assert asyncio.run(scenario()) == "the poll thread answers"
    assert ended.is_set()
