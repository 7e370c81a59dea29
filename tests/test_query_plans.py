"""Every filter of `history`, `history --items`, `stats`, `feeds` and `deliveries` has an index: EXPLAIN the
statements they really run, on SQLite and PostgreSQL, and find no full scan of items or events.

The tables here are tiny, so PostgreSQL's planner would rightly prefer a sequential scan; with
`enable_seqscan = off` it still picks one only when no index can serve the query. bench/history.py times the
same shapes on a million items.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import history, models, store
from monitor.db import open_database
from monitor.domain import Decision, Evidence, FeedItem

NOW = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)
F = history.Filters

SHAPES: dict[str, Callable[[Engine], object]] = {
    "history": lambda e: history.events(e, F()),
    "history --type": lambda e: history.events(e, F(event_type="sanctions_eased")),
    "history --actor": lambda e: history.events(e, F(actor="KZ")),
    "history --type --actor": lambda e: history.events(e, F(event_type="sanctions_eased", actor="KZ")),
    "history --since": lambda e: history.events(e, F(since=NOW - DAY)),
    "history --until": lambda e: history.events(e, F(until=NOW - DAY)),
    "history --feed": lambda e: history.events(e, F(feed="feed-1")),
    "history --search": lambda e: history.events(e, F(search="sanctions")),
    "items": lambda e: history.items(e, F()),
    "items --type": lambda e: history.items(e, F(event_type="sanctions_eased")),
    "items --actor": lambda e: history.items(e, F(actor="KZ")),
    "items --since --until": lambda e: history.items(e, F(since=NOW - 3 * DAY, until=NOW - DAY)),
    "items --feed": lambda e: history.items(e, F(feed="feed-1")),
    "items --feed --since": lambda e: history.items(e, F(feed="feed-1", since=NOW - DAY)),
    "items --search": lambda e: history.items(e, F(search="sanctions")),
    "items --type --search": lambda e: history.items(e, F(event_type="sanctions_eased", search="eases")),
    "stats": history.stats,
    "feeds": history.feeds,
    "deliveries": lambda e: history.deliveries(e, None, 100),
    "deliveries --status": lambda e: history.deliveries(e, "dead", 100),
}


def fill(engine: Engine) -> None:
    """A few polls through the write path: quiet items and one event with a delivery, in two feeds."""
    states = store.sync_feeds(
        engine, [("feed-1", "https://a.example/rss"), ("feed-2", "https://b.example/rss")], NOW
    )
    store.sync_webhooks(engine, [("ops", "generic", "https://hooks.example/ops")])
    eased = Decision(
        True, "sanctions_eased", "KZ", "asserted", True, 0.9, Evidence("EU eases sanctions", "x")
    )
    quiet = Decision(False, None, None, None, None, 0.0, None, "not_relevant")

    def on_event(conn: sa.Connection, event_id: int, decision: Decision) -> None:
        conn.execute(
            sa.insert(models.DELIVERIES).values(
                msg_id=f"m{event_id}", webhook="ops", event_id=event_id, status="pending", attempts=0
            )
        )

    for day in range(3):
        for name in ("feed-1", "feed-2"):
            at = NOW - (3 - day) * DAY
            batch = [
                (FeedItem(f"{name}-{day}-{n}", f"Story {n}", "sanctions news", None, at, True), quiet, False)
                for n in range(3)
            ]
            if day == 2 and name == "feed-1":
                batch.append((FeedItem("ev", "EU eases sanctions on KZ", "", None, at, True), eased, False))
            store.save_items(engine, states[name].id, batch, {}, at, on_event)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = open_database(db_url)
    fill(engine)
    yield engine
    engine.dispose()


def statements(engine: Engine, shape: Callable[[Engine], object]) -> list[tuple[str, Any]]:
    """The SQL a shape runs, with its parameters, in order."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        shape(engine)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return [(s, p) for s, p in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]


def plan(engine: Engine, statement: str, parameters: Any) -> str:
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + statement, parameters)
        lines = "\n".join(str(row[0]) for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        return lines


FULL_SCAN = {
    "sqlite": re.compile(r"^SCAN (items|events)$", re.M),  # SCAN x USING [COVERING] INDEX walks an index
    "postgresql": re.compile(r"Seq Scan on (items|events)\b"),
}


@pytest.mark.parametrize("name", SHAPES)
def test_no_full_scan_of_items_or_events(engine: Engine, name: str) -> None:
    ran = statements(engine, SHAPES[name])
    assert ran, name
    for statement, parameters in ran:
        explained = plan(engine, statement, parameters)
        assert not FULL_SCAN[engine.dialect.name].search(explained), f"{name}:\n{statement}\n{explained}"
        if engine.dialect.name == "sqlite" and name.startswith("items"):
            # Sorting every match would cost as much as the matches: the index gives the order.
            assert "TEMP B-TREE FOR ORDER BY" not in explained, f"{name}:\n{statement}\n{explained}"
            # FTS5 given ids one at a time (INDEX n:=...) runs the whole match once per id.
            assert not re.search(r"VIRTUAL TABLE INDEX \d+:=", explained), f"{name}:\n{explained}"


def test_stats_read_counters_not_events_or_items(engine: Engine) -> None:
    """Every count `stats` shows is a counter row (feeds, item_days, event_counts): even an index-only walk
    of events or items grows with the history."""
    for statement, parameters in statements(engine, history.stats):
        explained = plan(engine, statement, parameters)
        read = re.search(r"\b(SCAN|SEARCH|on) (events|items)\b", explained)  # SQLite's plan; PostgreSQL's
        assert not read, f"{statement}\n{explained}"


def test_the_shapes_return_what_they_filter(engine: Engine) -> None:
    """The plans above are for queries that work: a quick check of their answers on the same rows."""
    assert [e["actor"] for e in history.events(engine, F(feed="feed-1"))] == ["KZ"]
    assert history.events(engine, F(feed="feed-2")) == []
    assert [e["actor"] for e in history.events(engine, F(search="eases"))] == ["KZ"]
    assert len(history.items(engine, F(feed="feed-2"))) == 9
    assert len(history.items(engine, F(search="sanctions"))) == 19
    assert [i["title"] for i in history.items(engine, F(event_type="sanctions_eased"))] == [
        "EU eases sanctions on KZ"
    ]
    eased = F(event_type="sanctions_eased", search="sanctions")
    assert [i["title"] for i in history.items(engine, eased)] == ["EU eases sanctions on KZ"]
    assert len(history.items(engine, F(feed="feed-2", search="sanctions"))) == 9
    assert history.items(engine, F(actor="KZ", feed="feed-2", search="sanctions")) == []
    stats = history.stats(engine)
    assert {r["feed"]: (r["items"], r["event_reports"]) for r in stats["feeds"]} == {
        "feed-1": (10, 1),
        "feed-2": (9, 0),
    }
    assert [(r["day"], r["items"]) for r in stats["days"]] == [
        ("2026-10-31", 7),
        ("2026-10-30", 6),
        ("2026-10-29", 6),
    ]
    assert {r["name"]: r["items"] for r in history.feeds(engine)} == {"feed-1": 10, "feed-2": 9}


PREFIX_QUERY = re.compile(r'"\*|:\*')  # FTS5's "word"*, tsquery's 'word':*


def test_a_word_is_searched_by_its_forms_and_a_prefix_only_when_asked(engine: Engine) -> None:
    """A prefix makes the index read every match of every word it begins before the first row comes back
    (106 ms at a million items on SQLite for a word in every fourth item); a word's forms are read newest
    first and the reading stops at --limit. So `sanctions` runs no prefix query, `sanct*` does."""
    for text, prefix in (("sanctions", False), ("sanct*", True), ('"EU eases"', False)):
        for shape in (history.items, history.events):
            ran = " ".join(
                f"{s} {p}" for s, p in statements(engine, lambda e, s=shape, t=text: s(e, F(search=t)))
            )
            assert bool(PREFIX_QUERY.search(ran)) == prefix, (text, ran)
    assert len(history.items(engine, F(search="sanct*"))) == len(history.items(engine, F(search="sanctions")))


def session_plans(engine: Engine, shape: Callable[[Engine], object]) -> list[str]:
    """EXPLAIN each statement of a shape in one session, in order, running its settings as it does."""
    ran = statements(engine, shape)
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        found = []
        for statement, parameters in ran:
            if "set_config" in statement:
                cursor.execute(statement, parameters)
            elif "items" in statement and "pg_stats" not in statement:
                cursor.execute("EXPLAIN " + statement, parameters)
                found.append("\n".join(str(row[0]) for row in cursor.fetchall()))
        conn.rollback()
    return found


def test_postgres_lists_a_rare_word_through_its_stored_vectors_index(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored tsvector column's GIN index lists a rare or absent word's matches (the planner, left to
    itself, walked the date index through a million rows); a common word is left to the planner, which
    walks the date index newest first reading each row's stored vector (bench/history.py at 1M)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner")
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE items")
        conn.commit()
    for word in ("eases", "zyzzyva", "eas*"):
        for shape in (history.items, history.events):
            plans = session_plans(engine, lambda e, s=shape, w=word: s(e, F(search=w)))
            assert any("Bitmap Index Scan on ix_items_" in p and "search" in p for p in plans), (word, plans)
            assert not any("to_tsvector" in p for p in plans), plans  # the stored vector, not the text
    monkeypatch.setattr(history, "_GIN_MATCHES", 5)  # "a few" of the 19 items: ANALYZE finds 19 sanctions
    plans = statements(engine, lambda e: history.items(e, F(search="sanctions")))
    assert not any("set_config" in statement for statement, _ in plans), plans


@pytest.mark.parametrize(
    ("filters", "index", "token"),
    [
        (
            F(event_type="sanctions_eased", search="sanctions"),
            "classified_fts",
            "t73616e6374696f6e735f6561736564",
        ),
        (F(actor="KZ", feed="feed-1", search="sanctions"), "classified_fts", "a4b5a"),
        (F(feed="feed-1", search="story", since=NOW - 2 * DAY), "items_fts", "f1"),
    ],
    ids=["type", "actor feed", "feed since"],
)
def test_sqlite_searches_a_filters_items_inside_the_full_text_index(
    engine: Engine, filters: history.Filters, index: str, token: str
) -> None:
    """On SQLite a search with a feed, type or actor filter is one FTS5 match of the words AND the filter's
    tokens: FTS5 steps through both lists of matches newest first, stopping at --limit, and items is only
    read by id for the rows it returns. Neither every match's row is checked against the filter (68 ms
    at a million items when no match had the type) nor the filter's items listed from their own index."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's full-text index")
    ran = [(s, p) for s, p in statements(engine, lambda e: history.items(e, filters)) if " MATCH " in s]
    assert len(ran) == 1, ran
    statement, parameters = ran[0]
    assert f'search_filters: "{token}"' in str(parameters), parameters
    lines = plan(engine, statement, parameters).splitlines()
    expected = [  # no sort (FTS5 gives rowid order), no other index of items, no IN list
        "MATERIALIZE anon_1",
        rf"SCAN {index} VIRTUAL TABLE INDEX \d+:M\S*",
        r"SEARCH items USING INTEGER PRIMARY KEY \(rowid=\?\)",
        "SCAN anon_1",
        r"SEARCH feeds USING INTEGER PRIMARY KEY \(rowid=\?\)",
    ]
    assert len(lines) == len(expected), lines
    assert all(re.fullmatch(e, line) for e, line in zip(expected, lines, strict=True)), lines


def test_postgres_lists_a_types_few_matches_through_the_classified_items_index(engine: Engine) -> None:
    """With a type or actor filter, a word the filter's items rarely hold is listed through the search
    index of classified items (0.7 ms at a million items; a walk of the type's items read every one of them
    when none held the word, 97 ms). A table this small prices any index alike, so the test drops the
    others inside a rolled-back transaction: what it checks is that the probe is one that index serves
    (same expression, same condition), and that the plan does not even offer it another index."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner")
    for f in CLASSIFIED_SEARCHES:
        ran = statements(engine, lambda e, f=f: history.items(e, f))
        # The filter's newest items hold fewer than --limit matches, so one more statement decides in the
        # database: no probe of its own, no settings.
        assert len(ran) == 2, ran
        statement, parameters = ran[1]
        with engine.connect() as conn:
            others = conn.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'items'"
                " AND indexname NOT IN ('items_pkey', 'uq_items_feed_key', 'ix_items_classified_search')"
            ).scalars()
            for index in list(others):
                conn.exec_driver_sql(f"DROP INDEX {index}")
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.execute("EXPLAIN " + statement, parameters)
            found = "\n".join(str(row[0]) for row in cursor.fetchall())
            conn.rollback()
        # The index looks the words up (not merely lists every classified item, as its condition allows).
        served = re.search(r"Bitmap Index Scan on ix_items_classified_search.*\n\s+Index Cond: .*@@", found)
        assert served, (f, found)


CLASSIFIED_SEARCHES = [
    F(event_type="sanctions_eased", search="sanctions"),
    F(actor="KZ", search="eases"),
    F(event_type="sanctions_eased", search="zyzzyva"),
    F(event_type="sanctions_imposed", search="sanctions"),  # a type no item has
    F(event_type="sanctions_eased", actor="KZ", search="story"),  # a word only unclassified items hold
    F(event_type="sanctions_eased", search="sanctions", feed="feed-2"),  # its one match is in feed-1
    F(event_type="sanctions_eased", search="sanctions", until=NOW - 3 * DAY),
    F(actor="KZ", search="sanctions", since=NOW - DAY),
]


def analysed(engine: Engine, f: history.Filters) -> str:
    """EXPLAIN ANALYZE of the statement that decides, after the look at the filter's newest items (which
    found fewer than --limit): which branches ran, which never did."""
    (_, (statement, parameters)) = statements(engine, lambda e: history.items(e, f))
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + statement, parameters)
        return "\n".join(str(row[0]) for row in cursor.fetchall())


def test_postgres_a_filters_few_matches_are_listed_and_many_walked_in_one_statement(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The statement holds both plans and runs one: the probe's few matches looked up by id, or, when the
    word is frequent among the filter's items (as many matches as the probe reads), a walk of the filter's
    index newest first; the other branch never executes. Listed or walked, the answer is the same."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plans")
    listed = [history.items(engine, f) for f in CLASSIFIED_SEARCHES]
    assert [[row["title"] for row in rows] for rows in listed] == [
        ["EU eases sanctions on KZ"],
        ["EU eases sanctions on KZ"],
        [],
        [],
        [],
        [],
        [],
        ["EU eases sanctions on KZ"],
    ]
    few = analysed(engine, CLASSIFIED_SEARCHES[0])
    # The list branch joins the probe's ids (the counts read it as probe_1, probe_2); the walk is items_1.
    assert re.search(r"CTE Scan on probe \(actual rows=1 ", few), few
    assert re.search(r"Scan[^\n]* on items items_1 \(never executed\)", few), few
    monkeypatch.setattr(history, "_CLASSIFIED_PROBE", 1)  # one match is "many": the filter's index is walked
    many = analysed(engine, CLASSIFIED_SEARCHES[0])
    assert re.search(r"CTE Scan on probe \(never executed\)", many), many
    assert re.search(r"Scan[^\n]* on items items_1 \(actual rows=1 ", many), many
    assert [history.items(engine, f) for f in CLASSIFIED_SEARCHES] == listed


def test_postgres_a_word_frequent_among_a_filters_newest_items_is_answered_from_them(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word in --limit of the filter's newest --limit x _WINDOW items is the page at once: one statement
    that walks the filter's index newest first and stops (the probe would read every classified item holding
    the word: 21 ms for `--type --search the` at a million items). The answer is the one the probe gives."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plans")
    frequent = F(event_type="sanctions_eased", search="sanctions", limit=1)
    ((statement, parameters),) = statements(engine, lambda e: history.items(e, frequent))
    with engine.connect() as conn:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a table this small is read whole otherwise
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("EXPLAIN " + statement, parameters)
        plan = "\n".join(str(row[0]) for row in cursor.fetchall())
        conn.rollback()
    # newest first through a date-ordered index (at this size the planner may take either), no probe
    assert re.search(r"Index Scan Backward using ix_items_(type_)?seen", plan), plan
    assert "ix_items_classified_search" not in plan, plan
    shapes = [*CLASSIFIED_SEARCHES, *(replace(f, limit=1) for f in CLASSIFIED_SEARCHES)]
    answered = [history.items(engine, f) for f in shapes]
    assert [len(rows) for rows in answered] == [1, 1, 0, 0, 0, 0, 0, 1] * 2
    monkeypatch.setattr(history, "_WINDOW", 0)  # no window: every shape goes to the probe
    assert [history.items(engine, f) for f in shapes] == answered


def test_postgres_indexes_of_few_items_keep_no_pending_list(engine: Engine) -> None:
    """The GIN indexes of classified items and event reports take entries into their trees at once: a
    pending list (GIN's fast update) is read whole by every search, and at their few inserts it stayed near
    its 4 MB limit, 450 pages read per `--type X --search` at a million items against 25 at 10k."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's GIN indexes")
    with engine.connect() as conn:
        options = dict(
            conn.exec_driver_sql(
                "SELECT relname, reloptions FROM pg_class WHERE relname IN "
                "('ix_items_classified_search', 'ix_items_reports_search')"
            ).all()
        )
    assert options == {name: ["fastupdate=off"] for name in options} and len(options) == 2, options
