"""The classifier takes any text: every title and summary of the saved real feeds, and mangled variants of
topical sentences (cut at random points, shuffled words, odd characters), decide without raising."""

from __future__ import annotations

import json
import random
from pathlib import Path

import feedparser
import pytest

from monitor.classify import Baseline, classify

HERE = Path(__file__).parent
ODD = [
    "",
    " ",
    "?",
    ";",
    "'s",
    "’",
    "\u200b",
    "\u202e",
    "—",
    "(2015)",
    "1988",
    "Taliban",
    "UN",
    "not",
    "\x00",
]


def _topical(shared: Path) -> list[str]:
    lines = (shared / "eval" / "real.jsonl").read_text(encoding="utf-8").splitlines()
    lines += (HERE / "sets" / "blind-b.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [text for row in rows for text in (row["title"], row["summary"]) if text]


def test_every_real_feed_entry_classifies(shared: Path, baseline: Baseline) -> None:
    feeds = sorted((shared / "corpora" / "real-feeds").rglob("*.xml"))
    if not feeds:
        pytest.skip("no saved real feeds beside the repository")
    decided = 0
    for path in feeds:
        for entry in feedparser.parse(path.read_bytes()).entries:
            decision = classify(entry.get("title", ""), entry.get("summary", ""), baseline)
            assert decision.alert in (True, False)
            decided += 1
    assert decided > 1000


def test_mangled_topical_text_classifies(shared: Path, baseline: Baseline) -> None:
    rng = random.Random(20261129)
    texts = _topical(shared)
    for _ in range(3000):
        words = rng.choice(texts).split()
        if rng.random() < 0.5:
            rng.shuffle(words)
        cut = words[rng.randrange(len(words) + 1) :][: rng.randrange(1, 30)]
        cut.insert(rng.randrange(len(cut) + 1), rng.choice(ODD))
        title = " ".join(cut)
        decision = classify(title, " ".join(rng.sample(words, min(len(words), 12))), baseline)
        assert decision.alert == bool(decision.alert and decision.event_type and decision.actor)
