"""`classify_jsonl`: one output line per good input line, in order; bad lines reported and skipped."""

from __future__ import annotations

import io
import json

from monitor.classify import Baseline, classify_jsonl

GOOD = json.dumps({"id": "a", "title": "Oman recognises the Taliban government", "summary": ""})
OFF_TOPIC = json.dumps({"id": 7, "title": "Rain expected in Lisbon", "published": "2026-01-02"})


def _run(lines: list[str], baseline: Baseline) -> tuple[int, list[dict[str, object]], list[str]]:
    out, err = io.StringIO(), io.StringIO()
    status = classify_jsonl(lines, baseline, out, err)
    return status, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue().splitlines()


def test_good_lines_give_one_decision_each_in_order(baseline: Baseline) -> None:
    status, rows, errors = _run([GOOD, "", "   ", OFF_TOPIC], baseline)
    assert (status, errors) == (0, [])
    assert [row["id"] for row in rows] == ["a", 7]
    first = rows[0]
    assert (first["alert"], first["event_type"], first["actor"], first["modality"]) == (
        True,
        "recognition",
        "OM",
        "asserted",
    )
    assert first["novel"] is True and 0 < first["confidence"] <= 1 and first["reason"] is None
    assert isinstance(first["evidence"], dict) and first["evidence"]["rule"] == "recognition.verb"
    assert rows[1]["alert"] is False and rows[1]["reason"] == "not_relevant"


def test_malformed_lines_are_reported_skipped_and_fail_the_run(baseline: Baseline) -> None:
    lines = [
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"title": "no id"}),
        json.dumps({"id": "b"}),
        json.dumps({"id": "c", "title": 5}),
        json.dumps({"id": True, "title": "boolean id"}),
        json.dumps({"id": "d", "title": "t", "published": "yesterday"}),
        GOOD,
    ]
    status, rows, errors = _run(lines, baseline)
    assert status == 1
    assert [row["id"] for row in rows] == ["a"]
    assert [error.split(":")[0] for error in errors] == [f"line {n}" for n in range(1, 8)]
    assert "not JSON" in errors[0] and "object" in errors[1]
    assert "'id'" in errors[2] and "'title'" in errors[3] and "'title'" in errors[4]
    assert "'id'" in errors[5] and "'published'" in errors[6]
