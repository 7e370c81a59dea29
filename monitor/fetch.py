"""Fetch one feed over HTTP: conditional GET, own redirect handling, hard caps.

Every failure is one of the `FetchError` classes with the URL already
redacted; 304 Not Modified is a return value. We follow redirects ourselves
so a chain of 301/308 can be learned, and we decompress the body ourselves so
a gzip bomb stops at the cap instead of inflating a 64 KiB read into 64 MiB.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from monitor import retry_after
from monitor.domain import FetchResult
from monitor.errors import (
    FeedGone,
    FetchConnectError,
    FetchError,
    FetchRateLimited,
    FetchRedirectError,
    FetchStatusError,
    FetchTimeout,
    FetchTooLarge,
)
from monitor.redact import redact_url, url_secrets

__all__ = [
    "ACCEPT",
    "FetchSettings",
    "HostClients",
    "HostLimiter",
    "build_client",
    "fetch",
]

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
USER_AGENT = "taliban-monitor/0.1.0 (news feed monitor; honours 304 and Retry-After)"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
RATE_LIMIT_STATUSES = frozenset({429, 503})
# Query values shorter than this are page numbers and flags, not credentials;
# treating them as secrets would withhold every "[Errno 111]" message.
_MIN_SECRET_LEN = 4


@dataclass(frozen=True)
class FetchSettings:
    """Limits for one fetch; times in seconds."""

    connect_timeout: float = 10
    read_timeout: float = 20
    total_timeout: float = 30  # the whole exchange: redirects, headers and body
    user_agent: str = USER_AGENT
    max_body_bytes: int = 15 * 1024 * 1024  # applies to the wire and to the decompressed bytes
    max_redirects: int = 5

    def __post_init__(self) -> None:
        if min(self.connect_timeout, self.read_timeout, self.total_timeout) <= 0:
            raise ValueError("FetchSettings timeouts must be positive")
        if self.max_body_bytes <= 0 or self.max_redirects < 0:
            raise ValueError("FetchSettings max_body_bytes must be positive and max_redirects not negative")


class HostClients:
    """One client per host:port. httpcore checks every pooled connection on each request (a poll()
    syscall per idle one), so a single pool over hundreds of publishers costs more than the requests;
    per host, a pool holds at most `defaults.per_host` connections."""

    def __init__(self, settings: FetchSettings) -> None:
        self._settings = settings
        self._clients: dict[str, httpx.AsyncClient] = {}

    def for_url(self, url: str) -> httpx.AsyncClient:
        key = _host_key(url)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = build_client(self._settings)
        return client

    async def aclose(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))
        self._clients.clear()


def _timeouts(settings: FetchSettings) -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.read_timeout,
        pool=settings.total_timeout,
    )


def build_client(settings: FetchSettings) -> httpx.AsyncClient:
    """A client for feeds; redirects stay off because `fetch` follows them."""
    return httpx.AsyncClient(
        follow_redirects=False,
        http2=False,
        verify=_tls_context(),
        timeout=_timeouts(settings),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=30),
        headers={
            "User-Agent": settings.user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": "gzip, deflate",
        },
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes tens of milliseconds; one context serves every client.
    return httpx.create_ssl_context()


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    settings: FetchSettings,
) -> FetchResult:
    """GET `url` conditionally; return the answer or raise a `FetchError` naming `redact_url(url)`."""
    started = time.monotonic()
    headers = _conditional_headers(etag, last_modified)
    with _translate_errors(url, settings):
        async with asyncio.timeout(settings.total_timeout):
            result = await _follow_redirects(client, url, headers, settings)
    return dataclasses.replace(result, elapsed=time.monotonic() - started)


class HostLimiter:
    """Bounds concurrent requests per host:port, so one publisher never sees a burst from us."""

    def __init__(self, per_host: int) -> None:
        if per_host < 1:
            raise ValueError("per_host must be at least 1")
        self.per_host = per_host
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        """Hold one of the host's `per_host` slots for the duration of the block."""
        key = _host_key(url)
        semaphore = self._semaphores.get(key)
        if semaphore is None:
            semaphore = self._semaphores[key] = asyncio.Semaphore(self.per_host)
        async with semaphore:
            yield


@dataclass
class _Hop:
    """The last answer of a redirect chain, before it becomes a FetchResult."""

    response: httpx.Response
    url: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


async def _follow_redirects(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], settings: FetchSettings
) -> FetchResult:
    seen = {url}
    current = url
    all_permanent = True
    for _ in range(settings.max_redirects + 1):
        hop = await _get_once(client, current, url, headers, settings)
        status = hop.response.status_code
        if status not in REDIRECT_STATUSES:
            return _to_result(hop, permanent_url=current if all_permanent and current != url else None)
        all_permanent = all_permanent and status in PERMANENT_REDIRECTS
        current = _redirect_target(hop.response, current, url)
        if current in seen:
            raise FetchRedirectError(redact_url(url), f"redirect loop at {redact_url(current)}")
        seen.add(current)
    raise FetchRedirectError(redact_url(url), f"more than {settings.max_redirects} redirects")


async def _get_once(
    client: httpx.AsyncClient, url: str, original_url: str, headers: dict[str, str], settings: FetchSettings
) -> _Hop:
    """One request; reads the body only for a 2xx, and raises for error statuses."""
    # Per request: a feed may wait longer than the client's default (a list generated on the fly).
    async with client.stream("GET", url, headers=headers, timeout=_timeouts(settings)) as response:
        status = response.status_code
        if status == 304:
            await response.aread()  # no body: reading it keeps the connection for the next poll
        if status in REDIRECT_STATUSES or status == 304:
            return _Hop(response, url, headers=_lower_headers(response))
        _raise_for_status(response, redact_url(original_url))
        body = await _read_capped(response, settings.max_body_bytes, redact_url(original_url))
        return _Hop(response, url, body=body, headers=_decoded_headers(response))


def _raise_for_status(response: httpx.Response, safe_url: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in RATE_LIMIT_STATUSES:
        now = _server_date(response) or datetime.now(UTC)
        raise FetchRateLimited(safe_url, status, retry_after.header(response.headers.get("retry-after"), now))
    if status == 410:
        raise FeedGone(safe_url)
    # The standard phrase, not the server's: a hostile server could echo our URL in its own.
    raise FetchStatusError(safe_url, status, f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".strip())


def _redirect_target(response: httpx.Response, current: str, original_url: str) -> str:
    location = response.headers.get("location")
    if not location:
        raise FetchRedirectError(redact_url(original_url), f"HTTP {response.status_code} without Location")
    try:
        target = httpx.URL(current).join(location)
    except httpx.InvalidURL:
        raise FetchRedirectError(redact_url(original_url), "redirect to an invalid URL") from None
    if target.scheme not in ("http", "https"):
        raise FetchRedirectError(
            redact_url(original_url), f"redirect to unsupported scheme {target.scheme!r}"
        )
    return str(target)


async def _read_capped(response: httpx.Response, limit: int, safe_url: str) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchTooLarge(safe_url, f"Content-Length {declared} is over the {limit}-byte cap")
    decoder = _BoundedDecoder(_content_coding(response, safe_url), limit)
    raw_bytes = 0
    body = bytearray()
    async for chunk in response.aiter_raw():
        raw_bytes += len(chunk)
        if raw_bytes > limit:
            raise FetchTooLarge(safe_url, f"body is over the {limit}-byte cap")
        body += decoder.decode(chunk, safe_url)
    body += decoder.flush(safe_url)
    return bytes(body)


def _content_coding(response: httpx.Response, safe_url: str) -> str:
    coding = response.headers.get("content-encoding", "identity").strip().lower()
    if coding in ("x-gzip", "gzip"):
        return "gzip"
    if coding in ("deflate", "identity", ""):
        return coding or "identity"
    raise FetchError(safe_url, f"unsupported Content-Encoding {coding[:40]!r}")


class _BoundedDecoder:
    """Decompresses gzip/deflate while never producing more than `limit` + 1 bytes in total."""

    def __init__(self, coding: str, limit: int) -> None:
        self.coding = coding
        self.limit = limit
        self.produced = 0
        self._zlib = self._new_zlib(zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS)
        self._first_chunk = True

    @staticmethod
    def _new_zlib(wbits: int) -> zlib._Decompress:
        return zlib.decompressobj(wbits)

    def decode(self, data: bytes, safe_url: str) -> bytes:
        if self.coding == "identity":
            return self._count(data, safe_url)
        output = bytearray()
        try:
            while data:
                # max_length bounds each step, so a bomb inflates at most limit + 1 bytes.
                output += self._count(self._step(data), safe_url)
                data = self._zlib.unconsumed_tail
        except zlib.error:
            raise FetchError(safe_url, f"body is not valid {self.coding} data") from None
        return bytes(output)

    def flush(self, safe_url: str) -> bytes:
        if self.coding == "identity":
            return b""
        try:
            return self._count(self._zlib.flush(), safe_url)
        except zlib.error:
            raise FetchError(safe_url, f"body is not valid {self.coding} data") from None

    def _step(self, data: bytes) -> bytes:
        room = self.limit - self.produced + 1
        if self.coding == "deflate" and self._first_chunk:
            self._first_chunk = False
            try:
                return self._zlib.decompress(data, room)
            except zlib.error:
                # Many servers send raw deflate (no zlib header) under "deflate".
                self._zlib = self._new_zlib(-zlib.MAX_WBITS)
        return self._zlib.decompress(data, room)

    def _count(self, data: bytes, safe_url: str) -> bytes:
        self.produced += len(data)
        if self.produced > self.limit:
            raise FetchTooLarge(safe_url, f"decompressed body is over the {self.limit}-byte cap")
        return data


def _lower_headers(response: httpx.Response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


def _decoded_headers(response: httpx.Response) -> dict[str, str]:
    """Headers that describe the body we return: once decoded, the wire coding and length no longer apply."""
    headers = _lower_headers(response)
    if headers.get("content-encoding", "identity").strip().lower() not in ("identity", ""):
        headers.pop("content-encoding", None)
        headers.pop("content-length", None)
    return headers


def _to_result(hop: _Hop, *, permanent_url: str | None) -> FetchResult:
    return FetchResult(
        status=hop.response.status_code,
        url=hop.url,
        not_modified=hop.response.status_code == 304,
        body=hop.body,
        headers=hop.headers,
        etag=hop.headers.get("etag"),
        last_modified=hop.headers.get("last-modified"),
        permanent_url=permanent_url,
    )


@contextmanager
def _translate_errors(url: str, settings: FetchSettings) -> Iterator[None]:
    """Turn httpx and asyncio failures into FetchErrors whose text holds no secret."""
    safe_url = redact_url(url)
    try:
        yield
    except TimeoutError:
        raise FetchTimeout(safe_url, f"no complete answer within {settings.total_timeout:g}s") from None
    except httpx.TimeoutException as exc:
        raise FetchTimeout(safe_url, _timeout_reason(exc, settings)) from None
    except httpx.TransportError as exc:
        raise FetchConnectError(safe_url, _describe(exc, url)) from None
    except httpx.InvalidURL:
        raise FetchConnectError(safe_url, "the URL is not valid") from None
    except httpx.DecodingError as exc:
        raise FetchError(safe_url, _describe(exc, url)) from None


def _timeout_reason(exc: httpx.TimeoutException, settings: FetchSettings) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connect timed out after {settings.connect_timeout:g}s"
    if isinstance(exc, httpx.PoolTimeout):
        return "no free connection in the pool in time"
    return f"read timed out after {settings.read_timeout:g}s"


def _describe(exc: Exception, url: str) -> str:
    """The exception's own words, unless they quote a URL (maybe a redirect hop's) or a credential."""
    message = str(exc).strip()
    secrets = [piece for piece in url_secrets(url) if len(piece) >= _MIN_SECRET_LEN]
    if not message or "://" in message or any(piece in message for piece in secrets):
        return type(exc).__name__
    return f"{type(exc).__name__}: {message[:200]}"


def _server_date(response: httpx.Response) -> datetime | None:
    # Retry-After dates are in the server's clock; measuring against its Date header cancels clock skew.
    value = response.headers.get("date")
    if not value:
        return None
    try:
        return _aware(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _host_key(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    except ValueError:
        return url
    return f"{(parts.hostname or '').lower()}:{port}"
