"""Fetching feeds against a real loopback HTTP server: what a poller sees from publishers."""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate
from pathlib import Path

import httpx
import pytest
from httpserver import LoopbackServer, Reply, unused_port

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
from monitor.fetch import ACCEPT, FetchSettings, HostLimiter, build_client, fetch
from monitor.redact import redact_url

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
CORPORA = SHARED / "corpora"
FAST = FetchSettings(connect_timeout=2, read_timeout=2, total_timeout=5)
SECRET = "SEKRET-t0ken-4242"
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def get(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    settings: FetchSettings = FAST,
    client: httpx.AsyncClient | None = None,
) -> FetchResult:
    """Run one fetch with a fresh client built the way the daemon builds it."""

    async def run() -> FetchResult:
        async with client or build_client(settings) as http:
            return await fetch(http, url, etag=etag, last_modified=last_modified, settings=settings)

    return asyncio.run(run())


# -- conditional GET -----------------------------------------------------------


def test_200_returns_body_and_validators_then_304_when_unchanged(server: LoopbackServer) -> None:
    feed_file = CORPORA / "real-feeds" / "bbc-rss-1.xml"
    server.serve_file("/bbc.xml", feed_file, content_type="application/rss+xml; charset=utf-8")

    first = get(server.url("/bbc.xml"))
    second = get(server.url("/bbc.xml"), etag=first.etag, last_modified=first.last_modified)

    assert (first.status, first.not_modified, first.body) == (200, False, feed_file.read_bytes())
    assert first.etag and first.last_modified
    assert first.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert (second.status, second.not_modified, second.body) == (304, True, b"")
    conditional = server.requests[1].headers
    assert conditional["if-none-match"] == first.etag
    assert conditional["if-modified-since"] == first.last_modified


def test_last_modified_alone_also_gets_304(server: LoopbackServer) -> None:
    server.serve_file("/f.xml", CORPORA / "real-feeds" / "bbc-rss-1.xml")
    first = get(server.url("/f.xml"))
    assert get(server.url("/f.xml"), last_modified=first.last_modified).not_modified


def test_first_poll_sends_no_validators_and_identifies_itself(server: LoopbackServer) -> None:
    server.route("/rss", Reply(200, RSS))
    settings = FetchSettings(user_agent="probe-agent/9 (+contact)")
    get(server.url("/rss"), settings=settings)
    sent = server.requests[0].headers
    assert sent["user-agent"] == "probe-agent/9 (+contact)"
    assert sent["accept"] == ACCEPT
    assert sent["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in sent and "if-modified-since" not in sent


def test_headers_are_lower_case_and_elapsed_is_measured(server: LoopbackServer) -> None:
    server.route("/rss", Reply(200, RSS, {"X-Custom-Thing": "1", "ETag": 'W/"v1"'}, delay=0.1))
    result = get(server.url("/rss"))
    assert result.headers["x-custom-thing"] == "1"
    assert all(name == name.lower() for name in result.headers)
    assert result.etag == 'W/"v1"'
    assert 0.1 <= result.elapsed < 2


# -- bodies are returned untouched; the parser decides ------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/rss+xml"),
        (b"<!doctype html><html><body>Just a moment...</body></html>", "text/html"),
        ((CORPORA / "feedparser-tests/illformed/chardet/koi8r.xml").read_bytes(), "text/xml; charset=utf-8"),
        ("<rss><title>Кабул</title></rss>".encode("cp1251"), "application/xml"),
    ],
    ids=["empty", "html-page", "koi8r-declared-utf8", "cp1251-undeclared"],
)
def test_any_2xx_body_is_returned_byte_for_byte(
    server: LoopbackServer, body: bytes, content_type: str
) -> None:
    server.route("/rss", Reply(200, body, {"Content-Type": content_type}))
    result = get(server.url("/rss"))
    assert (result.status, result.body) == (200, body)


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
    ],
    ids=["gzip", "x-gzip", "zlib-deflate", "raw-deflate"],
)
def test_compressed_bodies_are_decoded(server: LoopbackServer, coding: str, compress: object) -> None:
    assert callable(compress)
    feed = (CORPORA / "real-feeds" / "bbc-rss-1.xml").read_bytes()
    server.route("/rss", Reply(200, compress(feed), {"Content-Encoding": coding}))
    result = get(server.url("/rss"))
    assert result.body == feed
    # The returned headers describe the returned (decoded) body.
    assert "content-encoding" not in result.headers and "content-length" not in result.headers


def test_corrupt_gzip_is_a_fetch_error(server: LoopbackServer) -> None:
    server.route("/rss", Reply(200, b"\x1f\x8b\x08\x00garbage-not-gzip", {"Content-Encoding": "gzip"}))
    with pytest.raises(FetchError, match="not valid gzip"):
        get(server.url("/rss"))


def test_unrequested_content_encoding_is_refused(server: LoopbackServer) -> None:
    server.route("/rss", Reply(200, b"\x0b\x02\x80", {"Content-Encoding": "br"}))
    with pytest.raises(FetchError, match="unsupported Content-Encoding 'br'"):
        get(server.url("/rss"))


# -- size caps -----------------------------------------------------------------

SMALL_CAP = FetchSettings(max_body_bytes=10_000, read_timeout=2, total_timeout=5)


def test_declared_content_length_over_the_cap_is_refused(server: LoopbackServer) -> None:
    server.route("/big", Reply(200, b"x" * 20_000))
    with pytest.raises(FetchTooLarge, match="Content-Length 20000"):
        get(server.url("/big"), settings=SMALL_CAP)


def test_streamed_body_without_length_stops_at_the_cap(server: LoopbackServer) -> None:
    server.route("/big", Reply(200, b"x" * 50_000, chunk_size=1000))
    with pytest.raises(FetchTooLarge, match="over the 10000-byte cap"):
        get(server.url("/big"), settings=SMALL_CAP)


def test_body_exactly_at_the_cap_is_accepted(server: LoopbackServer) -> None:
    server.route("/edge", Reply(200, gzip.compress(b"y" * 10_000), {"Content-Encoding": "gzip"}))
    assert len(get(server.url("/edge"), settings=SMALL_CAP).body) == 10_000


def test_gzip_bomb_stops_at_the_cap_without_inflating_everything(server: LoopbackServer) -> None:
    inflated_size = 64 * 1024 * 1024
    bomb = gzip.compress(b"\0" * inflated_size, compresslevel=9)
    assert len(bomb) < 100_000
    server.route("/bomb", Reply(200, bomb, {"Content-Encoding": "gzip"}))
    settings = FetchSettings(max_body_bytes=1024 * 1024)

    tracemalloc.start()
    try:
        with pytest.raises(FetchTooLarge, match="decompressed body is over"):
            get(server.url("/bomb"), settings=settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A decoder that inflates whole network reads would allocate tens of MiB here.
    assert peak < 8 * 1024 * 1024


# -- statuses ------------------------------------------------------------------


def test_server_error_is_a_status_error(server: LoopbackServer) -> None:
    server.route("/rss", Reply(500, b"oops"))
    with pytest.raises(FetchStatusError) as caught:
        get(server.url("/rss"))
    assert caught.type is FetchStatusError
    assert caught.value.status == 500
    assert "HTTP 500 Internal Server Error" in str(caught.value)


def test_410_means_the_feed_is_gone(server: LoopbackServer) -> None:
    server.route("/old", Reply(410))
    with pytest.raises(FeedGone) as caught:
        get(server.url("/old"))
    assert caught.value.status == 410


def test_429_with_retry_after_seconds(server: LoopbackServer) -> None:
    server.route("/rss", Reply(429, headers={"Retry-After": "120"}))
    with pytest.raises(FetchRateLimited) as caught:
        get(server.url("/rss"))
    assert (caught.value.status, caught.value.retry_after) == (429, 120.0)


def test_429_with_retry_after_http_date(server: LoopbackServer) -> None:
    server.route("/rss", Reply(429, headers={"Retry-After": formatdate(time.time() + 90, usegmt=True)}))
    with pytest.raises(FetchRateLimited) as caught:
        get(server.url("/rss"))
    assert caught.value.retry_after is not None
    assert 88 <= caught.value.retry_after <= 91


def test_retry_after_date_is_measured_against_the_server_clock(server: LoopbackServer) -> None:
    # The server's clock runs an hour ahead: its date means "in 60 s", not "in 3660 s".
    server_now = datetime.now(UTC) + timedelta(hours=1)
    headers = {
        "Date": format_datetime(server_now, usegmt=True),
        "Retry-After": format_datetime(server_now + timedelta(seconds=60), usegmt=True),
    }
    server.route("/rss", Reply(503, headers=headers))
    with pytest.raises(FetchRateLimited) as caught:
        get(server.url("/rss"))
    assert caught.value.retry_after is not None
    assert 59 <= caught.value.retry_after <= 61


def test_503_without_retry_after_leaves_the_wait_to_the_backoff(server: LoopbackServer) -> None:
    server.route("/rss", Reply(503, b"maintenance"))
    with pytest.raises(FetchRateLimited) as caught:
        get(server.url("/rss"))
    assert (caught.value.status, caught.value.retry_after) == (503, None)


# -- redirects -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "learned"),
    [
        ((301,), True),
        ((308,), True),
        ((301, 308), True),
        ((302,), False),
        ((307,), False),
        ((303,), False),
        ((301, 302), False),
        ((307, 301), False),
    ],
)
def test_only_a_chain_of_permanent_redirects_is_learned(
    server: LoopbackServer, statuses: tuple[int, ...], learned: bool
) -> None:
    for hop, status in enumerate(statuses):
        server.route(f"/hop{hop}", Reply(status, headers={"Location": f"/hop{hop + 1}"}))
    final = server.url(f"/hop{len(statuses)}")
    server.route(f"/hop{len(statuses)}", Reply(200, RSS))

    result = get(server.url("/hop0"))

    assert (result.status, result.body, result.url) == (200, RSS, final)
    assert result.permanent_url == (final if learned else None)


def test_redirect_to_another_server_with_absolute_location(server: LoopbackServer) -> None:
    with LoopbackServer() as other:
        other.route("/new.xml", Reply(200, RSS))
        new_url = other.url("/new.xml")
        server.route("/old.xml", Reply(301, headers={"Location": new_url}))
        result = get(server.url("/old.xml"))
    assert result.permanent_url == new_url


def test_304_after_a_permanent_redirect_still_reports_the_new_url(server: LoopbackServer) -> None:
    server.route("/old", Reply(308, headers={"Location": "/new"}))
    server.route("/new", Reply(304))
    result = get(server.url("/old"), etag='"v1"')
    assert result.not_modified and result.permanent_url == server.url("/new")
    assert server.requests[1].headers["if-none-match"] == '"v1"'


def test_redirect_to_a_gone_feed_is_gone(server: LoopbackServer) -> None:
    server.route("/old", Reply(301, headers={"Location": "/new"}))
    server.route("/new", Reply(410))
    with pytest.raises(FeedGone):
        get(server.url("/old"))


def test_redirect_loop_is_detected(server: LoopbackServer) -> None:
    server.route("/a", Reply(302, headers={"Location": "/b"}))
    server.route("/b", Reply(302, headers={"Location": "/a"}))
    with pytest.raises(FetchRedirectError, match="loop"):
        get(server.url("/a"))
    assert [request.path for request in server.requests] == ["/a", "/b"]


def test_too_many_redirects(server: LoopbackServer) -> None:
    for hop in range(10):
        server.route(f"/r{hop}", Reply(301, headers={"Location": f"/r{hop + 1}"}))
    with pytest.raises(FetchRedirectError, match="more than 3 redirects"):
        get(server.url("/r0"), settings=FetchSettings(max_redirects=3))
    assert len(server.requests) == 4


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        (None, "without Location"),
        ("ftp://example.com/feed", "unsupported scheme 'ftp'"),
        ("file:///etc/passwd", "unsupported scheme 'file'"),
    ],
)
def test_unusable_redirects(server: LoopbackServer, location: str | None, reason: str) -> None:
    server.route("/rss", Reply(301, headers={"Location": location} if location else {}))
    with pytest.raises(FetchRedirectError, match=reason):
        get(server.url("/rss"))


# -- timeouts and broken connections -------------------------------------------


def test_slow_server_times_out(server: LoopbackServer) -> None:
    server.route("/slow", Reply(200, RSS, delay=5))
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="read timed out"):
        get(server.url("/slow"), settings=FetchSettings(read_timeout=0.2))
    assert time.monotonic() - started < 2


def test_trickling_body_hits_the_total_timeout(server: LoopbackServer) -> None:
    # Each piece arrives well within the read timeout, but the whole body never would.
    server.route("/trickle", Reply(200, b"x" * 100, chunk_size=5, chunk_delay=0.05))
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match=r"no complete answer within 0\.3s"):
        get(server.url("/trickle"), settings=FetchSettings(read_timeout=1, total_timeout=0.3))
    assert time.monotonic() - started < 1


def test_connection_refused() -> None:
    with pytest.raises(FetchConnectError, match="ConnectError"):
        get(f"http://127.0.0.1:{unused_port()}/rss")


def test_connection_accepted_then_dropped(server: LoopbackServer) -> None:
    server.route("/rss", Reply(drop=True))
    with pytest.raises(FetchConnectError, match="RemoteProtocolError"):
        get(server.url("/rss"))
    assert len(server.requests) == 1


def test_dns_failure_is_a_connect_error() -> None:
    # Name resolution cannot be staged on loopback, so a mock transport raises what httpx raises.
    def unresolvable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(unresolvable))
    with pytest.raises(FetchConnectError, match="Name or service not known"):
        get("https://no-such-host.invalid/rss", client=client)


# -- no secret in any failure ---------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Reply(500),
        Reply(410),
        Reply(429, headers={"Retry-After": "5"}),
        Reply(200, b"x" * 20_000),
        Reply(200, b"x" * 20_000, chunk_size=4096),
        Reply(302, headers={"Location": "?token=" + SECRET}),
        Reply(drop=True),
        Reply(delay=3),
    ],
    ids=["500", "410", "429", "too-large", "too-large-streamed", "loop", "dropped", "timeout"],
)
def test_no_error_reveals_a_token_from_the_url(server: LoopbackServer, reply: Reply) -> None:
    server.route("/private/rss", reply)
    url = server.url(f"/private/rss?token={SECRET}")
    settings = FetchSettings(read_timeout=0.2, max_body_bytes=10_000)
    with pytest.raises(FetchError) as caught:
        get(url, settings=settings)
    assert caught.value.url == redact_url(url)
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
    assert SECRET not in caught.value.reason


def test_no_secret_when_httpx_quotes_the_url_or_credentials() -> None:
    url = f"https://reader:{SECRET}@feeds.example/rss?token={SECRET}"

    def failing(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    with pytest.raises(FetchConnectError) as caught:
        get(url, client=httpx.AsyncClient(transport=httpx.MockTransport(failing)))
    assert SECRET not in str(caught.value)
    assert caught.value.url == "https://feeds.example/rss?token=***"


def test_refused_with_a_token_url_stays_secret() -> None:
    url = f"http://127.0.0.1:{unused_port()}/rss?token={SECRET}"
    with pytest.raises(FetchConnectError) as caught:
        get(url)
    assert SECRET not in str(caught.value)


# -- per-host concurrency -------------------------------------------------------


def test_host_limiter_bounds_concurrent_requests_to_one_host(server: LoopbackServer) -> None:
    server.route("/rss", Reply(200, RSS, delay=0.15))
    limiter = HostLimiter(per_host=2)

    async def poll_all() -> list[FetchResult]:
        async with build_client(FAST) as client:

            async def one(n: int) -> FetchResult:
                url = server.url(f"/rss?n={n}")
                async with limiter.slot(url):
                    return await fetch(client, url, etag=None, last_modified=None, settings=FAST)

            return await asyncio.gather(*(one(n) for n in range(6)))

    results = asyncio.run(poll_all())
    assert [result.status for result in results] == [200] * 6
    assert server.peak_concurrency == 2


def test_host_limiter_keeps_hosts_independent() -> None:
    limiter = HostLimiter(per_host=1)

    async def scenario() -> tuple[bool, bool]:
        async with limiter.slot("https://busy.example/a.xml"):
            other_host = await _acquires(limiter, "https://quiet.example/feed")
            same_host = await _acquires(limiter, "https://BUSY.example:443/b.xml")
        return other_host, same_host

    assert asyncio.run(scenario()) == (True, False)


async def _acquires(limiter: HostLimiter, url: str) -> bool:
    async def enter() -> None:
        async with limiter.slot(url):
            pass

    try:
        await asyncio.wait_for(enter(), timeout=0.05)
    except TimeoutError:
        return False
    return True


def test_settings_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        FetchSettings(total_timeout=0)
    with pytest.raises(ValueError, match="at least 1"):
        HostLimiter(per_host=0)


# -- the loopback server other test files rely on -------------------------------


def test_loopback_server_records_posts_and_repeats_the_last_reply(server: LoopbackServer) -> None:
    server.route("/hook", Reply(503), Reply(204))
    with httpx.Client() as client:
        statuses = [client.post(server.url("/hook?x=1"), content=b'{"n": 1}').status_code]
        statuses.append(client.post(server.url("/hook"), content=iter([b"chunked ", b"body"])).status_code)
        statuses.append(client.post(server.url("/hook"), json={"n": 3}).status_code)
    assert statuses == [503, 204, 204]
    first, second, third = server.wait_for_requests(3)
    method, path, headers, body = first
    assert (method, path, body, headers["content-length"]) == ("POST", "/hook?x=1", b'{"n": 1}', "8")
    assert (second.headers["transfer-encoding"], second.body) == ("chunked", b"chunked body")
    assert third.headers["content-type"] == "application/json"


def test_loopback_server_closes_promptly_with_a_reply_still_delayed() -> None:
    started = time.monotonic()
    with LoopbackServer() as srv:
        srv.route("/slow", Reply(200, delay=30))
        with pytest.raises(FetchTimeout):
            get(srv.url("/slow"), settings=FetchSettings(read_timeout=0.1))
    assert time.monotonic() - started < 2


def test_host_clients_keep_one_pool_per_host() -> None:
    from monitor.fetch import HostClients

    async def scenario() -> bool:
        clients = HostClients(FetchSettings())
        a = clients.for_url("https://news.example.org/rss?token=1")
        assert clients.for_url("https://NEWS.example.org:443/other") is a
        assert clients.for_url("http://news.example.org/rss") is not a
        await clients.aclose()
        return a.is_closed

    assert asyncio.run(scenario())
