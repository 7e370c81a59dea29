"""`monitor poll --once` end to end: a loopback server serving the real-feeds corpus, a real SQLite file."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from httpserver import LoopbackServer, Reply
from support import BASELINE, REAL_FEEDS

from monitor.cli import main
from monitor.errors import ParseError
from monitor.parse import parse

DOCS = sorted(p for p in REAL_FEEDS.glob("*.xml"))


@functools.cache
def expected_items(path: Path) -> int | None:
    """Items parse() finds in a document, or None for documents that are not feeds."""
    try:
        return len(parse(path.read_bytes(), {}, fetched_at=datetime.now(UTC)).items)
    except ParseError:
        return None


def write_config(tmp_path: Path, feeds: list[dict[str, object]], extra: str = "") -> Path:
    lines = [
        f"database: sqlite:///{tmp_path / 'monitor.db'}",
        f"baseline: {BASELINE}",
        "defaults:",
        "  interval: 10m",
        "  timeout: 5s",
        "  jitter: 0s",
        "feeds:",
    ]
    for feed in feeds:
        lines.append(f"  - name: {feed['name']}\n    url: {feed['url']}")
    path = tmp_path / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def feeds_json(config: Path) -> dict[str, dict[str, object]]:
    code, out, _ = invoke(config, "feeds", "--json")
    assert code == 0
    return {row["name"]: row for row in json.loads(out)}


@pytest.fixture
def corpus_server() -> LoopbackServer:
    with LoopbackServer() as server:
        for doc in DOCS:
            server.serve_file(f"/{doc.name}", doc)
        yield server


def test_every_real_feed_item_is_stored_once_then_304(tmp_path: Path, corpus_server: LoopbackServer) -> None:
    feeds = [{"name": doc.stem, "url": corpus_server.url(f"/{doc.name}")} for doc in DOCS]
    config = write_config(tmp_path, feeds)
    code, _, err = invoke(config, "poll", "--once", "--drain-timeout", "1")
    assert code == 0, err
    rows = feeds_json(config)
    for doc in DOCS:
        want = expected_items(doc)
        row = rows[doc.stem]
        if want is None:
            assert row["error_count"] == 1 and row["last_error"], doc.name
        else:
            assert (row["items"], row["last_status"], row["error_count"]) == (want, 200, 0), doc.name

    before = len(corpus_server.requests)
    code, _, _ = invoke(config, "poll", "--once", "--drain-timeout", "1")
    assert code == 0
    feeds_ok = {d.name for d in DOCS if expected_items(d) is not None}
    second = [r for r in corpus_server.requests[before:] if r.path.lstrip("/") in feeds_ok]
    assert len(second) == len(feeds_ok) and all("if-none-match" in r.headers for r in second)
    after = feeds_json(config)
    assert {n: r["items"] for n, r in after.items()} == {n: r["items"] for n, r in rows.items()}
    assert {r["last_status"] for n, r in after.items() if r["error_count"] == 0} == {304}


def test_feeds_json_has_the_documented_fields(tmp_path: Path, corpus_server: LoopbackServer) -> None:
    config = write_config(tmp_path, [{"name": "bbc", "url": corpus_server.url("/bbc-rss-1.xml")}])
    invoke(config, "poll", "--once")
    row = feeds_json(config)["bbc"]
    for key in (
        "name",
        "url",
        "last_status",
        "items",
        "error_count",
        "last_error",
        "last_polled_at",
        "next_poll_at",
    ):
        assert key in row
    assert row["last_polled_at"] < row["next_poll_at"]


def test_failing_feed_is_reported_not_fatal(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.route("/broken", Reply(500, b"oops"))
        server.serve_file("/ok", REAL_FEEDS / "bbc-rss-3.xml")
        config = write_config(
            tmp_path,
            [{"name": "broken", "url": server.url("/broken")}, {"name": "ok", "url": server.url("/ok")}],
        )
        code, out, _ = invoke(config, "poll", "--once")
    assert code == 0
    assert "broken: failed (500)" in out
    rows = feeds_json(config)
    assert rows["broken"]["error_count"] == 1 and "500" in str(rows["broken"]["last_error"])
    assert rows["ok"]["items"] == expected_items(REAL_FEEDS / "bbc-rss-3.xml")


def test_permanent_redirect_is_learned_and_gone_stops(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.route("/old", Reply(301, headers={"Location": server.url("/new")}))
        server.serve_file("/new", REAL_FEEDS / "bbc-rss-3.xml")
        server.route("/gone", Reply(410))
        config = write_config(
            tmp_path,
            [{"name": "moved", "url": server.url("/old")}, {"name": "gone", "url": server.url("/gone")}],
        )
        invoke(config, "poll", "--once")
        invoke(config, "poll", "--once")
        paths = [r.path for r in server.requests]
    rows = feeds_json(config)
    assert rows["moved"]["url"].endswith("/old") and rows["moved"]["learned_url"].endswith("/new")
    assert paths.count("/old") == 1  # the second cycle went straight to the new URL
    assert paths.count("/gone") == 1 and rows["gone"]["gone"] is True


def test_unknown_feed_name_is_an_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"name": "a", "url": "http://127.0.0.1:9/x"}])
    code, _, err = invoke(config, "poll", "--once", "--feed", "nope")
    assert code == 1 and "nope" in err


def test_broken_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"name": "a", "url": "not a url"}])
    code, _, err = invoke(config, "poll", "--once")
    assert code == 2
    assert "feeds[0].url" in err and "Traceback" not in err


def test_database_records_the_decisions(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.serve_file("/feed", REAL_FEEDS / "bbc-rss-1.xml")
        config = write_config(tmp_path, [{"name": "bbc", "url": server.url("/feed")}])
        invoke(config, "poll", "--once")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    with engine.connect() as conn:
        undecided = conn.execute(
            sa.text("SELECT count(*) FROM items WHERE reason IS NULL AND NOT alert")
        ).scalar()
    engine.dispose()
    assert undecided == 0


def test_503_without_retry_after_is_a_failure_and_with_it_a_delay(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.route("/plain", Reply(503))
        server.route("/polite", Reply(503, headers={"Retry-After": "7200"}))
        config = write_config(
            tmp_path,
            [
                {"name": "plain", "url": server.url("/plain")},
                {"name": "polite", "url": server.url("/polite")},
            ],
        )
        invoke(config, "poll", "--once")
        invoke(config, "poll", "--once")
    rows = feeds_json(config)
    assert rows["plain"]["error_count"] == 2  # backs off and can raise a "failing" notice
    polite = rows["polite"]
    assert polite["error_count"] == 0 and polite["last_status"] == 503
    delay = datetime.fromisoformat(str(polite["next_poll_at"])) - datetime.fromisoformat(
        str(polite["last_polled_at"])
    )
    assert delay.total_seconds() >= 7200


def test_check_config_checks_the_baseline(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"name": "a", "url": "http://127.0.0.1:9/x"}])
    config.write_text(config.read_text().replace(str(BASELINE), str(tmp_path / "missing.yaml")))
    code, _, err = invoke(config, "check-config")
    assert code == 2 and "missing.yaml" in err
