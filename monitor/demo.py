"""`monitor demo`: the product end to end on one machine, with no internet and no config.

A loopback feed server serves the bundled sample wire (demo_wire.yaml: alerting developments among
ordinary news, a restatement of a baseline fact, a denial, one development told by two outlets); a
loopback chat receiver takes Slack-style webhook posts and prints them as a chat client shows them. In
between runs the real pipeline (fetch, parse, classify, store, outbox, deliver) on a throwaway SQLite
database, exactly as `monitor poll --once` does. Then the history table and one explained decision.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from monitor import history, output, resources
from monitor.classify import classify, explain, load_baseline
from monitor.config import load_config
from monitor.db import open_database

WIRE = "demo_wire.yaml"
Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Story:
    outlet: str
    minutes_ago: int
    title: str
    summary: str
    expect: str


def load_wire() -> tuple[dict[str, str], list[Story]]:
    """The sample wire: outlet name -> feed title, and the stories in publication order."""
    data = yaml.safe_load(files("monitor").joinpath(WIRE).read_text(encoding="utf-8"))
    outlets = {name: str(outlet["title"]) for name, outlet in data["outlets"].items()}
    return outlets, [Story(**story) for story in data["stories"]]


def rss(outlet: str, title: str, stories: list[Story], now: datetime) -> bytes:
    """The outlet's feed, newest first, each story dated `minutes_ago` before `now`."""
    items = []
    for index, story in sorted(enumerate(stories), key=lambda pair: pair[1].minutes_ago):
        published = format_datetime(now - timedelta(minutes=story.minutes_ago), usegmt=True)
        link = f"https://{outlet}.example/news/{index}"
        items.append(
            f"<item><guid>{link}</guid><title>{escape(story.title)}</title><link>{link}</link>"
            f"<description>{escape(story.summary)}</description><pubDate>{published}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://{outlet}.example/</link>"
        f"<description>{escape(title)}</description>{''.join(items)}</channel></rss>"
    ).encode()


# --- the two loopback servers -----------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Loopback

    def do_GET(self) -> None:
        body = self.server.pages.get(self.path)
        self._answer(200 if body is not None else 404, body or b"not found", "application/rss+xml")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.on_post(body)
        self._answer(200, b"ok", "text/plain")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # the demo prints its own story
        pass


class _Loopback(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pages: dict[str, bytes], on_post: Callable[[bytes], None]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages = pages
        self.on_post = on_post

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@contextmanager
def _serving(pages: dict[str, bytes], on_post: Callable[[bytes], None]) -> Iterator[_Loopback]:
    server = _Loopback(pages, on_post)
    thread = threading.Thread(target=server.serve_forever, name="demo-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- what a chat client shows -----------------------------------------------------------------

_SLACK_LINK = re.compile(r"<([^|>]+)\|([^>]*)>")


def _plain(mrkdwn: str) -> str:
    """Slack mrkdwn as it reads on screen: links show their label, bold marks and escapes go."""
    return unescape(_SLACK_LINK.sub(r"\2", mrkdwn).replace("*", "").replace("`", ""))


def chat_text(payload: dict[str, Any]) -> str:
    """A Slack Block Kit message as plain lines, the way the channel shows it."""
    lines: list[str] = []
    for block in payload.get("blocks", []):
        kind = block.get("type")
        if kind == "header":
            lines.append(f"■ {block['text']['text']}")
        elif kind == "section" and "fields" in block:
            pairs = (_plain(field["text"]).split("\n", 1) for field in block["fields"])
            lines.append(" · ".join(f"{pair[0]}: {pair[-1]}" for pair in pairs))
        elif kind == "section":
            lines.extend(_plain(block["text"]["text"]).splitlines())
        elif kind == "context":
            lines.append(" ".join(_plain(element["text"]) for element in block["elements"]))
    return "\n".join("  │ " + line for line in lines or [_plain(str(payload.get("text", "")))])


# --- the run ----------------------------------------------------------------------------------


def _config_text(tmp: Path, outlets: dict[str, str], feeds: _Loopback, chat: _Loopback) -> str:
    lines = [
        f"database: sqlite:///{tmp / 'demo.db'}",
        "defaults: {interval: 10m, jitter: 0s, timeout: 10s}",
        "feeds:",
        *(f"  - name: {name}\n    url: {feeds.url(f'/{name}.xml')}" for name in outlets),
        "webhooks:",
        f"  - name: demo-chat\n    kind: slack\n    url: {chat.url('/chat')}",
        "delivery: {backoff: [0s, 1s], drain_timeout: 30s}",
    ]
    return "\n".join(lines) + "\n"


async def _cycle(config: Any) -> tuple[list[Any], Any]:
    async with resources.open_resources(config) as rt:
        outcomes = await resources.poll_all(rt, config.enabled_feeds)
        drained = await resources.drain_outbox(rt, config.delivery.drain_timeout)
    return outcomes, drained


def run_demo(echo: Echo) -> int:
    """Run the demo, printing as it goes; the number of alerts the chat received."""
    outlets, stories = load_wire()
    now = datetime.now(UTC)
    pages = {
        f"/{name}.xml": rss(name, title, [s for s in stories if s.outlet == name], now)
        for name, title in outlets.items()
    }
    received: list[dict[str, Any]] = []

    def on_chat(body: bytes) -> None:
        payload = json.loads(body)
        received.append(payload)
        echo(f"{chat_text(payload)}\n")

    echo(f"1. A loopback feed server publishes {len(stories)} stories from {len(outlets)} outlets:")
    for story in sorted(stories, key=lambda s: -s.minutes_ago):
        echo(f"   {story.outlet:<12} {story.title}  [{story.expect}]")
    with (
        tempfile.TemporaryDirectory(prefix="monitor-demo-") as folder,
        _serving(pages, lambda _: None) as feeds,
        _serving({}, on_chat) as chat,
    ):
        config_path = Path(folder) / "demo.yaml"
        config_path.write_text(_config_text(Path(folder), outlets, feeds, chat), encoding="utf-8")
        config = load_config(config_path)
        echo("\n2. One polling cycle through the real pipeline; the chat channel receives:\n")
        outcomes, drained = asyncio.run(_cycle(config))
        unsent = drained.retried + drained.dead
        items = sum(o.new_items for o in outcomes)
        echo(f"   ({items} items stored, {len(received)} alerts sent, {unsent} not sent)\n")
        _show_history(config.database, echo)
    _show_explain(next(s for s in stories if s.expect.startswith("restatement")), echo)
    return len(received)


def _show_history(database: str, echo: Echo) -> None:
    engine = open_database(database)
    try:
        events = history.events(engine, history.Filters())
    finally:
        engine.dispose()
    echo("3. $ monitor history    (one row per development, newest first; src = outlets that reported it)\n")
    echo(output.event_table(events) + "\n")


def _show_explain(story: Story, echo: Echo) -> None:
    echo(f'4. $ monitor explain "{story.title}" --summary "..."    (why this one did not alert)\n')
    decision = classify(story.title, story.summary, load_baseline(None))
    echo(explain(decision, story.title, story.summary))
