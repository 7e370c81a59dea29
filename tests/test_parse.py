"""Behaviour of monitor.parse: fixture feeds carrying their own expectation, and the helpers."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest

from monitor.domain import FeedItem
from monitor.errors import ParseError
from monitor.parse import link_key, normalise_link, parse

CASES = Path(__file__).resolve().parent / "parse_cases"
FETCHED_AT = datetime(2025, 8, 1, 12, 0, tzinfo=UTC)
_FIELD = re.compile(r"^(Description|Header|Expect):\s*(.*)$", re.MULTILINE)


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _read_case(path: Path) -> tuple[bytes, dict[str, str], str]:
    """The body, the response headers and the expectation written in the case's leading comment."""
    body = path.read_bytes()
    # The comment is ASCII in every case, whatever the document's own encoding.
    comment = body[: body.index(b"-->")].decode("latin-1")
    headers: dict[str, str] = {}
    expect = ""
    for field, value in _FIELD.findall(comment):
        if field == "Header":
            name, _, header_value = value.partition(":")
            headers[name.strip()] = header_value.strip()
        elif field == "Expect":
            expect = value.strip()
    assert expect, f"{path.name} has no Expect: line"
    return body, headers, expect


@pytest.mark.parametrize("path", sorted(CASES.glob("*.xml")), ids=lambda path: path.stem)
def test_parse_case(path: Path) -> None:
    body, headers, expect = _read_case(path)
    scope: dict[str, Any] = {"feed": None, "items": [], "problem": None, "error": None}
    try:
        feed = parse(body, headers, fetched_at=FETCHED_AT)
        scope.update(feed=feed, items=feed.items, problem=feed.problem)
    except ParseError as exc:
        if "error" not in expect:
            raise
        scope["error"] = str(exc)
    # Test-only fixtures written in this repository: eval with a handful of names is safe enough here.
    scope.update(fetched_at=FETCHED_AT, utc=_utc, __builtins__={"len": len, "all": all, "any": any})
    got = f"items={scope['items']!r} problem={scope['problem']!r} error={scope['error']!r}"
    assert eval(expect, scope), f"{path.name}: {expect}\n got: {got}"


@pytest.mark.parametrize("body", [b"", b"   \r\n\t ", b"\xef\xbb\xbf\n"])
def test_empty_body_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(ParseError, match="empty"):
        parse(body, {}, fetched_at=FETCHED_AT)


def test_parser_crash_becomes_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RecursionError("too deep")

    monkeypatch.setattr(feedparser, "parse", explode)
    with pytest.raises(ParseError, match="RecursionError"):
        parse(b"<rss/>", {}, fetched_at=FETCHED_AT)


def test_header_names_are_case_insensitive() -> None:
    body = (CASES / "header_charset.xml").read_bytes()
    upper = parse(body, {"Content-Type": "text/xml; charset=windows-1251"}, fetched_at=FETCHED_AT)
    lower = parse(body, {"content-type": "text/xml; charset=windows-1251"}, fetched_at=FETCHED_AT)
    assert upper.items[0].title == lower.items[0].title == "Новости"


def test_keys_do_not_depend_on_item_order() -> None:
    unkeyed = [
        b"<item><title>No id %d</title><description>Text %d</description></item>" % (n, n) for n in range(3)
    ]
    twins = [
        b"<item><guid>g</guid><title>Twin %d</title><link>https://x.example/%d</link></item>" % (n, n)
        for n in range(2)
    ]
    items = unkeyed + twins
    forward = parse(_rss(b"".join(items)), {}, fetched_at=FETCHED_AT)
    backward = parse(_rss(b"".join(reversed(items))), {}, fetched_at=FETCHED_AT)
    keys_forward = {item.title: item.key for item in forward.items}
    assert keys_forward == {item.title: item.key for item in backward.items}
    assert len(set(keys_forward.values())) == 5


def test_credentials_and_query_of_the_feed_url_never_reach_item_links() -> None:
    items = b"".join(
        b"<item><title>%d</title><link>%s</link></item>" % (n, ref)
        for n, ref in enumerate([b"#top", b"?page=2", b"story"])
    )
    location = "https://user:pw@feeds.example.com/rss?token=SECRET"
    feed = parse(_rss(items), {"Content-Location": location}, fetched_at=FETCHED_AT)
    assert [item.link for item in feed.items] == [
        "https://feeds.example.com/rss#top",
        "https://feeds.example.com/rss?page=2",
        "https://feeds.example.com/story",
    ]


def test_a_relative_link_is_keyed_by_its_absolute_normalised_form() -> None:
    # The link is split once while made absolute; its key must still be that of the absolute link.
    items = b"<item><guid>g1</guid><link>Story/?utm_source=rss#frag</link></item>"
    feed = parse(_rss(items), {"Content-Location": "https://News.example.com/feeds/"}, fetched_at=FETCHED_AT)
    item = feed.items[0]
    assert item.link == "https://news.example.com/feeds/Story/?utm_source=rss#frag"
    assert feed.link_keys == {item.key: "link:https://news.example.com/feeds/Story"}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("prolog", [b"<?pi?>", b"<!-- c -->", b"  "])
def test_a_long_prolog_before_garbage_is_rejected_quickly(prolog: bytes) -> None:
    # A root-element sniffer that backtracks would take ages (2**n) on this; it must be linear.
    with pytest.raises(ParseError):
        parse(prolog * 600 + b"garbage", {}, fetched_at=FETCHED_AT)


def test_naive_fetch_time_is_taken_as_utc() -> None:
    feed = parse(_rss(b"<item><title>Undated</title></item>"), {}, fetched_at=datetime(2025, 8, 1, 12, 0))
    assert feed.items[0].published == FETCHED_AT


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://News.Example.COM:443/a/b/?utm_source=rss&utm_medium=x", "https://news.example.com/a/b"),
        ("http://example.com:80/", "http://example.com/"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("https://example.com/a?z=1&b=2&fbclid=abc&gclid=d", "https://example.com/a?b=2&z=1"),
        (
            "https://example.com/a?id=1&ref=rss&rss=1&smid=tw&ocid=x&cmpid=y&partner=p",
            "https://example.com/a?id=1",
        ),
        (
            "https://www.bbc.co.uk/news/uk-1?at_medium=RSS&at_campaign=KARANGA",
            "https://www.bbc.co.uk/news/uk-1",
        ),
        ("https://example.com/a?mc_cid=1&mc_eid=2&UTM_Campaign=3", "https://example.com/a"),
        ("https://example.com/a?q=a%20b&flag", "https://example.com/a?flag&q=a%20b"),
        ("https://example.com/story.html#tk.rss_all", "https://example.com/story.html"),
        ("https://example.com/#!/story/12", "https://example.com/#!/story/12"),
        ("  https://example.com/path/  ", "https://example.com/path"),
        ("https://example.com/Case/Sensitive", "https://example.com/Case/Sensitive"),
        ("https://[::1/broken", "https://[::1/broken"),
        ("http://[2001:DB8::1]:80/a/", "http://[2001:db8::1]/a"),
    ],
)
def test_normalise_link(url: str, expected: str) -> None:
    assert normalise_link(url) == expected


def test_link_key_uses_the_normalised_link() -> None:
    item = FeedItem(
        key="guid:changes-every-fetch",
        title="t",
        summary="",
        link="https://Example.com/story/?utm_source=rss",
        published=FETCHED_AT,
        published_known=True,
    )
    assert link_key(item) == "link:https://example.com/story"
    assert link_key(FeedItem(**{**_fields(item), "link": None})) is None


def _fields(item: FeedItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__slots__}


def _rss(items: bytes) -> bytes:
    return b'<rss version="2.0"><channel><title>T</title>' + items + b"</channel></rss>"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Kabul</p><p>talks</p>", "Kabul talks"),
        ("<P>Upper</P>Case<BR/>tags", "Upper Case tags"),
        ("<a title='a > b' href=\"x\">Link</a> text", "Link text"),
        ("3 < 4 and 5 > 2 &amp; <3", "3 < 4 and 5 > 2 & <3"),
        ("<script>var s = '<p>x</p>';</script>After<style>p {}</style>", "After"),
        ("<noscript><b>enable js</b></noscript>Shown", "Shown"),
        ("Before<script>never closed", "Before"),
        ("a<!-- note -->b<![CDATA[c]]>d</ junk>e", "abde"),
        ("Kept<!-- left open", "Kept"),
        ("&lt;b&gt;escaped&lt;/b&gt; &#x41;&#160;&nbsp;z", "<b>escaped</b> A z"),
    ],
)
def test_html_values_read_as_their_visible_text(html: str, text: str) -> None:
    from monitor.parse import html_to_text

    assert html_to_text(html) == text


def test_hostile_markup_costs_linear_time() -> None:
    """Tags, quotes and declarations that never close stay text, as html.parser leaves them; each attempt
    to read one as a tag stops at the next '<' (a quadratic scan of these 600 kB would take minutes)."""
    from monitor.parse import html_to_text

    for unit in ('<a x="', "<!x", "<a ", "</ "):
        started = time.process_time()
        text = html_to_text(unit * 100_000, 50)
        assert text.startswith(" ".join((unit * 3).split())) and text.endswith("…") and len(text) <= 50
        assert time.process_time() - started < 5
