"""Tables fit the terminal (its width, by display cells; --wide clips nothing); `monitor feeds` lists
every configured feed with a status in words and its next poll; JSON and CSV carry the same columns."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from pathlib import Path

import pytest
from history_cases.wire import KZ, cli, poll, rss, write_config
from httpserver import LoopbackServer, Reply
from tables import parse_table

from monitor.output import as_table

LONG = "Kazakhstan formally recognises the Taliban government after months of talks in Astana and Kabul"


def cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Feeds in every state: ok, gone, rate limited, failing (twice), never polled, disabled, and one
    stored but no longer configured."""
    tmp = tmp_path_factory.mktemp("feeds")
    story = KZ.__class__("kz-long", LONG, KZ.summary, "recognition", "KZ")
    with LoopbackServer() as server:
        server.route("/ok", Reply(200, body=rss("ok", story)))
        server.route("/gone", Reply(410))
        server.route("/limited", Reply(429, headers={"Retry-After": "3600"}))
        server.route("/broken", Reply(500))
        server.route("/old", Reply(200, body=rss("old")))
        feeds = {
            "ok-feed": server.url("/ok"),
            "gone-feed": server.url("/gone"),
            "limited-feed": server.url("/limited"),
            "broken-feed": server.url("/broken"),
            "old-feed": server.url("/old"),
        }
        config = write_config(tmp, f"sqlite:///{tmp / 'm.db'}", feeds)
        assert poll(config)[0] == 0
        assert poll(config, "--feed", "broken-feed")[0] == 0
    del feeds["old-feed"]
    feeds["new-feed"] = "http://127.0.0.1:9/new"
    config = write_config(tmp, f"sqlite:///{tmp / 'm.db'}", feeds)
    text = config.read_text() + "  - name: off-feed\n    url: http://127.0.0.1:9/off\n    enabled: false\n"
    config.write_text(text)
    return config


def feeds(config: Path, *args: str, columns: int = 80) -> str:
    code, out, err = cli(config, "feeds", *args, env={"COLUMNS": str(columns)})
    assert code == 0, err
    return out


def test_feeds_says_what_each_feed_is_doing(polled: Path) -> None:
    rows = {row["name"]: row for row in parse_table(feeds(polled, columns=200))}
    assert list(rows) == [
        "ok-feed",
        "gone-feed",
        "limited-feed",
        "broken-feed",
        "new-feed",
        "off-feed",
        "old-feed",
    ]
    assert rows["ok-feed"]["status"] == "ok" and rows["ok-feed"]["next_poll"] != "-"
    assert rows["gone-feed"]["status"] == "gone (410)" and rows["gone-feed"]["next_poll"] == "-"
    limited = rows["limited-feed"]
    assert limited["status"] == f"rate limited until {limited['next_poll']}"
    assert rows["broken-feed"]["status"].startswith("failing since ") and rows["broken-feed"]["errors"] == "2"
    assert rows["broken-feed"]["last_error"] == "HTTP 500 Internal Server Error"  # whole, URL not repeated
    assert rows["new-feed"]["status"] == "never polled"
    assert rows["off-feed"]["status"] == "disabled"
    assert rows["old-feed"]["status"] == "not in config"


@pytest.mark.parametrize("columns", [60, 80, 132])
def test_feeds_fits_the_terminal_and_keeps_the_status_whole(polled: Path, columns: int) -> None:
    out = feeds(polled, columns=columns)
    assert all(cells(line) <= columns for line in out.splitlines())
    statuses = [row["status"] for row in parse_table(out)]
    assert "gone (410)" in statuses and any(s.startswith("rate limited until ") for s in statuses)


def test_wide_clips_nothing(polled: Path) -> None:
    out = feeds(polled, "--wide", columns=40)
    assert "…" not in out
    code, out, _ = cli(polled, "history", "--wide", env={"COLUMNS": "40"})
    assert code == 0 and LONG in out


def test_history_headlines_use_a_wide_terminal(polled: Path) -> None:
    narrow = parse_table(cli(polled, "history", env={"COLUMNS": "80"})[1])
    wide = parse_table(cli(polled, "history", env={"COLUMNS": "160"})[1])
    assert narrow[0]["headline"].endswith("…") and len(narrow[0]["headline"]) < len(LONG)
    assert wide[0]["headline"] == LONG


def test_wide_characters_count_twice() -> None:
    rows = [{"id": 1, "title": "塔利班政府获得哈萨克斯坦正式承认，双方将互派大使并签署合作协议"}]
    out = as_table(rows, ["id", "title"], width=30)
    assert all(cells(line) <= 30 for line in out.splitlines())
    assert out.splitlines()[-1].endswith("…")


@pytest.mark.parametrize(
    "command", [["feeds"], ["deliveries"], ["history"], ["history", "--items"]], ids=" ".join
)
def test_json_and_csv_carry_the_same_columns(polled: Path, command: list[str]) -> None:
    code, as_json, _ = cli(polled, *command, "--format", "json")
    code2, as_csv, _ = cli(polled, *command, "--format", "csv")
    assert code == code2 == 0
    header = next(csv.reader(io.StringIO(as_csv)))
    rows = json.loads(as_json)
    assert all(list(row) == header for row in rows)
    if command[0] != "deliveries":  # no webhook here: no deliveries
        assert rows and len(list(csv.DictReader(io.StringIO(as_csv)))) == len(rows)
