"""A poll that outlasts its lease (slow parsing or storing after the fetch) is not started a second time by
the same process: the loop never claims a feed it is still polling, so its first poll keeps its results."""

from __future__ import annotations

import asyncio
from pathlib import Path

from httpserver import LoopbackServer, Reply

from monitor.config import load_config
from monitor.pollloop import PollLoop
from monitor.resources import open_resources

RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    b"<item><guid>1</guid><title>Weather in Kabul</title></item></channel></rss>"
)


async def poll_twice_within_one_poll(config_path: Path) -> tuple[int, list[str]]:
    """Fill the loop, let the lease run out (a lease of 0 s), fill again while the first poll runs."""
    loaded = load_config(config_path)
    config = loaded.model_copy(update={"replicas": loaded.replicas.model_copy(update={"lease": 0.0})})
    async with open_resources(config, "r1") as rt:
        loop = PollLoop(rt.ctx, rt.replica, lambda: {f.name: f for f in config.feeds})
        await loop.fill()
        started = len(loop.inflight)
        await loop.fill()
        outcomes = await asyncio.gather(*loop.inflight)
    return started, [o.outcome for o in outcomes]


def test_a_feed_still_being_polled_is_not_claimed_again_by_its_own_loop(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.route("/slow", Reply(200, RSS, {"Content-Type": "application/rss+xml"}, delay=0.5))
        path = tmp_path / "feeds.yaml"
        path.write_text(
            f"database: sqlite:///{tmp_path / 'monitor.db'}\n"
            "defaults:\n  jitter: 0s\n  timeout: 5s\n"
            f"feeds:\n  - name: slow\n    url: {server.url('/slow')}\n",
            encoding="utf-8",
        )
        started, outcomes = asyncio.run(poll_twice_within_one_poll(path))
        assert started == 1
        assert outcomes == ["new"]  # one poll, and its results were kept
        assert len(server.requests) == 1
