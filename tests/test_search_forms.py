"""A searched word finds its own forms, not another word that happens to start with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from test_store import NOW, item, quiet, save

from monitor import history, store
from monitor.db import open_database

TITLES = {
    "aid": "Aid convoy reaches Kabul",
    "aided": "Neighbours aided the talks",
    "aide": "Presidential aide resigns",
    "plans": "Plans for talks announced",
    "plane": "Plane lands at Kabul airport",
    "planes": "Two planes land in Herat",
    "sit": "Envoys sit down in Doha",
    "site": "Embassy site chosen",
    "trade": "Trade office reopens",
    "trading": "Trading resumes at the border",
    "taxes": "Taliban raise taxes",
}


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = open_database(db_url)
    store.sync_feeds(engine, [("wire", "https://a.example/rss")], NOW)
    state = store.load_feed(engine, "wire")
    assert state is not None
    save(engine, state.id, [(item(key, title), quiet()) for key, title in TITLES.items()], [])
    yield engine
    engine.dispose()


def found(engine: sa.Engine, words: str) -> set[str]:
    rows = history.items(engine, history.Filters(search=words))
    return {key for key, title in TITLES.items() if title in {row["title"] for row in rows}}


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("aid", {"aid", "aided"}),  # not "aide"
        ("plan", {"plans"}),  # not "plane"
        ("plane", {"plane", "planes"}),  # not "plans"
        ("plans", {"plans"}),  # not "plane" nor "planes": an ending taken off is no licence
        ("planes", {"plane", "planes"}),  # "plane" + s, not "plan" + es
        ("sit", {"sit"}),  # not "site"
        ("site", {"site"}),
        ("trading", {"trade", "trading"}),  # an ending taken off gives its e back
        ("tax", {"taxes"}),
    ],
)
def test_a_word_finds_its_forms_only(engine: sa.Engine, words: str, expected: set[str]) -> None:
    assert found(engine, words) == expected
