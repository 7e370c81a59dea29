"""Microsoft Teams Workflows payloads: one Adaptive Card 1.4 inside a `message` envelope.

Feed text goes into RichTextBlock TextRuns, which Adaptive Cards never parse as
markdown, so a `[label](url)` or `**` in a headline shows as typed. The few
values in markdown-parsing elements (FactSet values) are backslash-escaped.
Mentions need `<at>` plus an `msteams.entities` entry, which we never send.
"""

from __future__ import annotations

from monitor.domain import Alert, Digest, Notice
from monitor.notify.base import Rendered, fit_items, json_rendered
from monitor.notify.text import (
    EVENT_WORDS,
    Message,
    actor_label,
    alert_title,
    clip,
    digest_title,
    human_time,
    more_note,
    notice_title,
    outlets,
    percent,
    safe_link,
    status_word,
)

CARD_VERSION = "1.4"
# Teams refuses messages over about 28 KB (some report 21 KB); the digest list keeps well under it.
DIGEST_BUDGET_BYTES = 16_000
_MARKDOWN = str.maketrans({ch: "\\" + ch for ch in "\\*_~`[]()#<>"})


def escape(text: str) -> str:
    """For the rare feed-derived value that sits in a markdown-parsing element."""
    return text.translate(_MARKDOWN)


def _run(text: str, **style: object) -> dict[str, object]:
    return {"type": "TextRun", "text": text, **style}


def _rich(*runs: dict[str, object], **style: object) -> dict[str, object]:
    return {"type": "RichTextBlock", "inlines": list(runs), **style}


def _title(text: str, colour: str = "Default") -> dict[str, object]:
    return _rich(_run(clip(text, 300), weight="Bolder", size="Medium", color=colour))


def _open(url: str | None, title: str) -> list[dict[str, object]]:
    url = safe_link(url)
    return [] if url is None else [{"type": "Action.OpenUrl", "title": title, "url": url}]


def _card(body: list[dict[str, object]], actions: list[dict[str, object]]) -> dict[str, object]:
    card: dict[str, object] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        card["actions"] = actions
    attachment = {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": None,
        "content": card,
    }
    return {"type": "message", "attachments": [attachment]}


def _alert(alert: Alert) -> dict[str, object]:
    facts = [
        ("Event", EVENT_WORDS[alert.event_type]),
        ("Actor", actor_label(alert)),
        ("Confidence", percent(alert.confidence)),
        ("Status", status_word(alert)),
        ("Reported by", outlets(alert.sources)),
        ("Feed", alert.feed),
        ("Published", human_time(alert.published)),
    ]
    body: list[dict[str, object]] = [
        _title(alert_title(alert), "Attention" if alert.modality == "asserted" else "Warning"),
        _rich(_run(clip(alert.headline, 500), weight="Bolder")),
        {"type": "FactSet", "facts": [{"title": k, "value": clip(v, 300, escape)} for k, v in facts]},
        {
            "type": "Container",
            "style": "emphasis",
            "items": [_rich(_run("“" + clip(alert.evidence, 2000) + "”", italic=True))],
        },
    ]
    if alert.summary:
        body.append(_rich(_run(clip(alert.summary, 1000), isSubtle=True)))
    body.append(_rich(_run(f"rule {alert.rule} · event {alert.event_id}", isSubtle=True, size="Small")))
    return _card(body, _open(alert.link, "Open source"))


def _notice(notice: Notice) -> dict[str, object]:
    colour = "Good" if notice.kind == "recovered" else "Warning"
    body = [
        _title(notice_title(notice), colour),
        _rich(_run(clip(notice.detail, 2000) or "(no detail)")),
        _rich(_run(f"Noticed {human_time(notice.at)}", isSubtle=True, size="Small")),
    ]
    return _card(body, [])


def _digest_entry(alert: Alert) -> dict[str, object]:
    lead = f"{EVENT_WORDS[alert.event_type]} · {clip(actor_label(alert), 100)} · "
    headline = _run(clip(alert.headline, 200))
    url = safe_link(alert.link)
    if url is not None:
        headline["selectAction"] = {"type": "Action.OpenUrl", "url": url}
    tail = f" · {percent(alert.confidence)}" + (" · PLANNED" if alert.modality == "planned" else "")
    return _rich(_run(lead, weight="Bolder"), headline, _run(tail), spacing="Small")


def _digest(digest: Digest) -> dict[str, object]:
    entries, omitted = fit_items([_digest_entry(a) for a in digest.alerts], DIGEST_BUDGET_BYTES)
    body = [_title(digest_title(digest)), *entries]
    if omitted:
        body.append(_rich(_run(more_note(omitted), isSubtle=True)))
    return _card(body, [])


def render(message: Message) -> Rendered:
    if isinstance(message, Alert):
        return json_rendered(_alert(message))
    if isinstance(message, Notice):
        return json_rendered(_notice(message))
    return json_rendered(_digest(message))
