"""Huge feed text still yields requests every service accepts (limits from reference/webhooks.md)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from notify_samples import ALERT, MSG_ID, NOTICE, PLANNED, SECRET, TIMESTAMP

from monitor.domain import Alert, Digest, Notice
from monitor.notify import NAMES, Rendered, render
from monitor.notify.slack import escape as slack_escape
from monitor.notify.text import clip

# Plain, escape-heavy (each `<` grows to `&lt;` or `\<`), and 3-byte UTF-8 text, all 10,000 characters.
FILLERS = {
    "plain": ("Kabul embassy talks continue " * 400)[:10_000],
    "escapes": ("<!channel> & [x](y) *_~` @here " * 400)[:10_000],
    "cjk": "塔利班政府承认" * 1429,
}


def _huge(filler: str) -> Alert:
    return replace(
        ALERT, headline=filler, evidence=filler, summary=filler, actor_name=filler[:500], feed=filler[:300]
    )


def _messages(filler: str) -> dict[str, Alert | Notice | Digest]:
    alert = _huge(filler)
    many = tuple(replace(alert, event_id=i, link=f"{ALERT.link}&n={i}" + "x" * 1900) for i in range(200))
    return {
        "alert": alert,
        "planned": replace(alert, event_type=PLANNED.event_type, modality="planned"),
        "notice": replace(NOTICE, detail=filler, feed=filler[:300]),
        "digest": Digest(many),
    }


def _slack(body: dict[str, object], size: int) -> None:
    assert 0 < len(str(body["text"])) <= 40_000
    blocks = body["blocks"]
    assert isinstance(blocks, list) and len(blocks) <= 50
    total = 0
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        for text in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if text is not None:
                assert len(text["text"]) <= 3000
                total += len(text["text"])
        assert len(block.get("fields", [])) <= 10
    assert total <= 12_000  # Slack has refused near 13k block characters


def _discord(body: dict[str, object], size: int) -> None:
    assert len(str(body["content"])) <= 2000
    embeds = body["embeds"]
    assert isinstance(embeds, list) and 1 <= len(embeds) <= 10
    total = 0
    for embed in embeds:
        assert len(embed["title"]) <= 256 and len(embed.get("description", "")) <= 4096
        assert len(embed.get("fields", [])) <= 25
        for field in embed.get("fields", []):
            assert len(field["name"]) <= 256 and 0 < len(field["value"].strip()) <= 1024
        footer = embed.get("footer", {}).get("text", "")
        assert len(footer) <= 2048
        total += len(embed["title"]) + len(embed.get("description", "")) + len(footer)
        total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    assert total <= 6000


def _teams(body: dict[str, object], size: int) -> None:
    assert size <= 28_000


def _mattermost(body: dict[str, object], size: int) -> None:
    assert len(str(body["text"])) <= 16_383


def _googlechat(body: dict[str, object], size: int) -> None:
    assert size <= 32_000


def _generic(body: dict[str, object], size: int) -> None:
    assert size <= 20_000  # Standard Webhooks: keep payloads under 20 KB


LIMITS = {
    "slack": _slack,
    "discord": _discord,
    "teams": _teams,
    "mattermost": _mattermost,
    "googlechat": _googlechat,
    "generic": _generic,
}


@pytest.mark.parametrize("case", ["alert", "planned", "notice", "digest"])
@pytest.mark.parametrize("filler", sorted(FILLERS))
@pytest.mark.parametrize("kind", NAMES)
def test_ten_thousand_character_text_stays_within_limits(kind: str, filler: str, case: str) -> None:
    rendered: Rendered = render(
        kind, _messages(FILLERS[filler])[case], msg_id=MSG_ID, timestamp=TIMESTAMP, secret=SECRET
    )
    if kind == "ntfy":
        assert len(rendered.body) <= 4096  # ntfy's default message-size-limit, in bytes
        rendered.body.decode("utf-8")  # cut on a character boundary
        return
    LIMITS[kind](json.loads(rendered.body), len(rendered.body))


@pytest.mark.parametrize("kind", NAMES)
def test_digest_too_long_to_show_says_how_many_were_left_out(kind: str) -> None:
    message = _messages(FILLERS["plain"])["digest"]
    text = render(kind, message, msg_id=MSG_ID, timestamp=TIMESTAMP, secret=None).body.decode("utf-8")
    if kind == "generic":
        body = json.loads(text)
        assert body["count"] == 200 and body["omitted"] == 200 - len(body["events"]) > 0
    else:
        assert "more" in text


def test_clip_never_splits_an_escape() -> None:
    clipped = clip("<" * 50, 10, slack_escape)
    assert clipped == "&lt;&lt;…"
    assert len(clip("a < b " * 1000, 3000, slack_escape)) <= 3000
