"""User mistakes end in one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from history_cases.wire import cli, write_config

from monitor.db import open_database

PASSWORD = "SECRETDBPASSWORD42"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, f"sqlite:///{tmp_path / 'monitor.db'}", {"wire": "http://127.0.0.1:9/feed"})


def assert_one_line_error(result: tuple[int, str, str], *mentions: str) -> str:
    code, _, err = result
    assert code != 0
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for text in mentions:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("value", ["yesterday", "2026-13-45", "7 days", "-3d", "99999999999d", "999999999d"])
def test_bad_since_or_until(config: Path, value: str) -> None:
    assert_one_line_error(cli(config, "history", "--since", value), value)
    assert_one_line_error(cli(config, "history", "--items", "--until", value), value)


def test_unknown_actor(config: Path) -> None:
    assert_one_line_error(cli(config, "history", "--actor", "Narnia"), "Narnia")


@pytest.mark.parametrize("args", [[], ["3", "--dead"]])
def test_retry_needs_exactly_one_of_id_or_dead(config: Path, args: list[str]) -> None:
    assert_one_line_error(cli(config, "deliveries", "retry", *args), "--dead")


def test_retry_of_an_unknown_delivery(config: Path) -> None:
    assert_one_line_error(cli(config, "deliveries", "retry", "999"), "999")


@pytest.mark.parametrize(
    "command",
    [
        ["history"],
        ["history", "--items"],
        ["stats"],
        ["feeds"],
        ["deliveries"],
        ["deliveries", "retry", "--dead"],
        ["prune", "--days", "30"],
        ["poll", "--once"],
    ],
)
def test_database_that_cannot_be_opened(config: Path, command: list[str]) -> None:
    env = {"MONITOR_DATABASE_URL": f"postgresql://nobody:{PASSWORD}@127.0.0.1:1/x"}
    line = assert_one_line_error(cli(config, *command, env=env), "127.0.0.1")
    assert PASSWORD not in line


def test_sqlite_file_that_cannot_be_created(config: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = {"MONITOR_DATABASE_URL": f"sqlite:///{blocker / 'monitor.db'}"}
    assert_one_line_error(cli(config, "history", env=env), "database")


@pytest.mark.parametrize("command", [["history"], ["stats"], ["prune"], ["feeds"], ["deliveries"]])
def test_missing_config_file(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "nowhere.yaml"
    assert_one_line_error(cli(missing, *command), "nowhere.yaml")
    assert_one_line_error(cli(None, *command, env={"MONITOR_CONFIG": str(missing)}), "nowhere.yaml")


@pytest.mark.postgres
def test_a_database_error_after_opening_is_one_line_without_the_password(config: Path, pg_url: str) -> None:
    """A read-only PostgreSQL (a standby, say) opens and is migrated already, then refuses the first write."""
    open_database(pg_url).dispose()
    read_only = (
        pg_url.replace("postgres@", f"postgres:{PASSWORD}@") + "%20-cdefault_transaction_read_only%3Don"
    )
    env = {"MONITOR_DATABASE_URL": read_only}
    result = cli(config, "prune", "--days", "30", env=env)
    line = assert_one_line_error(result, "database postgresql+psycopg://postgres:***@127.0.0.1", "read-only")
    assert result[0] == 2 and PASSWORD not in line
    result = cli(config, "poll", "--once", "--drain-timeout", "1", env=env)
    assert result[0] == 2 and PASSWORD not in assert_one_line_error(result, "database")


def test_run_where_the_run_lock_cannot_be_made(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    try:
        if os.access(folder, os.W_OK):  # root writes anywhere: /sys refuses it too
            folder = Path("/sys")
        config = write_config(
            tmp_path, f"sqlite:///{folder / 'monitor.db'}", {"wire": "http://127.0.0.1:9/feed"}
        )
        result = cli(config, "run")
        assert_one_line_error(result, f"{folder / 'monitor.db.run-lock'}", "writable")
        assert result[0] == 2
    finally:
        (tmp_path / "locked").chmod(0o755)


@pytest.mark.parametrize("replica_id", ["", "   ", "r" * 201])
def test_run_with_an_unusable_replica_id(config: Path, replica_id: str) -> None:
    """An empty id (`--replica-id "$UNSET"`) is refused rather than replaced by host:pid: an explicit id is
    what lets a restarted replica take its feeds back at once."""
    result = cli(config, "run", "--replica-id", replica_id)
    assert_one_line_error(result, "--replica-id", "1 to 200 characters")
    assert result[0] == 1  # as every other bad argument of a command
