"""Make URLs safe to log.

Feed URLs can carry tokens in their query or userinfo, and webhook URLs are
secrets in their entirety, so nothing prints a raw URL: logs, exception
messages and CLI output go through these functions first.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

__all__ = ["MASK", "quiet_http_loggers", "redact_secret_url", "redact_url", "url_secrets"]

MASK = "***"
_UNPARSEABLE = "<unparseable url>"


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


def url_secrets(url: str) -> list[str]:
    """The parts of `url` that may be credentials: userinfo and query values, longest first."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    userinfo, _, _ = parts.netloc.rpartition("@")
    found = [piece for piece in userinfo.split(":") if piece]
    for pair in parts.query.split("&"):
        name, sep, value = pair.partition("=")
        found.append(value if sep else name)
    return sorted({piece for piece in found if piece}, key=len, reverse=True)


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
