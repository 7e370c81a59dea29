"""`monitor demo` runs the real pipeline offline: the chat receives exactly the alerting stories of the
bundled wire, once per development; and with no webhook the daemon logs each alert instead."""

from __future__ import annotations

import re
from pathlib import Path

from history_cases.wire import FOOTBALL, KZ, cli, poll, rss, write_config
from httpserver import LoopbackServer, Reply
from tables import parse_table

from monitor.demo import chat_text, load_wire
from monitor.notify.text import EVENT_WORDS

HEADER = re.compile(r"■ (PLANNED )?(.+): .+ \((\w\w)\)$")
EXPECTED = re.compile(r"alert \(([^,]+), (\w\w)(, planned)?\)")


def expected_alerts() -> set[tuple[bool, str, str]]:
    """(planned, event words, actor) of every story the wire marks as an alert."""
    words = {word.lower(): word for word in EVENT_WORDS.values()}
    found = set()
    for story in load_wire()[1]:
        if match := EXPECTED.fullmatch(story.expect):
            found.add((bool(match[3]), words[match[1]], match[2]))
    return found


def section(text: str, number: int) -> str:
    return text.split(f"\n{number}. ", 1)[1].split(f"\n{number + 1}. ", 1)[0]


def test_the_chat_receives_each_alerting_development_once(demo_output: str) -> None:
    chat = section(demo_output, 2)
    headers = [m for line in chat.splitlines() if (m := HEADER.search(line))]
    received = [(bool(m[1]), m[2], m[3]) for m in headers]
    assert sorted(received) == sorted(expected_alerts())  # KZ told by two outlets: one alert
    for story in load_wire()[1]:
        if not story.expect.startswith("alert") and not story.expect.startswith("same development"):
            assert story.title not in chat, f"{story.expect} reached the chat: {story.title}"


def test_history_counts_both_outlets_and_explain_shows_the_restatement(demo_output: str) -> None:
    rows = parse_table(section(demo_output, 3))
    assert len(rows) == len(expected_alerts())
    assert next(row for row in rows if row["what"] == "recognition KZ")["src"] == "2"  # two outlets
    assert "verdict:    no alert (restatement)" in section(demo_output, 4)


def test_chat_text_shows_labels_not_markup() -> None:
    payload = {
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Recognition: Kazakhstan (KZ)"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*<https://x.example/a|A &amp; B>*"}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Event*\nRecognition"}]},
        ]
    }
    assert chat_text(payload).splitlines() == [
        "  │ ■ Recognition: Kazakhstan (KZ)",
        "  │ A & B",
        "  │ Event: Recognition",
    ]


def test_with_no_webhook_the_monitor_says_so_and_logs_each_alert(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.route("/feed", Reply(200, body=rss("wire", KZ, FOOTBALL)))
        config = write_config(tmp_path, f"sqlite:///{tmp_path / 'm.db'}", {"wire": server.url("/feed")})
        code, _, err = poll(config)
    assert code == 0
    assert "no webhook configured: alerts are stored and written to this log" in err
    alerts = [line for line in err.splitlines() if "alert not sent" in line]
    assert len(alerts) == 1
    assert f"headline={KZ.title}" in alerts[0] and "evidence=" in alerts[0] and "actor=KZ" in alerts[0]


def test_an_alert_every_webhook_filter_refuses_is_logged_too(tmp_path: Path) -> None:
    hooks = (
        "webhooks:\n  - name: us-only\n    kind: generic\n    url: http://127.0.0.1:9/in\n"
        "    filter: {actors: [US]}\n"
    )
    with LoopbackServer() as server:
        server.route("/feed", Reply(200, body=rss("wire", KZ)))
        config = write_config(
            tmp_path, f"sqlite:///{tmp_path / 'm.db'}", {"wire": server.url("/feed")}, hooks
        )
        code, _, err = poll(config, "--drain-timeout", "0")
    assert code == 0
    assert "no webhook configured" not in err
    assert len([line for line in err.splitlines() if "alert not sent" in line]) == 1
    assert cli(config, "history")[1].count("recognition KZ") == 1  # stored all the same
