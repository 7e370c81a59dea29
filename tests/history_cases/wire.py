"""Feeds, configs and a CLI runner shared by the history and operations tests.

Each story carries the decision the monitor is expected to reach, so a test
reads its expectation from the fixture rather than restating it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from click.testing import CliRunner
from support import BASELINE

from monitor.cli import main


@dataclass(frozen=True)
class Story:
    guid: str
    title: str
    summary: str
    event_type: str | None = None  # None: off-topic, stored but never an event
    actor: str | None = None


KZ = Story(
    "kz",
    "Kazakhstan formally recognises the Taliban government",
    "Astana said it recognised the Islamic Emirate as the government of Afghanistan.",
    "recognition",
    "KZ",
)
TJ = Story(
    "tj",
    "Tajikistan appoints ambassador to Kabul",
    "Dushanbe named its first ambassador to the Taliban administration.",
    "diplomatic_upgrade",
    "TJ",
)
EU = Story(
    "eu",
    "EU lifts travel ban on Taliban ministers",
    "Brussels eased restrictions on a group of officials.",
    "sanctions_eased",
    "EU",
)
FOOTBALL = Story("fc", "Arsenal beat Chelsea in the London derby", "A late goal settled the match.")
WEATHER = Story("wx", "Heatwave grips southern Europe", "Temperatures passed 40C in Seville.")
# The same development as KZ, reported by a second outlet.
KZ_AGAIN = Story(
    "kz2",
    "Kazakhstan recognises Taliban government, foreign ministry says",
    "The Kazakh foreign ministry confirmed the recognition in a statement.",
    "recognition",
    "KZ",
)
OIL = Story("oil", "Oil prices steady ahead of OPEC meeting", "Brent crude held near 80 dollars.")

RSS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>{name}</title>'
    "<link>https://{name}.example/</link><description>news</description>{items}</channel></rss>"
)
ITEM = (
    "<item><guid>{guid}</guid><title>{title}</title><link>https://{host}.example/{guid}</link>"
    "<description>{summary}</description><pubDate>{date}</pubDate></item>"
)


def rss(name: str, *stories: Story) -> bytes:
    """An RSS document from `name` with `stories` published now (fresh, so they may alert)."""
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    items = "".join(
        ITEM.format(guid=s.guid, host=name, title=escape(s.title), summary=escape(s.summary), date=date)
        for s in stories
    )
    return RSS.format(name=name, items=items).encode()


def write_config(
    tmp: Path,
    database: str,
    feeds: dict[str, str],
    extra: str = "",
) -> Path:
    """A config polling `feeds` (name -> URL) with short timeouts; `extra` is appended YAML."""
    lines = [
        f"database: {database}",
        f"baseline: {BASELINE}",
        "defaults:",
        "  interval: 10m",
        "  timeout: 3s",
        "  jitter: 0s",
        "feeds:",
        *(f"  - name: {name}\n    url: {url}" for name, url in feeds.items()),
    ]
    path = tmp / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def cli(config: Path | None, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run `monitor [--config CONFIG] ARGS`; return (exit code, stdout, stderr)."""
    prefix = ["--config", str(config)] if config else []
    result = CliRunner(env=env).invoke(main, [*prefix, *args])
    return result.exit_code, result.stdout, result.stderr


def poll(config: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    return cli(config, "poll", "--once", "--drain-timeout", "2", *args, env=env)
