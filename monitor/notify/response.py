"""What a webhook's answer means for the delivery: accepted, retry later, refused, or target broken.

`target` is the webhook's configured name; neither the URL nor anything that
looks like a token ever reaches an exception message.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping
from datetime import datetime

from monitor import retry_after as retry_after_rules
from monitor.errors import DeliveryRejected, DeliveryRetryable, TargetBroken
from monitor.notify import kinds
from monitor.notify.text import clip

ERROR_TEXT_MAX = 300
BODY_READ_MAX = 64 * 1024  # of an answer's body: enough for any error text, never a 1 GiB answer
RETRY_STATUSES = frozenset({408, 425, 429})
BROKEN_STATUSES = frozenset({401, 403, 404, 410})
_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_SECRET = re.compile(r"whsec_\S*|\b[A-Za-z0-9_\-]{40,}\b")
_TAG = re.compile(r"<[^>]*>")


def interpret(
    kind: str, target: str, status: int | None, headers: Mapping[str, str], body: bytes, now: datetime
) -> None:
    """Return when the service accepted the message (any 2xx, Teams' 202 included); raise otherwise."""
    if status is None:
        raise DeliveryRetryable(target, "no response")
    if 200 <= status < 300:
        return
    lower = {name.lower(): value for name, value in headers.items()}
    text = error_text(body)
    reason = f"HTTP {status}: {text}" if text else f"HTTP {status}"
    if text in kinds.kind(kind).broken_errors:
        raise TargetBroken(target, reason, status)
    if status in RETRY_STATUSES or status >= 500:
        raise DeliveryRetryable(target, reason, status, retry_after(lower, body, now))
    if status in BROKEN_STATUSES:
        raise TargetBroken(target, reason, status)
    if 300 <= status < 400:
        # Redirects are not followed (they would carry the secret URL elsewhere); the URL needs fixing.
        raise TargetBroken(
            target, f"HTTP {status}: the webhook URL redirects; configure the final URL", status
        )
    raise DeliveryRejected(target, reason, status)


def decode_body(raw: bytes, coding: str | None) -> bytes | None:
    """The body as sent before its Content-Encoding (gzip or deflate), at most BODY_READ_MAX bytes;
    None when it cannot be decoded. Only error answers are decoded: a 2xx is accepted whatever its body."""
    coding = (coding or "identity").strip().lower()
    if coding in ("identity", ""):
        return raw[:BODY_READ_MAX]
    wbits = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}.get(
        coding
    )
    if wbits is None:
        return None
    try:
        return zlib.decompressobj(wbits).decompress(raw, BODY_READ_MAX)
    except zlib.error:
        return None


def error_text(body: bytes) -> str:
    """The service's own error words, one line, at most 300 characters, URLs and token-like strings masked."""
    raw = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if isinstance(data, dict):
        raw = _json_error(data)
    raw = _SECRET.sub("***", _URL.sub("<url>", _TAG.sub(" ", raw)))
    return clip(raw, ERROR_TEXT_MAX)


def _json_error(data: dict[str, object]) -> str:
    """Slack, Discord, Teams and most others put the words in one of these keys."""
    parts = [
        str(data[key]) for key in ("error", "message", "description", "detail", "title") if data.get(key)
    ]
    if "code" in data:
        parts.append(f"(code {data['code']})")
    if data.get("errors"):
        parts.append(json.dumps(data["errors"], separators=(",", ":")))
    return " ".join(parts) or json.dumps(data, separators=(",", ":"))


def retry_after(headers: Mapping[str, str], body: bytes, now: datetime) -> float | None:
    """Seconds to wait: the longest of Retry-After (seconds or date), X-RateLimit-Reset-After
    and the `retry_after` of Discord's 429 body; None when none is given."""
    waits = [
        retry_after_rules.header(headers.get("retry-after"), now),
        retry_after_rules.seconds(headers.get("x-ratelimit-reset-after")),
        _body_retry_after(body),
    ]
    known = [wait for wait in waits if wait is not None]
    return max(known) if known else None


def _body_retry_after(body: bytes) -> float | None:
    """Discord's 429 body: {"retry_after": 1.234, ...} in seconds."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("retry_after")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return retry_after_rules.clamp(value)


def rate_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds until Discord's bucket refills when the last response left it empty; None when not empty."""
    lower = {name.lower(): value for name, value in headers.items()}
    if lower.get("x-ratelimit-remaining", "").strip() != "0":
        return None
    return retry_after_rules.seconds(lower.get("x-ratelimit-reset-after"))


def min_interval(kind: str) -> float:
    """The least gap between two posts to one target (the kind's published limit; see kinds.py)."""
    return kinds.kind(kind).min_interval
