"""Official sanctions lists end to end: `monitor poll --once` against a loopback server serving the real
fixtures (and documents cut from them), a real SQLite file, and a generic webhook on the same server."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from httpserver import LoopbackServer, RecordedRequest, Reply
from lists_fixtures import (
    OFAC_CSV,
    OFAC_S3_ERROR,
    UN_2026,
    UN_SERIES,
    un_one_added_one_removed,
    un_without_taliban,
)
from support import BASELINE, counted_and_stated

from monitor import models
from monitor.cli import main
from monitor.db import open_database

CASES = Path(__file__).resolve().parent / "list_cases"


class Document:
    """One URL whose body a test swaps between polls; answers 304 to its own ETag."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def __call__(self, request: RecordedRequest) -> Reply:
        etag = f'"{hashlib.sha256(self.body).hexdigest()[:16]}"'
        if request.headers.get("if-none-match") == etag:
            return Reply(304, headers={"ETag": etag})
        return Reply(200, self.body, {"ETag": etag, "Content-Type": "application/xml"})


def write_config(
    tmp_path: Path,
    server: LoopbackServer,
    feeds: dict[str, str],
    extra: str = "",
    database: str | None = None,
) -> Path:
    lines = [
        f"database: {database or 'sqlite:///' + str(tmp_path / 'monitor.db')}",
        f"baseline: {BASELINE}",
        "defaults:\n  jitter: 0s\n  timeout: 5s",
        "delivery:\n  backoff: [0s, 100ms]\n  timeout: 2s",
        f"webhooks:\n  - name: archive\n    kind: generic\n    url: {server.url('/hook')}",
        "feeds:",
    ]
    for name, fmt in feeds.items():
        lines.append(
            f"  - name: {name}\n    url: {server.url('/' + name)}\n    format: {fmt}\n    official: true"
        )
    path = tmp_path / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def poll(config: Path) -> str:
    code, out, err = invoke(config, "poll", "--once", "--drain-timeout", "5")
    assert code == 0, err
    return out


def hooks(server: LoopbackServer) -> list[dict[str, object]]:
    return [json.loads(r.body) for r in server.requests if r.method == "POST" and r.path == "/hook"]


def feed_row(config: Path, name: str) -> dict[str, object]:
    code, out, _ = invoke(config, "feeds", "--json")
    assert code == 0
    return next(row for row in json.loads(out) if row["name"] == name)


def table(tmp_path: Path, model: sa.Table, *columns: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        with engine.connect() as conn:
            chosen = [model.c[c] for c in columns]
            return [tuple(row) for row in conn.execute(sa.select(*chosen).order_by(*chosen))]
    finally:
        engine.dispose()


@pytest.fixture
def server() -> LoopbackServer:
    with LoopbackServer() as srv:
        srv.route("/hook", Reply(204))
        yield srv


def test_un_series_2017_to_2026_alerts_nothing(tmp_path: Path, server: LoopbackServer) -> None:
    document = Document(UN_SERIES[0].read_bytes())
    server.route_with("/un", document)
    config = write_config(tmp_path, server, {"un": "un-consolidated"})
    for path in UN_SERIES:
        document.body = path.read_bytes()
        assert "un: new (200)" in poll(config)
    assert hooks(server) == []
    code, out, _ = invoke(config, "history", "--format", "json")
    assert code == 0 and json.loads(out) == []
    assert len(table(tmp_path, models.LIST_ENTRIES, "key")) == 7
    # The one real amendment in the series is stored and shown, not alerted.
    assert table(tmp_path, models.LIST_CHANGES, "key", "change", "changed_fields", "alert") == [
        ("TAi.004", "amended", "listed_on", False)
    ]
    (item,) = json.loads(invoke(config, "history", "--items", "--format", "json")[1])
    assert item["alert"] is False and item["title"].startswith("TAi.004 ")
    code, out, _ = invoke(config, "history", "--items", "--show", str(item["item"]))
    assert code == 0 and "* listed_on: 2001-01-31 -> 2000-04-12" in out
    code, _, err = invoke(config, "history", "--show", "999")
    assert code == 1 and "event 999: no sanctions-list change" in err


def test_one_added_and_one_removed_are_two_alerts_with_references(
    tmp_path: Path, server: LoopbackServer, db_url: str
) -> None:
    document = Document(UN_2026.read_bytes())
    server.route_with("/un", document)
    config = write_config(tmp_path, server, {"un": "un-consolidated"}, database=db_url)
    assert "0 events" in poll(config)  # the baseline
    document.body = un_one_added_one_removed()
    assert "2 events" in poll(config)
    sent = hooks(server)
    assert len(sent) == 2
    events = {e["event"]["list_entry"]["reference"]: e for e in sent}  # type: ignore[index]
    added, removed = events["TAi.175"], events["TAi.068"]
    assert added["event"]["event_type"] == "sanctions_imposed" and added["event"]["actor"] == "UN"  # type: ignore[index]
    assert added["event"]["list_entry"]["listed_on"] == "2026-03-02"  # type: ignore[index]
    assert added["event"]["official"] is True and "official source" in str(added["title"])  # type: ignore[index]
    assert removed["event"]["event_type"] == "sanctions_eased"  # type: ignore[index]
    assert str(added["event"]["link"]).startswith("https://main.un.org/")  # type: ignore[index]

    code, out, _ = invoke(config, "history")
    assert code == 0 and "TAi.175" in out and "TAi.068" in out
    rows = json.loads(invoke(config, "history", "--format", "json")[1])
    event_id = next(r["event"] for r in rows if "TAi.068" in r["headline"])
    code, out, _ = invoke(config, "history", "--show", str(event_id))
    assert code == 0 and "TAi.068" in out and "removed from" in out
    assert "name: " in out and "-> (none)" in out  # before -> after

    poll(config)  # the same document again: 304, nothing new
    assert len(hooks(server)) == 2
    engine = open_database(db_url)
    counted, stated = counted_and_stated(engine)  # list changes' events are counted for `stats` too
    engine.dispose()
    assert stated == counted and stated["actors"] == {"UN": 2}


def test_s3_error_page_as_the_ofac_list_is_a_feed_error(tmp_path: Path, server: LoopbackServer) -> None:
    document = Document(OFAC_CSV.read_bytes())
    server.route_with("/ofac", document)
    config = write_config(tmp_path, server, {"ofac": "ofac-sdn"})
    poll(config)
    document.body = OFAC_S3_ERROR.read_bytes()
    out = poll(config)
    assert "ofac: failed" in out and "root element is <Error>" in out
    row = feed_row(config, "ofac")
    assert row["error_count"] == 1 and "<Error>" in str(row["last_error"])
    assert hooks(server) == [] and table(tmp_path, models.LIST_CHANGES, "key") == []
    assert len(table(tmp_path, models.LIST_ENTRIES, "key")) == 10  # nothing delisted
    document.body = OFAC_CSV.read_bytes()
    poll(config)
    assert feed_row(config, "ofac")["error_count"] == 0 and hooks(server) == []


def test_ofac_selection_keeps_10743_drops_12206_and_7472(tmp_path: Path, server: LoopbackServer) -> None:
    server.route_with("/ofac", Document(OFAC_CSV.read_bytes()))
    config = write_config(tmp_path, server, {"ofac": "ofac-sdn"})
    poll(config)
    keys = {key for (key,) in table(tmp_path, models.LIST_ENTRIES, "key")}
    assert "10743" in keys and "12206" not in keys and "7472" not in keys


def test_mass_change_is_one_notice_and_every_change_is_kept(tmp_path: Path, server: LoopbackServer) -> None:
    document = Document(UN_2026.read_bytes())
    server.route_with("/un", document)
    settings = "lists:\n  breaker_min: 2\n  min_kept: 0\n"  # the excerpt has 8 entries, 5 of them go
    config = write_config(tmp_path, server, {"un": "un-consolidated"}, settings)
    poll(config)
    document.body = un_without_taliban(UN_2026.read_bytes())
    assert "0 events" in poll(config)
    (notice,) = hooks(server)
    assert notice["type"] == "feed.notice" and notice["notice"]["status"] == "bulk_change"  # type: ignore[index]
    assert "5 changes" in str(notice["notice"]["detail"])  # type: ignore[index]
    held = table(tmp_path, models.LIST_CHANGES, "key", "change", "held", "alert")
    assert len(held) == 5 and all(row[1:] == ("removed", True, False) for row in held)
    items = json.loads(invoke(config, "history", "--items", "--format", "json")[1])
    assert len(items) == 5 and all(not item["alert"] for item in items)


def test_a_uk_copy_of_a_un_listing_joins_its_event(
    tmp_path: Path, server: LoopbackServer, db_url: str
) -> None:
    un, uk = (
        Document(UN_2026.read_bytes()),
        Document((CASES / "uk-sanctions-list_hand-built.xml").read_bytes()),
    )
    server.route_with("/un", un)
    server.route_with("/uk", uk)
    config = write_config(
        tmp_path, server, {"un": "un-consolidated", "uk": "uk-sanctions-list"}, database=db_url
    )
    poll(config)
    un.body = un_one_added_one_removed()
    poll(config)
    copy = (
        b"<Designation><UniqueID>AFG0142</UniqueID><UNReferenceNumber>TAi.175</UNReferenceNumber>"
        b"<DateDesignated>05/03/2026</DateDesignated><Names><Name><Name1>NEW</Name1><Name6>LISTING</Name6>"
        b"<NameType>Primary Name</NameType></Name></Names>"
        b"<RegimeName>The Afghanistan (Sanctions) (EU Exit) Regulations 2020</RegimeName>"
        b"<IndividualEntityShip>Individual</IndividualEntityShip></Designation></Designations>"
    )
    uk.body = uk.body.replace(b"</Designations>", copy)
    assert "0 events" in poll(config)
    assert len(hooks(server)) == 2  # the UN's two; the UK copy is a source, not a third alert
    rows = json.loads(invoke(config, "history", "--format", "json")[1])
    added = next(r for r in rows if "TAi.175" in r["headline"])
    assert added["sources"] == 2
    code, out, _ = invoke(config, "history", "--show", str(added["event"]))
    assert code == 0
    assert "on un," in out and "on uk," in out and "AFG0142" in out


def test_unknown_format_is_a_config_error_naming_the_key(tmp_path: Path, server: LoopbackServer) -> None:
    config = write_config(tmp_path, server, {"un": "un-xml"})
    code, _, err = invoke(config, "check-config")
    assert code == 2 and "feeds[0].format" in err and "un-consolidated" in err and "Traceback" not in err


def test_migration_adds_the_list_tables_and_official_flag_to_an_older_database(db_url: str) -> None:
    from monitor.db import MIGRATIONS, migrate, open_database

    engine = open_database(db_url)
    version = next(i for i, step in enumerate(MIGRATIONS, 1) if step.__name__ == "_official_sources")
    with engine.begin() as conn:  # back to the schema before this migration
        for name in ("list_changes", "list_entries", "list_state"):
            conn.exec_driver_sql(f"DROP TABLE {name}")
        conn.exec_driver_sql("ALTER TABLE feeds DROP COLUMN official")
        conn.exec_driver_sql(f"DELETE FROM schema_version WHERE version = {version}")
        conn.exec_driver_sql(
            "INSERT INTO feeds (name, url, error_count, gone, enabled, lease_token) "
            "VALUES ('old', 'https://x.example/', 0, false, true, 0)"
        )
    assert migrate(engine) == len(MIGRATIONS)
    inspector = sa.inspect(engine)
    assert {"list_changes", "list_entries", "list_state"} <= set(inspector.get_table_names())
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT official FROM feeds WHERE name = 'old'").scalar() in (False, 0)
    engine.dispose()


def test_a_feeds_own_timeout_waits_for_a_slow_generator(tmp_path: Path, server: LoopbackServer) -> None:
    # The EU file is generated on the fly before its first byte: the default read timeout (0.3 s here)
    # would cut it; the feed's own `timeout` (5 s) lets it answer after 0.6 s.
    body = (CASES / "eu-fsf_hand-built.xml").read_bytes()
    server.route("/eu", Reply(200, body, {"Content-Type": "application/xml"}, delay=0.6))
    server.route("/eu-default", Reply(200, body, {"Content-Type": "application/xml"}, delay=0.6))
    config = write_config(tmp_path, server, {"eu": "eu-fsf", "eu-default": "eu-fsf"})
    text = config.read_text().replace("  timeout: 5s", "  timeout: 5s\n  read_timeout: 300ms", 1)
    text = text.replace(
        "    format: eu-fsf\n    official: true", "    format: eu-fsf\n    official: true\n    timeout: 5s", 1
    )
    config.write_text(text)
    out = poll(config)
    assert "eu: new (200)" in out
    assert "eu-default: failed" in out and "read timed out" in out


def test_an_alert_from_an_official_announcement_feed_says_so(tmp_path: Path, server: LoopbackServer) -> None:
    from history_cases.wire import EU, KZ, rss

    server.route("/eu-council", Reply(200, rss("eu-council", EU), {"Content-Type": "application/rss+xml"}))
    server.route("/wire", Reply(200, rss("wire", KZ), {"Content-Type": "application/rss+xml"}))
    config = write_config(tmp_path, server, {})
    feeds = (
        f"  - name: eu-council\n    url: {server.url('/eu-council')}\n    official: true\n"
        f"  - name: wire\n    url: {server.url('/wire')}\n"
    )
    config.write_text(config.read_text().replace("feeds:\n", "feeds:\n" + feeds))
    poll(config)
    sent = {str(body["event"]["feed"]): body for body in hooks(server)}  # type: ignore[index]
    assert sent["eu-council"]["event"]["official"] is True  # type: ignore[index]
    assert str(sent["eu-council"]["title"]).endswith("(official source)")
    assert sent["wire"]["event"]["official"] is False  # type: ignore[index]
    assert "official" not in str(sent["wire"]["title"])
    assert sent["eu-council"]["event"]["list_entry"] is None  # type: ignore[index]


def test_an_ofac_entry_added_alerts_with_its_uid_and_official_page(
    tmp_path: Path, server: LoopbackServer
) -> None:
    rows = OFAC_CSV.read_bytes()
    without = b"".join(line for line in rows.splitlines(keepends=True) if not line.startswith(b"10743,"))
    document = Document(without)
    server.route_with("/ofac", document)
    config = write_config(tmp_path, server, {"ofac": "ofac-sdn"})
    poll(config)
    document.body = rows
    assert "1 events" in poll(config)
    (sent,) = hooks(server)
    event = sent["event"]
    assert isinstance(event, dict)
    assert (event["event_type"], event["actor"]) == ("sanctions_imposed", "US")
    assert event["link"] == "https://sanctionssearch.ofac.treas.gov/Details.aspx?id=10743"
    assert event["list_entry"]["reference"] == "10743" and event["list_entry"]["listed_on"] is None
    assert "Sirajuddin" in str(event["headline"]) and "first seen" in str(event["summary"])


def test_prune_keeps_an_old_list_amendment_pointing_at_its_item(
    tmp_path: Path, server: LoopbackServer
) -> None:
    document = Document(UN_SERIES[0].read_bytes())
    server.route_with("/un", document)
    config = write_config(tmp_path, server, {"un": "un-consolidated"})
    poll(config)
    document.body = UN_2026.read_bytes()
    poll(config)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    items, changes = models.ITEMS, models.LIST_CHANGES
    try:
        with engine.begin() as conn:  # the amendment is 200 days old, past the 30-day retention
            old = datetime.now(UTC) - timedelta(days=200)
            conn.execute(sa.update(items).values(first_seen_at=old))
            conn.execute(sa.update(changes).values(detected_at=old))
        code, _, err = invoke(config, "prune", "--days", "30")
        assert code == 0, err
        assert invoke(config, "prune", "--days", "30")[0] == 0  # and the next hourly prune too
        with engine.connect() as conn:
            pointed = conn.execute(
                sa.select(changes.c.key, items.c.key, items.c.pruned).join(
                    items, items.c.id == changes.c.item_id
                )
            ).all()
    finally:
        engine.dispose()
    assert [(c, k.startswith("list:amended:TAi.004:"), pruned) for c, k, pruned in pointed] == [
        ("TAi.004", True, True)
    ]
