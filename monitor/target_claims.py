"""Per-target delivery claims: one sender at a time per webhook, across processes and replicas.

A claim is a lease on the target's `webhooks` row (`lease_owner`, `lease_until`,
`lease_token`). A sender claims a target before sending its due deliveries,
renews the claim while it sends (once a third of the lease's margin has gone),
and releases it when the target has nothing due. A killed sender's claim lapses after its lease and any other
sender takes the target over. Each new holder gets a new token (a fencing
token): `outbox.lease` only leases rows for the current holder and token, so
a sender that lost its claim (paused past its lease) cannot start a request.

The target's rate-limit pause (`paused_until`) lives on the same row, so a
server's Retry-After binds every replica, not only the one that heard it.
On PostgreSQL every time here is the database's clock; SQLite is single-process.

    claim = claim_target(engine, "chat", owner="host:123", now=now, seconds=40)
    if claim is not None:
        ...  # outbox.due(..., ["chat"]); outbox.lease(..., claim=claim); send; record
        release_target(engine, claim)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor import models
from monitor.models import WEBHOOKS


@dataclass(frozen=True, slots=True)
class Claim:
    """A held claim on one target until `until` (database clock); `token` fences its writes."""

    webhook: str
    owner: str
    token: int
    until: datetime
    paused_until: datetime | None


def db_now(conn: Connection, fallback: datetime) -> datetime:
    """The database's clock on PostgreSQL (replicas on several hosts agree on it); `fallback` on SQLite."""
    if conn.dialect.name != "postgresql":
        return fallback
    value = conn.execute(sa.select(sa.func.now())).scalar_one()
    return models.UTCDateTime().process_result_value(value, conn.dialect) or fallback


def held_by(claim: Claim, now: sa.ColumnElement[datetime] | datetime) -> sa.ColumnElement[bool]:
    """SQL: `claim` is still the target's current, unexpired claim (for fencing other statements)."""
    return sa.exists().where(
        WEBHOOKS.c.name == claim.webhook,
        WEBHOOKS.c.lease_owner == claim.owner,
        WEBHOOKS.c.lease_token == claim.token,
        WEBHOOKS.c.lease_until > now,
    )


def with_stored_pause(conn: Connection, claim: Claim) -> Claim:
    """`claim` with the pause stored on its target now (another sender may have stored one)."""
    value = conn.execute(sa.select(WEBHOOKS.c.paused_until).where(WEBHOOKS.c.name == claim.webhook)).scalar()
    paused = models.UTCDateTime().process_result_value(value, conn.dialect)
    return replace(claim, paused_until=paused)


def claim_target(engine: Engine, webhook: str, owner: str, now: datetime, seconds: float) -> Claim | None:
    """Take or renew the claim on `webhook` for `seconds`; None while another owner holds it.
    Renewing keeps the token; a new holder (or a holder whose lease lapsed) gets token + 1."""
    with engine.begin() as conn:
        clock = db_now(conn, now)
        current = sa.and_(WEBHOOKS.c.lease_owner == owner, WEBHOOKS.c.lease_until > clock)
        row = conn.execute(
            sa.update(WEBHOOKS)
            .where(
                WEBHOOKS.c.name == webhook,
                sa.or_(
                    WEBHOOKS.c.lease_until.is_(None),
                    WEBHOOKS.c.lease_until <= clock,
                    WEBHOOKS.c.lease_owner == owner,
                ),
            )
            .values(
                lease_owner=owner,
                lease_until=clock + timedelta(seconds=seconds),
                lease_token=sa.case((current, WEBHOOKS.c.lease_token), else_=WEBHOOKS.c.lease_token + 1),
            )
            .returning(WEBHOOKS.c.lease_token, WEBHOOKS.c.lease_until, WEBHOOKS.c.paused_until)
        ).first()
    if row is None:
        return None
    utc = models.UTCDateTime()
    until = utc.process_result_value(row.lease_until, engine.dialect)
    paused = utc.process_result_value(row.paused_until, engine.dialect)
    assert until is not None  # just written
    return Claim(webhook, owner, int(row.lease_token), until, paused)


def release_target(engine: Engine, claim: Claim) -> None:
    """Give the target up at once (nothing due): another sender may take it without waiting for the lease."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(WEBHOOKS)
            .where(
                WEBHOOKS.c.name == claim.webhook,
                WEBHOOKS.c.lease_owner == claim.owner,
                WEBHOOKS.c.lease_token == claim.token,
            )
            .values(lease_owner=None, lease_until=None)
        )


def claimed_until(engine: Engine, webhook: str, now: datetime) -> datetime | None:
    """When another sender's claim on `webhook` lapses (None when it is free): how long to wait for it."""
    with engine.connect() as conn:
        clock = db_now(conn, now)
        value = conn.execute(sa.select(WEBHOOKS.c.lease_until).where(WEBHOOKS.c.name == webhook)).scalar()
    until = models.UTCDateTime().process_result_value(value, engine.dialect)
    if until is None or until <= clock:
        return None
    return now + (until - clock)  # in the caller's clock


def pause_target(engine: Engine, webhook: str, until: datetime) -> None:
    """Hold every sender off `webhook` until `until` (a server's Retry-After or empty rate-limit bucket)."""
    with engine.begin() as conn:
        conn.execute(sa.update(WEBHOOKS).where(WEBHOOKS.c.name == webhook).values(paused_until=until))
