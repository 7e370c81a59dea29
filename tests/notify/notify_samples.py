"""Messages the notify tests render, and helpers to read rendered payloads back as data."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from monitor.domain import Alert, Digest, ListReference, Notice
from monitor.notify import Rendered

MSG_ID = "msg_2ZkTQe7rH1"
TIMESTAMP = 1751621400  # 2025-07-04 09:30:00 UTC
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks spec's example key

ALERT = Alert(
    event_id=42,
    event_type="recognition",
    actor="KZ",
    actor_name="Kazakhstan",
    modality="asserted",
    confidence=0.87,
    headline="Kazakhstan recognises the Taliban government in Kabul",
    link="https://news.example/world/kz-taliban?id=42&src=rss",
    feed="reuters-world",
    published=datetime(2025, 7, 4, 9, 12, tzinfo=UTC),
    evidence=(
        "Kazakhstan formally recognised the Taliban administration as Afghanistan's government on Friday."
    ),
    rule="recognition.verb",
    sources=3,
    summary="Astana becomes the second country after Russia to recognise the Taliban.",
)
PLANNED = Alert(
    event_id=43,
    event_type="diplomatic_upgrade",
    actor="UZ",
    actor_name="Uzbekistan",
    modality="planned",
    confidence=0.72,
    headline="Uzbekistan to upgrade its Kabul mission to a full embassy",
    link="https://news.example/asia/uz-embassy",
    feed="tolo-news",
    published=datetime(2025, 7, 4, 8, 0, tzinfo=UTC),
    evidence="Tashkent will raise its mission in Kabul to embassy level next month, a spokesman said.",
    rule="upgrade.embassy",
    sources=1,
)
EASED = Alert(
    event_id=44,
    event_type="sanctions_eased",
    actor="UN",
    actor_name="United Nations",
    modality="asserted",
    confidence=0.655,
    headline="UN committee extends travel-ban exemption for Taliban officials",
    link=None,
    feed="un-press",
    published=datetime(2025, 7, 3, 17, 45, tzinfo=UTC),
    evidence="The 1988 Committee granted a further travel-ban exemption to two Taliban ministers.",
    rule="sanctions.exemption",
    sources=2,
)
LISTED = Alert(
    event_id=45,
    event_type="sanctions_imposed",
    actor="UN",
    actor_name="United Nations",
    modality="asserted",
    confidence=1.0,
    headline=(
        "TAi.175 NEW LISTING ABDUL AHMAD TURK added to the UN Security Council Consolidated List "
        "(1988 (Taliban))"
    ),
    link="https://main.un.org/securitycouncil/en/sanctions/1988/materials",
    feed="un-consolidated",
    published=datetime(2026, 3, 2, 15, 4, tzinfo=UTC),
    evidence=(
        "TAi.175 NEW LISTING ABDUL AHMAD TURK added to the UN Security Council Consolidated List "
        "(1988 (Taliban))"
    ),
    rule="list.added",
    sources=1,
    summary="Reference TAi.175. listed on 2026-03-02. programmes: Taliban. nationality: Afghanistan",
    official=True,
    list_entry=ListReference("TAi.175", "NEW LISTING ABDUL AHMAD TURK", "added", "2026-03-02", "TAi.175"),
)
NOTICE = Notice(
    feed="tolo-news",
    kind="failing",
    detail="5 consecutive failures; last: HTTP 503",
    at=datetime(2025, 7, 4, 9, 0, tzinfo=UTC),
)
DIGEST = Digest((ALERT, PLANNED, EASED))
CASES: dict[str, Alert | Notice | Digest] = {
    "alert": ALERT,
    "planned": PLANNED,
    "notice": NOTICE,
    "digest": DIGEST,
    "list": LISTED,
}

EVIL_LINK = "https://news.example/story?id=1&ref=(a)|b"
HOSTILE_TEXT = (
    "<!channel> @everyone @here <@U123> [click](http://evil.example) <http://evil.example|Deploy OK>"
)
HOSTILE = replace(
    ALERT,
    headline="Breaking " + HOSTILE_TEXT,
    summary="Summary " + HOSTILE_TEXT,
    evidence="Evidence " + HOSTILE_TEXT,
    link=EVIL_LINK,
)


def payload(rendered: Rendered) -> object:
    """The body as data: parsed JSON, or the text for plain-text kinds."""
    if rendered.headers.get("content-type", "").startswith("application/json"):
        return json.loads(rendered.body)
    return rendered.body.decode("utf-8")


def strings(value: object) -> list[str]:
    """Every string anywhere in a parsed payload (keys excluded)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def all_text(rendered: Rendered) -> str:
    """What a person could end up reading: body strings plus query values (ntfy's title)."""
    return "\n".join([*strings(payload(rendered)), *rendered.query.values()])
