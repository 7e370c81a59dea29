"""The example queries in docs/schema.md run against a real database made by the monitor."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from monitor.db import open_database

DOC = (Path(__file__).resolve().parents[1] / "docs" / "schema.md").read_text(encoding="utf-8")
QUERIES = re.findall(r"```sql\n(.*?)```", DOC, flags=re.S)


def test_the_doc_has_queries() -> None:
    assert len(QUERIES) >= 5


@pytest.mark.parametrize("query", QUERIES)
def test_example_query_runs(tmp_path: Path, query: str) -> None:
    open_database(f"sqlite:///{tmp_path / 'm.db'}").dispose()
    with sqlite3.connect(tmp_path / "m.db") as conn:
        conn.execute(query).fetchall()


def test_documented_tables_exist(tmp_path: Path) -> None:
    open_database(f"sqlite:///{tmp_path / 'm.db'}").dispose()
    with sqlite3.connect(tmp_path / "m.db") as conn:
        names = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        }
    documented = set(re.findall(r"^\| `(\w+)` \|", DOC, flags=re.M))
    assert documented <= names
