"""Render rows (lists of dicts) as a table that fits the terminal, a JSON array or CSV.

JSON and CSV carry the same columns, in the same order (the command's documented list). Tables are
sized by display width (a CJK character takes two cells) and clip their last column to the terminal
(`shutil.get_terminal_size`: $COLUMNS, else the terminal, else 80); `--wide` clips nothing.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
import unicodedata
from collections.abc import Sequence

from monitor.events import REGISTRY

WIDTH = 80
UNLIMITED = sys.maxsize  # --wide: nothing is clipped


def terminal_width() -> int:
    return shutil.get_terminal_size((WIDTH, 24)).columns


def table_width(wide: bool) -> int:
    return UNLIMITED if wide else terminal_width()


def as_json(rows: Sequence[dict[str, object]], columns: Sequence[str] | None = None) -> str:
    shown = [{c: row.get(c) for c in columns} for row in rows] if columns is not None else list(rows)
    return json.dumps(shown, indent=2, default=str, ensure_ascii=False)


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


def as_table(
    rows: Sequence[dict[str, object]],
    columns: Sequence[str],
    width: int | None = None,
    optional: Sequence[str] = (),
) -> str:
    """Fixed columns sized to their content; the last column takes what is left of `width` (default: the
    terminal's), clipped. When the row does not fit, the `optional` columns go first (in that order),
    before any cell is clipped."""
    if not rows:
        return "(no rows)"
    width = terminal_width() if width is None else width
    cells = [[_cell(row.get(c)).replace("\n", " ") for c in columns] for row in rows]
    natural = [max(_width(c), *(_width(r[i]) for r in cells)) for i, c in enumerate(columns)]
    keep = _droppable(list(columns), natural, width, optional)
    columns = [c for i, c in enumerate(columns) if i in keep]
    cells = [[r[i] for i in sorted(keep)] for r in cells]
    sizes = _fit([natural[i] for i in sorted(keep)], width)

    def line(values: Sequence[str]) -> str:
        parts = [_pad(_clip(v, sizes[i]), sizes[i]) for i, v in enumerate(values)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(columns), line(["-" * s for s in sizes]), *(line(r) for r in cells)])


def _droppable(columns: list[str], natural: list[int], width: int, optional: Sequence[str]) -> set[int]:
    """Indexes of the columns to show: all, less optional ones while the leading columns leave the last
    one fewer than 10 cells."""
    keep = set(range(len(columns)))
    for name in optional:
        shown = sorted(keep)
        lead = sum(natural[i] + 2 for i in shown[:-1])
        if lead + min(natural[shown[-1]], 10) <= width:
            break
        if name in columns:
            keep.discard(columns.index(name))
    return keep


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


def short_time(value: object) -> str | None:
    """`11-30 14:05` (UTC) from an ISO timestamp: narrow enough for a table cell."""
    if not isinstance(value, str) or len(value) < 16:
        return None
    return f"{value[5:10]} {value[11:16]}"


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _width(text: str) -> int:
    """Terminal cells `text` takes."""
    return len(text) if text.isascii() else sum(_char_width(c) for c in text)


def _pad(text: str, size: int) -> str:
    return text + " " * (size - _width(text))


def _clip(text: str, size: int) -> str:
    if _width(text) <= size:
        return text
    kept, used = [], 0
    for char in text:
        used += _char_width(char)
        if used > size - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


def render(
    rows: Sequence[dict[str, object]], fmt: str, columns: Sequence[str], width: int | None = None
) -> str:
    if fmt == "json":
        return as_json(rows, columns)
    if fmt == "csv":
        return as_csv(rows, columns).rstrip("\n")
    return as_table(rows, columns, width)


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


def event_table(rows: Sequence[dict[str, object]], width: int | None = None) -> str:
    """Events, narrow columns first: the headline keeps the room (JSON and CSV have every column)."""
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
    return as_table(lines, TABLE_EVENT_COLUMNS, width)


def item_table(rows: Sequence[dict[str, object]], width: int | None = None) -> str:
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
    return as_table(lines, TABLE_ITEM_COLUMNS, width)


def list_change_detail(rows: Sequence[dict[str, object]]) -> str:
    """A sanctions-list change as a reader checks it: what, where, then each field before -> after."""
    blocks = []
    for row in rows:
        head = [
            f"item {row['item']} (event {row['event'] or '-'}) on {row['feed']}, {_cell(row['detected_at'])}",
            f"  {row['title']}",
            f"  {row['link'] or ''}".rstrip(),
        ]
        if row["held"]:
            head.append("  held by the mass-change breaker: not alerted (see the notice)")
        before = row["before"] if isinstance(row["before"], dict) else {}
        after = row["after"] if isinstance(row["after"], dict) else {}
        changed = set(str(row["changed_fields"] or "").split(",")) - {""}
        lines = []
        for name in sorted(set(before) | set(after)):
            old, new = _joined(before.get(name)), _joined(after.get(name))
            mark = "*" if name in changed or old != new else " "
            lines.append(f"{mark} {name}: {old}" if old == new else f"{mark} {name}: {old} -> {new}")
        blocks.append("\n".join([*head, *lines]))
    return "\n\n".join(blocks) if blocks else "(no list change)"


def _joined(values: object) -> str:
    if not values:
        return "(none)"
    return "; ".join(str(v) for v in values) if isinstance(values, list) else str(values)
