"""`history --items --search` with a feed, type or actor filter finds exactly the items the search finds
that the filter keeps, on SQLite (where the filter is part of the full-text match: db._SEARCH_FILTERS) and
PostgreSQL; after a prune and after the upgrade that builds SQLite's filter index for an existing history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import db, history, models, store
from monitor.db import open_database
from monitor.domain import Decision, Evidence, FeedItem

NOW = datetime(2026, 11, 1, tzinfo=UTC)
F = history.Filters
EASED = "sanctions_eased"
EASED_TOKEN = "t" + EASED.encode().hex()  # the index's token for the type (db._SEARCH_FILTERS)


def decision(n: int, event_type: str | None, actor: str | None) -> Decision:
    if event_type is None and actor is None:
        return Decision(False, None, None, None, None, 0.0, None, "not_relevant")
    if n == 0:  # an event's report: prune blanks it in place, not by rewriting the row
        return Decision(True, event_type, actor, "asserted", True, 0.9, Evidence("EU recognises", "r"))
    return Decision(False, event_type, actor, "planned", True, 0.5, Evidence("x", "r"), "speculative")


# (feed, title, summary, event type, actor): word forms, phrases, prefixes, and words that look like the
# index's filter tokens (a feed's `f<id>`, a type's hex), which must match only as words.
STORIES: list[tuple[str, str, str, str | None, str | None]] = [
    ("wire", "EU recognises the new government", "recognition follows talks", EASED, "EU"),
    ("wire", "Kazakhstan bans imports", "the ban covers grain", "sanctions_imposed", "KZ"),
    ("wire", "Banned exports to two countries", "", None, None),
    ("wire", "A country eases sanctions", "the easing is partial", EASED, "KZ"),
    ("wire", "Kazakh officials meet", "talks on sanctions", None, "KZ"),
    ("agency", "EU eases sanctions on Uzbekistan", "recognized as a step", EASED, "UZ"),
    ("agency", "F16 jets recognised at the show", "f1 f2 and " + EASED_TOKEN, None, None),
    ("agency", "Sanctions imposed, then eased", "a ban and a recognition", "sanctions_imposed", "UZ"),
    ("agency", "Weather: storms ease", "no sanctions here", None, None),
    ("local", "Local council bans parking", "sanctions for parking", None, "KZ"),
    ("local", "Kazakhstan recognition bulletin", "eases sanctions slowly", EASED, "KZ"),
]
QUERIES = [
    "sanctions",
    "recognise",  # its forms: recognises, recognized, recognition
    "ban",  # bans, banned
    "country",  # countries
    "kazakh*",
    "sanct* ease",
    '"eases sanctions"',
    "recognition OR bans",
    "ban sanctions OR ease",
    "f1",  # a word in a title, not feed 1's token
    "F16",
    EASED_TOKEN,  # a word here, not the type
    "zyzzyva",
]
FILTERS: list[dict[str, Any]] = [
    {"feed": "wire"},
    {"feed": "agency"},
    {"feed": "nowhere"},
    {"event_type": EASED},
    {"event_type": "sanctions_imposed"},
    {"actor": "KZ"},
    {"actor": "UZ"},
    {"event_type": EASED, "actor": "KZ"},
    {"feed": "local", "actor": "KZ"},
    {"feed": "agency", "event_type": EASED},
]


def fill(engine: Engine) -> None:
    """Each story stored by the write path, an hour apart, oldest first, in its feed's own poll."""
    feeds = [("wire", "https://w.example/rss"), ("agency", "https://a.example/rss")]
    states = store.sync_feeds(engine, [*feeds, ("local", "https://l.example/rss")], NOW)
    for n, (feed, title, summary, event_type, actor) in enumerate(STORIES):
        at = NOW - timedelta(hours=len(STORIES) - n)
        item = FeedItem(f"{feed}-{n}", title, summary, None, at, True)
        batch = [(item, decision(n, event_type, actor), False)]
        store.save_items(engine, states[feed].id, batch, {}, at, lambda *_: None)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = open_database(db_url)
    fill(engine)
    yield engine
    engine.dispose()


def titles(rows: list[dict[str, object]]) -> list[object]:
    return [row["title"] for row in rows]


def kept(row: dict[str, object], filters: dict[str, Any]) -> bool:
    names = {"feed": "feed", "event_type": "event_type", "actor": "actor"}
    return all(row[names[k]] == v for k, v in filters.items())


def assert_filters_keep_what_the_search_finds(engine: Engine) -> int:
    """Every query with every filter: the filtered search's items are the unfiltered search's items the
    filter keeps, in the same order. Returns how many filtered results were not empty."""
    found = 0
    for query in QUERIES:
        everything = history.items(engine, F(search=query, limit=1000))
        for filters in FILTERS:
            filtered = history.items(engine, F(search=query, limit=1000, **filters))
            expected = [row for row in everything if kept(row, filters)]
            assert filtered == expected, (query, filters)
            found += bool(filtered)
    return found


def test_a_filtered_search_finds_the_searchs_items_the_filter_keeps(engine: Engine) -> None:
    found = assert_filters_keep_what_the_search_finds(engine)
    assert found >= 30  # the comparison is not of empty lists
    # The search language itself, unchanged (a wrong answer would be the same with or without filters).
    assert titles(history.items(engine, F(search="recognise", feed="agency"))) == [
        "Sanctions imposed, then eased",
        "F16 jets recognised at the show",
        "EU eases sanctions on Uzbekistan",
    ]
    assert titles(history.items(engine, F(search='"eases sanctions"', actor="KZ"))) == [
        "Kazakhstan recognition bulletin",
        "A country eases sanctions",
    ]
    assert titles(history.items(engine, F(search="kazakh*", event_type="sanctions_imposed"))) == [
        "Kazakhstan bans imports"
    ]
    # A word spelled like a filter token is a word: no feed's or type's items come with it.
    assert titles(history.items(engine, F(search="f1"))) == ["F16 jets recognised at the show"]
    assert titles(history.items(engine, F(search=EASED_TOKEN))) == ["F16 jets recognised at the show"]


def test_limit_and_time_filters_apply_to_a_filtered_search(engine: Engine) -> None:
    newest = history.items(engine, F(search="sanctions", actor="KZ", limit=2))
    assert titles(newest) == ["Kazakhstan recognition bulletin", "Local council bans parking"]
    since = NOW - timedelta(hours=3, minutes=30)
    assert titles(history.items(engine, F(search="sanctions", actor="KZ", since=since))) == titles(newest)
    until = NOW - timedelta(hours=7, minutes=30)
    assert titles(history.items(engine, F(search="sanctions", actor="KZ", until=until))) == [
        "A country eases sanctions"
    ]


def index_counts(engine: Engine) -> dict[str, int]:
    """How many items each SQLite index holds per filter token, next to how many unpruned items the
    filter keeps: the two agree when every write path kept the index true."""
    counts = {}
    unpruned = models.ITEMS.c.pruned == False  # noqa: E712
    with engine.connect() as conn:
        for filters in FILTERS:
            tokens = history._filter_tokens(conn, F(**filters))
            if not tokens:
                continue
            table = "classified_fts" if {"event_type", "actor"} & filters.keys() else "items_fts"
            match = " AND ".join(f'search_filters: "{t}"' for t in tokens)
            indexed = conn.exec_driver_sql(f"SELECT count(*) FROM {table} WHERE {table} MATCH ?", (match,))
            query = history._filtered(
                sa.select(models.ITEMS.c.id).where(unpruned), F(**filters), history.ITEM_COLUMNS
            )
            counts[f"{table} {filters}"] = int(indexed.scalar_one()) - len(
                conn.execute(query.limit(None)).all()
            )
    return counts


def test_prune_leaves_the_filter_index_true(sqlite_url: str) -> None:
    """Pruning blanks items two ways on SQLite (rewritten, or updated in place when a list change or an
    event points at them); either way they leave the filter tokens' index and the searches agree."""
    engine = open_database(sqlite_url)
    try:
        fill(engine)
        with engine.begin() as conn:  # the oldest half is older; one of them reported an event
            conn.execute(
                sa.update(models.ITEMS)
                .where(models.ITEMS.c.id <= 6)
                .values(first_seen_at=NOW - timedelta(days=100))
            )
        assert set(index_counts(engine).values()) == {0}
        assert store.prune_items(engine, NOW - timedelta(days=90), prune_events=True) == 6
        assert set(index_counts(engine).values()) == {0}
        assert assert_filters_keep_what_the_search_finds(engine) >= 10
        assert titles(history.items(engine, F(search="sanctions", event_type=EASED))) == [
            "Kazakhstan recognition bulletin"
        ]
        store.return_space(engine)
        with engine.connect() as conn:
            for table in ("items_fts", "classified_fts"):
                conn.exec_driver_sql(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
    finally:
        engine.dispose()


def as_before_the_filter_index(engine: Engine) -> None:
    """Take a SQLite database back to the schema before the filter index (migration 11): two-column
    items_fts, no classified_fts, no search_filters column."""
    version = next(i for i, step in enumerate(db.MIGRATIONS, 1) if step.__name__ == "_filtered_search")
    with engine.begin() as conn:
        for table in ("items_fts", "classified_fts"):
            for trigger in ("ad", "au"):
                conn.exec_driver_sql(f"DROP TRIGGER {table}_{trigger}")
            conn.exec_driver_sql(f"DROP TABLE {table}")
        conn.exec_driver_sql("ALTER TABLE items DROP COLUMN search_filters")
        for statement in db._SQLITE_FTS:
            if "items_fts_ai" not in statement:
                conn.exec_driver_sql(statement)
        conn.exec_driver_sql("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")
        conn.execute(sa.delete(models.SCHEMA_VERSION).where(models.SCHEMA_VERSION.c.version >= version))


def test_the_upgrade_indexes_an_existing_historys_filters(sqlite_url: str) -> None:
    engine = open_database(sqlite_url)
    fill(engine)
    as_before_the_filter_index(engine)
    engine.dispose()
    engine = open_database(sqlite_url)  # the upgrade
    try:
        assert set(index_counts(engine).values()) == {0}
        assert assert_filters_keep_what_the_search_finds(engine) >= 30
    finally:
        engine.dispose()
