"""Slack incoming-webhook payloads: `text` fallback plus Block Kit blocks.

Every piece of feed text goes through `escape`, which defuses `<!channel>`,
`<@U123>` and `<http://x|label>`; `link_names` is never sent, so a bare
`@here` stays text.
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
    human_time,
    more_note,
    notice_title,
    outlets,
    pack,
    percent,
    safe_link,
    status_word,
    take_lines,
)

HEADER_MAX = 150
# Slack answers these (sometimes as a 400) when the webhook itself is gone or barred, not the payload.
BROKEN_ERRORS = frozenset({
    "no_service", "invalid_token", "channel_not_found", "channel_is_archived", "team_disabled",
    "no_team", "action_prohibited", "posting_to_general_channel_denied",
})  # fmt: skip
SECTION_MAX = 3000
BLOCKS_MAX = 50
# Slack has refused messages near 13k block characters in total (bolt-js#2509); stay well under.
DIGEST_BUDGET = 9000
FALLBACK_MAX = 3000
LINK_MAX = 2000


def escape(text: str) -> str:
    """Slack's own three escapes, and nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, label: str) -> str:
    """`<url|label>` for an http(s) URL; just the (already escaped) label otherwise."""
    url = safe_link(url)
    if url is None:
        return label
    # `|`, `<` and `>` would end the URL early; percent-encoding keeps it the same address.
    url = escape(url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E"))
    return f"<{url}|{label}>" if len(url) <= LINK_MAX else label


def _header(text: str) -> dict[str, object]:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, HEADER_MAX, escape)}}


def _section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, object]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _alert(alert: Alert) -> dict[str, object]:
    headline = link(alert.link, clip(alert.headline, 500, escape))
    lead = f"*{headline}*"
    if alert.summary:
        lead += "\n" + clip(alert.summary, 600, escape)
    facts = [
        ("Event", EVENT_WORDS[alert.event_type]),
        ("Actor", actor_label(alert)),
        ("Confidence", percent(alert.confidence)),
        ("Status", status_word(alert)),
        ("Reported by", outlets(alert.sources)),
        ("Feed", alert.feed),
    ]
    fields = [{"type": "mrkdwn", "text": f"*{name}*\n{clip(value, 300, escape)}"} for name, value in facts]
    blocks: list[dict[str, object]] = [
        _header(alert_title(alert)),
        _section(lead),
        {"type": "section", "fields": fields},
        _section("*Evidence*\n> " + clip(alert.evidence, 1500, escape)),
        _context(
            f"Published {human_time(alert.published)} · rule `{escape(alert.rule)}` · event {alert.event_id}"
        ),
    ]
    fallback = (
        f"{alert_title(alert)} — {alert.headline} ({percent(alert.confidence)}, {outlets(alert.sources)})"
    )
    return {"text": clip(fallback, FALLBACK_MAX, escape), "blocks": blocks, "unfurl_links": False}


def _notice(notice: Notice) -> dict[str, object]:
    blocks: list[dict[str, object]] = [
        _header(notice_title(notice)),
        _section(clip(notice.detail, 2000, escape) or "(no detail)"),
        _context(f"Noticed {human_time(notice.at)}"),
    ]
    fallback = f"{notice_title(notice)}: {notice.detail}"
    return {"text": clip(fallback, FALLBACK_MAX, escape), "blocks": blocks, "unfurl_links": False}


def _digest_line(alert: Alert) -> str:
    headline = link(alert.link, clip(alert.headline, 200, escape))
    planned = " · *PLANNED*" if alert.modality == "planned" else ""
    actor = clip(actor_label(alert), 100, escape)
    return (
        f"• *{EVENT_WORDS[alert.event_type]}* · {actor} · {headline} · {percent(alert.confidence)}{planned}"
    )


def _digest(digest: Digest) -> dict[str, object]:
    lines, omitted = take_lines([_digest_line(a) for a in digest.alerts], DIGEST_BUDGET, reserve=40)
    sections = [_section(chunk) for chunk in pack(lines, SECTION_MAX)]
    blocks: list[dict[str, object]] = [_header(digest_title(digest)), *sections[: BLOCKS_MAX - 2]]
    if omitted:
        blocks.append(_context(more_note(omitted)))
    headlines = "; ".join(a.headline for a in digest.alerts[:5])
    fallback = f"{digest_title(digest)}: {headlines}"
    return {"text": clip(fallback, FALLBACK_MAX, escape), "blocks": blocks, "unfurl_links": False}


def render(message: Message) -> Rendered:
    if isinstance(message, Alert):
        return json_rendered(_alert(message))
    if isinstance(message, Notice):
        return json_rendered(_notice(message))
    return json_rendered(_digest(message))
