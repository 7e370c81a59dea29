"""Delivery under faults, against real loopback servers: a hostile or dead webhook delays only itself, a
request has one deadline, answers are read capped, waits are bounded, secrets echoed back are masked."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sqlite3
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from httpserver import LoopbackServer, RecordedRequest, Reply
from rawserver import RawReceiver, TcpProxy, drip, endless_body
from support import BASELINE
from test_deliver import KZ, SECRET, TJ, deliveries, feed, run_cli

from monitor import health, history, resources
from monitor.config import Config, load_config
from monitor.daemon import Daemon


def config_file(tmp: Path, feed_url: str, hooks: dict[str, tuple[str, str]], **delivery: str) -> Path:
    """hooks: name -> (kind, url); `delivery` overrides settings under `delivery:`."""
    settings = {"timeout": "1s", "backoff": "[0s, 10s]", "max_age": "1h", **delivery}
    lines = [
        f"database: sqlite:///{tmp / 'monitor.db'}",
        f"baseline: {BASELINE}",
        "defaults:\n  timeout: 5s\n  jitter: 0s",
        f"feeds:\n  - name: wire\n    url: {feed_url}",
        "webhooks:",
    ]
    for name, (kind, url) in hooks.items():
        lines.append(f"  - name: {name}\n    kind: {kind}\n    url: {url}")
        if kind == "generic":
            lines.append(f"    secret: {SECRET}")
    lines.append("delivery:\n" + "".join(f"  {key}: {value}\n" for key, value in settings.items()))
    path = tmp / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@asynccontextmanager
async def daemon_sender(config: Config) -> AsyncIterator[resources.Resources]:
    """The resources with its sender running as in `monitor run` (one supervised lane per target)."""
    async with resources.open_resources(config) as rt:
        stop = asyncio.Event()
        task = asyncio.create_task(rt.sender.run(stop))
        try:
            yield rt
        finally:
            stop.set()
            await asyncio.wait({task}, timeout=3)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def until(check: Callable[[], bool], timeout: float) -> float:
    """Seconds it took for `check()` to hold; fails after `timeout`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout}s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


def posts(srv: LoopbackServer, path: str = "/good") -> list[str]:
    """The actors of the alerts a generic receiver got, in order."""
    return [json.loads(r.body)["event"]["actor"] for r in hits(srv, path)]


def hits(srv: LoopbackServer, path: str) -> list[RecordedRequest]:
    """The POSTs to `path` (whatever their query)."""
    return [r for r in srv.requests if r.method == "POST" and r.path.partition("?")[0] == path]


async def second_alert_reaches_good(rt: resources.Resources, srv: LoopbackServer) -> float:
    """After the first alert: publish a second and return how long the healthy target took to get it."""
    await until(lambda: posts(srv) == ["KZ"], 5)
    srv.route("/feed", Reply(200, feed(KZ, TJ)))
    await resources.poll_all(rt, rt.config.enabled_feeds)
    return await until(lambda: posts(srv) == ["KZ", "TJ"], 5)


def test_a_dripping_receiver_is_cut_at_the_deadline_and_delays_no_one(tmp_path: Path) -> None:
    with LoopbackServer() as srv, RawReceiver(drip(b"HTTP/1.1 200 OK\r\n", every=0.2)) as bad:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route("/good", Reply(204))
        config = load_config(
            config_file(
                tmp_path,
                srv.url("/feed"),
                {"good": ("generic", srv.url("/good")), "bad": ("generic", bad.url)},
            )
        )

        async def scenario() -> float:
            async with daemon_sender(config) as rt:
                await resources.poll_all(rt, config.enabled_feeds)
                return await second_alert_reaches_good(rt, srv)

        took = asyncio.run(scenario())
        first = bad.connections[0]
    assert took < 2.0
    assert (
        first.closed is not None and first.closed - first.opened < 2.0
    )  # the 1 s deadline, not 17 bytes * 0.2 s
    rows = {r["webhook"]: r for r in deliveries(config.path, {}) if r["event_id"] == 1}
    assert rows["good"]["status"] == "sent"
    assert rows["bad"]["status"] == "pending" and "no answer within 1s" in str(rows["bad"]["last_error"])


def test_an_exhausted_rate_limit_pauses_its_target_no_longer_than_the_maximum(tmp_path: Path) -> None:
    empty = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "600"}
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route("/good", Reply(204))
        srv.route("/bad", Reply(204, headers=empty))
        hooks = {"good": ("generic", srv.url("/good")), "bad": ("discord", srv.url("/bad"))}
        config = load_config(config_file(tmp_path, srv.url("/feed"), hooks, retry_after_max="2s"))

        async def scenario() -> tuple[float, float]:
            async with daemon_sender(config) as rt:
                await resources.poll_all(rt, config.enabled_feeds)
                took = await second_alert_reaches_good(rt, srv)
                bad_took = await until(lambda: len(hits(srv, "/bad")) == 2, 5)
                return took, took + bad_took

        good, bad = asyncio.run(scenario())
    assert good < 1.0  # the healthy target is not held by the other's empty bucket
    assert 1.0 < bad < 3.5  # the 600 s reset is honoured for retry_after_max (2 s) only


def test_a_huge_retry_after_is_bounded(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route("/good", Reply(204))
        srv.route("/bad", Reply(429, headers={"Retry-After": "1000000000000"}), Reply(204))
        hooks = {"good": ("generic", srv.url("/good")), "bad": ("generic", srv.url("/bad"))}
        config = load_config(
            config_file(tmp_path, srv.url("/feed"), hooks, retry_after_max="1s", backoff="[0s, 100ms]")
        )

        async def scenario() -> float:
            async with daemon_sender(config) as rt:
                await resources.poll_all(rt, config.enabled_feeds)
                return await until(lambda: len(hits(srv, "/bad")) == 2, 5)

        took = asyncio.run(scenario())
    assert 0.7 < took < 3.0
    assert {r["status"] for r in deliveries(config.path, {})} == {"sent"}


def test_a_retry_after_past_max_age_kills_the_row_loudly_and_holds_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route("/good", Reply(204))
        srv.route("/bad", Reply(429, headers={"Retry-After": "999999"}), Reply(204))
        hooks = {"good": ("generic", srv.url("/good")), "bad": ("generic", srv.url("/bad"))}
        config = load_config(
            config_file(tmp_path, srv.url("/feed"), hooks, retry_after_max="1d", max_age="1m")
        )

        async def scenario() -> tuple[float, bytes]:
            async with daemon_sender(config) as rt:
                await resources.poll_all(rt, config.enabled_feeds)
                await until(lambda: len(hits(srv, "/bad")) == 1, 5)
                srv.route("/feed", Reply(200, feed(KZ, TJ)))
                await resources.poll_all(rt, config.enabled_feeds)
                took = await until(lambda: len(hits(srv, "/bad")) == 2, 5)
                return took, rt.metrics.render()

        took, metrics = asyncio.run(scenario())
    assert took < 1.5  # the dead row's Retry-After does not pause the target's next alert
    rows = {(r["webhook"], r["event_id"]): r["status"] for r in deliveries(config.path, {})}
    assert rows[("bad", 1)] == "dead" and rows[("bad", 2)] == "sent"
    lost = [r for r in caplog.records if r.getMessage() == "alert lost: delivery is dead"]
    assert [(r.webhook, r.event) for r in lost] == [("bad", 1)]  # type: ignore[attr-defined]
    assert b'monitor_deliveries_lost_total{reason="retries_exhausted",webhook="bad"} 1.0' in metrics


def test_a_corrupt_200_is_a_delivery_sent_once(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route("/hook", Reply(200, b"\x1f\x8b\x08\x00garbage", {"Content-Encoding": "gzip"}))
        config = config_file(tmp_path, srv.url("/feed"), {"chat": ("slack", srv.url("/hook"))})
        code, out, err = run_cli(config, {}, "poll", "--once", "--drain-timeout", "3")
        run_cli(config, {}, "poll", "--once", "--drain-timeout", "1")
        hits = [r for r in srv.requests if r.path == "/hook"]
    assert code == 0, err
    assert len(hits) == 1 and "1 sent" in out
    assert [r["status"] for r in deliveries(config, {})] == ["sent"]


def test_a_gigabyte_answer_is_streamed_not_held(tmp_path: Path) -> None:
    gib = 1 << 30
    with LoopbackServer() as srv, RawReceiver(endless_body(500, gib)) as bad:
        srv.route("/feed", Reply(200, feed(KZ)))
        config = load_config(config_file(tmp_path, srv.url("/feed"), {"bad": ("generic", bad.url)}))

        async def scenario() -> None:
            async with resources.open_resources(config) as rt:
                await resources.poll_all(rt, config.enabled_feeds)
                tracemalloc.start()
                try:
                    await rt.sender.drain()
                    peak = tracemalloc.get_traced_memory()[1]
                finally:
                    tracemalloc.stop()
                assert peak < 8 * 1024 * 1024

        started = time.monotonic()
        asyncio.run(scenario())
        took = time.monotonic() - started
        sent = bad.connections[0].sent
    assert sent < 64 * 1024 * 1024  # the client stopped reading; the kernel's buffers hold the rest
    assert took < 5
    (row,) = deliveries(config.path, {})
    assert row["status"] == "pending" and row["last_status_code"] == 500


SLACK_TOKEN = "XXXXsecretTOKENxxxx"


def test_a_secret_echoed_by_a_receiver_appears_nowhere(tmp_path: Path) -> None:
    path = f"/services/T0AAA1111/B0BBB2222/{SLACK_TOKEN}"
    pieces = ["T0AAA1111", "B0BBB2222", SLACK_TOKEN]
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route_with(path, lambda request: Reply(404, f"Cannot POST {request.path}".encode()))
        config = config_file(tmp_path, srv.url("/feed"), {"chat": ("slack", srv.url(path))})
        outputs = [
            run_cli(config, {}, "--log-format", "json", "poll", "--once", "--drain-timeout", "3"),
            run_cli(config, {}, "deliveries"),
            run_cli(config, {}, "deliveries", "--json"),
            run_cli(config, {}, "webhooks", "test", "chat"),
            run_cli(config, {}, "--log-format", "text", "deliveries", "retry", "1"),
            run_cli(config, {}, "--log-format", "text", "poll", "--once", "--drain-timeout", "3"),
        ]
        echoed = [r for r in srv.requests if r.method == "POST"]
    assert len(echoed) == 3 and all(r.path == path for r in echoed)  # the receiver did echo it
    text = "\n".join(out + err for _, out, err in outputs)
    assert "Cannot POST" in text and "BROKEN" in text  # the words are kept...
    assert not [piece for piece in pieces if piece in text]  # ...the secret is not
    database = b"".join(p.read_bytes() for p in tmp_path.glob("monitor.db*"))
    assert not [piece for piece in pieces if piece.encode() in database]


STORM = [
    (f"{state} formally recognises the Taliban government", "")
    for state in ("Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Belarus", "Mongolia", "Armenia")
]


def storm_config(tmp_path: Path, srv: LoopbackServer) -> Path:
    """Seven alerts at once (a digest) to a generic receiver whose first answer comes after the timeout."""
    srv.route("/feed", Reply(200, feed(*STORM)))
    srv.route("/hook", Reply(204, delay=3), Reply(204))
    return config_file(tmp_path, srv.url("/feed"), {"siem": ("generic", srv.url("/hook"))})


def test_a_digest_resent_after_a_failure_carries_its_first_id_and_members(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        config = storm_config(tmp_path, srv)
        run_cli(config, {}, "poll", "--once", "--drain-timeout", "0")
        run_cli(config, {}, "poll", "--once", "--drain-timeout", "2")  # the digest times out
        newcomer = ("Uzbekistan formally recognises the Taliban government", "")
        srv.route("/feed", Reply(200, feed(*STORM, newcomer)))  # rebuilding would change the digest
        run_cli(config, {}, "poll", "--once", "--drain-timeout", "0")
        with closing(sqlite3.connect(tmp_path / "monitor.db")) as db, db:
            db.execute(
                "UPDATE deliveries SET next_attempt_at = '2000-01-01 00:00:00' WHERE status = 'pending'"
            )
        run_cli(config, {}, "poll", "--once", "--drain-timeout", "3")
        sent = [r for r in srv.requests if r.method == "POST"]
    first, again = sent[0], sent[1]
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    members = [[e["id"] for e in json.loads(r.body)["events"]] for r in (first, again)]
    assert members[0] == members[1] and len(members[0]) == 7
    assert len(sent) == 3 and json.loads(sent[2].body)["type"] != "event.digest"  # the newcomer alone
    assert {r["status"] for r in deliveries(config, {})} == {"sent"}


def test_retrying_one_member_of_a_pending_digest_resends_the_whole_digest(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        config = storm_config(tmp_path, srv)
        run_cli(config, {}, "poll", "--once", "--drain-timeout", "2")  # the digest times out: 10 s to wait
        last = max(int(str(row["id"])) for row in deliveries(config, {}))
        code, out, _ = run_cli(config, {}, "deliveries", "retry", str(last))
        run_cli(config, {}, "poll", "--once", "--drain-timeout", "3")
        sent = [r for r in srv.requests if r.method == "POST"]
    assert code == 0 and out.strip() == (
        "7 deliveries requeued (with the 6 other alerts of its digest, which goes out whole)"
    )
    first, again = sent
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    members = [[e["id"] for e in json.loads(r.body)["events"]] for r in (first, again)]
    assert members[0] == members[1] and len(members[0]) == 7  # not the retried member alone
    assert {r["status"] for r in deliveries(config, {})} == {"sent"}


def test_poll_once_counts_what_was_sent_when_the_drain_timeout_cuts_a_pass(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route("/fast", Reply(204))
        srv.route("/slow", Reply(204, delay=10))
        hooks = {"fast": ("generic", srv.url("/fast")), "slow": ("generic", srv.url("/slow"))}
        config = (
            config_file(tmp_path, srv.url("/feed"), hooks).read_text().replace("timeout: 1s", "timeout: 30s")
        )
        (tmp_path / "feeds.yaml").write_text(config)
        code, out, err = run_cli(tmp_path / "feeds.yaml", {}, "poll", "--once", "--drain-timeout", "1.5")
    assert code == 0, err
    assert "deliveries: 1 sent" in out


def test_retry_touches_only_what_it_names_and_a_fixed_target_resumes_its_kept_deliveries(
    tmp_path: Path,
) -> None:
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ, TJ)))
        srv.route("/a", Reply(410))
        srv.route("/b", Reply(410))
        srv.route("/b2", Reply(204))
        hooks = {"a": ("generic", srv.url("/a")), "b": ("generic", srv.url("/b"))}
        config = config_file(tmp_path, srv.url("/feed"), hooks)
        run_cli(config, {}, "poll", "--once", "--drain-timeout", "2")  # both targets broken, rows kept
        two_hours_ago = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
        broke = (datetime.now(UTC) - timedelta(minutes=110)).strftime("%Y-%m-%d %H:%M:%S")
        with closing(sqlite3.connect(tmp_path / "monitor.db")) as db, db:  # kept for longer than max_age
            db.execute("UPDATE deliveries SET created_at = ?", (two_hours_ago,))
            db.execute("UPDATE webhooks SET broken_at = ?", (broke,))
        first_a = next(r["id"] for r in deliveries(config, {}) if r["webhook"] == "a")
        assert run_cli(config, {}, "deliveries", "retry", str(first_a))[0] == 0  # a: fixed by a retry
        srv.route("/a", Reply(204))
        config.write_text(config.read_text().replace(srv.url("/b"), srv.url("/b2")))  # b: fixed by a new URL
        code, out, _ = run_cli(config, {}, "poll", "--once", "--drain-timeout", "3")
    assert code == 0 and "4 sent" in out and "0 dead" in out
    assert {r["status"] for r in deliveries(config, {})} == {"sent"}


OUTAGE = 3.0  # seconds: longer than the idle wake-up below (1 s) and than 3 failed rounds


@pytest.mark.postgres
def test_a_database_outage_is_survived_by_the_poll_loop_and_the_sender_and_named_by_health(
    pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The database goes away for longer than the sender's idle wake-up and several claim ticks and
    heartbeats: health names the poll loop and the webhook lane, each failure streak (claims, a webhook's
    lane, heartbeats, baseline refreshes, chores) logs one line and no traceback, and all of them resume by
    themselves when it comes back (the item published meanwhile is alerted)."""
    caplog.set_level(logging.INFO, "monitor.supervise")
    with LoopbackServer() as srv, TcpProxy(5432) as proxy:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route("/good", Reply(204))
        path = config_file(tmp_path, srv.url("/feed"), {"good": ("generic", srv.url("/good"))})
        text = path.read_text().replace(
            f"sqlite:///{tmp_path / 'monitor.db'}", pg_url.replace(":5432/", f":{proxy.port}/")
        )
        path.write_text(
            text.replace("  jitter: 0s", "  jitter: 0s\n  interval: 1s")
            + "replicas:\n  tick: 200ms\n  heartbeat: 500ms\n"
        )
        config = load_config(path)

        async def scenario() -> tuple[float, dict[str, object], dict[str, object]]:
            async with resources.open_resources(config) as rt:
                rt.sender.idle = 1.0  # the lane's idle wake-up; the outage outlasts it
                rt.sender.loops.max_backoff = 0.5
                daemon = Daemon(rt, lambda: config, 1.0, rt.replica)
                running = asyncio.create_task(daemon.run())
                await until(lambda: posts(srv) == ["KZ"], 10)
                sent = functools.partial(history.deliveries, rt.engine, "sent")
                while not await asyncio.to_thread(sent):  # recorded, so the outage strands nothing
                    await asyncio.sleep(0.02)
                proxy.cut()
                srv.route("/feed", Reply(200, feed(KZ, TJ)))  # published while the database is away
                await asyncio.sleep(OUTAGE)
                for _ in range(2):  # the hourly chores, twice in the outage (not waiting an hour)
                    await daemon._chores()
                _, during = await health.check(daemon)
                proxy.restore()
                back = time.monotonic()
                await until(lambda: posts(srv) == ["KZ", "TJ"], 15)
                took = time.monotonic() - back
                await until(lambda: not rt.sender.loops.problems(), 5)
                await daemon._chores()
                await until(lambda: all(s.failing_since is None for s in daemon.streaks.values()), 10)
                _, after = await health.check(daemon)
                daemon.stop.set()
                await running
            return took, during, after

        took, during, after = asyncio.run(scenario())
    assert during["status"] == "unhealthy" and "loop webhook good failing" in str(during["scheduler"])
    assert "poll loop failing" in str(during["scheduler"])
    assert after["status"] == "ok"
    assert took < 5  # resumed within seconds of the database coming back, without a restart
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    work = ("poll loop", "loop webhook good", "heartbeat", "baseline refresh", "chores")
    # one line for the whole outage from each piece of work that touches the database (the sender's own
    # loop too, when it looked for due deliveries meanwhile), and no other error
    assert {f"{name} failing; retrying" for name in work} <= set(errors)
    assert all(line.endswith(" failing; retrying") for line in errors) and len(set(errors)) == len(errors)
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []  # an outage is not a bug
    assert {f"{name} recovered" for name in work} <= {r.getMessage() for r in caplog.records}
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


def test_a_feed_retry_after_of_ten_to_the_twelve_is_capped_shown_and_noticed(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(429, headers={"Retry-After": "1000000000000"}))
        srv.route("/ops", Reply(204))
        config = config_file(tmp_path, srv.url("/feed"), {"ops": ("generic", srv.url("/ops"))})
        text = config.read_text().replace(
            f"url: {srv.url('/ops')}", f"url: {srv.url('/ops')}\n    filter: {{notices: true}}"
        )
        config.write_text(text + "health:\n  failing_after: 2\n")
        outputs = [run_cli(config, {}, "poll", "--once", "--drain-timeout", "2") for _ in range(3)]
        _, out, _ = run_cli(config, {}, "feeds", "--json")
        notices = [json.loads(r.body)["notice"] for r in hits(srv, "/ops")]
    assert all(code == 0 for code, _, _ in outputs)
    (row,) = json.loads(out)
    assert row["error_count"] == 3 and row["last_status"] == 429 and "rate limited" in row["last_error"]
    next_poll = datetime.fromisoformat(str(row["next_poll_at"]))
    assert next_poll < datetime.now(UTC) + timedelta(
        hours=6, minutes=1
    )  # defaults.backoff_cap, not 31 700 years
    assert [n["status"] for n in notices] == ["failing"]  # once, when it crossed failing_after


def test_old_deliveries_are_judged_once_per_idle_period_however_often_the_sender_wakes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every poll that stores an event wakes the sender. Judging old rows at every wake-up would queue one
    write transaction per poll behind the polls' own stores (a burst of alerts waited on them); they are
    judged once per idle period, and a row past max_age still dies loudly."""
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route("/good", Reply(503))  # kept pending, retried after the 10 s backoff step
        config = load_config(config_file(tmp_path, srv.url("/feed"), {"good": ("generic", srv.url("/good"))}))

        async def scenario() -> list[float]:
            async with resources.open_resources(config) as rt:
                await resources.poll_all(rt, config.enabled_feeds)
                await resources.drain_outbox(rt, 1)  # the first attempt fails: pending, next try in 10 s
                with closing(sqlite3.connect(tmp_path / "monitor.db")) as db, db:  # past max_age, due
                    db.execute(
                        "UPDATE deliveries SET created_at = datetime('now', '-2 hours'), "
                        "next_attempt_at = datetime('now', '-1 minute')"
                    )
                judged: list[float] = []
                sa.event.listen(rt.engine, "before_cursor_execute", _note_expiry_passes(judged))
                rt.sender.idle = 1.0
                stop = asyncio.Event()
                sender = asyncio.create_task(rt.sender.run(stop))
                for _ in range(40):  # forty polls storing events within 0.8 s
                    rt.sender.wake()
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.5)  # past one idle period
                rt.sender.wake()
                await asyncio.sleep(0.2)
                stop.set()
                await asyncio.wait({sender}, timeout=3)
                return judged

        judged = asyncio.run(scenario())
    assert len(judged) == 2 and judged[1] - judged[0] >= 1.0  # at start, then once the idle period passed
    assert [r["status"] for r in deliveries(config.path, {})] == ["dead"]
    lost = [r for r in caplog.records if r.getMessage() == "alert lost: delivery is dead"]
    assert [r.reason for r in lost] == ["expired"]  # type: ignore[attr-defined]


def _note_expiry_passes(times: list[float]) -> Callable[..., None]:
    """A listener noting when outbox.expire's statement (it judges old deliveries) reaches the database."""

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("UPDATE deliveries") and "coalesce(deliveries.age_from" in statement:
            times.append(time.monotonic())

    return note
