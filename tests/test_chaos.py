"""The chaos harness (bench/chaos.py), short: replicas killed and stalled, every invariant checked.

Marked `chaos`: CI runs it as part of the suite (about a minute in all); `bench/chaos.py --seconds 300`
is the longer run whose figures are in the notes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def chaos(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "chaos.py"), "--seed", "7", *args],
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    return done.stdout


@pytest.mark.chaos
@pytest.mark.postgres
@pytest.mark.timeout(180)
def test_three_replicas_on_postgres_survive_kills_and_stalls(postgres: str) -> None:
    out = chaos("--seconds", "24", "--replicas", "3")
    assert "FAILED" not in out and "3 replicas" in out


@pytest.mark.chaos
@pytest.mark.timeout(180)
def test_one_replica_on_sqlite_survives_kill_9_and_refuses_a_second() -> None:
    out = chaos("--seconds", "14", "--sqlite")
    assert "FAILED" not in out and "1 replicas" in out
    # At least one kill -9 happened (a slow machine may fit in a second one).
    kills = re.search(r"(\d+) kills", out)
    assert kills is not None and int(kills.group(1)) >= 1, out
