"""What a renderer hands the sender: the exact bytes, headers and query to send."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

JSON_HEADERS = {"content-type": "application/json"}


@dataclass(frozen=True)
class Rendered:
    """One request body, ready to send as is (`content=body`, never `json=`)."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


def json_body(payload: dict[str, object]) -> bytes:
    """Serialise once, compactly; UTF-8 kept as is because every service counts characters, not escapes."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_rendered(payload: dict[str, object], query: dict[str, str] | None = None) -> Rendered:
    return Rendered(json_body(payload), dict(JSON_HEADERS), dict(query or {}))


def fit_items(items: list[dict[str, object]], budget: int) -> tuple[list[dict[str, object]], int]:
    """The leading items whose serialised size totals at most `budget` bytes, and how many were left out."""
    used = 0
    for index, item in enumerate(items):
        used += len(json_body(item)) + 1  # the comma
        if used > budget:
            return items[:index], len(items) - index
    return items, 0
