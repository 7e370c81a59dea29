"""The benchmark harness works end to end on a small scale (timings are not asserted: CI machines vary)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_bench(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_poll_bench_runs_all_three_phases() -> None:
    out = run_bench("poll.py", "--feeds", "20")
    cold = re.search(r"cold cycle: .*feeds: 20 new; new items (\d+); items stored (\d+)", out)
    assert cold and int(cold[1]) == int(cold[2]) > 0, out
    assert re.search(r"warm cycle: .*feeds: 20 not_modified; new items 0; items stored " + cold[2], out)
    assert re.search(r"^lower bound: [\d.]+ s, CPU [\d.]+ s .*; \d+ entries", out, re.MULTILINE)
    for line in ("cold / lower bound: ", "warm: ", "peak RSS: "):
        assert re.search("^" + line + r"[\d.]+", out, re.MULTILINE), line


def test_latency_bench_delivers_every_alert() -> None:
    out = run_bench("latency.py", "--alerts", "10")
    assert "10 events stored; deliveries: 10/10 arrived" in out
    assert re.search(r"p50 \d+ ms, p95 \d+ ms, max \d+ ms", out)


def test_lists_bench_measures_both_lists_against_the_lower_bound() -> None:
    out = run_bench("lists.py", "--size-mb", "1")
    for fmt in ("un-consolidated", "ofac-sdn"):
        assert re.search(rf"^{fmt}: [\d.]+ MiB, \d+ entries, \d+ selected", out, re.MULTILINE), out
    assert len(re.findall(r"^  time / lower bound: [\d.]+", out, re.MULTILINE)) == 2
    assert len(re.findall(r"^  peak memory / body size: [\d.]+", out, re.MULTILINE)) == 2
