"""`monitor webhooks test NAME`: send one sample alert straight to a webhook and report what happened."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import httpx

from monitor.config import Config, WebhookConfig
from monitor.deliver import accept, exchange
from monitor.domain import Alert
from monitor.errors import DeliveryError, DeliveryRetryable
from monitor.notify import render


def sample_alert() -> Alert:
    return Alert(
        event_id=0,
        event_type="recognition",
        actor="KZ",
        actor_name="Kazakhstan",
        modality="asserted",
        confidence=0.9,
        headline="TEST: Kazakhstan formally recognises the Taliban government",
        link="https://example.org/monitor-test",
        feed="monitor-test",
        published=datetime.now(UTC),
        evidence="This is a test message from the news-event monitor; no event happened.",
        rule="test.sample",
        sources=1,
        summary="Sent by `monitor webhooks test`.",
    )


async def send_sample(hook: WebhookConfig, config: Config) -> tuple[bool, str]:
    """Return (accepted, one line: status, time taken, and the service's error text if any)."""
    secret = hook.secret.get_secret_value() if hook.secret is not None else None
    rendered = render(
        hook.kind,
        sample_alert(),
        msg_id=f"msg_test_{uuid.uuid4().hex}",
        timestamp=int(time.time()),
        secret=secret,
    )
    started = time.monotonic()
    async with httpx.AsyncClient(headers={"user-agent": config.defaults.user_agent}) as client:
        try:
            answer = await exchange(client, hook, rendered, config.delivery.timeout)
            accept(hook, answer, datetime.now(UTC))
        except DeliveryRetryable as error:
            if error.status is None:  # no answer at all
                return False, f"{hook.name}: request failed ({error.reason}) after {_ms(started)}"
            return False, f"{hook.name}: HTTP {error.status} in {_ms(started)}: {error.reason}"
        except DeliveryError as error:
            return False, f"{hook.name}: HTTP {error.status} in {_ms(started)}: {error.reason}"
    return True, f"{hook.name}: accepted, HTTP {answer.status} in {_ms(started)}"


def _ms(started: float) -> str:
    return f"{(time.monotonic() - started) * 1000:.0f} ms"
