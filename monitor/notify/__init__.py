"""Webhook message formats, Standard Webhooks signing and response interpretation.

Pure functions, no I/O: the outbox renders a message for a target's kind,
sends `Rendered.body` byte for byte with its headers and query, and passes the
answer to `interpret`, which returns on success or raises a DeliveryError
subclass that says what to do next. The kinds, and what differs between them,
are listed once, in kinds.py.

Names are loaded on first use (as monitor.classify's are): the config imports `names.Kind` from this
package, and a command that only reads the history must not import every renderer on the way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.lazy import lazy_names

# Bound now: a lazy `sign` would be shadowed by the submodule of that name once any module imports it.
from monitor.notify.sign import generate_secret, sign, validate_secret

if TYPE_CHECKING:
    from monitor.notify.base import Rendered
    from monitor.notify.kinds import KINDS, NAMES, REGISTRY, WebhookKind, kind, render
    from monitor.notify.names import Kind
    from monitor.notify.response import interpret, min_interval, rate_wait, retry_after
    from monitor.notify.text import Message

_HOMES = {
    "Rendered": "base",
    "KINDS": "kinds",
    "NAMES": "kinds",
    "REGISTRY": "kinds",
    "WebhookKind": "kinds",
    "kind": "kinds",
    "render": "kinds",
    "Kind": "names",
    "interpret": "response",
    "min_interval": "response",
    "rate_wait": "response",
    "retry_after": "response",
    "Message": "text",
}

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


__getattr__ = lazy_names(__name__, _HOMES, globals())
