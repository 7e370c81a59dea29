"""Google Chat incoming-webhook payloads: a card (cardsV2) with a short plain `text`.

Chat's `text` syntax has `<users/all>` and no documented escape, so feed text
goes only into card `textParagraph`s, HTML-escaped; `text` carries our own words
with every `<` broken by a zero-width space.
"""

from __future__ import annotations

import html

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

# A message is at most 32,000 bytes; the digest list keeps well under it.
DIGEST_BUDGET_BYTES = 20_000
QUERY = {"messageReplyOption": "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"}


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def plain(text: str) -> str:
    """For `text`, which has mention syntax but no escape: `<` can no longer open one."""
    return clip(text, 300).replace("<", "<\u200b")


def link(url: str | None, label: str) -> str:
    url = safe_link(url)
    return label if url is None else f'<a href="{html.escape(url, quote=True)}">{label}</a>'


def _paragraph(text: str) -> dict[str, object]:
    return {"textParagraph": {"text": text}}


def _card(card_id: str, title: str, widgets: list[dict[str, object]]) -> dict[str, object]:
    card = {"header": {"title": plain(title)}, "sections": [{"widgets": widgets}]}
    return {"cardId": card_id, "card": card}


def _alert(alert: Alert) -> dict[str, object]:
    facts = [
        f"<b>Actor:</b> {clip(actor_label(alert), 300, escape)}",
        f"<b>Confidence:</b> {percent(alert.confidence)}",
        f"<b>Status:</b> {status_word(alert)}",
        f"<b>Reported by:</b> {outlets(alert.sources)}",
        f"<b>Feed:</b> {clip(alert.feed, 200, escape)} · {human_time(alert.published)}",
    ]
    widgets = [
        _paragraph(f"<b>{link(alert.link, clip(alert.headline, 500, escape))}</b>"),
        _paragraph("<br>".join(facts)),
        _paragraph("<i>“" + clip(alert.evidence, 2000, escape) + "”</i>"),
    ]
    if alert.summary:
        widgets.append(_paragraph(clip(alert.summary, 1000, escape)))
    widgets.append(
        _paragraph(f'<font color="#808080">rule {escape(alert.rule)} · event {alert.event_id}</font>')
    )
    return {
        "text": plain(alert_title(alert)),
        "cardsV2": [_card(f"event-{alert.event_id}", alert_title(alert), widgets)],
        # One thread per event, so later updates about it land together.
        "thread": {"threadKey": f"event-{alert.event_id}"},
    }


def _notice(notice: Notice) -> dict[str, object]:
    widgets = [
        _paragraph(clip(notice.detail, 2000, escape) or "(no detail)"),
        _paragraph(f"Noticed {human_time(notice.at)}"),
    ]
    return {
        "text": plain(notice_title(notice)),
        "cardsV2": [_card("feed-notice", notice_title(notice), widgets)],
        "thread": {"threadKey": clip(f"feed-{notice.feed}", 4000)},
    }


def _digest_entry(alert: Alert) -> dict[str, object]:
    headline = link(alert.link, clip(alert.headline, 200, escape))
    planned = " · <b>PLANNED</b>" if alert.modality == "planned" else ""
    actor = clip(actor_label(alert), 100, escape)
    event = EVENT_WORDS[alert.event_type]
    return _paragraph(f"<b>{event}</b> · {actor} · {headline} · {percent(alert.confidence)}{planned}")


def _digest(digest: Digest) -> dict[str, object]:
    widgets, omitted = fit_items([_digest_entry(a) for a in digest.alerts], DIGEST_BUDGET_BYTES)
    if omitted:
        widgets.append(_paragraph(more_note(omitted)))
    return {"text": plain(digest_title(digest)), "cardsV2": [_card("digest", digest_title(digest), widgets)]}


def render(message: Message) -> Rendered:
    if isinstance(message, Alert):
        return json_rendered(_alert(message), QUERY)
    if isinstance(message, Notice):
        return json_rendered(_notice(message), QUERY)
    return json_rendered(_digest(message), QUERY)
