"""`monitor run` as a real process: polls on schedule, serves /healthz and /metrics, reloads on SIGHUP,
keeps running when every feed fails, stops on SIGTERM within the bound with exit 0."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from httpserver import LoopbackServer, Reply, unused_port
from support import BASELINE, REAL_FEEDS

REPO = Path(__file__).resolve().parents[1]


def config_text(tmp: Path, feeds: dict[str, str], *defaults: str) -> str:
    lines = [
        f"database: sqlite:///{tmp / 'monitor.db'}",
        f"baseline: {BASELINE}",
        "defaults:",
        "  interval: 2s",
        "  jitter: 0s",
        "  timeout: 2s",
        "  backoff_cap: 4s",
        *(f"  {line}" for line in defaults),
        "feeds:",
    ]
    lines += [f"  - name: {name}\n    url: {url}" for name, url in feeds.items()]
    return "\n".join(lines) + "\n"


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until(check: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


class Daemon:
    def __init__(self, config: Path, port: int) -> None:
        self.port = port
        self.log = config.parent / "daemon.log"
        cmd = [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(config),
            "--log-format",
            "json",
            "run",
            "--health-port",
            str(port),
            "--stop-timeout",
            "3",
        ]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log, env={**os.environ}
            )

    def lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=15)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[object]:
    started: list[Daemon] = []

    def start(feeds: dict[str, str], *defaults: str) -> tuple[Daemon, Path]:
        config = tmp_path / "feeds.yaml"
        config.write_text(config_text(tmp_path, feeds, *defaults))
        daemon = Daemon(config, unused_port())
        started.append(daemon)
        wait_until(
            lambda: get(f"http://127.0.0.1:{daemon.port}/healthz")[0] == 200 if _listening(daemon) else False
        )
        return daemon, config

    yield start
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()


def _listening(daemon: Daemon) -> bool:
    try:
        get(f"http://127.0.0.1:{daemon.port}/healthz")
    except OSError:
        return False
    return True


def test_daemon_polls_reloads_and_stops_cleanly(daemon_factory: object) -> None:
    with LoopbackServer() as srv:
        srv.serve_file("/bbc", REAL_FEEDS / "bbc-rss-3.xml")
        srv.serve_file("/nyt", REAL_FEEDS / "nyt-rss-1.xml")
        daemon, config = daemon_factory({"bbc": srv.url("/bbc")})  # type: ignore[operator]
        wait_until(lambda: any(r.path == "/bbc" for r in srv.requests))
        status, body = get(f"http://127.0.0.1:{daemon.port}/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, metrics = get(f"http://127.0.0.1:{daemon.port}/metrics")
        assert status == 200 and b"monitor_polls_total" in metrics and b"monitor_outbox_depth" in metrics

        config.write_text(config_text(config.parent, {"bbc": srv.url("/bbc"), "nyt": srv.url("/nyt")}))
        daemon.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: any(r.path == "/nyt" for r in srv.requests))

        config.write_text("feeds: [not valid")
        daemon.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: any("reload refused" in str(line.get("msg")) for line in daemon.lines()))
        assert daemon.proc.poll() is None  # the old config keeps running

        started = time.monotonic()
        assert daemon.stop() == 0
        assert time.monotonic() - started < 10
    stopped = [line for line in daemon.lines() if line.get("msg") == "daemon stopped"]
    assert stopped and stopped[0]["counts"]["new"] >= 2


def test_daemon_survives_feeds_that_all_fail(daemon_factory: object) -> None:
    dead = f"http://127.0.0.1:{unused_port()}/rss"
    daemon, _ = daemon_factory({"nowhere": dead, "also-nowhere": dead + "?token=s3cret"})  # type: ignore[operator]
    wait_until(lambda: len([x for x in daemon.lines() if x.get("msg") == "poll failed"]) >= 4)
    assert daemon.proc.poll() is None
    failures = [x for x in daemon.lines() if x.get("msg") == "poll failed" and x.get("feed") == "nowhere"]
    assert [f["error_count"] for f in failures][:2] == [1, 2]  # counted, backed off, still scheduled
    assert "s3cret" not in daemon.log.read_text()
    assert daemon.stop() == 0


def test_a_taken_health_port_is_a_clear_error(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        config = tmp_path / "feeds.yaml"
        config.write_text(config_text(tmp_path, {"a": srv.url("/a")}))
        cmd = [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(config),
            "run",
            "--health-port",
            str(srv.port),
        ]
        result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "health.port" in result.stderr and "Traceback" not in result.stderr
    assert not srv.requests  # nothing was polled


def test_a_restart_keeps_the_stored_next_poll(tmp_path: Path, daemon_factory: object) -> None:
    with LoopbackServer() as srv:
        srv.serve_file("/later", REAL_FEEDS / "bbc-rss-3.xml")
        srv.serve_file("/now", REAL_FEEDS / "nyt-rss-1.xml")
        daemon, _ = daemon_factory({"later": srv.url("/later"), "now": srv.url("/now")})  # type: ignore[operator]
        wait_until(lambda: {r.path for r in srv.requests} >= {"/later", "/now"})
        assert daemon.stop() == 0
        with closing(sqlite3.connect(tmp_path / "monitor.db")) as db, db:
            db.execute("UPDATE feeds SET next_poll_at = '2099-01-01 00:00:00' WHERE name = 'later'")
        before = len([r for r in srv.requests if r.path == "/later"])
        daemon, _ = daemon_factory({"later": srv.url("/later"), "now": srv.url("/now")})  # type: ignore[operator]
        wait_until(lambda: len([r for r in srv.requests if r.path == "/now"]) >= 2)
        time.sleep(0.5)
        assert len([r for r in srv.requests if r.path == "/later"]) == before
        assert daemon.stop() == 0


def monitor_cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "monitor", "--config", str(config), *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)


def test_sqlite_is_one_instance_and_the_replica_is_named_everywhere(daemon_factory: object) -> None:
    with LoopbackServer() as srv:
        srv.serve_file("/bbc", REAL_FEEDS / "bbc-rss-3.xml")
        daemon, config = daemon_factory({"bbc": srv.url("/bbc")})  # type: ignore[operator]
        wait_until(lambda: any(r.path == "/bbc" for r in srv.requests))
        second = monitor_cli(config, "run", "--health-port", str(unused_port()))
        assert second.returncode == 2 and "Traceback" not in second.stderr
        assert "in use by another `monitor run`" in second.stderr and "PostgreSQL" in second.stderr
        feeds = monitor_cli(config, "feeds", "--json")  # read-only commands keep working
        assert feeds.returncode == 0 and json.loads(feeds.stdout)[0]["name"] == "bbc"
        listed = monitor_cli(config, "replicas", "--json")
        assert listed.returncode == 0, listed.stderr
        (replica,) = json.loads(listed.stdout)
        assert replica["pid"] == daemon.proc.pid and replica["id"].endswith(f":{daemon.proc.pid}")
        _, metrics = get(f"http://127.0.0.1:{daemon.port}/metrics")
        claimed = re.search(
            rf'monitor_feed_claims_total{{replica="{re.escape(replica["id"])}"}} (\S+)', metrics.decode()
        )
        assert claimed and float(claimed[1]) >= 1
        assert daemon.stop() == 0
    assert {line.get("replica") for line in daemon.lines()} == {replica["id"]}
    assert monitor_cli(config, "replicas", "--json").stdout.strip() == "[]"  # stopped


def test_the_daemon_polls_at_most_max_concurrency_feeds_at_once(daemon_factory: object) -> None:
    body = (REAL_FEEDS / "bbc-rss-3.xml").read_bytes()
    with LoopbackServer() as srv:
        for i in range(4):  # each answer takes 1 s
            srv.route(f"/slow{i}", *[Reply(200, body, delay=1.0)] * 3)
        feeds = {f"slow{i}": srv.url(f"/slow{i}") for i in range(4)}
        daemon, _ = daemon_factory(feeds, "per_host: 10", "max_concurrency: 1")  # type: ignore[operator]
        wait_until(lambda: {r.path for r in srv.requests} >= {f"/slow{i}" for i in range(4)})
        assert daemon.stop() == 0
        assert srv.peak_concurrency == 1
