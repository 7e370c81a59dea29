"""How long a server asks us to wait, read one way for feeds (fetch.py) and webhooks (notify/response.py).

Rules, for `Retry-After` (RFC 9110: delay-seconds or an HTTP-date), `X-RateLimit-Reset-After` and a
number a service puts in its body (Discord's `retry_after`):

- absent, blank or garbage (words, a negative, `nan`, `inf`, `1e3`, a JSON `true`): None, and the caller's
  backoff decides;
- a number of seconds, a decimal fraction allowed (Discord sends `0.642`);
- an HTTP-date (any of RFC 9110's three forms): the seconds from `now` to it, 0 when it has passed;
- anything longer than a year, however many digits, is a year: each caller then caps the wait with its own
  setting and says so (`defaults.backoff_cap` for feeds, `delivery.retry_after_max` for webhooks).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

LONGEST = 365 * 86400.0  # seconds: a longer wait is read as this, never as garbage or infinity
_DELAY = re.compile(r"\d+(?:\.\d+)?")


def header(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value. `now` is the server's clock when known (its Date header
    cancels clock skew); a naive `now` is taken as UTC."""
    if value is None:
        return None
    return seconds(value) if _DELAY.fullmatch(value.strip()) else _until(value.strip(), now)


def seconds(value: str | None) -> float | None:
    """Seconds from a delay-seconds value alone (X-RateLimit-Reset-After); None when it is not one."""
    if value is None or not _DELAY.fullmatch(value.strip()):
        return None
    number = float(value.strip())
    return LONGEST if math.isinf(number) else clamp(number)  # more digits than a float holds


def clamp(number: float) -> float | None:
    """The rules for a number however it came (a header's digits, a JSON body's value, an int of any size)."""
    if number < 0 or (isinstance(number, float) and not math.isfinite(number)):
        return None
    return float(min(number, LONGEST))


def _until(text: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    wait = (_aware(when) - _aware(now)).total_seconds()
    return min(max(0.0, wait), LONGEST)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
