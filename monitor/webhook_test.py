"""`monitor webhooks test NAME`: send one sample alert straight to a webhook and report what happened."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import httpx

from monitor.config import Config, WebhookConfig
from monitor.domain import Alert
from monitor.errors import DeliveryError
from monitor.notify import render
from monitor.notify.response import interpret


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
            response = await client.post(
                httpx.URL(hook.url.get_secret_value()).copy_merge_params(rendered.query),
                content=rendered.body,
                headers=rendered.headers,
                timeout=config.delivery.timeout,
            )
        except httpx.HTTPError as error:  # never str(error): it may hold the URL
            return False, f"{hook.name}: request failed ({type(error).__name__}) after {_ms(started)}"
    try:
        interpret(
            hook.kind, hook.name, response.status_code, response.headers, response.content, datetime.now(UTC)
        )
    except DeliveryError as error:
        return False, f"{hook.name}: HTTP {response.status_code} in {_ms(started)}: {error.reason}"
    return True, f"{hook.name}: accepted, HTTP {response.status_code} in {_ms(started)}"


def _ms(started: float) -> str:
    return f"{(time.monotonic() - started) * 1000:.0f} ms"
