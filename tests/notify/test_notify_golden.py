"""Each kind x message type renders exactly the reviewed payload in golden/<kind>-<case>.json.

Run with UPDATE_GOLDEN=1 to rewrite the files after an intended change; review the diff by eye.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from notify_samples import CASES, DIGEST, MSG_ID, SECRET, TIMESTAMP, all_text, payload

from monitor.notify import NAMES, Rendered, render

CHAT_KINDS = [kind for kind in NAMES if kind != "generic"]
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _render(kind: str, case: str) -> Rendered:
    return render(kind, CASES[case], msg_id=MSG_ID, timestamp=TIMESTAMP, secret=SECRET)


def _as_golden(rendered: Rendered) -> dict[str, object]:
    return {"headers": rendered.headers, "query": rendered.query, "body": payload(rendered)}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("kind", NAMES)
def test_payload_matches_golden_file(kind: str, case: str) -> None:
    path = GOLDEN / f"{kind}-{case}.json"
    actual = _as_golden(_render(kind, case))
    if UPDATE:
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert actual == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", NAMES)
def test_json_bodies_are_compact_utf8(kind: str) -> None:
    rendered = _render(kind, "alert")
    if rendered.headers["content-type"] == "application/json":
        data = json.loads(rendered.body)
        assert rendered.body == json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@pytest.mark.parametrize("kind", CHAT_KINDS)
def test_alert_says_what_who_how_sure_and_where(kind: str) -> None:
    text = all_text(_render(kind, "alert"))
    for expected in ("Recognition", "Kazakhstan", "KZ", "87%", "3 outlets", "Kazakhstan formally recognised"):
        assert expected in text, expected
    assert "PLANNED" not in text
    assert "https://news.example/world/kz-taliban?id=42&" in text.replace("&amp;", "&")


@pytest.mark.parametrize("kind", CHAT_KINDS)
def test_planned_step_is_marked_planned(kind: str) -> None:
    text = all_text(_render(kind, "planned"))
    assert "PLANNED" in text
    assert "Diplomatic upgrade" in text
    assert "1 outlet" in text


@pytest.mark.parametrize("kind", CHAT_KINDS)
def test_notice_names_feed_state_and_detail(kind: str) -> None:
    text = all_text(_render(kind, "notice"))
    assert "tolo" in text
    assert "failing" in text.lower()
    assert "5 consecutive failures; last: HTTP 503" in text


@pytest.mark.parametrize("kind", CHAT_KINDS)
def test_digest_lists_every_alert_with_type_actor_and_link(kind: str) -> None:
    text = all_text(_render(kind, "digest"))
    for alert in DIGEST.alerts:
        assert alert.headline[:25] in text
        assert alert.actor_name is not None and alert.actor_name in text
    for words in ("Recognition", "Diplomatic upgrade", "Sanctions eased"):
        assert words in text
    assert "news.example/asia/uz-embassy" in text


def test_generic_carries_the_event_as_data() -> None:
    body = payload(_render("generic", "planned"))
    assert isinstance(body, dict)
    assert body["version"] == 1
    assert body["type"] == "event.detected"
    assert body["event"] == {
        "id": 43,
        "event_type": "diplomatic_upgrade",
        "actor": "UZ",
        "actor_name": "Uzbekistan",
        "modality": "planned",
        "confidence": 0.72,
        "headline": "Uzbekistan to upgrade its Kabul mission to a full embassy",
        "link": "https://news.example/asia/uz-embassy",
        "feed": "tolo-news",
        "published": "2025-07-04T08:00:00Z",
        "evidence": "Tashkent will raise its mission in Kabul to embassy level next month, a spokesman said.",
        "rule": "upgrade.embassy",
        "sources": 1,
        "summary": "",
        # Added for official sources (issue 12); the fields above are unchanged.
        "official": False,
        "list_entry": None,
    }
    assert body["title"] == "PLANNED Diplomatic upgrade: Uzbekistan (UZ)"


def test_generic_list_alert_carries_the_entry_and_says_official() -> None:
    body = payload(_render("generic", "list"))
    assert isinstance(body, dict)
    assert body["title"] == "Sanctions imposed: United Nations (UN) (official source)"
    event = body["event"]
    assert isinstance(event, dict) and event["official"] is True
    assert event["list_entry"] == {
        "reference": "TAi.175",
        "name": "NEW LISTING ABDUL AHMAD TURK",
        "change": "added",
        "listed_on": "2026-03-02",
        "un_reference": "TAi.175",
    }


@pytest.mark.parametrize("kind", CHAT_KINDS)
def test_list_alert_says_official_reference_and_listing_date(kind: str) -> None:
    text = all_text(_render(kind, "list"))
    for expected in ("official source", "TAi.175", "2026-03-02", "Sanctions imposed"):
        assert expected in text, expected


def test_generic_digest_and_notice_types() -> None:
    digest = payload(_render("generic", "digest"))
    notice = payload(_render("generic", "notice"))
    assert isinstance(digest, dict) and isinstance(notice, dict)
    assert (digest["type"], digest["count"], digest["omitted"]) == ("event.digest", 3, 0)
    assert [event["id"] for event in digest["events"]] == [42, 43, 44]
    assert notice["type"] == "feed.notice"
    assert notice["notice"] == {
        "feed": "tolo-news",
        "status": "failing",
        "detail": "5 consecutive failures; last: HTTP 503",
        "at": "2025-07-04T09:00:00Z",
    }


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown webhook kind"):
        render("telegram", CASES["alert"], msg_id=MSG_ID, timestamp=TIMESTAMP, secret=None)
