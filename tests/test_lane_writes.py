"""A lane's write transactions, against real loopback receivers on SQLite and PostgreSQL: about one per alert
in a burst (each lease commits with the record of the request before it, and the target's claim is renewed
only once a third of its margin has gone), while a sender that lost its claim still records what it sent
and sends nothing more, a busy lane keeps its claim, and a pause another sender stored still holds."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from httpserver import LoopbackServer, RecordedRequest, Reply
from test_deliver import deliveries, feed
from test_delivery_faults import config_file

from monitor import models, resources
from monitor.config import Config, load_config
from monitor.target_claims import claim_target, pause_target

STATES = ("Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Belarus", "Mongolia", "Armenia")
ACTORS = ["KZ", "KG", "TJ", "TM", "BY", "MN", "AM"]
BURST = [(f"{state} formally recognises the Taliban government", "") for state in STATES]


def burst_config(tmp_path: Path, db_url: str, srv: LoopbackServer, **delivery: str) -> Config:
    """Seven alerts, sent one by one (no digest), to the generic receiver at /hook."""
    srv.route("/feed", Reply(200, feed(*BURST)))
    path = config_file(tmp_path, srv.url("/feed"), {"siem": ("generic", srv.url("/hook"))}, **delivery)
    path.write_text(path.read_text().replace(f"sqlite:///{tmp_path / 'monitor.db'}", db_url))
    text = path.read_text().replace("delivery:\n", "delivery:\n  digest_after: 50\n")
    path.write_text(text)
    return load_config(path)


def actors(srv: LoopbackServer) -> list[str]:
    return [json.loads(r.body)["event"]["actor"] for r in srv.requests if r.method == "POST"]


async def stored(config: Config) -> None:
    """Poll once with no sender running: the burst waits in the outbox."""
    async with resources.open_resources(config) as rt:
        await resources.poll_all(rt, config.enabled_feeds)


def count_sender_commits(engine: sa.Engine) -> list[int]:
    """A counter (one-element list) of the transactions the sender's database thread commits."""
    counter = [0]

    def note(conn: object) -> None:
        if threading.current_thread().name.startswith("monitor-sender"):
            counter[0] += 1

    sa.event.listen(engine, "commit", note)
    return counter


def test_a_burst_commits_about_one_write_transaction_per_alert(tmp_path: Path, db_url: str) -> None:
    with LoopbackServer() as srv:
        srv.route("/hook", Reply(204))
        config = burst_config(tmp_path, db_url, srv)

        async def scenario() -> int:
            await stored(config)
            async with resources.open_resources(config) as rt:
                commits = count_sender_commits(rt.engine)
                await rt.sender.drain()
                return commits[0]

        commits = asyncio.run(scenario())
        sent = actors(srv)
    assert sent == ACTORS  # in order, each once
    rows = deliveries(config.path, {})
    assert [r["status"] for r in rows] == ["sent"] * 7 and [r["attempts"] for r in rows] == [1] * 7
    # one per alert (its lease, with the previous one's record), plus the pass's expiry, claim, last record
    # and release: 11 where renewing before each request and recording apart took 3 per alert (24)
    assert commits <= len(ACTORS) + 4


def test_a_sender_whose_claim_was_taken_mid_pass_records_its_delivery_and_sends_no_more(
    tmp_path: Path, db_url: str
) -> None:
    """Replica a stalls past its claim while the second alert is in flight and b takes the target over: the
    alert a had leased is still accepted and recorded as sent (b does not send it again), a starts no
    other request, and b sends the rest in order."""
    with LoopbackServer() as srv:
        config = burst_config(tmp_path, db_url, srv)
        engine = sa.create_engine(config.database)

        def take_over(request: RecordedRequest) -> Reply:
            if len([r for r in srv.requests if r.method == "POST"]) == 2:
                now = datetime.now(UTC)
                with engine.begin() as conn:  # a's claim lapses (it stalled)...
                    conn.execute(sa.update(models.WEBHOOKS).values(lease_until=now - timedelta(seconds=1)))
                claim_target(engine, "siem", "replica-b", now, 60)  # ...and b claims it
            return Reply(204)

        srv.route_with("/hook", take_over)

        async def scenario() -> tuple[int, int]:
            await stored(config)
            async with resources.open_resources(config, replica="replica-a") as a:
                await a.sender.drain()
            async with resources.open_resources(config, replica="replica-b") as b:
                await b.sender.drain()
            return a.sender.counts.sent, b.sender.counts.sent

        by_a, by_b = asyncio.run(scenario())
        sent = actors(srv)
        engine.dispose()
    assert sent == ACTORS  # each alert once, in order, across the takeover
    assert (by_a, by_b) == (2, 5)
    assert [r["status"] for r in deliveries(config.path, {})] == ["sent"] * 7


def test_a_lane_busier_than_its_lease_keeps_its_claim(tmp_path: Path, db_url: str) -> None:
    """Seven requests of 0.45 s outlast the claim's lease (1 s timeout + 1.5 s margin): renewed as the pass
    goes, the claim never lapses, so the replica trying meanwhile never gets the target."""
    with LoopbackServer() as srv:
        srv.route("/hook", Reply(204, delay=0.45))
        config = burst_config(tmp_path, db_url, srv)

        async def scenario() -> tuple[int, int, float]:
            await stored(config)
            async with (
                resources.open_resources(config, replica="replica-a") as a,
                resources.open_resources(config, replica="replica-b") as b,
            ):
                a.sender.lease_margin = b.sender.lease_margin = 1.5
                started = time.monotonic()
                first = asyncio.create_task(a.sender.drain())
                while not actors(srv):  # a holds the target
                    await asyncio.sleep(0.02)
                while not first.done():
                    await b.sender.serve("siem")
                    await asyncio.sleep(0.1)
                await first
                return a.sender.counts.sent, b.sender.counts.sent, time.monotonic() - started

        by_a, by_b, took = asyncio.run(scenario())
        sent = actors(srv)
    assert took > 2.5  # longer than one lease
    assert sent == ACTORS and (by_a, by_b) == (7, 0)


def test_a_pause_stored_by_another_sender_holds_from_the_next_lease(tmp_path: Path, db_url: str) -> None:
    """While the second request is in flight, another sender stores a 2 s pause on the target (its
    Retry-After): it is read with the next lease, as a claim renewal read it before, and the request after
    that waits it out."""
    arrivals: list[float] = []
    with LoopbackServer() as srv:
        config = burst_config(tmp_path, db_url, srv)
        engine = sa.create_engine(config.database)

        def pause_on_second(request: RecordedRequest) -> Reply:
            arrivals.append(time.monotonic())
            if len(arrivals) == 2:
                pause_target(engine, "siem", datetime.now(UTC) + timedelta(seconds=2))
            return Reply(204)

        srv.route_with("/hook", pause_on_second)

        async def scenario() -> None:
            await stored(config)
            async with resources.open_resources(config) as rt:
                await rt.sender.drain()

        asyncio.run(scenario())
        sent = actors(srv)
        engine.dispose()
    gaps = _gaps(arrivals)
    assert sent == ACTORS
    assert gaps[2] > 1.5  # between the third and the fourth request: the stored pause
    assert max(gaps[:2] + gaps[3:]) < 1.0


def _gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]
