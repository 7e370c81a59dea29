"""Parse a fetched feed document into normalised items with stable keys.

feedparser does the reading (RSS 0.9x/1.0/2.0, Atom, RDF, broken documents,
charset detection); this module turns its loose dictionaries into `FeedItem`s:
plain text, absolute links, UTC dates and a per-feed key that survives broken
GUIDs (see DESIGN.md, "Identity and duplicates").
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import feedparser

from monitor.domain import FeedItem, ParsedFeed
from monitor.errors import ParseError

SUMMARY_LIMIT = 4000  # characters of plain text kept per summary
TITLE_LIMIT = 1000
PROBLEM_LIMIT = 200
KEY_LIMIT = 512
FUTURE_SLACK = timedelta(days=1)  # clock skew and time-zone mistakes we still trust

# Query parameters that only say how a reader arrived; they vary per feed and per fetch.
# fmt: off
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "ocid", "cmpid",
    "cmp", "ito", "ref", "rss", "smid", "partner", "traffic_source", "maca", "feedtype", "feedname",
    "ncid", "mbid", "spm", "_ga", "mkt_tok", "__twitter_impression", "sr_share", "guccounter",
})
# fmt: on
TRACKING_PREFIXES = ("utm_", "at_", "ns_", "wt_", "wt.", "pk_", "mtm_", "_hs")
DEFAULT_PORTS = {"http": "80", "https": "443"}

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_SKIPPED_ELEMENTS = frozenset({"script", "style", "noscript", "template"})
# Elements that separate words visually; their tags become spaces so "a</p><p>b" reads "a b".
# fmt: off
_BREAKING_ELEMENTS = frozenset({
    "p", "br", "div", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "hr", "section", "article", "header", "footer", "figure", "figcaption", "img",
    "dd", "dt", "dl",
})
# fmt: on
# The first element of the document, after a BOM, XML declaration, PIs, comments and doctype.
_ROOT_ELEMENT = re.compile(
    # Possessive (*+): a failed match must not backtrack through every way to split the prolog.
    rb"^(?:\xef\xbb\xbf)?(?:\s|<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>)*+<([a-z][\w:.-]*)",
    re.IGNORECASE | re.DOTALL,
)
_SNIFF_BYTES = 4096
# A tag or an entity reference: the sign that a "plain" RSS value is really HTML.
_MARKUP = re.compile(r"</?[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+\d*);")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
# Charsets that decode any byte string, so a wrong one never fails and feedparser cannot notice.
_PERMISSIVE_CHARSETS = frozenset(
    {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "windows-1252", "cp1252"}
)


def parse(body: bytes, headers: Mapping[str, str], *, fetched_at: datetime) -> ParsedFeed:
    """Read a feed document; raise ParseError when it is not a feed at all.

    `headers` are the HTTP response headers: Content-Type's charset guides decoding
    and Content-Location (the URL fetched) makes relative links absolute.
    `fetched_at` stands in for items without a trustworthy date.
    """
    _reject_non_feed_bytes(body)
    document = _run_feedparser(body, headers)
    problem = _describe_problem(document)
    _reject_non_feed_document(document, problem)
    now = fetched_at.astimezone(UTC) if fetched_at.tzinfo else fetched_at.replace(tzinfo=UTC)
    # RSS has no reliable text/html marker and feedparser's guess is cautious; Atom says which it is.
    guess_markup = not str(document.get("version", "")).startswith("atom")
    base = _public_base(_header(headers, "content-location"))
    drafts = [_draft(entry, now, guess_markup, base) for entry in document.get("entries", [])]
    unique = _drop_duplicates(draft for draft in drafts if not draft.is_blank())
    keyed = list(zip(unique, _assign_keys(unique), strict=True))
    items = [draft.to_item(key) for draft, key in keyed]
    # The store's second identity, link_key(item), without normalising every link a second time.
    link_keys = {key: _link_key(draft.normalised_link) for draft, key in keyed}
    feed_title = _text(document.get("feed", {}), "title", TITLE_LIMIT, guess_markup) or None
    return ParsedFeed(title=feed_title, items=items, link_keys=link_keys, problem=problem)


def normalise_link(url: str) -> str:
    """The link in the form used for identity: the same article gives the same string.

    Lower-cases scheme and host, drops default ports, tracking parameters and the
    fragment, sorts the query and strips a trailing slash (except the root).
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed URL: still an identity, just not a normalisable one
        return url
    return _normalised(url, parts)


def _normalised(url: str, parts: SplitResult) -> str:
    """normalise_link() of a stripped `url` already split into `parts`."""
    try:
        port = parts.port
    except ValueError:  # a malformed port: still an identity, just not a normalisable one
        return url
    scheme = parts.scheme.lower()
    host = _host_and_port(parts.hostname, port, scheme)
    if "@" in parts.netloc:
        host = f"{parts.netloc.rpartition('@')[0]}@{host}"
    path = (parts.path.rstrip("/") or "/") if parts.netloc else parts.path
    return urlunsplit((scheme, host, path, _clean_query(parts.query), _route_fragment(parts.fragment)))


def link_key(item: FeedItem) -> str | None:
    """A secondary key for the store: catches feeds whose GUIDs change on every fetch."""
    return None if item.link is None else _link_key(normalise_link(item.link))


def _link_key(normalised: str | None) -> str | None:
    return None if normalised is None else _bounded_key("link", normalised)


def _host_and_port(hostname: str | None, port: int | None, scheme: str) -> str:
    """Lower-case host (urlsplit's hostname), IPv6 re-bracketed, with the port unless the default."""
    host = (hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    return host if port is None or str(port) == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"


def _clean_query(query: str) -> str:
    """Drop tracking parameters and sort the rest, keeping each parameter's original encoding."""
    kept = [pair for pair in query.split("&") if pair and not _is_tracking(pair.partition("=")[0])]
    return "&".join(sorted(kept))


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def _route_fragment(fragment: str) -> str:
    # "#!/story/1" and "#/story/1" address a page in a single-page site; any other fragment is noise.
    return fragment if fragment.startswith(("!", "/")) else ""


# --- rejecting what is not a feed -------------------------------------------------------------


def _reject_non_feed_bytes(body: bytes) -> None:
    if not body.removeprefix(b"\xef\xbb\xbf").strip(b" \t\r\n\x00"):
        raise ParseError("not a feed: the body is empty")
    root = _ROOT_ELEMENT.match(body[:_SNIFF_BYTES])
    if root and root.group(1).lower().rpartition(b":")[2] == b"html":
        raise ParseError("not a feed: the body is an HTML page")


# Sanitising and URI rewriting inside HTML are skipped: every HTML value is reduced to plain text here,
# which drops scripts and markup anyway (and saves about a fifth of the parse time). bench/poll.py's lower
# bound parses with the same settings.
FEEDPARSER_SETTINGS: dict[str, bool] = {"sanitize_html": False, "resolve_relative_uris": False}


def _run_feedparser(body: bytes, headers: Mapping[str, str]) -> Any:
    try:
        return feedparser.parse(
            io.BytesIO(body), response_headers=_feedparser_headers(body, headers), **FEEDPARSER_SETTINGS
        )
    except Exception as exc:  # hostile input must not crash the poller; the caller handles ParseError
        raise ParseError(f"not a feed: the parser failed ({type(exc).__name__})") from exc


def _feedparser_headers(body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
    """The response headers as feedparser should see them (it looks names up in lower case).

    feedparser follows RFC 3023: without a Content-Type it decodes as ISO-8859-1, and text/*
    without a charset as US-ASCII; both garble UTF-8 feeds. RFC 7303 (and every feed reader)
    defers to the BOM and XML declaration instead, which is what "application/xml" asks for.
    A latin-1 family charset on a body that is valid, non-ASCII UTF-8 is a server default that
    does not describe this document, so it is dropped too.
    """
    forwarded = {name.lower(): value for name, value in headers.items()}
    # Relative item links are resolved here, not by feedparser: given a base URL it resolves every
    # element's URIs, which costs about 40% more parse time for links nobody reads.
    forwarded.pop("content-location", None)
    charset_match = _CHARSET.search(forwarded.get("content-type", ""))
    charset = charset_match.group(1) if charset_match else None
    if charset and charset.lower() in _PERMISSIVE_CHARSETS and _is_utf8_text(body):
        charset = None
    forwarded["content-type"] = f"application/xml; charset={charset}" if charset else "application/xml"
    return forwarded


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((value for key, value in headers.items() if key.lower() == name), "")


def _public_base(url: str) -> str:
    """The fetched URL as a base for relative links, without credentials or query.

    Feed URLs can carry tokens; resolving "#top" or "?page=2" against the full URL would copy
    them into item links, which are stored and posted to chat.
    """
    try:
        parts = urlsplit(url.strip())
        host = _host_and_port(parts.hostname, parts.port, parts.scheme.lower())
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _is_utf8_text(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _describe_problem(document: Any) -> str | None:
    if not document.get("bozo"):
        return None
    exc = document.get("bozo_exception")
    line = f"{type(exc).__name__}: {exc}" if exc is not None else "ill-formed document"
    return _truncate(" ".join(line.split()), PROBLEM_LIMIT)


def _reject_non_feed_document(document: Any, problem: str | None) -> None:
    feed = document.get("feed", {})
    if document.get("entries") or feed.get("title") or feed.get("link"):
        return
    if problem is not None:
        raise ParseError(f"not a feed: {problem}")
    if not document.get("version"):
        raise ParseError("not a feed: no RSS, Atom or RDF root element")


# --- entries ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Draft:
    """An entry read and normalised, waiting for its key."""

    guid: str | None
    link: str | None
    normalised_link: str | None
    title: str
    summary: str
    published: datetime
    published_known: bool
    authors: tuple[str, ...]
    tags: tuple[str, ...]

    def is_blank(self) -> bool:
        # e.g. an empty <item/> nested in a real one: nothing a reader could see or link to.
        return not (self.guid or self.link or self.title or self.summary)

    def identity(self) -> tuple[str | None, str | None, str, str]:
        return (self.guid, self.normalised_link, self.title, self.summary)

    def to_item(self, key: str) -> FeedItem:
        return FeedItem(
            key=key,
            title=self.title,
            summary=self.summary,
            link=self.link,
            published=self.published,
            published_known=self.published_known,
            authors=self.authors,
            tags=self.tags,
        )


def _draft(entry: Any, now: datetime, guess_markup: bool, base: str) -> _Draft:
    link, parts = _absolute_link(_get(entry, "link"), base)
    published = _entry_date(entry, now)
    tags = _get(entry, "tags")
    return _Draft(
        guid=(_get(entry, "id") or "").strip() or None,
        link=link,
        normalised_link=_normalised(link, parts) if link and parts else None,
        title=_text(entry, "title", TITLE_LIMIT, guess_markup),
        summary=_summary(entry, guess_markup),
        published=published or now,
        published_known=published is not None,
        authors=_authors(entry),
        tags=_unique_texts(_get(tag, "term") or _get(tag, "label") for tag in tags) if tags else (),
    )


def _get(container: Any, key: str) -> Any:
    """A field of a feedparser dict read as a plain dict.

    FeedParserDict.get() remaps legacy keys (and warns, e.g. for updated_parsed) at a cost that
    shows in profiles; the canonical keys read here need none of it.
    """
    return dict.get(container, key)


_NO_LINK: tuple[None, None] = (None, None)


def _absolute_link(raw: object, base: str) -> tuple[str, SplitResult] | tuple[None, None]:
    """The link made absolute against `base` (the fetched URL, public part), if it is a web URL; with its
    parts, which normalising it reads again."""
    if not isinstance(raw, str):
        return _NO_LINK
    link = raw.strip()
    if not link:
        return _NO_LINK  # urljoin would turn an empty <link/> into the feed's own URL
    try:
        parts = urlsplit(link)
        if base and not parts.scheme:
            link = urljoin(base, link)
            parts = urlsplit(link)
    except ValueError:
        return _NO_LINK
    # Relative links without a base, and javascript:/data: URLs, are unusable.
    return (link, parts) if parts.scheme.lower() in DEFAULT_PORTS and parts.netloc else _NO_LINK


def _entry_date(entry: Any, now: datetime) -> datetime | None:
    """The entry's date in UTC, or None when absent, invalid or implausibly in the future."""
    parsed = _get(entry, "published_parsed") or _get(entry, "updated_parsed")
    if not parsed:
        return None
    try:  # feedparser's struct_time is UTC; a leap second (60) would make datetime refuse it
        year, month, day, hour, minute, second = parsed[:6]
        when = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (ValueError, TypeError, OverflowError):
        return None
    return None if when > now + FUTURE_SLACK else when


def _summary(entry: Any, guess_markup: bool) -> str:
    if _get(entry, "summary"):
        return _text(entry, "summary", SUMMARY_LIMIT, guess_markup)
    for content in _get(entry, "content") or ():
        if _get(content, "value"):
            return _plain(content["value"], _get(content, "type"), SUMMARY_LIMIT, guess_markup)
    return ""


def _authors(entry: Any) -> tuple[str, ...]:
    authors = _get(entry, "authors")
    if not authors:
        author = _get(entry, "author")
        return _unique_texts([author]) if author else ()
    names = [_get(author, "name") or _get(author, "email") for author in authors]
    return _unique_texts(names if any(names) else [_get(entry, "author")])


def _unique_texts(values: Iterable[object]) -> tuple[str, ...]:
    texts = (" ".join(value.split()) for value in values if isinstance(value, str))
    return tuple(dict.fromkeys(text for text in texts if text))


# --- identity ---------------------------------------------------------------------------------


def _drop_duplicates(drafts: Iterable[_Draft]) -> list[_Draft]:
    """Collapse entries repeated verbatim in one document; the first one wins."""
    seen: dict[tuple[str | None, str | None, str, str], _Draft] = {}
    for draft in drafts:
        seen.setdefault(draft.identity(), draft)
    return list(seen.values())


def _assign_keys(drafts: list[_Draft]) -> list[str]:
    """GUID if unique in the document, else normalised link if unique, else a content hash."""
    guids = Counter(draft.guid for draft in drafts if draft.guid)
    links = Counter(draft.normalised_link for draft in drafts if draft.normalised_link)
    keys = []
    for draft in drafts:
        if draft.guid and guids[draft.guid] == 1:
            keys.append(_bounded_key("guid", draft.guid))
        elif draft.normalised_link and links[draft.normalised_link] == 1:
            keys.append(_bounded_key("link", draft.normalised_link))
        else:
            keys.append("hash:" + _sha1(f"{draft.title}\n{draft.summary}"))
    return _separate_colliding_hashes(drafts, keys)


def _separate_colliding_hashes(drafts: list[_Draft], keys: list[str]) -> list[str]:
    # Same title and text under a shared GUID or link: hash everything that tells them apart
    # (the identities are distinct after _drop_duplicates), so no item swallows another.
    counts = Counter(keys)
    return [
        "hash:" + _sha1("\n".join(part or "" for part in draft.identity())) if counts[key] > 1 else key
        for draft, key in zip(drafts, keys, strict=True)
    ]


def _bounded_key(kind: str, value: str) -> str:
    key = f"{kind}:{value}"
    return key if len(key) <= KEY_LIMIT else f"{kind}:sha1:{_sha1(value)}"


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


# --- text -------------------------------------------------------------------------------------


def _text(container: Any, field: str, limit: int, guess_markup: bool) -> str:
    """A feedparser text field as plain text, using its `<field>_detail` type."""
    value = _get(container, field)
    if not isinstance(value, str) or not value:
        return ""
    detail = _get(container, f"{field}_detail") or {}
    return _plain(value, _get(detail, "type"), limit, guess_markup)


def _plain(value: str, content_type: str | None, limit: int, guess_markup: bool) -> str:
    # feedparser has already decoded entities in text/plain values; only HTML needs reading.
    is_html = content_type is None or content_type in _HTML_TYPES
    if not is_html and guess_markup and content_type == "text/plain":
        is_html = _MARKUP.search(value) is not None
    if not is_html or ("<" not in value and "&" not in value):
        return _truncate(" ".join(value.split()), limit)
    return html_to_text(value, limit)


def html_to_text(html: str, limit: int = SUMMARY_LIMIT) -> str:
    """Visible text of an HTML fragment: tags dropped, entities decoded, whitespace folded.

    Two regular expressions instead of html.parser (3.5x faster; every HTML value of the corpus reads the
    same): script, style, noscript and template go whole, a quoted `>` stays inside its tag, a `<` not
    followed by a letter is text, `</ x>` is a bogus comment, and a comment left open hides the rest.
    """
    text = _TAG.sub(_tag_gap, _SKIPPED_BLOCK.sub("", html))
    return _truncate(" ".join(unescape(text).split()), limit)


# No class below matches "<": a tag that never closes ends its attempt at the next "<", so hostile markup
# ("<a x=" repeated a million times) costs linear time, not quadratic.
_ATTRIBUTES = r"""(?:[^<>"']|"[^<"]*"|'[^<']*')*+"""
_SKIPPED_BLOCK = re.compile(
    rf"<({'|'.join(sorted(_SKIPPED_ELEMENTS))})\b{_ATTRIBUTES}>.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL
)
# A comment, a declaration or processing instruction (unclosed: to the end), a bogus end tag, or a tag
# (group 2: its name).
_TAG = re.compile(
    r"<!--(?:.*?-->|.*)|<[!?][^<>]*(?:>|\Z)|</[^a-zA-Z<>][^<>]*>|<(/?)([a-zA-Z][^\s/<>]*)"
    + _ATTRIBUTES
    + ">",
    re.DOTALL,
)


def _tag_gap(tag: re.Match[str]) -> str:
    """Elements that separate words visually become a space, so "a</p><p>b" reads "a b"."""
    name = tag.group(2)
    return " " if name is not None and name.lower() in _BREAKING_ELEMENTS else ""


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # End on a word boundary when one is near, so the last word is not a fragment.
    space = cut.rfind(" ", limit - 100)
    return (cut[:space] if space > 0 else cut) + "…"
