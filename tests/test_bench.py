"""The benchmark harness works end to end on a small scale (timings are not asserted: CI machines vary)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_bench(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
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


def test_history_bench_times_every_shape_on_both_databases(tmp_path: Path, postgres: str) -> None:
    tag = f"t{uuid.uuid4().hex[:8]}"
    out = run_bench(
        "history.py",
        *("--small", "200", "--large", "600", "--runs", "1", "--store-items", "50"),
        *("--cache", str(tmp_path), "--tag", tag, "--discard"),
    )
    for db in ("sqlite", "postgresql"):
        assert f"## {db}: 200 vs 600 items" in out
    shapes = re.findall(
        r"^\| ([a-z][^|]*?) \| \d+ / \d+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| -?[\d.]+ \| "
        r"[\d.]+ / [\d.]+ \| (?:ok|MISSED) \|$",
        out,
        re.M,
    )
    assert len(shapes) == 2 * 30, out
    assert {"stats", "items --search rare --limit 2", "deliveries --limit 40"} <= set(shapes), out
    assert len(re.findall(r"^store: \d+ us/item at 200, \d+ us/item at 600", out, re.M)) == 2, out
    cpu = r"^store: \d+ us/item at 200, \d+ us/item at 600 \(ratio [\d.]+; CPU \d+ -> \d+ us/item, "
    assert len(re.findall(cpu, out, re.M)) == 1, out  # SQLite's store runs in this process: its CPU is shown
    assert len(re.findall(r"^prune at 600: \d+ items .* MB returned\)$", out, re.M)) == 2, out
    assert not list(tmp_path.glob("*.db"))  # --discard removed what it built


def test_replicas_bench_claims_and_polls_every_feed(postgres: str) -> None:
    out = run_bench("replicas.py", "--claim-feeds", "2400", "--cold-feeds", "12", "--warm-feeds", "12,36")
    assert re.search(r"^claim \(limit 20\): p50 [\d.]+ ms, p95 [\d.]+ ms", out, re.MULTILINE), out
    for count in (1, 2):  # every feed polled once, whichever replica claimed it
        line = re.search(
            rf"^cold cycle, {count} replica\(s\): [\d.]+ s wall, .* (\{{.*\}})$", out, re.MULTILINE
        )
        assert line and sum(json.loads(line[1].replace("'", '"')).values()) == 12, out
    for feeds in (12, 36):
        assert re.search(
            rf"^warm cycle, {feeds} feeds: [\d.]+ s wall, .* \{{'not_modified': {feeds}\}}$",
            out,
            re.MULTILINE,
        )


def test_cli_bench_times_help_history_and_stats(tmp_path: Path) -> None:
    from monitor.db import open_database

    history = tmp_path / "history.db"
    open_database(f"sqlite:///{history}").dispose()  # an empty history with the current schema
    out = run_bench("cli.py", "--history", str(history), "--runs", "1")
    names = ('python -c "import click"', 'python -c "import sqlmodel"', "monitor --help", "monitor history")
    for name in (*names, "monitor stats"):
        assert re.search(re.escape(name) + r" +wall p50 +\d+ ms  CPU p50 +\d+ ms", out), name
    assert re.search(r"^--help / import click: [\d.]+ \[(ok|MISSED) <= 3\]$", out, re.MULTILINE), out
    assert re.search(r"^of which above `import sqlmodel` \(\d+ ms\): -?\d+ ms$", out, re.MULTILINE), out
    assert history.stat().st_size > 0  # copied, not consumed
