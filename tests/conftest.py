"""Shared fixtures: database URLs for SQLite and PostgreSQL, the shared corpora, a config writer."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_available() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN)
        with engine.connect():
            pass
        engine.dispose()
    except sa.exc.OperationalError:
        return False
    return True


@pytest.fixture(scope="session")
def postgres() -> str:
    """The admin URL of the PostgreSQL server CI starts (.ci/run); missing it is a failure, not a skip,
    unless MONITOR_TEST_SKIP_POSTGRES=1 is set on purpose."""
    if not postgres_available():
        if os.environ.get("MONITOR_TEST_SKIP_POSTGRES") == "1":
            pytest.skip("PostgreSQL not running and MONITOR_TEST_SKIP_POSTGRES=1")
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (database test); .ci/run starts it")
    return PG_ADMIN


def _fresh_schema(postgres: str) -> Iterator[str]:
    """A fresh schema, selected through search_path, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield f"{postgres}?options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture
def pg_url(postgres: str) -> Iterator[str]:
    """A fresh schema per test, selected through search_path, dropped afterwards."""
    yield from _fresh_schema(postgres)


@pytest.fixture
def other_pg_url(postgres: str) -> Iterator[str]:
    """A second fresh schema of the same database, as another deployment (or test) in it would have."""
    yield from _fresh_schema(postgres)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture(scope="session")
def demo_output() -> str:
    """What `monitor demo` prints (run once: tests/test_demo.py and the docs examples both read it)."""
    from click.testing import CliRunner

    from monitor.cli import main

    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    return result.stdout
