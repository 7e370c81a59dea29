"""Webhook message formats, Standard Webhooks signing and response interpretation.

Pure functions, no I/O: the outbox renders a message for a target's kind,
sends `Rendered.body` byte for byte with its headers and query, and passes the
answer to `interpret`, which returns on success or raises a DeliveryError
subclass that says what to do next. The kinds, and what differs between them,
are listed once, in kinds.py.
"""

from __future__ import annotations

from monitor.notify.base import Rendered
from monitor.notify.kinds import KINDS, NAMES, REGISTRY, Kind, WebhookKind, kind
from monitor.notify.response import interpret, min_interval, rate_wait, retry_after
from monitor.notify.sign import generate_secret, sign, validate_secret
from monitor.notify.text import Message


def render(kind_name: str, message: Message, *, msg_id: str, timestamp: int, secret: str | None) -> Rendered:
    """The request for one delivery attempt. `msg_id` is the delivery's id (the same on every retry),
    `timestamp` this attempt's unix seconds; `secret` signs `generic` bodies and is ignored by chat kinds."""
    return kind(kind_name).render(message, msg_id, timestamp, secret)


__all__ = [
    "KINDS",
    "NAMES",
    "REGISTRY",
    "Kind",
    "Message",
    "Rendered",
    "WebhookKind",
    "generate_secret",
    "interpret",
    "kind",
    "min_interval",
    "rate_wait",
    "render",
    "retry_after",
    "sign",
    "validate_secret",
]
