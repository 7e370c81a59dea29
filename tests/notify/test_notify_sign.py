"""Generic webhooks verify with the reference Standard Webhooks library; bad secrets fail clearly."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from notify_samples import ALERT, MSG_ID, SECRET
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from monitor.notify import generate_secret, render, sign, validate_secret


def _now() -> int:
    return int(time.time())  # the reference verifier allows only 5 minutes of skew


def test_receiver_verifies_the_exact_bytes_sent() -> None:
    rendered = render("generic", ALERT, msg_id=MSG_ID, timestamp=_now(), secret=SECRET)
    data = Webhook(SECRET).verify(rendered.body, rendered.headers)
    assert data["event"]["id"] == ALERT.event_id
    assert rendered.headers["webhook-id"] == MSG_ID


def test_changed_body_fails_verification() -> None:
    rendered = render("generic", ALERT, msg_id=MSG_ID, timestamp=_now(), secret=SECRET)
    tampered = rendered.body.replace(b'"sources":3', b'"sources":9')
    assert tampered != rendered.body
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(tampered, rendered.headers)


def test_other_secret_fails_verification() -> None:
    rendered = render("generic", ALERT, msg_id=MSG_ID, timestamp=_now(), secret=SECRET)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(rendered.body, rendered.headers)


def test_retry_keeps_id_and_re_signs_for_the_new_timestamp() -> None:
    first = render("generic", ALERT, msg_id=MSG_ID, timestamp=_now() - 60, secret=SECRET)
    retry = render("generic", ALERT, msg_id=MSG_ID, timestamp=_now(), secret=SECRET)
    assert first.body == retry.body
    assert first.headers["webhook-id"] == retry.headers["webhook-id"]
    assert first.headers["webhook-signature"] != retry.headers["webhook-signature"]
    Webhook(SECRET).verify(retry.body, retry.headers)


def test_sign_agrees_with_reference_library() -> None:
    body = b'{"a":1}'
    expected = Webhook(SECRET).sign(MSG_ID, datetime.fromtimestamp(1751621400, UTC), body.decode())
    assert sign(SECRET, MSG_ID, 1751621400, body) == expected


def test_no_secret_sends_unsigned_with_id_and_timestamp() -> None:
    rendered = render("generic", ALERT, msg_id=MSG_ID, timestamp=1751621400, secret=None)
    assert "webhook-signature" not in rendered.headers
    assert rendered.headers["webhook-id"] == MSG_ID
    assert rendered.headers["webhook-timestamp"] == "1751621400"


def test_generated_secret_is_valid_and_verifies() -> None:
    secret = generate_secret()
    validate_secret(secret)
    rendered = render("generic", ALERT, msg_id=MSG_ID, timestamp=_now(), secret=secret)
    Webhook(secret).verify(rendered.body, rendered.headers)


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with 'whsec_'"),
        ("whsec_not base64 at all!!", "must be base64"),
        ("whsec_", "decodes to 0 bytes"),
        ("whsec_c2hvcnQ=", "decodes to 5 bytes"),
        ("whsec_" + "QUFB" * 8 + "QQ", "without its '=' padding.*add '==' at its end"),
        ("whsec_" + "QUFB" * 30, "decodes to 90 bytes"),
    ],
)
def test_malformed_secret_is_refused_without_quoting_it(secret: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        validate_secret(secret)
    body = secret.removeprefix("whsec_")
    assert not body or body not in str(caught.value)


@pytest.mark.parametrize("msg_id", ["", "has.dot"])
def test_id_that_would_break_the_signed_string_is_refused(msg_id: str) -> None:
    with pytest.raises(ValueError, match="webhook id"):
        sign(SECRET, msg_id, 1, b"{}")
