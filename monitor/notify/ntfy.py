"""ntfy payloads: the message as the plain-text body, the rest as query parameters.

The topic is part of the configured URL (and is its secret), so the JSON form,
which needs the topic in the body, is not used. Query parameters carry UTF-8
titles safely where headers would not. Markdown stays off, so nothing renders.
"""

from __future__ import annotations

from monitor.domain import Alert, Digest, Notice
from monitor.notify.base import Rendered
from monitor.notify.text import (
    ELLIPSIS,
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
    take_lines,
)

# ntfy's default message-size-limit; larger bodies turn into attachments or are refused.
BODY_MAX_BYTES = 4096
TITLE_MAX = 250
HEADERS = {"content-type": "text/plain; charset=utf-8"}
NOTICE_TAGS = {
    "failing": "warning",
    "recovered": "white_check_mark",
    "silent": "zzz",
    "bulk_change": "rotating_light",
}


def clip_utf8(text: str, limit: int) -> str:
    """Cut to at most `limit` UTF-8 bytes on a character boundary, marking the cut."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode("utf-8"))
    return encoded[:room].decode("utf-8", errors="ignore").rstrip() + ELLIPSIS


def _alert(alert: Alert) -> tuple[str, dict[str, str]]:
    # Facts first: if the body is cut, the summary goes before anything people act on.
    lines = [
        " · ".join(
            (actor_label(alert), percent(alert.confidence), status_word(alert), outlets(alert.sources))
        ),
        clip(alert.headline, 500),
        "“" + clip(alert.evidence, 1500) + "”",
        f"Feed {clip(alert.feed, 200)} · {human_time(alert.published)} · rule {alert.rule} "
        f"· event {alert.event_id}",
    ]
    if alert.summary:
        lines.append(clip(alert.summary, 600))
    query = {
        "title": clip(alert_title(alert), TITLE_MAX),
        "priority": "4" if alert.modality == "asserted" else "3",
        "tags": "rotating_light",
    }
    url = safe_link(alert.link)
    if url is not None:
        query["click"] = url
    return "\n".join(lines), query


def _notice(notice: Notice) -> tuple[str, dict[str, str]]:
    body = f"{clip(notice.detail, 2000) or '(no detail)'}\nNoticed {human_time(notice.at)}"
    query = {
        "title": clip(notice_title(notice), TITLE_MAX),
        "priority": "3",
        "tags": NOTICE_TAGS[notice.kind],
    }
    return body, query


def _digest_line(alert: Alert) -> str:
    planned = " · PLANNED" if alert.modality == "planned" else ""
    return (
        f"• {EVENT_WORDS[alert.event_type]} · {clip(actor_label(alert), 100)} · "
        f"{clip(alert.headline, 200)} · {safe_link(alert.link) or 'no link'}{planned}"
    )


def _digest(digest: Digest) -> tuple[str, dict[str, str]]:
    # Characters, not bytes, are budgeted here; clip_utf8 below enforces the byte limit.
    lines, omitted = take_lines([_digest_line(a) for a in digest.alerts], BODY_MAX_BYTES, reserve=40)
    if omitted:
        lines.append(more_note(omitted))
    return "\n".join(lines), {"title": digest_title(digest), "priority": "4", "tags": "rotating_light"}


def render(message: Message) -> Rendered:
    if isinstance(message, Alert):
        body, query = _alert(message)
    elif isinstance(message, Notice):
        body, query = _notice(message)
    else:
        body, query = _digest(message)
    return Rendered(clip_utf8(body, BODY_MAX_BYTES).encode("utf-8"), dict(HEADERS), query)
