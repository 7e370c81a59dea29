"""The clock replicas agree on: the database's on PostgreSQL, this process's on SQLite (one process).

Lease ends, heartbeats and due times are compared in SQL against these, so two
replicas whose host clocks disagree still agree on who holds what.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import models


def now(engine: Engine) -> sa.ColumnElement[datetime]:
    """The current time as an SQL expression (the transaction's start on PostgreSQL)."""
    if engine.dialect.name == "postgresql":
        return sa.type_coerce(sa.func.now(), models.UTCDateTime())
    return sa.literal(datetime.now(UTC), models.UTCDateTime())


def later(engine: Engine, seconds: float) -> sa.ColumnElement[datetime] | datetime:
    """`seconds` from now by the same clock (SQLite stores text: no date arithmetic there)."""
    if engine.dialect.name == "postgresql":
        return sa.type_coerce(sa.func.now() + timedelta(seconds=seconds), models.UTCDateTime())
    return datetime.now(UTC) + timedelta(seconds=seconds)
