"""The event types, in one registry: what each means, how it is shown, how reports of it are grouped.

Adding an event type is one entry here, its name in `EventType`, and the acts that make it up in
classify/acts.py (which says which acts are one-off and which repeatable); every display and grouping
reads from here. `EventType` lives here rather than in domain.py so that a read-only command (which shows
event types but builds no domain object) does not import domain.py's dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, get_args

EventType = Literal["recognition", "diplomatic_upgrade", "sanctions_imposed", "sanctions_eased"]


@dataclass(frozen=True, slots=True)
class EventKind:
    name: EventType
    title: str  # in chat messages: "Sanctions eased"
    short: str  # in the 80-column history table: "sanctions-"
    colour: int  # the side bar of a Discord embed
    # Reports of one asserted development within this window join one event (None: once per actor).
    window: timedelta | None
    description: str


REGISTRY: tuple[EventKind, ...] = (
    EventKind(
        "recognition",
        "Recognition",
        "recognition",
        0xD83C3E,
        None,
        "A state or international body formally recognises the Taliban government.",
    ),
    EventKind(
        "diplomatic_upgrade",
        "Diplomatic upgrade",
        "upgrade",
        0xE67E22,
        timedelta(days=14),
        "A step short of recognition: accrediting Taliban diplomats, handing over or opening a mission, "
        "an ambassador to Kabul.",
    ),
    EventKind(
        "sanctions_imposed",
        "Sanctions imposed",
        "sanctions+",
        0x8E44AD,
        timedelta(days=3),
        "New, renewed or extended sanctions, designations, asset freezes, travel bans or bounties on the "
        "Taliban or Afghanistan.",
    ),
    EventKind(
        "sanctions_eased",
        "Sanctions eased",
        "sanctions-",
        0x2E86C1,
        timedelta(days=3),
        "Sanctions lifted or eased: delistings, exemptions, licences, released assets, withdrawn bounties.",
    ),
)
KINDS: dict[str, EventKind] = {kind.name: kind for kind in REGISTRY}
NAMES: tuple[EventType, ...] = tuple(kind.name for kind in REGISTRY)

if set(NAMES) != set(get_args(EventType)):  # pragma: no cover - a developer's mistake, caught at import
    raise RuntimeError("monitor.events.REGISTRY and EventType disagree")
