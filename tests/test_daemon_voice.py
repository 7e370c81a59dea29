"""A running daemon is never silent: a restart says what comes first (feeds due now, feeds waiting for a
stored backoff, feeds gone), and quiet (304) polls show up in a periodic summary line at INFO."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from history_cases.wire import KZ, poll, rss, write_config
from httpserver import LoopbackServer, Reply
from support import REPO


def log_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def run_until(config: Path, log: Path, done: object, timeout: float = 20.0) -> list[dict[str, object]]:
    """Run `monitor run` until `done(lines)` holds; stop it with SIGTERM; its JSON log lines."""
    command = [sys.executable, "-m", "monitor", "--config", str(config), "--log-format", "json", "run"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=out)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not done(log_lines(log)):  # type: ignore[operator]
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    return log_lines(log)


def test_restart_says_what_comes_first_and_quiet_polls_are_summarised(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss("wire", KZ))
    with LoopbackServer() as server:
        server.serve_file("/feed", feed)  # ETag / Last-Modified: later polls are 304s
        server.route("/broken", Reply(500))
        server.route("/gone", Reply(410))
        urls = {"wire": server.url("/feed"), "broken": server.url("/broken"), "gone": server.url("/gone")}
        config = write_config(tmp_path, f"sqlite:///{tmp_path / 'm.db'}", urls, "logging:\n  summary: 1s\n")
        # The wire is polled every second; the failing feed backs off from its 10-minute interval.
        text = config.read_text().replace(f"url: {urls['wire']}", f"url: {urls['wire']}\n    interval: 1s")
        config.write_text(text)
        assert poll(config)[0] == 0  # the state a restart finds: one ok, one failing, one gone

        def summarised_a_304(lines: list[dict[str, object]]) -> bool:
            return any(
                line["msg"] == "polls since the last summary" and line.get("not_modified") for line in lines
            )

        lines = run_until(config, tmp_path / "daemon.log", summarised_a_304)
    schedule = next(line for line in lines if line["msg"] == "schedule")
    assert (schedule["gone"], schedule["failing"]) == (1, 1)
    assert schedule["waiting"] >= 1 and str(schedule["next_wait_ends"]) > str(schedule["ts"])  # backoff kept
    summaries = [line for line in lines if line["msg"] == "polls since the last summary"]
    assert any(int(str(line.get("not_modified", 0))) >= 1 for line in summaries)
    assert lines.index(schedule) < lines.index(summaries[0])
