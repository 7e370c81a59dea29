"""Feed text that tries to ping everyone or spoof a link does neither, in any format.

Each check reads the parsed payload the way the service would: Slack's `<...>`
control sequences, Discord's and Mattermost's markdown, Teams' card elements,
Google Chat's HTML subset.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest
from notify_samples import (
    ALERT,
    EVIL_LINK,
    HOSTILE,
    HOSTILE_TEXT,
    MSG_ID,
    SECRET,
    TIMESTAMP,
    payload,
    strings,
)

from monitor.domain import Alert, Digest, Notice
from monitor.notify import NAMES, Rendered, render

HOSTILE_NOTICE = Notice(
    feed="feed " + HOSTILE_TEXT, kind="failing", detail=HOSTILE_TEXT, at=HOSTILE.published
)
MESSAGES: dict[str, Alert | Notice | Digest] = {
    "alert": HOSTILE,
    "digest": Digest((HOSTILE, replace(HOSTILE, event_id=7, modality="planned"))),
    "notice": HOSTILE_NOTICE,
}
MASS_PING = re.compile(r"@(everyone|here|channel|all)\b", re.IGNORECASE)
# A markdown link whose `]` is not backslash-escaped: `](url)`.
MARKDOWN_LINK = re.compile(r"(?<!\\)\]\(([^)\s]*)\)")


def _render(kind: str, case: str) -> Rendered:
    return render(kind, MESSAGES[case], msg_id=MSG_ID, timestamp=TIMESTAMP, secret=SECRET)


def _dicts(value: object) -> list[dict[str, object]]:
    if isinstance(value, dict):
        return [value, *(d for item in value.values() for d in _dicts(item))]
    if isinstance(value, list):
        return [d for item in value for d in _dicts(item)]
    return []


def _check_slack(body: object) -> None:
    assert isinstance(body, dict)
    assert "link_names" not in body and "parse" not in body
    ours = EVIL_LINK.replace("|", "%7C").replace("&", "&amp;")
    for text in strings(body):
        for control in re.findall(r"<([^<>]*)>", text):
            # The only control sequence left is the source link we built; no <!channel>, <@U123>, fake label.
            assert control.split("|", 1)[0] == ours, control


def _check_markdown_links(texts: list[str], ours: str) -> None:
    for text in texts:
        assert not MASS_PING.search(text), text
        assert all(url == ours for url in MARKDOWN_LINK.findall(text)), text


def _check_discord(body: object) -> None:
    assert isinstance(body, dict)
    assert body["allowed_mentions"] == {"parse": []}
    texts = strings(body)
    _check_markdown_links(texts, EVIL_LINK.replace("(", "%28").replace(")", "%29"))
    assert not any(re.search(r"(?<!\\)<@", text) for text in texts)
    assert all(embed.get("url") in (None, EVIL_LINK) for embed in body["embeds"])


def _check_mattermost(body: object) -> None:
    assert isinstance(body, dict)
    text = body["text"]
    assert "<" not in text  # `<!channel>` would be expanded into @channel by Mattermost
    _check_markdown_links([text], EVIL_LINK.replace("(", "%28").replace(")", "%29"))


def _check_teams(body: object) -> None:
    for element in _dicts(body):
        assert "entities" not in element  # no mention objects: nothing can ping
        if element.get("type") == "Action.OpenUrl":
            assert element["url"] == EVIL_LINK
        if element.get("type") in ("TextBlock", "Fact") or "value" in element:
            # Markdown-parsing elements: no live link syntax from the feed.
            assert not MARKDOWN_LINK.search(str(element.get("text", element.get("value", ""))))
    assert "<at>" not in str(body)


def _check_googlechat(body: object) -> None:
    assert isinstance(body, dict)
    assert not re.search("<(?!\u200b)", body["text"])  # `<users/all>` needs a bare `<`
    for element in _dicts(body):
        paragraph = element.get("textParagraph")
        if isinstance(paragraph, dict):
            markup = str(paragraph["text"])
            assert set(re.findall(r"<(\w+)", markup)) <= {"a", "b", "i", "br", "font"}
            assert set(re.findall(r'<a href="([^"]*)"', markup)) <= {html.escape(EVIL_LINK, quote=True)}


def _check_generic(body: object) -> None:
    # No markup at all: the text arrives exactly as published, for the receiver to escape for its medium.
    assert isinstance(body, dict)
    events = body.get("events") or [body.get("event")] if "notice" not in body else []
    for event in events:
        assert isinstance(event, dict)
        assert event["headline"] == "Breaking " + HOSTILE_TEXT
        assert event["link"] == EVIL_LINK


def _check_ntfy(rendered: Rendered) -> None:
    # Plain text unless Markdown is switched on, and ntfy has no mentions.
    assert "markdown" not in {key.lower() for key in (*rendered.query, *rendered.headers)}
    assert rendered.query.get("click") in (None, EVIL_LINK)


CHECKS = {
    "slack": _check_slack,
    "discord": _check_discord,
    "mattermost": _check_mattermost,
    "teams": _check_teams,
    "googlechat": _check_googlechat,
    "generic": _check_generic,
}


def test_every_kind_has_an_injection_check() -> None:
    assert set(NAMES) == {*CHECKS, "ntfy"}


@pytest.mark.parametrize("case", sorted(MESSAGES))
@pytest.mark.parametrize("kind", NAMES)
def test_hostile_feed_text_pings_nobody_and_spoofs_no_link(kind: str, case: str) -> None:
    rendered = _render(kind, case)
    if kind == "ntfy":
        _check_ntfy(rendered)
    else:
        CHECKS[kind](payload(rendered))


@pytest.mark.parametrize("kind", NAMES)
def test_hostile_text_is_still_shown_to_people(kind: str) -> None:
    """Defusing must not drop the words: the reader still sees that the headline said `click`."""
    text = "\n".join(strings(payload(_render(kind, "alert"))))
    assert "Breaking" in text and "click" in text and "evil.example" in text


@pytest.mark.parametrize("kind", NAMES)
def test_non_http_link_is_never_linked(kind: str) -> None:
    alert = replace(HOSTILE, link="javascript:alert(document.cookie)")
    rendered = render(kind, alert, msg_id=MSG_ID, timestamp=TIMESTAMP, secret=None)
    assert "javascript" not in rendered.body.decode("utf-8") + str(rendered.query)


def test_chat_text_loses_bidi_overrides_and_zero_width_characters() -> None:
    alert = replace(
        ALERT,
        actor_name="Kaz\u200bakhstan",
        headline="Kazakhstan \u202enoitingocer\u202c recognises \u2066the Taliban\u2069",
        link="https://wire.example/\u202ekz",
        feed="wire\ufeff",
        evidence="Astana\u200d said so.",
        summary="\u061cs",
    )
    invisible = "\u200b\u200d\u202c\u202e\u2066\u2069\ufeff\u061c"
    for kind in (name for name in NAMES if name != "generic"):  # chat text; generic is JSON data
        body = render(kind, alert, msg_id="m", timestamp=0, secret=None).body.decode()
        assert not set(body) & set(invisible), kind
        assert "https://wire.example/" not in body, kind  # a link hiding reordering marks is dropped
