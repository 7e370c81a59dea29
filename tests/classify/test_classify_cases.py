"""Table-driven behaviour, one YAML file per phenomenon; each case carries its expectation."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.classify import Baseline, classify

CASES = Path(__file__).parent / "cases"


def _cases() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.yaml")):
        for number, case in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")), 1):
            params.append(pytest.param(case, id=f"{path.stem}-{number}"))
    return params


@pytest.mark.parametrize("case", _cases())
def test_case(case: dict[str, Any], baseline: Baseline) -> None:
    published = case.get("published")
    assert published is None or isinstance(published, datetime.date)
    decision = classify(case["title"], case.get("summary", ""), baseline, published)
    got = {
        "event_type": decision.event_type,
        "actor": decision.actor,
        "modality": decision.modality,
        "alert": decision.alert,
        "reason": decision.reason,
    }
    assert {key: got[key] for key in case["expect"]} == case["expect"]


def test_every_phenomenon_has_cases() -> None:
    files = {path.stem for path in CASES.glob("*.yaml")}
    assert {"negation", "planned", "history", "direction", "targets", "actors", "aliases"} <= files
