"""How each webhook answer is classified: accepted, retry (and when), payload refused, or target broken."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from monitor.errors import DeliveryError, DeliveryRejected, DeliveryRetryable, TargetBroken
from monitor.notify import min_interval, rate_wait
from monitor.notify.response import interpret

NOW = datetime(2025, 7, 4, 9, 30, tzinfo=UTC)
TARGET = "ops-slack"
DISCORD_429 = json.dumps(
    {"message": "You are being rate limited.", "retry_after": 0.642, "global": False}
).encode()
DISCORD_50035 = json.dumps(
    {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {"embeds": {"0": {"title": "Must be 256 or fewer"}}},
    }
).encode()

ACCEPTED = [
    ("slack", 200, {}, b"ok"),
    ("discord", 200, {}, b'{"id": "1"}'),
    ("discord", 204, {}, b""),
    ("teams", 202, {}, b""),
    ("generic", 200, {}, b""),
    ("ntfy", 200, {}, b"{}"),
]

# kind, status, headers, body -> error class, retry_after, words the reason must contain
FAILURES: list[tuple[str, int | None, dict[str, str], bytes, type[DeliveryError], float | None, str]] = [
    ("generic", None, {}, b"", DeliveryRetryable, None, "no response"),
    ("slack", 429, {"Retry-After": "30"}, b"rate_limited", DeliveryRetryable, 30.0, "HTTP 429"),
    (
        "generic",
        503,
        {"retry-after": "Fri, 04 Jul 2025 09:32:00 GMT"},
        b"",
        DeliveryRetryable,
        120.0,
        "HTTP 503",
    ),
    ("generic", 503, {"Retry-After": "Fri, 04 Jul 2025 09:00:00 GMT"}, b"", DeliveryRetryable, 0.0, "503"),
    ("discord", 429, {"Retry-After": "1"}, DISCORD_429, DeliveryRetryable, 1.0, "rate limited"),
    ("discord", 429, {}, DISCORD_429, DeliveryRetryable, 0.642, "rate limited"),
    ("discord", 429, {"X-RateLimit-Reset-After": "2.5"}, DISCORD_429, DeliveryRetryable, 2.5, "429"),
    ("generic", 429, {"Retry-After": "soon"}, b"", DeliveryRetryable, None, "429"),
    ("generic", 429, {"Retry-After": "-5"}, b"", DeliveryRetryable, None, "429"),
    ("generic", 408, {}, b"", DeliveryRetryable, None, "HTTP 408"),
    ("generic", 425, {}, b"", DeliveryRetryable, None, "HTTP 425"),
    ("slack", 500, {}, b"rollup_error", DeliveryRetryable, None, "rollup_error"),
    (
        "teams",
        502,
        {},
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        DeliveryRetryable,
        None,
        "Bad Gateway",
    ),
    ("generic", 504, {}, b"", DeliveryRetryable, None, "HTTP 504"),
    ("slack", 400, {}, b"invalid_blocks", DeliveryRejected, None, "invalid_blocks"),
    ("slack", 400, {}, b"invalid_payload", DeliveryRejected, None, "invalid_payload"),
    ("discord", 400, {}, DISCORD_50035, DeliveryRejected, None, "Invalid Form Body (code 50035)"),
    ("teams", 413, {}, b"Request Entity too large", DeliveryRejected, None, "too large"),
    ("generic", 422, {}, b'{"error": "unknown field"}', DeliveryRejected, None, "unknown field"),
    ("generic", 409, {}, b"", DeliveryRejected, None, "HTTP 409"),
    ("generic", 418, {}, b"", DeliveryRejected, None, "HTTP 418"),
    ("slack", 400, {}, b"invalid_token", TargetBroken, None, "invalid_token"),
    ("slack", 400, {}, b"no_service", TargetBroken, None, "no_service"),
    ("slack", 403, {}, b"action_prohibited", TargetBroken, None, "action_prohibited"),
    ("slack", 404, {}, b"channel_not_found", TargetBroken, None, "channel_not_found"),
    ("slack", 410, {}, b"channel_is_archived", TargetBroken, None, "channel_is_archived"),
    (
        "discord",
        404,
        {},
        b'{"message": "Unknown Webhook", "code": 10015}',
        TargetBroken,
        None,
        "Unknown Webhook",
    ),
    (
        "discord",
        401,
        {},
        b'{"message": "Invalid Webhook Token", "code": 50027}',
        TargetBroken,
        None,
        "Invalid",
    ),
    ("generic", 403, {}, b"", TargetBroken, None, "HTTP 403"),
    (
        "generic",
        301,
        {"Location": "https://elsewhere.example/hook?token=abc"},
        b"",
        TargetBroken,
        None,
        "redirects",
    ),
]


@pytest.mark.parametrize(("kind", "status", "headers", "body"), ACCEPTED)
def test_success_is_accepted(kind: str, status: int, headers: dict[str, str], body: bytes) -> None:
    assert interpret(kind, TARGET, status, headers, body, NOW) is None


@pytest.mark.parametrize(("kind", "status", "headers", "body", "error", "wait", "words"), FAILURES)
def test_failure_is_classified(
    kind: str,
    status: int | None,
    headers: dict[str, str],
    body: bytes,
    error: type[DeliveryError],
    wait: float | None,
    words: str,
) -> None:
    with pytest.raises(DeliveryError) as caught:
        interpret(kind, TARGET, status, headers, body, NOW)
    assert type(caught.value) is error
    assert caught.value.status == status and caught.value.target == TARGET
    assert words in caught.value.reason
    assert str(caught.value).startswith(f"webhook {TARGET}: ")
    if isinstance(caught.value, DeliveryRetryable):
        if wait is None:
            assert caught.value.retry_after is None
        else:
            assert caught.value.retry_after == pytest.approx(wait)


def test_service_error_text_is_cut_to_300_characters() -> None:
    with pytest.raises(DeliveryRejected) as caught:
        interpret("generic", TARGET, 400, {}, b"x" * 5000, NOW)
    assert len(caught.value.reason) <= len("HTTP 400: ") + 300


def test_error_text_never_echoes_urls_or_tokens() -> None:
    token = "Zq3xV9kLmN0pRsTuVwXyZ1a2B3c4D5e6F7g8H9i0JkLmNoPq"
    body = (
        f"bad request for https://hooks.slack.com/services/T000/B000/{token} "
        f"token={token} secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    ).encode()
    with pytest.raises(DeliveryRejected) as caught:
        interpret("generic", TARGET, 400, {}, body, NOW)
    shown = str(caught.value)
    assert "hooks.slack.com" not in shown and token not in shown and "MfKQ9r8" not in shown
    assert "bad request" in shown


def test_naive_now_is_taken_as_utc() -> None:
    with pytest.raises(DeliveryRetryable) as caught:
        interpret(
            "generic",
            TARGET,
            503,
            {"Retry-After": "Fri, 04 Jul 2025 09:31:00 GMT"},
            b"",
            NOW.replace(tzinfo=None),
        )
    assert caught.value.retry_after == 60.0


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "1.5"}, 1.5),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset-after": "0.25"}, 0.25),
        ({"X-RateLimit-Remaining": "3", "X-RateLimit-Reset-After": "1.5"}, None),
        ({"X-RateLimit-Remaining": "0"}, None),
        ({}, None),
    ],
)
def test_rate_wait_reads_discord_bucket_headers(headers: dict[str, str], wait: float | None) -> None:
    assert rate_wait(headers) == wait


@pytest.mark.parametrize(
    ("kind", "gap"),
    [("slack", 1.0), ("discord", 0.4), ("teams", 0.2), ("generic", 0.0), ("googlechat", 1.0), ("ntfy", 5.0)],
)
def test_min_interval_per_kind(kind: str, gap: float) -> None:
    assert min_interval(kind) == gap
