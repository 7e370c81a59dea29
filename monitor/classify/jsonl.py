"""`monitor classify`: JSON Lines in, one decision per line out, and `explain` for people."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from typing import TextIO

from monitor.classify.baseline import Baseline
from monitor.classify.engine import classify
from monitor.classify.gazetteer import actor_name
from monitor.domain import Decision
from monitor.errors import InputError


def classify_jsonl(lines: Iterable[str | bytes], baseline: Baseline, out: TextIO, err: TextIO) -> int:
    """Classify each line; a malformed line (not UTF-8, not JSON, missing fields) is reported on `err`
    and skipped. A UTF-8 byte-order mark at the start is ignored. 1 if any line was skipped, else 0."""
    status = 0
    for number, raw in enumerate(lines, 1):
        try:
            line = _text(raw, first=number == 1)
            if not line.strip():
                continue
            item_id, title, summary, published = _parse(line)
        except InputError as error:
            err.write(f"line {number}: {error}\n")
            status = 1
            continue
        decision = classify(title, summary, baseline, published)
        out.write(json.dumps({"id": item_id, **decision.to_json()}, ensure_ascii=False) + "\n")
    return status


def _text(raw: str | bytes, *, first: bool) -> str:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = raw[error.start]
            raise InputError(f"not UTF-8 text (byte 0x{bad:02x} at column {error.start + 1})") from None
    return raw.removeprefix("\ufeff") if first else raw


def _parse(line: str) -> tuple[str | int, str, str, datetime.date | None]:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"not JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(item, dict):
        raise InputError(f"expected a JSON object, got {type(item).__name__}")
    item_id, title, summary = item.get("id"), item.get("title"), item.get("summary", "")
    if not isinstance(item_id, str | int) or isinstance(item_id, bool):
        raise InputError("missing or ill-typed 'id' (a string or integer)")
    if not isinstance(title, str):
        raise InputError("missing or ill-typed 'title' (a string)")
    if summary is None:
        summary = ""
    if not isinstance(summary, str):
        raise InputError("ill-typed 'summary' (a string)")
    return item_id, title, summary, _published(item.get("published"))


def _published(value: object) -> datetime.date | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InputError(f"ill-typed 'published' (YYYY-MM-DD): {str(value)[:40]!r}") from None


def explain(decision: Decision, title: str, summary: str) -> str:
    """A multi-line account of one decision, for a person."""
    verdict = "ALERT" if decision.alert else f"no alert ({decision.reason or 'no event'})"
    name = actor_name(decision.actor) if decision.actor else None
    lines = [
        f"item:       {title}" + (f" / {summary[:120]}" if summary else ""),
        f"verdict:    {verdict}",
        f"event:      {decision.event_type or 'none'}",
        f"actor:      {decision.actor or '-'}" + (f" ({name})" if name else ""),
        f"modality:   {decision.modality or '-'}",
        f"novel:      {'-' if decision.novel is None else ('yes' if decision.novel else 'no')}",
        f"confidence: {decision.confidence:.2f}",
    ]
    evidence = decision.evidence
    if evidence is not None:
        lines += [
            f"evidence:   {evidence.sentence}",
            f"rule:       {evidence.rule}"
            + (f" (actor named as {evidence.actor_text!r})" if evidence.actor_text else ""),
            f"cues:       {', '.join(evidence.cues) if evidence.cues else 'none'}",
        ]
    return "\n".join(lines)
