"""Parsing a big feed document does not hold the database thread: claims, heartbeats and other feeds'
stores wait on that thread, so a parse there would stall them all (a loopback feed, a real SQLite file)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from httpserver import LoopbackServer, Reply

from monitor import resources
from monitor.config import load_config

ITEMS = 3000  # about a second of parsing on this project's machines


def big_feed(title: str) -> bytes:
    entries = "".join(
        f"<item><guid>g{i}</guid><title>Market report {i}: wheat prices in Kabul</title>"
        f"<link>https://example.org/story/{i}</link>"
        f"<description>&lt;p&gt;Traders said prices rose on day {i}.&lt;/p&gt;</description></item>"
        for i in range(ITEMS)
    )
    channel = f"<channel><title>{title}</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


async def slowest_database_call_during_a_poll(config_path: Path) -> tuple[float, float]:
    """Poll the feed once (its items stored), then again with a changed body (parsed in full, nothing new to
    store); during the second poll, time a trivial call on the database thread every 10 ms. Returns the
    slowest such call and how long the second poll took."""
    config = load_config(config_path)
    async with resources.open_resources(config) as rt:
        await resources.poll_all(rt, config.enabled_feeds)
        started = time.perf_counter()
        poll = asyncio.ensure_future(resources.poll_all(rt, config.enabled_feeds))
        slowest = 0.0
        while not poll.done():
            asked = time.perf_counter()
            await rt.db(lambda: None)
            slowest = max(slowest, time.perf_counter() - asked)
            await asyncio.sleep(0.01)
        outcomes = await poll
        assert [o.outcome for o in outcomes] == ["new"], outcomes  # parsed again, nothing new in it
        assert outcomes[0].new_items == 0
        return slowest, time.perf_counter() - started


def test_parsing_a_big_document_leaves_the_database_thread_free(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.route(
            "/big",
            Reply(200, big_feed("Prices"), {"Content-Type": "application/rss+xml"}),
            Reply(200, big_feed("Prices, updated"), {"Content-Type": "application/rss+xml"}),
        )
        config = tmp_path / "feeds.yaml"
        config.write_text(
            f"database: sqlite:///{tmp_path / 'monitor.db'}\n"
            f"feeds:\n  - name: big\n    url: {server.url('/big')}\n",
            encoding="utf-8",
        )
        slowest, poll_seconds = asyncio.run(slowest_database_call_during_a_poll(config))
    assert poll_seconds > 0.5, "the document parsed too fast for this test to tell anything"
    assert slowest < min(0.25, poll_seconds / 3), (slowest, poll_seconds)
