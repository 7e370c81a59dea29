"""The feed schedule lives in the feeds table; a replica claims due rows from it.

A claim is one statement: the due rows, oldest first, skipping rows another
transaction holds (`FOR UPDATE SKIP LOCKED`), get `next_poll_at` pushed forward
by the lease and `lease_token` bumped. Until the lease ends no other replica
claims them; after it anyone may, and the first holder's results are refused
(store.commit_poll writes only under the token it claimed: fencing). On
PostgreSQL every time comes from the database clock, so replicas' clocks need
not agree. SQLite runs the same statements (it has no row locks and needs none:
one process, one writer).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import dbclock, store
from monitor.models import FEEDS


@dataclass(frozen=True, slots=True)
class Claim:
    """One feed held by this replica until `claimed_at + lease`."""

    state: store.FeedState
    token: int
    claimed_at: datetime  # the database's clock at the claim
    monotonic: float  # this process's clock at the claim

    def now(self) -> datetime:
        """The database's clock now, without asking it: the claim's time plus what elapsed here."""
        return self.claimed_at + timedelta(seconds=time.monotonic() - self.monotonic)


def claim_due(
    engine: Engine, replica: str, limit: int, lease: float, busy: Collection[int] = ()
) -> list[Claim]:
    """Up to `limit` enabled feeds whose due time has come, for this replica. `busy`: ids of feeds this
    process is still polling; claiming one again (its lease ran out) would fence off its own poll."""
    now = dbclock.now(engine)
    where = [FEEDS.c.enabled.is_(True), FEEDS.c.gone.is_(False), FEEDS.c.next_poll_at <= now]
    return _claim(engine, replica, limit, lease, _not_busy(where, busy))


def claim_named(
    engine: Engine, replica: str, names: Collection[str], lease: float, busy: Collection[int] = ()
) -> list[Claim]:
    """These feeds, due or not (`poll --once`), except those gone, held by a live lease elsewhere, or
    `busy` here (as in claim_due)."""
    now = dbclock.now(engine)
    free = sa.or_(FEEDS.c.leased_by.is_(None), FEEDS.c.next_poll_at <= now)
    where = [FEEDS.c.name.in_(list(names)), FEEDS.c.gone.is_(False), free]
    return _claim(engine, replica, len(names), lease, _not_busy(where, busy))


def _not_busy(where: list[sa.ColumnElement[bool]], busy: Collection[int]) -> list[sa.ColumnElement[bool]]:
    return [*where, FEEDS.c.id.not_in(list(busy))] if busy else where


def _claim(
    engine: Engine, replica: str, limit: int, lease: float, where: Sequence[sa.ColumnElement[bool]]
) -> list[Claim]:
    if limit <= 0:
        return []
    now = dbclock.now(engine)
    due = (
        sa.select(FEEDS.c.id)
        .where(*where)
        .order_by(FEEDS.c.next_poll_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        sa.update(FEEDS)
        .where(FEEDS.c.id.in_(due.scalar_subquery()))
        .values(
            next_poll_at=dbclock.later(engine, lease),
            lease_token=FEEDS.c.lease_token + 1,
            leased_by=replica,
        )
        .returning(*FEEDS.c, now.label("claimed_at"))
    )
    with engine.begin() as conn:
        rows = conn.execute(statement).all()
    mono = time.monotonic()
    claims = [Claim(store.state_of(row), row.lease_token, row.claimed_at, mono) for row in rows]
    return sorted(claims, key=lambda c: c.state.name)


def release(engine: Engine, held: Sequence[tuple[int, int]]) -> None:
    """Give back claims (`feed_id, token`) never started: each feed is due now, for any replica. A feed
    whose lease another replica already took (its token moved on) is left alone."""
    statement = (
        sa.update(FEEDS)
        .where(FEEDS.c.id == sa.bindparam("r_id"), FEEDS.c.lease_token == sa.bindparam("r_token"))
        .values(next_poll_at=dbclock.now(engine), leased_by=None)
    )
    with engine.begin() as conn:
        conn.execute(statement, [{"r_id": feed_id, "r_token": token} for feed_id, token in held])


def take_back(engine: Engine, replica: str) -> int:
    """Feeds still leased to `replica` when it starts: its previous process under this id is gone (killed,
    or its machine restarted), so they are due again now instead of after the lease. The token moves on,
    so a late commit from that process would be refused. The number of feeds."""
    now = dbclock.now(engine)
    with engine.begin() as conn:
        result = conn.execute(
            sa.update(FEEDS)
            .where(FEEDS.c.leased_by == replica, FEEDS.c.next_poll_at > now)
            .values(next_poll_at=now, leased_by=None, lease_token=FEEDS.c.lease_token + 1)
        )
    return int(result.rowcount)


def held_by(engine: Engine) -> dict[str, list[str]]:
    """Feeds under a live lease, by the replica holding them (for `monitor replicas`)."""
    now = dbclock.now(engine)
    query = (
        sa.select(FEEDS.c.leased_by, FEEDS.c.name)
        .where(FEEDS.c.leased_by.is_not(None), FEEDS.c.next_poll_at > now)
        .order_by(FEEDS.c.name)
    )
    held: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for replica, name in conn.execute(query):
            held.setdefault(replica, []).append(name)
    return held
