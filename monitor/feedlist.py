"""`monitor feeds`: every configured feed (polled or not) with its stored state and a status in words.

Statuses: `ok`, `never polled`, `disabled`, `gone` (HTTP 410: polling stopped), `rate limited until T`
(429/503 with Retry-After), `failing since T` (no successful poll since T: the last success, or when
the feed was added), `silent since T` (no new items since T, beyond the feed's usual gap), and
`not in config` (stored, no longer configured).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from monitor.config import FeedConfig
from monitor.output import short_time
from monitor.redact import redact_url

# JSON and CSV columns (README "Output columns"); the table shows a narrower selection.
COLUMNS = [
    "name",
    "status",
    "url",
    "learned_url",
    "items",
    "error_count",
    "last_status",
    "gone",
    "problem",
    "last_polled_at",
    "next_poll_at",
    "last_error",
]
TABLE_COLUMNS = ["name", "status", "items", "errors", "last_poll", "next_poll", "last_error"]
TABLE_OPTIONAL = ["last_poll", "errors", "items"]  # left out, in this order, on a narrow terminal
RATE_LIMITED = (429, 503)
_URL_PREFIX = re.compile(r"^https?://\S+: ")


def status(row: dict[str, object], now: datetime) -> str:
    """The feed's state in words, from its stored row (ISO timestamps)."""
    if row.get("gone"):
        return "gone (410)"
    if row.get("last_polled_at") is None:
        return "never polled"
    next_at = row.get("next_poll_at")
    limited = row.get("last_status") in RATE_LIMITED and row.get("last_error")
    if limited and isinstance(next_at, str) and datetime.fromisoformat(next_at) > now:
        return f"rate limited until {short_time(next_at)}"
    if int(str(row.get("error_count") or 0)):
        since = row.get("last_success_at") or row.get("created_at")
        return f"failing since {short_time(since)}" if since else "failing"
    if row.get("notice_state") == "silent":
        return f"silent since {short_time(row.get('last_new_item_at'))}"
    return "ok"


def listing(
    configured: Sequence[FeedConfig], stored: Sequence[dict[str, object]], now: datetime
) -> list[dict[str, object]]:
    """One row per configured feed in config order, then stored feeds no longer configured."""
    by_name = {str(row["name"]): row for row in stored}
    rows: list[dict[str, object]] = []
    for feed in configured:
        row = dict(by_name.pop(feed.name, {"name": feed.name, "items": 0, "error_count": 0}))
        row["url"] = row.get("url") or redact_url(feed.url)
        row["status"] = status(row, now) if feed.enabled else "disabled"
        if not feed.enabled:
            row["next_poll_at"] = None
        rows.append(row)
    for row in by_name.values():
        rows.append({**row, "status": "not in config", "next_poll_at": None})
    return rows


def table_rows(rows: Sequence[dict[str, object]]) -> list[dict[str, object]]:
    return [
        {
            "name": row["name"],
            "status": row["status"],
            "items": row.get("items"),
            "errors": row.get("error_count"),
            "last_poll": short_time(row.get("last_polled_at")),
            "next_poll": short_time(row.get("next_poll_at")),
            # The table has no room to repeat the feed's URL before every error.
            "last_error": _URL_PREFIX.sub("", str(row["last_error"])) if row.get("last_error") else None,
        }
        for row in rows
    ]


def resume_summary(rows: Sequence[dict[str, object]], now: datetime) -> dict[str, object]:
    """For the daemon's start-up line: how many feeds are due now, wait (and until when), are gone,
    disabled, failing, or never polled."""
    waiting = sorted(
        str(row["next_poll_at"])
        for row in rows
        if isinstance(row.get("next_poll_at"), str) and datetime.fromisoformat(str(row["next_poll_at"])) > now
    )
    statuses = [str(row["status"]) for row in rows if row["status"] != "not in config"]
    return {
        "due_now": sum(1 for s in statuses if s not in ("disabled", "gone (410)")) - len(waiting),
        "waiting": len(waiting),
        "next_wait_ends": waiting[0] if waiting else None,
        "failing": sum(1 for s in statuses if s.startswith("failing")),
        "rate_limited": sum(1 for s in statuses if s.startswith("rate limited")),
        "gone": statuses.count("gone (410)"),
        "never_polled": statuses.count("never polled"),
        "disabled": statuses.count("disabled"),
    }
