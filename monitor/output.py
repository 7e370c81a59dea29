"""Render rows (lists of dicts) as an 80-column table, a JSON array or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from monitor.events import REGISTRY

WIDTH = 80


def as_json(rows: Sequence[dict[str, object]]) -> str:
    return json.dumps(list(rows), indent=2, default=str, ensure_ascii=False)


def as_csv(rows: Sequence[dict[str, object]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    text = str(value)
    return (
        text[:16].replace("T", " ") if len(text) >= 19 and text[4:5] == "-" and text[10:11] == "T" else text
    )


def as_table(rows: Sequence[dict[str, object]], columns: Sequence[str], width: int = WIDTH) -> str:
    """Fixed columns sized to their content; the last column takes what is left of `width`, clipped."""
    if not rows:
        return "(no rows)"
    cells = [[_cell(row.get(c)).replace("\n", " ") for c in columns] for row in rows]
    sizes = _fit([max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)], width)

    def line(values: Sequence[str]) -> str:
        parts = [_clip(v, sizes[i]).ljust(sizes[i]) for i, v in enumerate(values)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(columns), line(["-" * s for s in sizes]), *(line(r) for r in cells)])


def _fit(sizes: list[int], width: int, last_min: int = 10, floor: int = 4) -> list[int]:
    """Column sizes whose row fits `width`: the widest leading columns give way until the last one has
    at least `last_min` (or what it needs); the last one takes the rest."""
    sizes = list(sizes)
    room = width - 2 * (len(sizes) - 1)
    lead = range(len(sizes) - 1)
    while sum(sizes[:-1]) + min(sizes[-1], last_min) > room and any(sizes[i] > floor for i in lead):
        sizes[max(lead, key=lambda i: sizes[i])] -= 1
    sizes[-1] = max(1, min(sizes[-1], room - sum(sizes[:-1])))
    return sizes


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def render(rows: Sequence[dict[str, object]], fmt: str, columns: Sequence[str]) -> str:
    if fmt == "json":
        return as_json(rows)
    if fmt == "csv":
        return as_csv(rows, columns).rstrip("\n")
    return as_table(rows, columns)


_SHORT_TYPE: dict[str, str] = {kind.name: kind.short for kind in REGISTRY}
TABLE_EVENT_COLUMNS = ["event", "date", "what", "src", "headline"]
TABLE_ITEM_COLUMNS = ["item", "date", "feed", "what", "alert", "title"]


def _what(row: dict[str, object]) -> str:
    """'recognition KZ', 'sanctions- EU planned': type, actor and modality in one narrow column."""
    kind = _SHORT_TYPE.get(str(row.get("event_type")), "")
    if not kind:
        return "-"
    planned = " planned" if row.get("modality") == "planned" else ""
    return f"{kind} {row.get('actor') or '?'}{planned}"


def event_table(rows: Sequence[dict[str, object]]) -> str:
    """Events for an 80-column terminal: the headline keeps the room (JSON and CSV have every column)."""
    lines = [
        {
            "event": r["event"],
            "date": str(r["detected_at"])[:10],
            "what": _what(r),
            "src": r["sources"],
            "headline": r["headline"],
        }
        for r in rows
    ]
    return as_table(lines, TABLE_EVENT_COLUMNS)


def item_table(rows: Sequence[dict[str, object]]) -> str:
    lines = [
        {
            "item": r["item"],
            "date": str(r["first_seen_at"])[:10],
            "feed": _clip(str(r["feed"]), 14),
            "what": _what(r),
            "alert": r["alert"],
            "title": r["title"],
        }
        for r in rows
    ]
    return as_table(lines, TABLE_ITEM_COLUMNS)
