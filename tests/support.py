"""Paths shared by the tests (import as `from support import ...`; conftest modules are not importable by name
once several directories have one)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL_FEEDS = SHARED / "corpora" / "real-feeds"
BASELINE = REPO / "seeds" / "baseline.yaml"
