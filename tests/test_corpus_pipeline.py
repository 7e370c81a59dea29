"""Every document of feedparser's test suite goes fetch -> parse -> store (over real HTTP, into a real SQLite
file) without an unhandled exception: a feed is stored, or its problem is recorded on the feed row."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from httpserver import LoopbackServer
from support import BASELINE, SHARED

from monitor import resources
from monitor.config import load_config

CORPUS = SHARED / "corpora" / "feedparser-tests"
DOCS = sorted(p for p in CORPUS.rglob("*.xml"))


def test_the_whole_feedparser_corpus_goes_through_the_pipeline(tmp_path: Path) -> None:
    assert len(DOCS) > 1500
    with LoopbackServer() as server:
        for n, doc in enumerate(DOCS):
            server.serve_file(f"/{n}", doc)
        feeds = "".join(f"  - name: doc{n}\n    url: {server.url(f'/{n}')}\n" for n in range(len(DOCS)))
        config_file = tmp_path / "feeds.yaml"
        config_file.write_text(
            f"database: sqlite:///{tmp_path / 'm.db'}\nbaseline: {BASELINE}\n"
            f"defaults:\n  timeout: 10s\n  per_host: 20\nfeeds:\n{feeds}",
            encoding="utf-8",
        )
        config = load_config(config_file)

        async def cycle() -> list[str]:
            async with resources.open_resources(config) as rt:
                return [o.outcome for o in await resources.poll_all(rt, config.feeds)]

        outcomes = asyncio.run(cycle())
    assert set(outcomes) <= {"new", "failed"}
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.connect() as conn:
        polled, unexplained = conn.execute(
            sa.text("SELECT count(last_polled_at), sum(error_count > 0 AND last_error IS NULL) FROM feeds")
        ).one()
        items = conn.execute(sa.text("SELECT count(*) FROM items")).scalar_one()
    engine.dispose()
    assert polled == len(DOCS) and unexplained == 0
    assert outcomes.count("new") > 1500 and items > 400  # most documents test channel elements, not entries
