"""Standard Webhooks signatures (spec v1.0.0): `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
# The spec's range for the decoded key; shorter keys are guessable, longer ones are a paste error.
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64


def _key(secret: str) -> bytes:
    """The HMAC key: the base64 after `whsec_`, decoded. Errors never quote the secret."""
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook signing secret starts with 'whsec_'")
    encoded = secret[len(PREFIX) :]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the part after 'whsec_' must be base64") from None
    if len(encoded) % 4:
        # The reference verifiers for Python and JavaScript accept it, those for Go, C# and Elixir refuse it:
        # a receiver built on them could not load the secret we sign with.
        raise ValueError(
            "the part after 'whsec_' is base64 without its '=' padding, which Standard Webhooks libraries "
            f"for Go, C# and Elixir refuse; add {'=' * (-len(encoded) % 4)!r} at its end"
        )
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValueError(
            f"the part after 'whsec_' decodes to {len(key)} bytes; "
            f"Standard Webhooks needs {MIN_KEY_BYTES} to {MAX_KEY_BYTES}"
        )
    return key


def validate_secret(secret: str) -> None:
    """Raise ValueError, with a reason that does not contain the secret, if it is malformed."""
    _key(secret)


def generate_secret(nbytes: int = 32) -> str:
    """A fresh `whsec_` secret for an operator to share with a receiver."""
    return PREFIX + base64.b64encode(secrets.token_bytes(nbytes)).decode("ascii")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for exactly these bytes."""
    if not msg_id or "." in msg_id:
        raise ValueError("webhook id must be non-empty and contain no '.'")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")
