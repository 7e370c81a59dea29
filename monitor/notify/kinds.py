"""The webhook kinds, in one registry: how each renders, how often it may be posted to, what its answers mean.

Adding a kind is one entry here and its name in `Kind` (names.py); config validation (`webhooks[].kind`),
rendering, pacing, the reading of answers and the README's list of kinds all read from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import get_args

from monitor.notify import discord, generic, googlechat, mattermost, ntfy, slack, teams
from monitor.notify.base import Rendered
from monitor.notify.names import Kind
from monitor.notify.text import Message

# message, msg_id (the delivery's, the same on every retry), this attempt's unix seconds, signing secret
Render = Callable[[Message, str, int, str | None], Rendered]


@dataclass(frozen=True, slots=True)
class WebhookKind:
    name: Kind
    render: Render
    # The least gap between two posts to one target, in seconds (a service's published limit).
    min_interval: float
    # The service's error words that mean the webhook itself is gone or barred, whatever the status.
    broken_errors: frozenset[str] = frozenset()
    signed: bool = False  # takes a `secret:` and signs each body (Standard Webhooks)


def _chat(render: Callable[[Message], Rendered]) -> Render:
    """A chat service's renderer: the message alone (no id, timestamp or signature in the request)."""

    def rendered(message: Message, msg_id: str, timestamp: int, secret: str | None) -> Rendered:
        return render(message)

    return rendered


def _generic(message: Message, msg_id: str, timestamp: int, secret: str | None) -> Rendered:
    return generic.render(message, msg_id=msg_id, timestamp=timestamp, secret=secret)


REGISTRY: tuple[WebhookKind, ...] = (
    # Slack asks for at most one message a second per webhook.
    WebhookKind("slack", _chat(slack.render), 1.0, slack.BROKEN_ERRORS),
    # Discord: 5 per 2 s until its rate-limit headers say more.
    WebhookKind("discord", _chat(discord.render), 0.4),
    WebhookKind("teams", _chat(teams.render), 0.2),
    # Our own receivers publish no limit.
    WebhookKind("generic", _generic, 0.0, signed=True),
    WebhookKind("mattermost", _chat(mattermost.render), 0.2),
    # ntfy.sh refills one request per 5 s.
    WebhookKind("ntfy", _chat(ntfy.render), 5.0),
    # Google Chat: 60 a minute per space.
    WebhookKind("googlechat", _chat(googlechat.render), 1.0),
)
KINDS: dict[str, WebhookKind] = {kind.name: kind for kind in REGISTRY}
NAMES: tuple[Kind, ...] = tuple(kind.name for kind in REGISTRY)

if get_args(Kind) != NAMES:  # pragma: no cover - a developer's mistake, caught at import
    raise RuntimeError("monitor.notify.kinds.REGISTRY and monitor.notify.names.Kind disagree")


def kind(name: str) -> WebhookKind:
    """The registry entry of a configured kind (config validation has already refused unknown ones)."""
    found = KINDS.get(name)
    if found is None:
        raise ValueError(f"unknown webhook kind {name!r}; expected one of {', '.join(NAMES)}")
    return found


def render(kind_name: str, message: Message, *, msg_id: str, timestamp: int, secret: str | None) -> Rendered:
    """The request for one delivery attempt. `msg_id` is the delivery's id (the same on every retry),
    `timestamp` this attempt's unix seconds; `secret` signs `generic` bodies and is ignored by chat kinds."""
    return kind(kind_name).render(message, msg_id, timestamp, secret)
