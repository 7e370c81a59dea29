"""Fixtures for the classifier tests: the shipped baseline and the shared evaluation data."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.classify import Baseline, load_baseline

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"


@pytest.fixture(scope="session")
def baseline() -> Baseline:
    return load_baseline(REPO / "seeds" / "baseline.yaml")


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "eval" / "dev.jsonl").is_file():
        pytest.skip("../shared/eval is not beside the repository")
    return SHARED
