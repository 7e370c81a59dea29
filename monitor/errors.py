"""The monitor's exceptions, all under one root.

Expected outcomes (304 Not Modified, a duplicate item, nothing matched) are
return values, never exceptions. What is left is arranged by what the caller
does about it::

    MonitorError                  root: anything the monitor raises on purpose
    ├── ConfigError               bad feeds.yaml or environment: refuse to start (exit 2)
    ├── StoreError                the database cannot be opened or migrated (exit 2)
    ├── InputError                a user's input line or argument is malformed
    ├── FetchError                one poll of one feed failed: back off, keep polling
    │   ├── FetchTimeout          connect/read/total timeout
    │   ├── FetchConnectError     refused, DNS, TLS, dropped connection
    │   ├── FetchTooLarge         body or decompressed body over the cap
    │   ├── FetchRedirectError    redirect loop or too many redirects
    │   └── FetchStatusError      an HTTP status that is not 200/304
    │       ├── FetchRateLimited  429/503: wait `retry_after`, not a breakage
    │       └── FeedGone          410: stop polling this feed
    ├── ParseError                the body is not a feed at all (HTML page, empty)
    └── DeliveryError             one webhook request failed
        ├── DeliveryRetryable     timeout, connection, 408/425/429/5xx: retry later
        ├── DeliveryRejected      400/413/422: the payload is refused, dead at once
        └── TargetBroken          401/403/404/410: stop sending to this target

Messages never contain a secret: URLs are redacted before they get here.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Root of every error the monitor raises on purpose."""


class ConfigError(MonitorError):
    """The configuration is invalid. `str()` names the file, key path, line and reason."""

    def __init__(self, path: str, key: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.key = key
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {key}: {reason}" if key else f"{where}: {reason}")


class StoreError(MonitorError):
    """The database cannot be reached, opened or migrated."""


class InputError(MonitorError):
    """A user's input (a JSON line, an argument) is malformed."""


class FetchError(MonitorError):
    """One fetch of one feed failed. `url` is already redacted."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class FetchTimeout(FetchError):
    """The server did not answer in time."""


class FetchConnectError(FetchError):
    """The connection could not be made or was dropped."""


class FetchTooLarge(FetchError):
    """The body, or what it decompresses to, is over the configured cap."""


class FetchRedirectError(FetchError):
    """A redirect loop or a chain longer than the limit."""


class FetchStatusError(FetchError):
    """The server answered with a status other than 200 or 304."""

    def __init__(self, url: str, status: int, reason: str | None = None) -> None:
        self.status = status
        super().__init__(url, reason or f"HTTP {status}")


class FetchRateLimited(FetchStatusError):
    """429 or 503: wait `retry_after` seconds (None: use the backoff)."""

    def __init__(self, url: str, status: int, retry_after: float | None) -> None:
        self.retry_after = retry_after
        hint = f", retry after {retry_after:.0f}s" if retry_after is not None else ""
        super().__init__(url, status, f"HTTP {status} rate limited{hint}")


class FeedGone(FetchStatusError):
    """410 Gone: the publisher removed the feed; polling it stops."""

    def __init__(self, url: str) -> None:
        super().__init__(url, 410, "HTTP 410 Gone: the feed was removed; polling stopped")


class ParseError(MonitorError):
    """The body is not a feed (an HTML error page, an empty body)."""


class DeliveryError(MonitorError):
    """One webhook request failed. Never carries the webhook URL."""

    def __init__(self, target: str, reason: str, status: int | None = None) -> None:
        self.target = target
        self.reason = reason
        self.status = status
        super().__init__(f"webhook {target}: {reason}")


class DeliveryRetryable(DeliveryError):
    """A transient failure: try again after `retry_after` seconds or the backoff."""

    def __init__(
        self, target: str, reason: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(target, reason, status)


class DeliveryRejected(DeliveryError):
    """The service refused the payload itself; retrying cannot help."""


class TargetBroken(DeliveryError):
    """The webhook URL is revoked, unknown or forbidden; stop sending to it."""
