"""monitor.parse against real documents: feedparser's own test corpus and saved news feeds."""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest

from monitor.domain import ParsedFeed
from monitor.errors import ParseError
from monitor.parse import KEY_LIMIT, SUMMARY_LIMIT, link_key, parse

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
FEEDPARSER_TESTS = SHARED / "corpora" / "feedparser-tests"
REAL_FEEDS = SHARED / "corpora" / "real-feeds"
FETCHED_AT = datetime(2026, 8, 14, 12, 0, tzinfo=UTC)
_HEADER = re.compile(rb"^Header:\s*([\w-]+):\s*(.*?)\s*$", re.MULTILINE)


def _directories_with_feeds(root: Path) -> list[Path]:
    return sorted({path.parent for path in root.rglob("*.xml")})


def _headers_of(body: bytes) -> dict[str, str]:
    """The `Header:` lines of a feedparser test's leading comment: the HTTP headers it is served with."""
    comment = body[: body.find(b"-->")]
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in _HEADER.findall(comment)}


def test_corpora_are_present() -> None:
    assert len(list(FEEDPARSER_TESTS.rglob("*.xml"))) > 1700
    assert len(list(REAL_FEEDS.glob("*.xml"))) > 60


@pytest.fixture
def bozo_spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """Records whether feedparser itself found the last document ill-formed."""
    seen: dict[str, bool] = {}
    real_parse: Callable[..., Any] = feedparser.parse

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = real_parse(*args, **kwargs)
        seen["bozo"] = bool(result.get("bozo"))
        return result

    monkeypatch.setattr(feedparser, "parse", spy)
    return seen


@pytest.mark.parametrize(
    "directory",
    _directories_with_feeds(FEEDPARSER_TESTS),
    ids=lambda path: str(path.relative_to(FEEDPARSER_TESTS)),
)
def test_feedparser_corpus_reads_or_rejects_every_document(
    directory: Path, bozo_spy: dict[str, bool]
) -> None:
    failures = []
    for path in sorted(directory.glob("*.xml")):
        body = path.read_bytes()
        try:
            feed = parse(body, _headers_of(body), fetched_at=FETCHED_AT)
        except ParseError as exc:
            if not str(exc).startswith("not a feed"):
                failures.append(f"{path.name}: odd ParseError {exc}")
            continue
        except Exception:
            failures.append(f"{path.name}: {traceback.format_exc(limit=-3)}")
            continue
        if (feed.problem is not None) != bozo_spy["bozo"]:
            failures.append(f"{path.name}: bozo={bozo_spy['bozo']} but problem={feed.problem!r}")
        failures += [f"{path.name}: {fault}" for fault in _item_faults(feed)]
    assert not failures, "\n".join(failures)


def _item_faults(feed: ParsedFeed) -> list[str]:
    faults = []
    keys = [item.key for item in feed.items]
    if len(set(keys)) != len(keys) or not all(keys) or any(len(key) > KEY_LIMIT for key in keys):
        faults.append(f"keys empty, repeated or too long: {keys}")
    for item in feed.items:
        if item.published.tzinfo is not UTC:
            faults.append(f"{item.key}: published {item.published!r} is not UTC")
        if len(item.summary) > SUMMARY_LIMIT or len(item.title) > SUMMARY_LIMIT:
            faults.append(f"{item.key}: text is not capped: {len(item.title)}, {len(item.summary)} chars")
        if item.link is not None and not item.link.lower().startswith(("http://", "https://")):
            faults.append(f"{item.key}: link {item.link!r} is not absolute")
    if feed.problem is not None and (len(feed.problem) > 200 or "\n" in feed.problem):
        faults.append(f"problem is not one short line: {feed.problem!r}")
    return faults


# --- real feeds ------------------------------------------------------------------------------


def _sources() -> tuple[dict[str, int], set[str]]:
    """From SOURCES.md: the item count of each file, and the files that are not feeds at all."""
    text = (REAL_FEEDS / "SOURCES.md").read_text(encoding="utf-8")
    counts = {
        name: int(items.replace(",", ""))
        # Summary table rows: | `file` | publisher | format | bytes | items | encoding | mentions |
        for name, items in re.findall(r"^\| `([\w.-]+)` \|.*?\| ([\d,]+) \| [^|\n]+\|[^|\n]*\|$", text, re.M)
    }
    sections = (section.partition("\n") for section in text.split("\n### `")[1:])
    not_feeds = {title.partition("`")[0] for title, _, notes in sections if "\n- NOT A FEED" in notes}
    return counts, not_feeds


ITEM_COUNTS, NOT_FEEDS = _sources()
REAL_FEED_PATHS = sorted(REAL_FEEDS.glob("*.xml"))


def _parse_real(name: str) -> ParsedFeed:
    return parse((REAL_FEEDS / name).read_bytes(), {}, fetched_at=FETCHED_AT)


def test_sources_md_was_understood() -> None:
    assert {"latimes-html-1.xml", "straitstimes-html-1.xml", "telegraph-empty-1.xml"} == NOT_FEEDS
    assert len(ITEM_COUNTS) >= 55


@pytest.mark.parametrize("path", REAL_FEED_PATHS, ids=lambda path: path.name)
def test_real_feed(path: Path) -> None:
    if path.name in NOT_FEEDS:
        with pytest.raises(ParseError, match="not a feed"):
            _parse_real(path.name)
        return
    feed = _parse_real(path.name)
    assert feed.items, "a real feed yields items"
    assert not _item_faults(feed)
    markup = [
        item.summary[:80] for item in feed.items if re.search(r"</?(?:p|div|br)\b[^>]*>|&#\d+;", item.summary)
    ]
    assert not markup, "summaries are plain text"
    # The link keys the store de-duplicates by come with the parse, as link_key() gives them.
    assert feed.link_keys == {item.key: link_key(item) for item in feed.items}
    # Collapsing verbatim repeats and blank nested items may only shrink the publisher's list.
    assert len(feed.items) <= ITEM_COUNTS[path.name]


def _titles(feed: ParsedFeed) -> set[str]:
    return {item.title for item in feed.items}


QUIRKS: dict[str, Callable[[ParsedFeed], bool]] = {
    # 131 items, 13 stories repeated verbatim (one of them three times): 14 copies collapse.
    "indiatoday-rss-1.xml": lambda feed: len(feed.items) == 117,
    # A repeated <guid> element inside the one item: still one item, keyed by that guid.
    "braingle-rss-1.xml": lambda feed: (
        [i.key for i in feed.items] == ["guid:http://www.braingle.com/50366.html"]
    ),
    # No guid anywhere: the link is the only identity, with its tracking parameters gone.
    "aktuality-rss-1.xml": lambda feed: all(i.key.startswith("link:https://") for i in feed.items),
    "thehindu-rss-1.xml": lambda feed: not any("utm_" in i.key for i in feed.items),
    # No dates at all: every item carries the fetch time, marked unknown.
    "heise-rdf-1.xml": lambda feed: (
        {(i.published, i.published_known) for i in feed.items} == {(FETCHED_AT, False)}
    ),
    "telegraph-rss-1.xml": lambda feed: not any(i.published_known for i in feed.items),
    # The same guid and link twice with different text: two items, keyed by their content.
    "cnn-rss-2.xml": lambda feed: sum(i.key.startswith("hash:") for i in feed.items) == 2,
    # ISO-8859-1 and windows-1251 bytes, undeclared or declared: read as the publisher meant.
    "cerclepsy-rss-1.xml": lambda feed: "Psy en prison, une mission impossible ?" in _titles(feed),
    "oren-rss-1.xml": lambda feed: all(re.search("[а-я]", title) for title in _titles(feed)),
    # HTML in a CDATA description that feedparser leaves typed text/plain is still reduced to text.
    "latimes-rss-1.xml": lambda feed: not any("<p>" in i.summary for i in feed.items),
}


@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_real_feed_quirks(name: str) -> None:
    assert QUIRKS[name](_parse_real(name))


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [("aljazeera-rss-1.xml", "aljazeera-rss-2.xml", 23), ("bbc-rss-1.xml", "bbc-rss-2.xml", 50)],
)
def test_consecutive_polls_give_the_same_story_the_same_key(first: str, second: str, shared: int) -> None:
    before = {item.title: item.key for item in _parse_real(first).items}
    after = {item.title: item.key for item in _parse_real(second).items}
    common = before.keys() & after.keys()
    assert len(common) == shared
    assert all(before[title] == after[title] for title in common)
