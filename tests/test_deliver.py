"""Alerts reach real webhook receivers on 127.0.0.1: retries, Retry-After, broken targets, dead letters,
and no loss or silent duplicate across a kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import standardwebhooks
from click.testing import CliRunner
from httpserver import LoopbackServer, Reply
from support import BASELINE

from monitor.cli import main

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link><description>d</description>
{items}
</channel></rss>"""
ITEM = """<item><guid>{guid}</guid><title>{title}</title><link>https://wire.example/{guid}</link>
<description>{summary}</description><pubDate>{date}</pubDate></item>"""


def feed(*entries: tuple[str, str]) -> bytes:
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    items = "".join(
        ITEM.format(guid=f"g{n}", title=t, summary=s, date=date) for n, (t, s) in enumerate(entries)
    )
    return RSS.format(items=items).encode()


KZ = (
    "Kazakhstan formally recognises the Taliban government",
    "Astana said it recognised the Islamic Emirate.",
)
TJ = (
    "Tajikistan appoints ambassador to Kabul",
    "Dushanbe named its first ambassador to the Taliban government.",
)


def write_config(
    tmp: Path, feed_url: str, hooks: list[dict[str, str]], backoff: str = "[0s, 100ms, 200ms]"
) -> Path:
    hook_lines = "".join(
        f"  - name: {h['name']}\n    kind: {h['kind']}\n    url: ${{{h['env']}}}\n"
        + ("    secret: ${HOOK_SECRET}\n" if h["kind"] == "generic" else "")
        for h in hooks
    )
    text = (
        f"database: sqlite:///{tmp / 'monitor.db'}\nbaseline: {BASELINE}\n"
        "defaults:\n  timeout: 5s\n  jitter: 0s\n"
        f"feeds:\n  - name: wire\n    url: {feed_url}\nwebhooks:\n{hook_lines}"
        f"delivery:\n  backoff: {backoff}\n  timeout: 2s\n  max_age: 1h\n"
    )
    path = tmp / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(config: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner(env=env).invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def deliveries(config: Path, env: dict[str, str]) -> list[dict[str, object]]:
    code, out, _ = run_cli(config, env, "deliveries", "--json")
    assert code == 0
    return list(json.loads(out))


def test_503_503_200_is_delivered_once(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route("/hook", Reply(503), Reply(503), Reply(200, b"ok"))
        env = {"HOOK_URL": srv.url("/hook")}
        config = write_config(
            tmp_path, srv.url("/feed"), [{"name": "chat", "kind": "slack", "env": "HOOK_URL"}]
        )
        code, out, err = run_cli(config, env, "poll", "--once", "--drain-timeout", "10")
        posts = [r for r in srv.requests if r.path.startswith("/hook")]
    assert code == 0, err
    assert len(posts) == 3 and "1 sent" in out
    (row,) = deliveries(config, env)
    assert row["status"] == "sent" and row["attempts"] == 3


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route("/hook", Reply(429, headers={"Retry-After": "1"}), Reply(200, b"ok"))
        env = {"HOOK_URL": srv.url("/hook")}
        config = write_config(
            tmp_path, srv.url("/feed"), [{"name": "chat", "kind": "slack", "env": "HOOK_URL"}]
        )
        started = time.monotonic()
        run_cli(config, env, "poll", "--once", "--drain-timeout", "10")
        elapsed = time.monotonic() - started
    assert elapsed >= 1.0
    assert deliveries(config, env)[0]["status"] == "sent"


def test_gone_webhook_is_broken_and_keeps_its_rows(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ, TJ)))
        srv.route("/hook", Reply(410, b"webhook deleted"))
        env = {"HOOK_URL": srv.url("/hook")}
        config = write_config(
            tmp_path, srv.url("/feed"), [{"name": "chat", "kind": "slack", "env": "HOOK_URL"}]
        )
        run_cli(config, env, "poll", "--once", "--drain-timeout", "3")
        posts = [r for r in srv.requests if r.path.startswith("/hook")]
        _, out, err = run_cli(config, env, "deliveries")
        hook_url = srv.url("/hook")
    assert len(posts) == 1  # stopped after the first 410
    assert "BROKEN" in err and "chat" in err
    assert hook_url not in out + err  # the URL is a secret
    assert {r["status"] for r in deliveries(config, env)} == {"pending"}


def test_rejected_payload_is_dead_at_once_and_can_be_requeued(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route("/hook", Reply(400, b"invalid_blocks"), Reply(200, b"ok"))
        env = {"HOOK_URL": srv.url("/hook")}
        config = write_config(
            tmp_path, srv.url("/feed"), [{"name": "chat", "kind": "slack", "env": "HOOK_URL"}]
        )
        run_cli(config, env, "poll", "--once", "--drain-timeout", "3")
        (row,) = deliveries(config, env)
        assert row["status"] == "dead" and "invalid_blocks" in str(row["last_error"])
        assert run_cli(config, env, "deliveries", "retry", "--dead")[0] == 0
        run_cli(config, env, "poll", "--once", "--drain-timeout", "3")
    assert deliveries(config, env)[0]["status"] == "sent"


def test_dropped_connection_retries_with_the_same_webhook_id(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route("/hook", Reply(drop=True), Reply(204))
        env = {"HOOK_URL": srv.url("/hook"), "HOOK_SECRET": SECRET}
        config = write_config(
            tmp_path, srv.url("/feed"), [{"name": "siem", "kind": "generic", "env": "HOOK_URL"}]
        )
        run_cli(config, env, "poll", "--once", "--drain-timeout", "5")
        posts = [r for r in srv.requests if r.path.startswith("/hook")]
    assert len(posts) == 2
    assert posts[0].headers["webhook-id"] == posts[1].headers["webhook-id"]
    payload = standardwebhooks.Webhook(SECRET).verify(posts[1].body, posts[1].headers)
    assert payload["event"]["actor"] == "KZ"


def test_kill_9_between_send_and_commit_loses_nothing(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[1]
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ)))
        srv.route("/hook", Reply(200, b"ok", delay=30))  # received, but the answer never comes in time
        env = {**os.environ, "HOOK_URL": srv.url("/hook"), "HOOK_SECRET": SECRET}
        config = write_config(
            tmp_path, srv.url("/feed"), [{"name": "siem", "kind": "generic", "env": "HOOK_URL"}]
        )
        cmd = [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(config),
            "poll",
            "--once",
            "--drain-timeout",
            "20",
        ]
        proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            srv.wait_for_requests(2, timeout=20)  # the feed GET, then the webhook POST
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        first = [r for r in srv.requests if r.path.startswith("/hook")]
        srv.route("/hook", Reply(204))
        # The leases (request timeout + 30 s, on the row and on the target) have not expired: a restart now
        # must not resend yet...
        subprocess.run([*cmd[:-1], "1"], cwd=repo, env=env, check=True, capture_output=True)
        assert len([r for r in srv.requests if r.path.startswith("/hook")]) == 1
        # ...and once it has, the same message goes out again, with the same webhook-id.
        with closing(sqlite3.connect(tmp_path / "monitor.db")) as db, db:
            db.execute("UPDATE deliveries SET next_attempt_at = '2000-01-01 00:00:00'")
            db.execute("UPDATE webhooks SET lease_until = '2000-01-01 00:00:00'")
        subprocess.run([*cmd[:-1], "5"], cwd=repo, env=env, check=True, capture_output=True)
        posts = [r for r in srv.requests if r.path.startswith("/hook")]
    assert len(first) == 1 and len(posts) == 2
    assert posts[0].headers["webhook-id"] == posts[1].headers["webhook-id"]
    rows = deliveries(config, {"HOOK_URL": "http://x/", "HOOK_SECRET": SECRET})
    assert [r["status"] for r in rows] == ["sent"]


def test_mentions_and_fake_links_ping_nobody(tmp_path: Path) -> None:
    evil = (
        "Kazakhstan recognises the Taliban government <!channel> @everyone @here <@U123>",
        "Astana recognised the Islamic Emirate. [click](http://evil.example) <http://evil.example|BBC>",
    )
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(evil)))
        srv.route("/slack", Reply(200, b"ok"))
        srv.route("/discord", Reply(204))
        env = {"SLACK": srv.url("/slack"), "DISCORD": srv.url("/discord")}
        hooks = [
            {"name": "s", "kind": "slack", "env": "SLACK"},
            {"name": "d", "kind": "discord", "env": "DISCORD"},
        ]
        config = write_config(tmp_path, srv.url("/feed"), hooks)
        run_cli(config, env, "poll", "--once", "--drain-timeout", "5")
        bodies = {r.path.split("?")[0]: r.body.decode() for r in srv.requests if r.method == "POST"}
    slack, discord = bodies["/slack"], json.loads(bodies["/discord"])
    assert "<!channel>" not in slack and "<@U123>" not in slack and "<http://evil.example|" not in slack
    assert "link_names" not in json.loads(slack)
    assert discord["allowed_mentions"] == {"parse": []}
    assert "[click](http://evil.example)" not in json.dumps(discord)


def test_webhooks_test_sends_a_sample_and_reports_the_outcome(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route("/ok", Reply(204))
        srv.route("/revoked", Reply(404, b"no_service"))
        env = {"OK_URL": srv.url("/ok"), "BAD_URL": srv.url("/revoked")}
        hooks = [
            {"name": "good", "kind": "slack", "env": "OK_URL"},
            {"name": "bad", "kind": "slack", "env": "BAD_URL"},
        ]
        config = write_config(tmp_path, srv.url("/feed"), hooks)
        good = run_cli(config, env, "webhooks", "test", "good")
        bad = run_cli(config, env, "webhooks", "test", "bad")
        unknown = run_cli(config, env, "webhooks", "test", "nope")
        posted = [r for r in srv.requests if r.method == "POST"]
        urls = (srv.url("/ok"), srv.url("/revoked"))
    assert good[0] == 0 and "204" in good[1]
    assert bad[0] == 1 and "404" in bad[1] and "no_service" in bad[1]
    assert unknown[0] == 1 and "nope" in unknown[2]
    assert len(posted) == 2 and b"TEST" in posted[0].body
    assert not any(url in good[1] + bad[1] + bad[2] for url in urls)
    assert deliveries(config, env) == []  # a test message never enters the outbox


FIVE = [
    (f"{state} formally recognises the Taliban government", "")
    for state in ("Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Belarus")
]


def test_a_failed_delivery_is_not_overtaken_by_later_ones(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(*FIVE[:3])))
        srv.route("/hook", Reply(503), Reply(204))
        env = {"HOOK_URL": srv.url("/hook"), "HOOK_SECRET": SECRET}
        config = write_config(
            tmp_path,
            srv.url("/feed"),
            [{"name": "siem", "kind": "generic", "env": "HOOK_URL"}],
            "[0s, 300ms]",
        )
        run_cli(config, env, "poll", "--once", "--drain-timeout", "10")
        actors = [json.loads(r.body)["event"]["actor"] for r in srv.requests if r.method == "POST"]
    assert actors == ["KZ", "KZ", "KG", "TJ"]


def test_two_senders_at_once_send_each_alert_once(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[1]
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(*FIVE)))
        srv.route("/hook", Reply(200, b"ok", delay=0.2))
        env = {**os.environ, "HOOK_URL": srv.url("/hook")}
        config = write_config(
            tmp_path, srv.url("/feed"), [{"name": "chat", "kind": "slack", "env": "HOOK_URL"}]
        )
        run_cli(config, env, "poll", "--once", "--drain-timeout", "0")  # store the events, send nothing yet
        cmd = [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(config),
            "poll",
            "--once",
            "--drain-timeout",
            "20",
        ]
        first = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        second = subprocess.Popen(
            cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        assert first.wait(60) == 0 and second.wait(60) == 0
        posts = [r for r in srv.requests if r.method == "POST"]
    assert len(posts) == 5
    assert [r["attempts"] for r in deliveries(config, env)] == [1] * 5


def test_deliveries_of_a_removed_webhook_wait_without_spinning(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(KZ)))
        env = {"HOOK_URL": "http://127.0.0.1:9/hook"}
        config = write_config(
            tmp_path, srv.url("/feed"), [{"name": "chat", "kind": "slack", "env": "HOOK_URL"}]
        )
        run_cli(config, env, "poll", "--once", "--drain-timeout", "0")
        text = config.read_text().split("webhooks:")[0] + "delivery:\n  backoff: [0s]\n"
        config.write_text(text)
        started = time.monotonic()
        code, _, err = run_cli(config, env, "poll", "--once", "--drain-timeout", "5")
        elapsed = time.monotonic() - started
    assert code == 0, err
    assert elapsed < 4  # nothing sendable: no waiting out the drain timeout
    assert [r["status"] for r in deliveries(config, env)] == ["pending"]


def test_a_storm_is_coalesced_into_a_digest_not_dropped(tmp_path: Path) -> None:
    states = ("Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Belarus", "Mongolia", "Armenia")
    storm = [(f"{state} formally recognises the Taliban government", "") for state in states]
    with LoopbackServer() as srv:
        srv.route("/feed", Reply(200, feed(*storm)))
        srv.route("/hook", Reply(204))
        env = {"HOOK_URL": srv.url("/hook"), "HOOK_SECRET": SECRET}
        config = write_config(
            tmp_path, srv.url("/feed"), [{"name": "siem", "kind": "generic", "env": "HOOK_URL"}]
        )
        run_cli(config, env, "poll", "--once", "--drain-timeout", "0")  # the storm lands in the outbox
        run_cli(config, env, "poll", "--once", "--drain-timeout", "5")
        posts = [r for r in srv.requests if r.method == "POST"]
    assert len(posts) == 1  # more than delivery.digest_after (5) alerts due at once: one message
    payload = standardwebhooks.Webhook(SECRET).verify(posts[0].body, posts[0].headers)
    assert payload["type"] == "event.digest"
    assert sorted(e["actor"] for e in payload["events"]) == sorted(["KZ", "KG", "TJ", "TM", "BY", "MN", "AM"])
    assert {r["status"] for r in deliveries(config, env)} == {"sent"}
