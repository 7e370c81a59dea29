"""Domain types passed between the pipeline's stages.

These are neither wire formats (feed XML, webhook payloads: see parse.py and
notify/) nor database rows (models.py); each stage converts at its edge so a
schema change never changes a webhook contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from monitor.events import EventType

Modality = Literal["asserted", "planned", "negated"]
# Why a decision does not alert; None when it does.
Reason = Literal[
    "not_relevant",
    "other_target",
    "taliban_actor",
    "negated",
    "restatement",
    "historical",
    "backlog",
    "speculative",
    "amendment",  # a sanctions-list entry amended without a programme change: stored, not alerted
    "held",  # a sanctions-list change held by the mass-change breaker
]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one successful fetch produced. A 304 is `not_modified=True` with no body."""

    status: int
    url: str  # the URL finally answered (after temporary redirects)
    not_modified: bool = False
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None  # learned from a 301/308 chain; persist it
    elapsed: float = 0.0  # seconds


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One normalised entry of a feed."""

    key: str  # stable per feed: GUID, else normalised link, else a content hash
    title: str
    summary: str  # plain text: HTML stripped, entities decoded, whitespace folded
    link: str | None
    published: datetime  # aware, UTC; the first-seen time when the feed gives none
    published_known: bool  # False when `published` is the first-seen time
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed document: what could be read, and the problem if it was ill-formed."""

    title: str | None
    items: list[FeedItem]
    link_keys: dict[str, str | None]  # item key -> parse.link_key(item), from the link normalised once
    problem: str | None = None  # feedparser's bozo exception, as one line


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why the classifier decided as it did."""

    sentence: str  # the sentence that decided
    rule: str  # the id of the rule that fired, e.g. "recognition.verb"
    cues: tuple[
        str, ...
    ] = ()  # modality / negation / history cues that applied, e.g. ("negation:rules out",)
    actor_text: str | None = None  # the span that named the actor, e.g. "the Kremlin"


@dataclass(frozen=True, slots=True)
class Decision:
    """The classifier's verdict on one item."""

    alert: bool
    event_type: EventType | None
    actor: str | None  # ISO 3166-1 alpha-2, "UN", "EU", or None
    modality: Modality | None
    novel: bool | None
    confidence: float  # 0..1
    evidence: Evidence | None
    reason: Reason | None = None  # set when alert is False
    act: str | None = None  # the kind of step (classify/acts.py): a one-off act is never news twice

    def to_json(self) -> dict[str, object]:
        return {
            "alert": self.alert,
            "event_type": self.event_type,
            "actor": self.actor,
            "modality": self.modality,
            "novel": self.novel,
            "confidence": round(self.confidence, 3),
            "evidence": None
            if self.evidence is None
            else {
                "sentence": self.evidence.sentence,
                "rule": self.evidence.rule,
                "cues": list(self.evidence.cues),
                "actor_text": self.evidence.actor_text,
            },
            "reason": self.reason,
            "act": self.act,
        }


@dataclass(frozen=True, slots=True)
class Alert:
    """One event to tell people about, as the notifiers see it."""

    event_id: int
    event_type: EventType
    actor: str | None  # code
    actor_name: str | None  # "Kazakhstan", "United Nations"
    modality: Modality
    confidence: float
    headline: str
    link: str | None
    feed: str  # feed name
    published: datetime
    evidence: str  # the sentence that decided
    rule: str
    sources: int = 1  # outlets that reported it so far
    summary: str = ""
    official: bool = False  # first reported by an official source (a sanctions list, a press office)
    list_entry: ListReference | None = None  # set when the event is a change on a sanctions list


@dataclass(frozen=True, slots=True)
class ListReference:
    """The sanctions-list entry an alert is about."""

    reference: str  # the list's own reference number (TAi.144, an OFAC uid, AFG0006, EU.27.28)
    name: str
    change: Literal["added", "removed", "amended"]
    listed_on: str | None
    un_ref: str | None  # the UN reference it implements, when the list gives one


@dataclass(frozen=True, slots=True)
class Notice:
    """A feed-health message, distinct from an event alert."""

    feed: str
    kind: Literal["failing", "recovered", "silent", "bulk_change"]
    detail: str  # one line for people, no secrets
    at: datetime


@dataclass(frozen=True, slots=True)
class Digest:
    """Several alerts for one target coalesced into one message during a storm."""

    alerts: tuple[Alert, ...]
