"""Classifier speed on a realistic stream: mostly off-topic wire copy, about a tenth topical.

Run: .venv/bin/python bench/classify.py [--items 20000]
Prints items/s for `classify` on the stream, and seconds for `classify_jsonl` on the same
number of JSON lines next to a lower bound (json.loads + json.dumps alone) with their ratio.
"""

from __future__ import annotations

import argparse
import html
import io
import json
import re
import time
from itertools import cycle, islice
from pathlib import Path

import feedparser

from monitor.classify import classify, classify_jsonl, load_baseline

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared"
_TAGS = re.compile(r"<[^>]+>")


def _plain(text: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", text)).split())


def wire_items() -> list[tuple[str, str]]:
    """Every entry of the real-feeds corpus as (title, plain summary), parsed once."""
    items = []
    for path in sorted((SHARED / "corpora" / "real-feeds").glob("*.xml")):
        for entry in feedparser.parse(path.read_bytes()).entries:
            items.append((_plain(entry.get("title", "")), _plain(entry.get("summary", ""))))
    return [item for item in items if item[0]]


def topical_items() -> list[tuple[str, str]]:
    """The constructed and the real labelled headlines: what the rules work hardest on."""
    lines = [
        line
        for name in ("dev.jsonl", "real.jsonl")
        for line in (SHARED / "eval" / name).read_text(encoding="utf-8").splitlines()
    ]
    return [(row["title"], row["summary"]) for row in map(json.loads, lines)]


def build_stream(count: int) -> list[tuple[str, str]]:
    """Nine wire items, then one topical item, repeated."""
    wire, topical = cycle(wire_items()), cycle(topical_items())
    return [next(topical) if index % 10 == 9 else next(wire) for index in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=20_000)
    args = parser.parse_args()
    baseline = load_baseline(None)  # the packaged baseline
    stream = build_stream(args.items)
    classify("warm up", "", baseline)

    started, cpu = time.perf_counter(), time.process_time()
    alerts = sum(classify(title, summary, baseline).alert for title, summary in stream)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    # CPU time as well as wall: on a shared machine the wall clock counts other people's work.
    print(
        f"classify: {len(stream)} items in {elapsed:.3f}s wall, {cpu:.3f}s CPU = "
        f"{len(stream) / elapsed:,.0f} items/s wall, {len(stream) / cpu:,.0f} items/s CPU "
        f"({alerts} alerts; target >= 5,000 items/s)"
    )

    lines = [
        json.dumps({"id": str(n), "title": t, "summary": s}) for n, (t, s) in enumerate(islice(stream, None))
    ]
    started = time.perf_counter()
    sink = io.StringIO()
    for line in lines:  # the floor: reading and writing the same lines, no classifying
        sink.write(json.dumps(json.loads(line)) + "\n")
    floor = time.perf_counter() - started
    started = time.perf_counter()
    status = classify_jsonl(lines, baseline, io.StringIO(), io.StringIO())
    engine = time.perf_counter() - started
    print(
        f"classify_jsonl: {len(lines)} lines in {engine:.3f}s (exit {status}); "
        f"json.loads+json.dumps alone {floor:.3f}s; ratio {engine / floor:.1f}x"
    )


if __name__ == "__main__":
    main()
