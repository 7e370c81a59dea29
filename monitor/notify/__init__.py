"""Webhook message formats, Standard Webhooks signing and response interpretation.

Pure functions, no I/O: the outbox renders a message for a target's kind,
sends `Rendered.body` byte for byte with its headers and query, and passes the
answer to `interpret`, which returns on success or raises a DeliveryError
subclass that says what to do next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

from monitor.notify import discord, generic, googlechat, mattermost, ntfy, slack, teams
from monitor.notify.base import Rendered
from monitor.notify.response import interpret, min_interval, rate_wait, retry_after
from monitor.notify.sign import generate_secret, sign, validate_secret
from monitor.notify.text import Message

Kind = Literal["slack", "discord", "teams", "generic", "mattermost", "googlechat", "ntfy"]
KINDS: tuple[Kind, ...] = get_args(Kind)

_CHAT: dict[str, Callable[[Message], Rendered]] = {
    "slack": slack.render,
    "discord": discord.render,
    "teams": teams.render,
    "mattermost": mattermost.render,
    "googlechat": googlechat.render,
    "ntfy": ntfy.render,
}


def render(kind: str, message: Message, *, msg_id: str, timestamp: int, secret: str | None) -> Rendered:
    """The request for one delivery attempt. `msg_id` is the delivery's id (the same on every retry),
    `timestamp` this attempt's unix seconds; `secret` signs `generic` bodies and is ignored by chat kinds."""
    if kind == "generic":
        return generic.render(message, msg_id=msg_id, timestamp=timestamp, secret=secret)
    chat = _CHAT.get(kind)
    if chat is None:
        raise ValueError(f"unknown webhook kind {kind!r}; expected one of {', '.join(KINDS)}")
    return chat(message)


__all__ = [
    "KINDS",
    "Kind",
    "Message",
    "Rendered",
    "generate_secret",
    "interpret",
    "min_interval",
    "rate_wait",
    "render",
    "retry_after",
    "sign",
    "validate_secret",
]
