"""Commands that only read migrate nothing: one query checks the schema is this code's, and an older or a
newer one is refused in one line (exit 2) saying what to do; commands that write still migrate."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from history_cases.wire import cli, write_config
from test_cli_errors import PASSWORD, assert_one_line_error

from monitor.db import MIGRATIONS, open_database, open_existing

READ_ONLY = [["history"], ["history", "--items"], ["stats"], ["feeds"], ["deliveries"], ["replicas"]]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}", {"wire": "http://127.0.0.1:9/feed"})


def _versions(url: str) -> list[int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.exec_driver_sql("SELECT version FROM schema_version ORDER BY 1")]
    finally:
        engine.dispose()


def _change_versions(url: str, statement: str) -> list[int]:
    open_database(url).dispose()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(statement)
    engine.dispose()
    return _versions(url)


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_an_older_schema_is_refused_and_left_as_it_is(config: Path, db_url: str, command: list[str]) -> None:
    before = _change_versions(db_url, f"DELETE FROM schema_version WHERE version = {len(MIGRATIONS)}")
    result = cli(config, *command, env={"MONITOR_DATABASE_URL": db_url})
    line = assert_one_line_error(result, "is older than this monitor's", "monitor run")
    assert f"({len(MIGRATIONS) - 1} of {len(MIGRATIONS)} migrations)" in line
    assert _versions(db_url) == before  # not migrated


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_a_newer_schema_is_refused(config: Path, db_url: str, command: list[str]) -> None:
    newer = len(MIGRATIONS) + 1
    _change_versions(db_url, f"INSERT INTO schema_version VALUES ({newer}, '2030-01-01')")
    result = cli(config, *command, env={"MONITOR_DATABASE_URL": db_url})
    assert result[0] == 2
    assert_one_line_error(result, f"schema is version {newer}, newer than this monitor's {len(MIGRATIONS)}")


@pytest.mark.postgres
def test_the_refusal_does_not_show_the_password(config: Path, pg_url: str) -> None:
    _change_versions(pg_url, "DELETE FROM schema_version WHERE version = 1")
    env = {"MONITOR_DATABASE_URL": pg_url.replace("postgres@", f"postgres:{PASSWORD}@")}
    line = assert_one_line_error(cli(config, "history", env=env), "postgres:***@", "older")
    assert PASSWORD not in line


def test_a_command_that_writes_still_migrates(config: Path, db_url: str) -> None:
    _change_versions(db_url, f"DELETE FROM schema_version WHERE version = {len(MIGRATIONS)}")
    code, _, err = cli(config, "prune", "--days", "30", env={"MONITOR_DATABASE_URL": db_url})
    assert code == 0, err
    assert _versions(db_url) == list(range(1, len(MIGRATIONS) + 1))


def test_a_database_without_tables_is_shown_empty_and_left_empty(config: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    code, out, err = cli(config, "history", env={"MONITOR_DATABASE_URL": f"sqlite:///{empty}"})
    assert code == 0 and "(no rows)" in out
    assert f"no tables yet in sqlite:///{empty}" in err
    with sqlite3.connect(empty) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every statement any engine runs meanwhile (the connection's settings are not statements)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(sa.Engine, "before_cursor_execute", record)


def test_a_read_only_open_checks_the_schema_with_one_query(db_url: str, statements: list[str]) -> None:
    open_database(db_url).dispose()
    statements.clear()
    engine, why_empty = open_existing(db_url)
    engine.dispose()
    assert why_empty is None
    assert statements == ["SELECT count(*), max(version) FROM schema_version"]
