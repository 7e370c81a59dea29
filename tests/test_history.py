"""`monitor history` and `monitor stats` as a user sees them, on SQLite and PostgreSQL.

One database per backend is filled once by real `poll --once` runs against a
loopback server (two feeds; the Kazakh story in both), then two of its events
are moved into the past so the time filters have something to choose between.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from history_cases.wire import (
    EU,
    FOOTBALL,
    KZ,
    KZ_AGAIN,
    OIL,
    TJ,
    WEATHER,
    Story,
    cli,
    poll,
    rss,
    write_config,
)
from httpserver import LoopbackServer, Reply

from monitor import event_counts, history, models, store
from monitor.cli import EVENT_COLUMNS, ITEM_COLUMNS
from monitor.errors import InputError

ITEMS = models.ITEMS
EVENTS = models.EVENTS
AGENCY = "world-news-agency"  # a long feed name: the items table must still fit 80 columns
WIRE_STORIES = (KZ, TJ, EU, FOOTBALL, WEATHER)
AGENCY_STORIES = (KZ_AGAIN, OIL)


@dataclass(frozen=True)
class Polled:
    config: Path
    url: str
    tj_at: datetime  # when the Tajik event was (moved to be) detected
    eu_at: datetime


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for this module. The PostgreSQL session runs in Kabul time (UTC+4:30), so any
    result that silently depends on the server's time zone shows up as a wrong day."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('history') / 'monitor.db'}"
        return
    admin_url = str(request.getfixturevalue("postgres"))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield f"{admin_url}?options=-csearch_path%3D{schema}%20-ctimezone%3DAsia%2FKabul"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


def _move(engine: sa.Engine, story: Story, when: datetime) -> None:
    """Pretend `story` was first seen (and its event detected) at `when`."""
    link = f"https://wire.example/{story.guid}"
    with engine.begin() as conn:
        conn.execute(sa.update(ITEMS).where(ITEMS.c.link == link).values(first_seen_at=when))
        conn.execute(sa.update(EVENTS).where(EVENTS.c.link == link).values(detected_at=when))
        store.recount_items(conn)  # the day counters follow a rewritten history
        event_counts.recount(conn)


@pytest.fixture(scope="module")
def polled(database: str, tmp_path_factory: pytest.TempPathFactory) -> Polled:
    tmp = tmp_path_factory.mktemp("polled")
    with LoopbackServer() as server:
        server.route("/wire", Reply(200, rss("wire", *WIRE_STORIES)))
        server.route("/agency", Reply(200, rss(AGENCY, *AGENCY_STORIES)))
        config = write_config(tmp, database, {"wire": server.url("/wire"), AGENCY: server.url("/agency")})
        # One feed after the other: the wire's report of the Kazakh story is the first one.
        assert poll(config, "--feed", "wire")[0] == 0
        assert poll(config, "--feed", AGENCY)[0] == 0
    # 22:00 UTC is already the next day in Kabul: a day computed in local time would be wrong.
    today = datetime.now(UTC).replace(hour=22, minute=0, second=0, microsecond=0)
    tj_at, eu_at = today - timedelta(days=10), today - timedelta(days=3)
    engine = sa.create_engine(database)
    _move(engine, TJ, tj_at)
    _move(engine, EU, eu_at)
    engine.dispose()
    return Polled(config, database, tj_at, eu_at)


def rows(polled: Polled, *args: str) -> list[dict[str, object]]:
    code, out, err = cli(polled.config, "history", "--format", "json", *args)
    assert code == 0, err
    data = json.loads(out)
    assert isinstance(data, list) and all(isinstance(row, dict) for row in data)
    return data


def headlines(polled: Polled, *args: str) -> list[object]:
    return [row["headline"] for row in rows(polled, *args)]


def titles(polled: Polled, *args: str) -> set[object]:
    return {row["title"] for row in rows(polled, "--items", *args)}


def test_one_event_per_development_newest_first(polled: Polled) -> None:
    events = rows(polled)
    assert [(e["event_type"], e["actor"]) for e in events] == [
        (KZ.event_type, KZ.actor),
        (EU.event_type, EU.actor),
        (TJ.event_type, TJ.actor),
    ]
    detected = [str(e["detected_at"]) for e in events]
    assert detected == sorted(detected, reverse=True)
    assert {e["feed"] for e in events} == {"wire"}
    assert all(e["sources"] == 1 for e in events if e["actor"] != "KZ")


def test_second_outlet_counts_as_a_source(polled: Polled) -> None:
    (kz,) = rows(polled, "--actor", "KZ")
    assert kz["sources"] == 2
    reports = rows(polled, "--items", "--actor", "KZ")
    assert {r["event"] for r in reports} == {kz["event"]}


def test_type_filter(polled: Polled) -> None:
    for story in (KZ, TJ, EU):
        assert story.event_type
        assert headlines(polled, "--type", story.event_type) == [story.title]


def test_actor_by_code_or_name_is_the_same(polled: Polled) -> None:
    by_code = rows(polled, "--actor", "KZ")
    assert [r["headline"] for r in by_code] == [KZ.title]
    assert rows(polled, "--actor", "Kazakhstan") == by_code
    assert rows(polled, "--actor", "kz") == by_code
    assert headlines(polled, "--actor", "European Union") == [EU.title]


def test_since_and_until_relative(polled: Polled) -> None:
    assert headlines(polled, "--since", "7d") == [KZ.title, EU.title]
    assert headlines(polled, "--since", "1d") == [KZ.title]
    assert headlines(polled, "--until", "7d") == [TJ.title]
    assert headlines(polled, "--since", "2w", "--until", "1d") == [EU.title, TJ.title]


def test_since_and_until_dates(polled: Polled) -> None:
    tj_day = polled.tj_at.date().isoformat()
    # --until DAY includes that whole day.
    assert headlines(polled, "--until", tj_day) == [TJ.title]
    assert headlines(polled, "--since", tj_day, "--until", tj_day) == [TJ.title]
    after_tj = (polled.tj_at + timedelta(days=1)).date().isoformat()
    assert headlines(polled, "--since", after_tj) == [KZ.title, EU.title]
    assert headlines(polled, "--since", polled.eu_at.isoformat()) == [KZ.title, EU.title]


def test_items_time_filter(polled: Polled) -> None:
    recent = {s.title for s in (KZ, FOOTBALL, WEATHER, KZ_AGAIN, OIL)}
    assert titles(polled, "--since", "1d") == recent
    assert titles(polled, "--until", "1d") == {TJ.title, EU.title}


def test_feed_filter(polled: Polled) -> None:
    assert len(rows(polled, "--feed", "wire")) == 3
    assert rows(polled, "--feed", AGENCY) == []  # it reported nothing first
    assert titles(polled, "--feed", AGENCY) == {s.title for s in AGENCY_STORIES}
    assert rows(polled, "--feed", "no-such-feed") == []


def test_search_titles_and_summaries(polled: Polled) -> None:
    assert headlines(polled, "--search", "Astana") == [KZ.title]  # only in the summary
    assert headlines(polled, "--search", "travel ban") == [EU.title]
    assert headlines(polled, "--search", "dushanbe") == [TJ.title]
    assert headlines(polled, "--search", '"Kazakhstan"') == [KZ.title]
    assert titles(polled, "--search", "Arsenal") == {FOOTBALL.title}
    assert titles(polled, "--search", "foreign ministry") == {KZ_AGAIN.title}
    assert titles(polled, "--search", "Kazakhstan") == {KZ.title, KZ_AGAIN.title}


def test_search_matches_how_people_type(polled: Polled) -> None:
    kazakh = {KZ.title, KZ_AGAIN.title}
    assert titles(polled, "--search", "Kazakh") == {KZ_AGAIN.title}  # the word and its forms, not Kazakhstan
    assert titles(polled, "--search", "Kazakh*") == kazakh  # asked for: every word that begins with it
    assert titles(polled, "--search", "Kazakhs") == {KZ_AGAIN.title}  # a plural finds the singular
    assert titles(polled, "--search", "recognition") == kazakh  # KZ says only "recognises", "recognised"
    assert titles(polled, "--search", "recognize") == kazakh  # either spelling
    assert titles(polled, "--search", "ambassadors") == {TJ.title}  # plural finds the singular
    assert titles(polled, "--search", "lifted") == {EU.title}
    assert titles(polled, "--search", "KAZAKH* recognising") == kazakh
    assert titles(polled, "--search", "Kazakh recognising") == {KZ_AGAIN.title}
    assert headlines(polled, "--search", "recognise") == [KZ.title]


def test_search_or_and_phrases(polled: Polled) -> None:
    assert titles(polled, "--search", "Arsenal OR Heatwave") == {FOOTBALL.title, WEATHER.title}
    assert titles(polled, "--search", "Arsenal AND Chelsea") == {FOOTBALL.title}
    assert titles(polled, "--search", "Arsenal Heatwave") == set()  # both words are required
    assert titles(polled, "--search", '"travel ban"') == {EU.title}
    assert titles(polled, "--search", '"ban travel"') == set()  # a phrase keeps its order
    assert titles(polled, "--search", '"Kazakh"') == {KZ_AGAIN.title}  # quoted: that exact word
    assert titles(polled, "--search", "Kazakhstan's") == set()  # "s" is a word of its own, as indexed


MALFORMED = {
    "sanctions OR": "OR needs something to search for on each side",
    "OR Taliban": "OR needs something",
    "Kazakhstan AND": "AND needs something",
    "Kazakhstan OR AND Taliban": "needs something",
    '"': "a quote is not closed",
    'Kazakh"stan': "a quote is not closed",
    "*": "no words to search for",
    "un*": "un* is too short a prefix",
    "( ) - ^ {}": "no words to search for",
}


def test_malformed_search_is_an_error_not_an_empty_result(polled: Polled) -> None:
    for text, reason in MALFORMED.items():
        for extra in ([], ["--items"]):
            code, out, err = cli(polled.config, "history", "--search", text, *extra)
            assert code == 1 and out == "", (text, out)
            assert err.startswith(f"error: search {text!r}: ") and reason in err, err
            assert "Traceback" not in err


def test_query_syntax_of_the_engines_is_plain_text(polled: Polled) -> None:
    """What FTS5 or tsquery would read as syntax is words here: rows, not an SQL error."""
    engine = sa.create_engine(polled.url)
    try:
        for text in (
            "NEAR(Kazakhstan",
            "title:Kazakhstan",
            "Kaz*",
            "Kazakhstan!",
            "a\x00b",
            "Ünïcödé",
            "&|!:",
        ):
            try:
                found = history.items(engine, history.Filters(search=text))
            except InputError:
                assert not any(c.isalnum() for c in text), text
                continue
            assert isinstance(found, list), text
        assert {r["title"] for r in history.items(engine, history.Filters(search="Kaz*"))} == {
            KZ.title,
            KZ_AGAIN.title,
        }
    finally:
        engine.dispose()


def test_blank_search_filters_nothing(polled: Polled) -> None:
    assert len(rows(polled, "--search", "   ")) == 3


def test_items_lists_every_stored_item_with_its_decision(polled: Polled) -> None:
    items = {row["title"]: row for row in rows(polled, "--items")}
    stories = (*WIRE_STORIES, *AGENCY_STORIES)
    assert set(items) == {s.title for s in stories}
    for story in stories:
        item = items[story.title]
        assert (item["event_type"], item["actor"]) == (story.event_type, story.actor), story.title
        first_report = story in (KZ, TJ, EU)
        assert item["alert"] is first_report, story.title
        joins_an_event = first_report or story is KZ_AGAIN
        assert (item["event"] is not None) is joins_an_event, story.title
        if story.event_type is None:
            assert item["reason"] == "not_relevant"


def test_limit(polled: Polled) -> None:
    assert headlines(polled, "--limit", "2") == [KZ.title, EU.title]
    assert len(rows(polled, "--items", "--limit", "4")) == 4
    code, _, err = cli(polled.config, "history", "--limit", "0")
    assert code != 0 and "Traceback" not in err


def test_csv_has_a_header_and_the_same_rows(polled: Polled) -> None:
    for extra, columns, key in (([], EVENT_COLUMNS, "event"), (["--items"], ITEM_COLUMNS, "item")):
        code, out, err = cli(polled.config, "history", "--format", "csv", *extra)
        assert code == 0, err
        table = list(csv.reader(io.StringIO(out)))
        assert table[0] == columns
        parsed = [dict(zip(columns, line, strict=True)) for line in table[1:]]
        assert [int(r[key]) for r in parsed] == [r[key] for r in rows(polled, *extra)]


def test_table_fits_80_columns(polled: Polled) -> None:
    for extra in ([], ["--items"]):
        code, out, err = cli(polled.config, "history", *extra)
        assert code == 0, err
        lines = out.splitlines()
        assert len(lines) >= 3
        assert max(len(line) for line in lines) <= 80, "\n".join(lines)


def test_stats_counts_per_feed_type_actor_and_day(polled: Polled) -> None:
    code, out, err = cli(polled.config, "stats", "--format", "json")
    assert code == 0, err
    stats = json.loads(out)
    assert {r["feed"]: r["items"] for r in stats["feeds"]} == {"wire": 5, AGENCY: 2}
    assert {r["event_type"]: r["events"] for r in stats["event_types"]} == {
        "recognition": 1,
        "diplomatic_upgrade": 1,
        "sanctions_eased": 1,
    }
    assert {r["actor"]: r["events"] for r in stats["actors"]} == {"KZ": 1, "TJ": 1, "EU": 1}
    today = datetime.now(UTC).date().isoformat()
    tj_day, eu_day = polled.tj_at.date().isoformat(), polled.eu_at.date().isoformat()
    assert {r["day"]: r["events"] for r in stats["event_days"]} == {today: 1, eu_day: 1, tj_day: 1}
    assert {r["day"]: r["items"] for r in stats["days"]} == {today: 5, eu_day: 1, tj_day: 1}


def test_query_functions_directly(polled: Polled) -> None:
    """The library calls behind the CLI, for callers that want rows rather than text."""
    engine = sa.create_engine(polled.url)
    try:
        now = datetime.now(UTC)
        since = history.parse_when("7d", now)
        events = history.events(engine, history.Filters(since=since, search="Kazakhstan"))
        assert [e["actor"] for e in events] == ["KZ"]
        items = history.items(engine, history.Filters(actor="KZ", limit=10))
        assert {i["title"] for i in items} == {KZ.title, KZ_AGAIN.title}
    finally:
        engine.dispose()


def test_parse_when() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert history.parse_when("12h", now) == datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
    assert history.parse_when("2w", now) == datetime(2026, 2, 24, 12, 0, tzinfo=UTC)
    assert history.parse_when("2026-01-31", now) == datetime(2026, 1, 31, tzinfo=UTC)
    assert history.parse_when("2026-01-31", now, end=True) == datetime(2026, 2, 1, tzinfo=UTC)
    assert history.parse_when("2026-01-31T10:00:00+05:00", now) == datetime(2026, 1, 31, 5, tzinfo=UTC)
