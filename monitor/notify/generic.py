"""The generic JSON webhook: a versioned payload signed per Standard Webhooks.

The body is plain data (no markup, so nothing to escape); the receiver verifies
`webhook-signature` over the exact bytes and de-duplicates on `webhook-id`,
which the caller keeps the same on every retry of one delivery.
"""

from __future__ import annotations

from monitor.domain import Alert, Digest, Notice
from monitor.notify.base import JSON_HEADERS, Rendered, fit_items, json_body
from monitor.notify.sign import sign
from monitor.notify.text import Message, alert_title, clip, digest_title, iso_utc, notice_title, safe_link

VERSION = 1
# Standard Webhooks asks for payloads under 20 KB; a digest drops trailing events to stay there.
DIGEST_BUDGET_BYTES = 18_000


def event_data(alert: Alert) -> dict[str, object]:
    """One event as receivers see it; additive changes only within a version."""
    return {
        "id": alert.event_id,
        "event_type": alert.event_type,
        "actor": alert.actor,
        "actor_name": alert.actor_name,
        "modality": alert.modality,
        "confidence": round(alert.confidence, 3),
        "headline": clip(alert.headline, 1000),
        "link": safe_link(alert.link),  # only http(s): receivers may well render it as a link
        "feed": alert.feed,
        "published": iso_utc(alert.published),
        "evidence": clip(alert.evidence, 2000),
        "rule": alert.rule,
        "sources": alert.sources,
        "summary": clip(alert.summary, 1000),
        "official": alert.official,
        "list_entry": _list_entry(alert),
    }


def _list_entry(alert: Alert) -> dict[str, object] | None:
    """The sanctions-list entry an alert is about (added in version 1: null for news alerts)."""
    entry = alert.list_entry
    if entry is None:
        return None
    return {
        "reference": entry.reference,
        "name": clip(entry.name, 500),
        "change": entry.change,
        "listed_on": entry.listed_on,
        "un_reference": entry.un_ref,
    }


def payload(message: Message) -> dict[str, object]:
    if isinstance(message, Alert):
        return {
            "version": VERSION,
            "type": "event.detected",
            "title": alert_title(message),
            "event": event_data(message),
        }
    if isinstance(message, Notice):
        notice = {
            "feed": message.feed,
            "status": message.kind,
            "detail": clip(message.detail, 2000),
            "at": iso_utc(message.at),
        }
        return {"version": VERSION, "type": "feed.notice", "title": notice_title(message), "notice": notice}
    return _digest(message)


def _digest(digest: Digest) -> dict[str, object]:
    events, omitted = fit_items([event_data(a) for a in digest.alerts], DIGEST_BUDGET_BYTES)
    return {
        "version": VERSION,
        "type": "event.digest",
        "title": digest_title(digest),
        "count": len(digest.alerts),
        "omitted": omitted,
        "events": events,
    }


def render(message: Message, *, msg_id: str, timestamp: int, secret: str | None) -> Rendered:
    """Serialise once and sign those bytes; unsigned (but still id-stamped) when no secret is set."""
    body = json_body(payload(message))
    headers = {**JSON_HEADERS, "webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
    if secret is not None:
        headers["webhook-signature"] = sign(secret, msg_id, timestamp, body)
    return Rendered(body, headers, {})
