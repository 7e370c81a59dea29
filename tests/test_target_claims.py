"""Per-target delivery claims on SQLite and PostgreSQL: one sender at a time per webhook, a lapsed claim is
taken over with a new token, and a sender whose claim moved on cannot lease the target's deliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from monitor import models, outbox, store
from monitor.db import open_database
from monitor.target_claims import claim_target, claimed_until, release_target

DELIVERIES = models.DELIVERIES


def pending_row(engine: sa.Engine, now: datetime) -> int:
    with engine.begin() as conn:
        feed = conn.execute(
            sa.insert(models.FEEDS).values(name="wire", url="http://x/", error_count=0, gone=False)
        ).inserted_primary_key[0]
        notice = conn.execute(
            sa.insert(models.NOTICES).values(feed_id=feed, kind="failing", detail="d", created_at=now)  # type: ignore[attr-defined]
        ).inserted_primary_key[0]
        row = conn.execute(
            sa.insert(DELIVERIES).values(
                msg_id="msg_1",
                webhook="chat",
                notice_id=notice,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        ).inserted_primary_key[0]
    return int(row)


def test_one_sender_at_a_time_and_a_lapsed_claim_is_taken_over(db_url: str) -> None:
    engine = open_database(db_url)
    store.sync_webhooks(engine, [("chat", "slack", "https://hooks.example/x")])
    now = datetime.now(UTC)
    row = pending_row(engine, now)

    first = claim_target(engine, "chat", "replica-a", now, 30)
    assert first is not None
    assert claim_target(engine, "chat", "replica-b", now, 30) is None  # held: b waits...
    until = claimed_until(engine, "chat", now)
    assert until is not None and 25 < (until - now).total_seconds() <= 31  # ...about this long
    renewed = claim_target(engine, "chat", "replica-a", now, 30)
    assert renewed is not None and renewed.token == first.token  # renewing keeps the token

    # a is killed; once its lease has lapsed, b takes the target over with a new token
    later = now + timedelta(seconds=31)
    if engine.dialect.name == "postgresql":  # the lease runs on the database clock: lapse it there
        with engine.begin() as conn:
            conn.execute(sa.update(models.WEBHOOKS).values(lease_until=now - timedelta(seconds=1)))
    taken = claim_target(engine, "chat", "replica-b", later, 30)
    assert taken is not None and taken.token == first.token + 1

    # a wakes up: its stale claim leases nothing (the fencing check); b's does
    until_then = later + timedelta(seconds=40)
    assert not outbox.lease(engine, [row], later, until_then, claim=first)
    assert outbox.lease(engine, [row], later, until_then, claim=taken)

    release_target(engine, first)  # a stale release changes nothing
    assert claim_target(engine, "chat", "replica-c", later, 30) is None
    release_target(engine, taken)  # b gives it back: c needs no wait
    after = claim_target(engine, "chat", "replica-c", later, 30)
    assert after is not None and after.token == taken.token + 1
    engine.dispose()
