"""A newcomer's first hour: a config anywhere works with the packaged baseline, commands that send
nothing do not need the webhooks' secrets, read-only commands create nothing, check-config tries the
database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from history_cases.wire import KZ, cli, poll, rss
from httpserver import LoopbackServer, Reply
from support import BASELINE

from monitor.classify import load_baseline
from monitor.cli import main

HOOKS = """webhooks:
  - name: team-slack
    kind: slack
    url: ${TEAM_SLACK_URL}
  - name: signed
    kind: generic
    url: https://hooks.example/in
    secret: ${SIGNING_SECRET}
"""


def only_feeds(folder: Path, extra: str = "") -> Path:
    """A config with nothing but a feed (and `extra`), in a folder far from the repository."""
    path = folder / "feeds.yaml"
    path.write_text("feeds:\n  - name: wire\n    url: http://127.0.0.1:9/feed\n" + extra, encoding="utf-8")
    return path


def test_a_config_without_baseline_key_uses_the_packaged_baseline(tmp_path: Path) -> None:
    code, out, err = cli(only_feeds(tmp_path), "check-config")
    assert code == 0, err
    assert f"baseline facts: {len(load_baseline(BASELINE).facts)}" in out
    code, out, err = cli(only_feeds(tmp_path), "explain", "Russia recognises the Taliban government")
    assert code == 0, err
    assert "verdict:    no alert (restatement)" in out  # the packaged baseline knows Russia's recognition


def test_a_relative_baseline_key_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mine.yaml").write_text("- actor: KZ\n  relation: recognition\n", encoding="utf-8")
    config = only_feeds(tmp_path / "conf", "baseline: mine.yaml\n")
    monkeypatch.chdir(tmp_path)  # not the config's folder
    code, out, err = cli(config, "check-config")
    assert code == 0, err
    assert "baseline facts: 1" in out
    code, out, _ = cli(config, "explain", "Kazakhstan recognises the Taliban government")
    assert "verdict:    no alert" in out  # KZ is known in this baseline, not in the packaged one


READ_ONLY = [
    ["history"],
    ["history", "--items"],
    ["feeds"],
    ["stats"],
    ["deliveries"],
    ["prune"],
    ["classify", "--text", "Kazakhstan recognises the Taliban"],
    ["explain", "Kazakhstan recognises the Taliban"],
]
SENDING = [
    ["run"],
    ["poll", "--once"],
    ["webhooks", "test", "team-slack"],
    ["deliveries", "retry", "--dead"],
    ["check-config"],
]


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_commands_that_send_nothing_work_without_webhook_secrets(tmp_path: Path, command: list[str]) -> None:
    config = only_feeds(tmp_path, HOOKS)
    code, _, err = cli(config, *command, env={"TEAM_SLACK_URL": None, "SIGNING_SECRET": None})
    assert code == 0, err


@pytest.mark.parametrize("command", SENDING, ids=" ".join)
def test_commands_that_send_need_every_secret(tmp_path: Path, command: list[str]) -> None:
    config = only_feeds(tmp_path, HOOKS)
    code, _, err = cli(config, *command, env={"TEAM_SLACK_URL": None, "SIGNING_SECRET": None})
    assert code == 2
    assert "webhooks[0].url: environment variable TEAM_SLACK_URL is not set" in err
    assert "also unset: SIGNING_SECRET (webhooks[1].secret)" in err  # every one at once


def test_other_mistakes_in_a_webhook_are_still_reported_without_its_secret(tmp_path: Path) -> None:
    config = only_feeds(tmp_path, HOOKS.replace("kind: slack", "kind: slak"))
    code, _, err = cli(config, "history", env={"TEAM_SLACK_URL": None})
    assert code == 2 and "webhooks[0].kind" in err


@pytest.mark.parametrize("command", [*READ_ONLY, ["check-config"]], ids=" ".join)
def test_read_only_commands_create_no_storage(tmp_path: Path, command: list[str]) -> None:
    config = only_feeds(tmp_path)
    code, _, err = cli(config, *command)
    assert code == 0, err
    assert not (tmp_path / "storage").exists()


def test_listing_before_the_first_poll_says_there_is_no_database_yet(tmp_path: Path) -> None:
    code, out, err = cli(only_feeds(tmp_path), "history")
    assert code == 0 and "(no rows)" in out
    assert f"no database yet at {tmp_path / 'storage' / 'monitor.db'}" in err


def test_check_config_reports_the_database_state(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.route("/feed", Reply(200, body=rss("wire", KZ)))
        config = only_feeds(tmp_path)
        config.write_text(config.read_text().replace("http://127.0.0.1:9/feed", server.url("/feed")))
        code, out, _ = cli(config, "check-config")
        assert code == 0 and "database state: not created yet" in out
        assert poll(config)[0] == 0
        code, out, _ = cli(config, "check-config")
        assert code == 0 and "database state: reachable, schema up to date" in out


def test_check_config_fails_on_a_database_it_cannot_open(tmp_path: Path) -> None:
    env = {"MONITOR_DATABASE_URL": "postgresql://nobody:DBSECRET42@127.0.0.1:1/x"}
    code, _, err = cli(only_feeds(tmp_path), "check-config", env=env)
    assert code == 2 and "127.0.0.1" in err and "DBSECRET42" not in err
    (tmp_path / "file").write_text("not a folder")
    env = {"MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'file' / 'monitor.db'}"}
    code, _, err = cli(only_feeds(tmp_path), "check-config", env=env)
    assert code == 2 and "cannot be created" in err


def test_classify_reads_any_input_reporting_undecodable_lines(tmp_path: Path) -> None:
    lines = [
        b'\xef\xbb\xbf{"id": 1, "title": "Kazakhstan recognises the Taliban government"}',  # a BOM first
        b'{"id": 2, "title": "caf\xe9 in Latin-1"}',
        b'{"id": 3, "title": "Heatwave grips southern Europe"}',
        b"not json",
        b'{"id": 5, "title": "Tajikistan appoints ambassador to Kabul"}',
    ]
    result = CliRunner().invoke(main, ["classify"], input=b"\n".join(lines) + b"\n")
    assert result.exit_code == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1, 3, 5]
    assert result.stderr.splitlines() == [
        "line 2: not UTF-8 text (byte 0xe9 at column 24)",
        "line 4: not JSON: Expecting value at column 1",
    ]


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("feeds:\n  - name: a\n    url: https://x.example/rss\n    intervall: 5m\n", "feeds[0].intervall"),
        ("feeds: []\nlogging:\n  fromat: json\n", "logging.fromat"),
        ("feeds: []\ndefualts:\n  interval: 5m\n", "defualts"),
    ],
)
def test_a_misspelt_key_gets_a_suggestion(tmp_path: Path, yaml_text: str, expected: str) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    code, _, err = cli(path, "check-config")
    suggestion = {"feeds[0].intervall": "interval", "logging.fromat": "format", "defualts": "defaults"}
    assert code == 2 and f"{expected}: unknown key (did you mean {suggestion[expected]!r}?)" in err
