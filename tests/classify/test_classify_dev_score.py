"""The development set, scored by the shared score.py, must clear the four bars."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType

from monitor.classify import Baseline, classify_jsonl


def _score_module(shared: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("shared_score", shared / "eval" / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dev_set_clears_the_bars(shared: Path, baseline: Baseline) -> None:
    gold_path = shared / "eval" / "dev.jsonl"
    out, err = io.StringIO(), io.StringIO()
    status = classify_jsonl(gold_path.read_text(encoding="utf-8").splitlines(), baseline, out, err)
    assert (status, err.getvalue()) == (0, "")
    predicted = {row["id"]: row for row in map(json.loads, out.getvalue().splitlines())}
    score = _score_module(shared)
    result = score.score(score.read_jsonl(str(gold_path)), predicted)
    bars = {key: result[key] >= 0.95 for key in ("precision", "recall", "type_accuracy", "actor_accuracy")}
    assert all(bars.values()), (result, bars)
