"""Logs as an operator reads them: JSON lines with stable keys, and never a secret from the config
(a token in a feed URL, a webhook URL, userinfo), whatever fails."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from history_cases.wire import KZ, TJ, cli, poll, rss, write_config
from httpserver import LoopbackServer, Reply, unused_port

from monitor import logs

FEED_TOKEN = "SECRETFEEDTOKEN42"
PASSWORD = "SECRETPASSWORD42"
HOOK_PATH = "SECRETHOOKPATH42"
HOOK_KEY = "SECRETHOOKKEY42"
SECRETS = (FEED_TOKEN, PASSWORD, HOOK_PATH, HOOK_KEY)


def scenario(tmp_path: Path, server: LoopbackServer) -> Path:
    """Feeds that fail in different ways, one that works and alerts, and webhooks that fail."""
    base = server.url("")
    dead = f"http://127.0.0.1:{unused_port()}"
    feeds = {
        "broken": f"{base}/broken?token={FEED_TOKEN}",
        "refused": f"{dead}/feed?token={FEED_TOKEN}",
        "private": base.replace("http://", f"http://reader:{PASSWORD}@") + "/private",
        "html": f"{base}/html?{FEED_TOKEN}",
        "wire": f"{base}/wire?token={FEED_TOKEN}",
    }
    server.route("/broken", Reply(500, b"internal error"))
    server.route("/private", Reply(401, b"who are you"))
    server.route("/html", Reply(200, b"<html><body>not a feed</body></html>", {"Content-Type": "text/html"}))
    server.route("/wire", Reply(200, rss("wire", KZ, TJ)))
    server.route(f"/hooks/{HOOK_PATH}", Reply(500, b"upstream down"))
    server.route(f"/gone/{HOOK_PATH}", Reply(404, b"no such hook"))
    hooks = (
        "webhooks:\n"
        f"  - name: flaky\n    kind: slack\n    url: {base}/hooks/{HOOK_PATH}?key={HOOK_KEY}\n"
        f"  - name: revoked\n    kind: discord\n    url: {base}/gone/{HOOK_PATH}\n"
        f"  - name: nowhere\n    kind: generic\n    url: {dead}/x/{HOOK_PATH}\n"
        "delivery:\n  backoff: [0s, 100ms]\n  timeout: 1s\n"
    )
    return write_config(tmp_path, f"sqlite:///{tmp_path / 'monitor.db'}", feeds, hooks)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} leaked:\n{text}"


def json_lines(stderr: str) -> list[dict[str, object]]:
    records = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert records and all(isinstance(r, dict) for r in records)
    return records


@pytest.fixture
def server() -> LoopbackServer:
    with LoopbackServer() as srv:
        yield srv


def test_json_logs_have_stable_keys_and_no_secrets(tmp_path: Path, server: LoopbackServer) -> None:
    config = scenario(tmp_path, server)
    code, out, err = cli(
        config, "--log-format", "json", "--log-level", "DEBUG", "poll", "--once", "--drain-timeout", "1"
    )
    assert code == 0, err
    records = json_lines(err)
    for record in records:
        assert {"ts", "level", "logger", "msg"} <= record.keys(), record
        assert record["level"] in {"debug", "info", "warning", "error"}
    by_feed = {r["feed"] for r in records if "feed" in r}
    assert {"broken", "refused", "private", "html", "wire"} <= by_feed
    failed = [r for r in records if r.get("feed") == "broken" and r["level"] == "warning"]
    assert failed and all("error" in r for r in failed)
    assert_no_secret(out + err)


def test_text_logs_and_every_command_output_keep_secrets(tmp_path: Path, server: LoopbackServer) -> None:
    config = scenario(tmp_path, server)
    outputs = [poll(config, "--drain-timeout", "1")]
    for command in (
        ["feeds"],
        ["feeds", "--json"],
        ["deliveries"],
        ["deliveries", "--json"],
        ["history", "--format", "json"],
        ["history", "--items", "--format", "json"],
        ["stats", "--format", "json"],
        ["check-config"],
        ["webhooks", "test", "flaky"],
        ["webhooks", "test", "revoked"],
        ["webhooks", "test", "nowhere"],
    ):
        outputs.append(cli(config, *command))
    for _code, out, err in outputs:
        assert "Traceback" not in err
        assert_no_secret(out + err)


def test_config_error_does_not_echo_a_secret(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, f"sqlite:///{tmp_path / 'm.db'}", {"wire": f"ftp://x/?token={FEED_TOKEN}"}
    )
    code, out, err = cli(config, "poll", "--once")
    assert code == 2 and "feeds[0].url" in err
    assert_no_secret(out + err)


def test_json_formatter_puts_extra_fields_at_top_level() -> None:
    record = logging.LogRecord("monitor.x", logging.WARNING, __file__, 1, "poll %s", ("failed",), None)
    record.feed = "wire"
    record.status = 500
    data = json.loads(logs.JsonFormatter().format(record))
    assert data["msg"] == "poll failed" and data["level"] == "warning" and data["logger"] == "monitor.x"
    assert (data["feed"], data["status"]) == ("wire", 500)


def test_a_reload_masks_the_new_secrets_from_then_on(capsys: pytest.CaptureFixture[str]) -> None:
    """SIGHUP may add or rotate a webhook URL: the log handler takes the new redactor (daemon.reload calls
    logs.use_redactor), so a receiver echoing the new secret is masked without a restart."""
    from monitor.redact import Redactor

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        logs.setup("text", "INFO", None, Redactor(["old-secret-1"]))
        logging.getLogger("monitor.t").warning("echo old-secret-1 new-secret-2")
        logs.use_redactor(Redactor(["new-secret-2"]))
        logging.getLogger("monitor.t").warning("echo old-secret-1 new-secret-2")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    before, after = capsys.readouterr().err.strip().splitlines()[-2:]
    assert "old-secret-1" not in before and "new-secret-2" in before
    assert "new-secret-2" not in after
