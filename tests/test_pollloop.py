"""The poll loop holds a batch of claims ahead of its free slots: what happens to a claim still waiting.

Real loopback feeds and a real SQLite file; `max_concurrency: 1`, so one claim
runs and one waits. A claim's clock is moved back instead of sleeping.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from httpserver import LoopbackServer, Reply

from monitor import claims, models
from monitor.config import load_config
from monitor.pollloop import PollLoop
from monitor.resources import open_resources

RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    b"<item><guid>1</guid><title>Weather in Kabul</title></item></channel></rss>"
)
NAMES = ("a", "b", "c")


def all_due(engine: sa.Engine) -> None:
    """New feeds' first polls are spread over a minute; here all three are due now."""
    with engine.begin() as conn:
        conn.execute(sa.update(models.FEEDS).values(next_poll_at=datetime.now(UTC) - timedelta(seconds=1)))


def three_feeds(tmp_path: Path, server: LoopbackServer) -> Path:
    for name in NAMES:
        server.route(f"/{name}", Reply(200, RSS, {"Content-Type": "application/rss+xml"}, delay=0.2))
    feeds = "".join(f"  - name: {name}\n    url: {server.url(f'/{name}')}\n" for name in NAMES)
    path = tmp_path / "feeds.yaml"
    path.write_text(
        f"database: sqlite:///{tmp_path / 'monitor.db'}\n"
        "defaults:\n  jitter: 0s\n  timeout: 5s\n  max_concurrency: 1\n"
        f"feeds:\n{feeds}",
        encoding="utf-8",
    )
    return path


async def stop_with_one_waiting(config_path: Path) -> tuple[str, set[str]]:
    """Fill (one poll runs, one claim waits), stop; then what another replica can claim at once."""
    config = load_config(config_path)
    async with open_resources(config, "r1") as rt:
        loop = PollLoop(rt.ctx, rt.replica, lambda: {f.name: f for f in config.feeds})
        await rt.db(all_due, rt.engine)
        await loop.fill()
        assert (len(loop.inflight), len(loop.ready)) == (1, 1)
        waiting = loop.ready[0].state.name
        await loop.stop(timeout=5)
        other = await rt.db(claims.claim_due, rt.engine, "r2", 10, 60)
    return waiting, {c.state.name for c in other}


def test_stopping_gives_back_the_claims_not_yet_started(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        waiting, claimable = asyncio.run(stop_with_one_waiting(three_feeds(tmp_path, server)))
        never_claimed = set(NAMES) - {waiting} - {r.path[1:] for r in server.requests}
        assert len(server.requests) == 1  # only the running poll fetched
        assert claimable == {waiting} | never_claimed  # due now for another replica, not after the lease


async def wait_past_the_lease(config_path: Path) -> tuple[str, dict[str, int]]:
    config = load_config(config_path)
    async with open_resources(config, "r1") as rt:
        loop = PollLoop(rt.ctx, rt.replica, lambda: {f.name: f for f in config.feeds})
        await rt.db(all_due, rt.engine)
        await loop.fill()
        late = loop.ready[0]
        # As if it had waited 116 s of its 120 s lease: a 5 s poll started now could end after the lease.
        loop.ready[0] = dataclasses.replace(late, monotonic=late.monotonic - 116)
        await loop.until_idle()
    return late.state.name, dict(loop.counts)


def test_a_claim_that_waited_too_long_for_a_slot_is_not_polled(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        late, counts = asyncio.run(wait_past_the_lease(three_feeds(tmp_path, server)))
        fetched = [r.path[1:] for r in server.requests]
        assert late not in fetched and sorted(fetched) == sorted(set(NAMES) - {late})
        assert counts == {"new": 2, "expired": 1}


async def stop_while_claiming(config_path: Path) -> set[str]:
    """Stop the loop while its claim waits for the database thread; then what another replica can claim."""
    config = load_config(config_path)
    async with open_resources(config, "r1") as rt:
        loop = PollLoop(rt.ctx, rt.replica, lambda: {f.name: f for f in config.feeds})
        await rt.db(all_due, rt.engine)
        busy = threading.Event()
        held = asyncio.ensure_future(rt.db(busy.wait, 5))  # the database thread is busy a moment
        claiming = asyncio.ensure_future(loop.fill())  # its claim queues behind that
        await asyncio.sleep(0.05)
        stopping = asyncio.ensure_future(loop.stop(timeout=5))
        await asyncio.sleep(0.05)
        busy.set()
        await asyncio.gather(held, claiming, stopping)
        other = await rt.db(claims.claim_due, rt.engine, "r2", 10, 60)
    return {c.state.name for c in other}


def test_stopping_while_a_claim_is_in_flight_gives_back_what_it_claimed(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        claimable = asyncio.run(stop_while_claiming(three_feeds(tmp_path, server)))
        assert server.requests == []  # a stopped loop starts no poll with what it claimed
        assert claimable == set(NAMES)  # due now for another replica, not after the lease
