"""Discord webhook payloads: a short `content` line plus one embed, always `allowed_mentions: {"parse": []}`.

allowed_mentions stops pings; `escape` also stops feed text from rendering as
markdown, so a `[label](url)` in a headline cannot show a spoofed link, and
`@everyone`/`@here` get a zero-width space so they do not even look like pings.
"""

from __future__ import annotations

import re

from monitor.domain import Alert, Digest, Notice
from monitor.events import REGISTRY
from monitor.notify.base import Rendered, json_rendered
from monitor.notify.text import (
    EVENT_WORDS,
    Message,
    actor_label,
    alert_title,
    clip,
    digest_title,
    escape_line_start,
    iso_utc,
    markdown_link,
    more_note,
    notice_title,
    outlets,
    percent,
    safe_link,
    status_word,
    take_lines,
)

CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
QUERY = {"wait": "true"}  # with wait=true a dropped message is an error, not a silent 204
NO_PINGS: dict[str, list[str]] = {"parse": []}
COLOURS: dict[str, int] = {kind.name: kind.colour for kind in REGISTRY}
NOTICE_COLOURS = {"failing": 0xC0392B, "recovered": 0x27AE60, "silent": 0xF1C40F, "bulk_change": 0xE67E22}
_MARKDOWN = str.maketrans({ch: "\\" + ch for ch in "\\*_~`|<>[]()#"})
_MASS_PING = re.compile(r"@(everyone|here)", re.IGNORECASE)


def escape(text: str) -> str:
    """Backslash-escape Discord markdown and break `@everyone`/`@here` with a zero-width space."""
    text = escape_line_start(text.translate(_MARKDOWN))
    return _MASS_PING.sub("@\u200b\\1", text)


def _field(name: str, value: str) -> dict[str, object]:
    return {"name": name, "value": clip(value, FIELD_VALUE_MAX, escape) or "-", "inline": True}


def _alert(alert: Alert) -> dict[str, object]:
    description = "> " + clip(alert.evidence, 1500, escape)
    if alert.summary:
        description += "\n\n" + clip(alert.summary, 600, escape)
    embed: dict[str, object] = {
        "title": clip(alert.headline, TITLE_MAX, escape),
        "description": description,
        "color": COLOURS[alert.event_type],
        "fields": [
            _field("Event", EVENT_WORDS[alert.event_type]),
            _field("Actor", actor_label(alert)),
            _field("Confidence", percent(alert.confidence)),
            _field("Status", status_word(alert)),
            _field("Reported by", outlets(alert.sources)),
            _field("Feed", clip(alert.feed, 200)),
        ],
        "footer": {"text": clip(f"rule {alert.rule} · event {alert.event_id}", FOOTER_MAX, escape)},
        "timestamp": iso_utc(alert.published),
    }
    url = safe_link(alert.link)
    if url is not None:
        embed["url"] = url  # makes the title the link to the source
    return {
        "content": clip(alert_title(alert), CONTENT_MAX, escape),
        "embeds": [embed],
        "allowed_mentions": NO_PINGS,
    }


def _notice(notice: Notice) -> dict[str, object]:
    embed: dict[str, object] = {
        "title": clip(notice_title(notice), TITLE_MAX, escape),
        "description": clip(notice.detail, 2000, escape) or "(no detail)",
        "color": NOTICE_COLOURS[notice.kind],
        "timestamp": iso_utc(notice.at),
    }
    return {
        "content": clip(notice_title(notice), CONTENT_MAX, escape),
        "embeds": [embed],
        "allowed_mentions": NO_PINGS,
    }


def _digest_line(alert: Alert) -> str:
    headline = markdown_link(alert.link, clip(alert.headline, 200, escape))
    planned = " · **PLANNED**" if alert.modality == "planned" else ""
    actor = clip(actor_label(alert), 100, escape)
    return (
        f"• **{EVENT_WORDS[alert.event_type]}** · {actor} · {headline} · {percent(alert.confidence)}{planned}"
    )


def _digest(digest: Digest) -> dict[str, object]:
    lines, omitted = take_lines([_digest_line(a) for a in digest.alerts], DESCRIPTION_MAX, reserve=40)
    if omitted:
        lines.append(more_note(omitted))
    embed: dict[str, object] = {
        "title": digest_title(digest),
        "description": "\n".join(lines),
        "color": 0xD83C3E,
    }
    return {"content": digest_title(digest), "embeds": [embed], "allowed_mentions": NO_PINGS}


def render(message: Message) -> Rendered:
    if isinstance(message, Alert):
        return json_rendered(_alert(message), QUERY)
    if isinstance(message, Notice):
        return json_rendered(_notice(message), QUERY)
    return json_rendered(_digest(message), QUERY)
