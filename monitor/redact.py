"""Make URLs safe to log.

Feed URLs can carry tokens in their query or userinfo, and webhook URLs are
secrets in their entirety, so nothing prints a raw URL: logs, exception
messages and CLI output go through these functions first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit, urlunsplit

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = [
    "MASK",
    "Redactor",
    "config_redactor",
    "feed_url_secrets",
    "quiet_http_loggers",
    "redact_secret_url",
    "redact_url",
    "url_secrets",
    "webhook_url_secrets",
]

MASK = "***"
_UNPARSEABLE = "<unparseable url>"
# Shorter strings are page numbers, flags and words ("services", "hook"), not credentials; masking them
# everywhere would garble every message.
MIN_SECRET = 4
_TOKENISH = re.compile(r"(?=.*\d).{6,}|.{16,}")  # a path segment holding a digit, or a long one


class Redactor:
    """Masks every configured secret wherever it appears in a string, not only inside a URL: receivers
    echo request paths in error pages, and a token can come back in any text.

    >>> Redactor(["T000/B000/XXXX", "XXXX"])("Cannot POST /services/T000/B000/XXXX")
    'Cannot POST /services/***'
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        found: set[str] = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET:
                found |= {secret, quote(secret, safe=""), quote(secret, safe="/"), unquote(secret)}
        ordered = sorted((f for f in found if len(f) >= MIN_SECRET), key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern is not None else text

    def optional(self, text: str | None) -> str | None:
        return None if text is None else self(text)


def redact_url(url: str) -> str:
    """Keep scheme, host, port and path; drop userinfo and fragment; mask every query value.

    >>> redact_url("https://user:pw@example.com:8443/feed.xml?token=abc&lang=en")
    'https://example.com:8443/feed.xml?token=***&lang=***'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return _UNPARSEABLE
    return urlunsplit((parts.scheme, _host_and_port(parts.netloc), parts.path, _mask_query(parts.query), ""))


def redact_secret_url(url: str) -> str:
    """For webhook URLs whose whole path is the credential (Slack, Discord, Teams).

    >>> redact_secret_url("https://hooks.slack.com/services/T000/B000/XXXX")
    'https://hooks.slack.com/***'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return _UNPARSEABLE
    return f"{parts.scheme}://{_host_and_port(parts.netloc)}/{MASK}"


def url_secrets(url: str, *, search_words: bool = True) -> list[str]:
    """The parts of `url` that may be credentials, longest first: userinfo and query values. With
    `search_words=False` (a feed's URL), only credential-like parameters (token=, key=, sig=...) and a
    bare token-like element (`?AbC123...`) count: "q=afghanistan" or "hl=en-US" are no secrets, and
    masking them would garble every log line and headline that contains them."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    userinfo, _, _ = parts.netloc.rpartition("@")
    found = [piece for piece in userinfo.split(":") if piece]
    for pair in parts.query.split("&"):
        name, sep, value = pair.partition("=")
        if search_words:
            found.append(value if sep else name)
        elif sep and _CREDENTIAL_PARAM.search(name):
            found.append(value)
        elif not sep and _TOKENISH.fullmatch(name):
            found.append(name)
    return sorted({piece for piece in found if piece}, key=len, reverse=True)


def feed_url_secrets(url: str) -> list[str]:
    """What to mask of a feed URL: userinfo, credential-like parameters, bare tokens; no search words."""
    return url_secrets(url, search_words=False)


# Query parameters whose values are credentials.
_CREDENTIAL_PARAM = re.compile(
    r"(?:^|[_-])(?:token|key|apikey|secret|sig|signature|auth|password|passwd|pass|pwd|session|sid|access|code"
    r"|credential|hash)(?:$|[_-])|^(?:api|x)[_-]?key$",
    re.IGNORECASE,
)


def webhook_url_secrets(url: str) -> list[str]:
    """What to mask of a webhook URL (its path is the credential for Slack, Discord, Teams...): the URL,
    its path, token-like path segments, query values and userinfo."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    segments = [seg for seg in parts.path.split("/") if _TOKENISH.fullmatch(seg)]
    path = parts.path.strip("/")
    whole = [path] if "/" in path or _TOKENISH.fullmatch(path) else []
    return [url, *whole, *segments, *url_secrets(url)]


def config_redactor(config: Config) -> Redactor:
    """Every secret the config holds: webhook URLs and signing keys, and credentials in feed URLs."""
    secrets: list[str] = []
    for hook in config.webhooks:
        secrets += webhook_url_secrets(hook.url.get_secret_value())
        if hook.secret is not None:
            key = hook.secret.get_secret_value()
            secrets += [key, key.removeprefix("whsec_")]
    for feed in config.feeds:
        secrets += feed_url_secrets(feed.url)
    return Redactor(secrets)


def quiet_http_loggers() -> None:
    """Silence httpx/httpcore INFO and DEBUG lines: they print full request URLs."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _host_and_port(netloc: str) -> str:
    return netloc.rpartition("@")[2]


def _mask_query(query: str) -> str:
    # A bare `?SECRET` element (no "=") is masked whole: it is often the token itself.
    masked = []
    for pair in query.split("&"):
        if not pair:
            continue
        name, sep, _ = pair.partition("=")
        masked.append(f"{name}={MASK}" if sep else MASK)
    return "&".join(masked)
