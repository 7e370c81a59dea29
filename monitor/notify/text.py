"""Words and text helpers shared by every webhook format.

Each format escapes feed text its own way; what is said (event type in words,
actor, confidence, PLANNED, outlets) is decided here once so the formats agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from monitor.domain import Alert, Digest, Notice
from monitor.events import REGISTRY

Message = Alert | Notice | Digest

EVENT_WORDS: dict[str, str] = {kind.name: kind.title for kind in REGISTRY}
NOTICE_WORDS = {
    "failing": "Feed failing",
    "recovered": "Feed recovered",
    "silent": "Feed silent",
    "bulk_change": "Sanctions list: mass change held for review",
}
ELLIPSIS = "…"
_SPACE = re.compile(r"\s+")
# Control characters (bar tab/newline, which fold() turns into spaces) have no place in a message; nor have
# bidirectional overrides and isolates (a title spoofed to read backwards) or zero-width characters.
_INVISIBLE = "\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
_CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f{_INVISIBLE}]")
# Markdown list, heading-ish and `-#` subtext markers only bite at the start of a line.
_LINE_START = re.compile(r"^([-+]|\d+(?=[.)]))")
_SAFE_LINK = re.compile(f"https?://[^\\s\\x00-\\x1f\\x7f{_INVISIBLE}]+", re.IGNORECASE)
# A longer "link" cannot be shown within the services' limits and is not a real article URL.
MAX_LINK = 2000


def fold(text: str) -> str:
    """One line: control characters dropped, whitespace runs folded to one space."""
    return _SPACE.sub(" ", _CONTROL.sub("", text)).strip()


def _escape_marker(match: re.Match[str]) -> str:
    marker = match.group(1)
    return "\\" + marker if marker in "-+" else marker + "\\"


def escape_line_start(text: str) -> str:
    """Backslash-escape a list marker at the very start (`- x` -> `\\- x`, `1. x` -> `1\\. x`)."""
    return _LINE_START.sub(_escape_marker, text)


def _fold_head(text: str, limit: int) -> str:
    """`fold(text)`, or a prefix of it longer than `limit`: folding 10k characters to show 200 is waste."""
    head = text[: 2 * limit + 64]
    if len(head) < len(text):
        folded = fold(head)  # a prefix of fold(text), since folding never looks ahead
        if len(folded) > limit:
            return folded
    return fold(text)


def clip(text: str, limit: int, escape: Callable[[str], str] = str) -> str:
    """`escape(fold(text))`, cut so the escaped result is at most `limit` characters.

    The cut is made in the raw text before escaping so an entity or an escape
    sequence is never split in half. `escape` must never make text shorter.
    """
    raw = _fold_head(text, limit)
    if len(raw) <= limit:  # else escaping cannot bring it within the limit: skip escaping it all
        escaped = escape(raw)
        if len(escaped) <= limit:
            return escaped
    room = limit - len(ELLIPSIS)
    # Escaped length grows with the prefix length: binary-search the longest prefix that fits.
    low, high = 0, min(len(raw), max(room, 0))
    while low < high:
        middle = (low + high + 1) // 2
        if len(escape(raw[:middle].rstrip())) <= room:
            low = middle
        else:
            high = middle - 1
    return escape(raw[:low].rstrip()) + ELLIPSIS


def safe_link(link: str | None) -> str | None:
    """The link when it is a plain http(s) URL; None for anything else (javascript:, blanks)."""
    if link is None:
        return None
    link = link.strip()
    return link if len(link) <= MAX_LINK and _SAFE_LINK.fullmatch(link) else None


def markdown_link(url: str | None, label: str) -> str:
    """A masked markdown link we build (Discord, Mattermost); `(`, `)`, `<`, `>` in the URL are
    percent-encoded to keep it whole. Without a usable URL, just the label."""
    url = safe_link(url)
    if url is None:
        return label
    for char, code in (("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, code)
    return f"[{label}]({url})"


def actor_label(alert: Alert) -> str:
    """Who acted, as "Kazakhstan (KZ)"; degrades to whichever part is known."""
    if alert.actor_name and alert.actor:
        return f"{fold(alert.actor_name)} ({alert.actor})"
    return fold(alert.actor_name or alert.actor or "Unknown actor")


def percent(confidence: float) -> str:
    return f"{round(max(0.0, min(1.0, confidence)) * 100)}%"


def outlets(sources: int) -> str:
    return f"{sources} outlet" if sources == 1 else f"{sources} outlets"


def status_word(alert: Alert) -> str:
    """PLANNED for announced-but-not-done steps; the capitals are deliberate, people skim."""
    return {"asserted": "Reported as done", "planned": "PLANNED", "negated": "DENIED"}[alert.modality]


def alert_title(alert: Alert) -> str:
    """ "Recognition: Kazakhstan (KZ)", prefixed "PLANNED " when the step is only announced."""
    prefix = "PLANNED " if alert.modality == "planned" else ""
    if alert.modality == "negated":
        prefix = "DENIED "
    suffix = " (official source)" if alert.official else ""
    return f"{prefix}{EVENT_WORDS[alert.event_type]}: {actor_label(alert)}{suffix}"


def notice_title(notice: Notice) -> str:
    return f"{NOTICE_WORDS[notice.kind]}: {fold(notice.feed)}"


def digest_title(digest: Digest) -> str:
    count = len(digest.alerts)
    return f"{count} event detected" if count == 1 else f"{count} events detected"


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def human_time(moment: datetime) -> str:
    return iso_utc(moment).replace("T", " ").replace("Z", " UTC")


def take_lines(lines: list[str], budget: int, reserve: int = 0) -> tuple[list[str], int]:
    """As many leading lines as fit in `budget` characters (newline-joined), and how many were left out.

    `reserve` is kept free when lines are left out, for the "and N more" note.
    """
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        room = budget - (reserve if index < len(lines) - 1 else 0)
        if used + len(line) + (1 if kept else 0) > room:
            return kept, len(lines) - len(kept)
        used += len(line) + (1 if kept else 0)
        kept.append(line)
    return kept, 0


def pack(lines: list[str], limit: int) -> list[str]:
    """Join lines into newline-separated chunks of at most `limit` characters (each line must fit)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def more_note(omitted: int) -> str:
    return f"…and {omitted} more"
