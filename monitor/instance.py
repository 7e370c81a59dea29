"""SQLite is single-instance: `monitor run` holds an exclusive lock beside the database file.

A second `monitor run` on the same file is refused with a message naming the
way to run several (PostgreSQL). The lock is an advisory `flock`, released by
the kernel when the process ends, even by SIGKILL; read-only commands never
take it, so they keep working while the daemon runs.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from monitor.errors import StoreError


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    database = sa.engine.make_url(url).database
    return None if not database or database == ":memory:" else Path(database)


@contextmanager
def single_instance(url: str) -> Iterator[None]:
    """Hold the run lock of a SQLite database for the duration; nothing to hold for PostgreSQL."""
    path = _sqlite_path(url)
    if path is None:
        yield
        return
    lock = path.with_name(path.name + ".run-lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise StoreError(
            f"database {path}: cannot open its run lock {lock} ({error.strerror or error}): the database's "
            "folder must be writable by the user running `monitor run`"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise StoreError(
                f"database {path} is in use by another `monitor run` (pid {holder}): SQLite runs one "
                "instance at a time. To run several replicas, point each one at the same PostgreSQL "
                "database (database: postgresql://...; README: Running several replicas). Read-only "
                "commands (feeds, history, stats, deliveries) work while it runs."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
