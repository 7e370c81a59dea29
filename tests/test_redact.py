"""URLs that reach logs and messages keep their shape and lose their secrets."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from monitor.redact import quiet_http_loggers, redact_secret_url, redact_url, url_secrets


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/feed.xml", "https://example.com/feed.xml"),
        ("https://example.com:8443/rss?token=abc123", "https://example.com:8443/rss?token=***"),
        ("https://user:hunter22@example.com/rss", "https://example.com/rss"),
        ("http://example.com/a/b?x=1&key=s3cr3t&flag", "http://example.com/a/b?x=***&key=***&***"),
        ("https://example.com/rss?SECRETTOKEN", "https://example.com/rss?***"),
        ("https://example.com/rss?token=abc#frag-secret", "https://example.com/rss?token=***"),
        ("https://example.com/rss?a=&b=2", "https://example.com/rss?a=***&b=***"),
        ("http://[::1:8080/rss?token=abc", "<unparseable url>"),
    ],
)
def test_redact_url_keeps_shape_and_masks_credentials(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://hooks.slack.com/services/T000/B000/XXXXSECRET", "https://hooks.slack.com/***"),
        ("https://discord.com/api/webhooks/123/tok-en_SECRET", "https://discord.com/***"),
        ("https://user:pw@outlook.office.com:443/webhook/SECRET?x=1", "https://outlook.office.com:443/***"),
    ],
)
def test_redact_secret_url_hides_the_whole_path(url: str, expected: str) -> None:
    assert redact_secret_url(url) == expected
    assert "SECRET" not in redact_secret_url(url)


def test_url_secrets_lists_userinfo_and_query_values_longest_first() -> None:
    assert url_secrets("https://bob:pa55word@h.example/p?token=abcdef&n=1&BARE") == [
        "pa55word",
        "abcdef",
        "BARE",
        "bob",
        "1",
    ]


@pytest.fixture
def restore_http_logger_levels() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    levels = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.mark.usefixtures("restore_http_logger_levels")
def test_quiet_http_loggers_drops_httpx_info_lines_with_full_urls(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    quiet_http_loggers()
    logging.getLogger("httpx").info("HTTP Request: GET https://example.com/rss?token=abc")
    logging.getLogger("httpcore.connection").debug("connect_tcp.started host='example.com'")
    logging.getLogger("httpx").warning("a real problem")
    assert [record.getMessage() for record in caplog.records] == ["a real problem"]


def test_feed_search_words_are_not_secrets_but_feed_credentials_are() -> None:
    """A feed URL's search words ("q=afghanistan", "hl=en-US") must not be masked in logs and headlines;
    its userinfo and credential-like parameters (token=, key=, sig=) must."""
    from monitor.redact import Redactor, feed_url_secrets

    url = "https://bob:hunter22@news.example/rss?q=afghanistan+taliban&hl=en-US&gl=US&api_key=k3y-0001&sig=abcd1234"
    secrets = feed_url_secrets(url)
    assert set(secrets) == {"bob", "hunter22", "k3y-0001", "abcd1234"}
    masked = Redactor(secrets)(
        "GET https://news.example/rss?api_key=k3y-0001 failed; headline: US sanctions afghanistan en-US"
    )
    assert "k3y-0001" not in masked
    assert masked.endswith("headline: US sanctions afghanistan en-US")
