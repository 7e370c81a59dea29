"""Mattermost incoming-webhook payloads: one markdown `text`.

Mattermost has no per-message mention switch and expands Slack-style
`<!channel>`, so feed text gets `<`, `>`, `&` as entities, markdown punctuation
backslash-escaped, and a zero-width space after every `@` (any `@name` pings).
"""

from __future__ import annotations

from monitor.domain import Alert, Digest, Notice
from monitor.notify.base import Rendered, json_rendered
from monitor.notify.text import (
    EVENT_WORDS,
    Message,
    actor_label,
    alert_title,
    clip,
    digest_title,
    escape_line_start,
    human_time,
    markdown_link,
    more_note,
    notice_title,
    outlets,
    percent,
    status_word,
    take_lines,
)

# Servers since 5.0 take 16,383 characters; the largest alert is under half that.
TEXT_MAX = 16_383
DIGEST_BUDGET = 12_000
_ESCAPES: dict[str, str] = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "@": "@\u200b"}
_ESCAPES.update({ch: "\\" + ch for ch in "\\*_~`[]()#|"})
_TABLE = str.maketrans(_ESCAPES)


def escape(text: str) -> str:
    return escape_line_start(text.translate(_TABLE))


def _alert(alert: Alert) -> str:
    facts = (
        f"**Actor:** {clip(actor_label(alert), 300, escape)} · **Confidence:** {percent(alert.confidence)} · "
        f"**Status:** {status_word(alert)} · **Reported by:** {outlets(alert.sources)}"
    )
    lines = [
        f"#### {clip(alert_title(alert), 300, escape)}",
        f"**{markdown_link(alert.link, clip(alert.headline, 500, escape))}**",
        facts,
        "> " + clip(alert.evidence, 2000, escape),
    ]
    if alert.summary:
        lines += ["", clip(alert.summary, 1000, escape)]
    lines += [
        "",
        f"_Feed {clip(alert.feed, 200, escape)} · published {human_time(alert.published)} · "
        f"rule {escape(alert.rule)} · event {alert.event_id}_",
    ]
    return "\n".join(lines)


def _notice(notice: Notice) -> str:
    detail = clip(notice.detail, 2000, escape) or "(no detail)"
    return f"#### {clip(notice_title(notice), 300, escape)}\n{detail}\n_Noticed {human_time(notice.at)}_"


def _digest_line(alert: Alert) -> str:
    headline = markdown_link(alert.link, clip(alert.headline, 200, escape))
    planned = " · **PLANNED**" if alert.modality == "planned" else ""
    actor = clip(actor_label(alert), 100, escape)
    return (
        f"- **{EVENT_WORDS[alert.event_type]}** · {actor} · {headline} · {percent(alert.confidence)}{planned}"
    )


def _digest(digest: Digest) -> str:
    lines, omitted = take_lines([_digest_line(a) for a in digest.alerts], DIGEST_BUDGET, reserve=40)
    if omitted:
        lines.append(more_note(omitted))
    return "\n".join([f"#### {digest_title(digest)}", *lines])


def render(message: Message) -> Rendered:
    if isinstance(message, Alert):
        text = _alert(message)
    elif isinstance(message, Notice):
        text = _notice(message)
    else:
        text = _digest(message)
    return json_rendered({"text": text})
