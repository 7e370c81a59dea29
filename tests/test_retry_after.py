"""Retry-After is read one way for feeds and webhooks: one table of edge cases, through both callers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from monitor import retry_after
from monitor.errors import DeliveryRetryable, FetchRateLimited
from monitor.fetch import _raise_for_status
from monitor.notify import interpret
from monitor.retry_after import LONGEST

NOW = datetime(2025, 7, 3, 12, 0, 0, tzinfo=UTC)
SERVER_NOW = "Thu, 03 Jul 2025 12:00:00 GMT"  # the answer's Date: a feed's wait is measured against it

# Retry-After value -> seconds both callers wait (None: the caller's backoff decides)
CASES: list[tuple[str | None, float | None]] = [
    (None, None),
    ("", None),
    ("   ", None),
    ("0", 0.0),
    (" 30 ", 30.0),
    ("1.5", 1.5),
    ("-5", None),  # not delay-seconds: ignored, not "now"
    ("+5", None),
    ("soon", None),
    ("nan", None),
    ("inf", None),
    ("1e3", None),
    ("1000000000000", LONGEST),  # a hostile 10^12 s is a year; each caller caps it further
    ("9" * 400, LONGEST),  # more digits than a float holds
    ("Thu, 03 Jul 2025 12:02:00 GMT", 120.0),  # IMF-fixdate
    ("Thursday, 03-Jul-25 12:00:30 GMT", 30.0),  # RFC 850, still allowed by RFC 9110
    ("Thu Jul  3 12:01:00 2025", 60.0),  # asctime
    ("Thu, 03 Jul 2025 11:00:00 GMT", 0.0),  # already past: retry now
    ("Thu, 03 Jul 3025 12:00:00 GMT", LONGEST),
    ("Thu, 32 Jul 2025 12:00:00 GMT", None),
]


def feed_wait(value: str | None) -> float | None:
    """What a feed's 429 answer makes the poll wait."""
    headers = {"date": SERVER_NOW} | ({} if value is None else {"retry-after": value})
    with pytest.raises(FetchRateLimited) as caught:
        _raise_for_status(httpx.Response(429, headers=headers), "https://wire.example/rss")
    return caught.value.retry_after


def webhook_wait(value: str | None) -> float | None:
    """What a webhook's 429 answer makes its target wait."""
    headers = {} if value is None else {"Retry-After": value}
    with pytest.raises(DeliveryRetryable) as caught:
        interpret("generic", "chat", 429, headers, b"", NOW)
    return caught.value.retry_after


@pytest.mark.parametrize("caller", [feed_wait, webhook_wait], ids=["feed", "webhook"])
@pytest.mark.parametrize(("value", "expected"), CASES)
def test_both_callers_read_retry_after_alike(
    caller: Callable[[str | None], float | None], value: str | None, expected: float | None
) -> None:
    assert caller(value) == expected


# Webhooks only: Discord's body and rate-limit header, under the same number rules; the longest wait wins.
BODY_CASES: list[tuple[dict[str, str], bytes, float | None]] = [
    ({}, b'{"retry_after": 0.642, "global": false}', 0.642),
    ({}, b'{"retry_after": -1}', None),
    ({}, b'{"retry_after": true}', None),
    ({}, b'{"retry_after": "5"}', None),
    ({}, b'{"retry_after": 1e12}', LONGEST),
    ({}, b'{"retry_after": Infinity}', None),
    ({}, b'{"retry_after": 1' + b"0" * 400 + b"}", LONGEST),  # an int no float holds
    ({}, b"[1, 2]", None),
    ({"X-RateLimit-Reset-After": "2.5"}, b'{"retry_after": 0.642}', 2.5),
    ({"X-RateLimit-Reset-After": "-2"}, b"", None),
    ({"Retry-After": "1", "X-RateLimit-Reset-After": "0.5"}, b'{"retry_after": 0.2}', 1.0),
]


@pytest.mark.parametrize(("headers", "body", "expected"), BODY_CASES)
def test_a_webhooks_body_hint_follows_the_same_rules(
    headers: dict[str, str], body: bytes, expected: float | None
) -> None:
    with pytest.raises(DeliveryRetryable) as caught:
        interpret("discord", "chat", 429, headers, body, NOW)
    assert (
        caught.value.retry_after == pytest.approx(expected) if expected else caught.value.retry_after is None
    )


def test_a_naive_now_is_taken_as_utc() -> None:
    assert retry_after.header("Thu, 03 Jul 2025 12:01:00 GMT", NOW.replace(tzinfo=None)) == 60.0
