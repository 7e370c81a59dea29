"""CLI start-up: `monitor --help`, `monitor history` and `monitor stats` on a small history, next to
`python -c "import click"` (the floor any click program pays), each a fresh process timed end to end.

Run: .venv/bin/python bench/cli.py [--history PATH] [--runs 15] [--check]

--history is a SQLite file the commands read (default: bench/history.py's kept 10k history, which
`bench/history.py --build-only --db sqlite` builds). It is copied first, so the kept file is never touched.
Printed per command: wall and CPU p50 (the child's user + system time) and the fastest wall time; targets
(issue 13): `--help` <= 3x `import click`, a read-only query well under 0.5 s. `python -c "import sqlmodel"`
is timed too: every command that opens the database imports it (SQLAlchemy, its ORM and pydantic), so it
is that command's floor on the machine at hand, and the time above it is the monitor's own.

The children run with their bytecode cached, as an installed package's is (pip compiles a wheel's modules on
install, and Python caches a checkout's on first import): one untimed run per command fills a cache in a
temporary folder (PYTHONPYCACHEPREFIX). A machine that sets PYTHONDONTWRITEBYTECODE, as this sandbox does,
would otherwise compile the project's ~25 modules from source in every run (about 0.1 s here), which no
user's second command pays.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_HISTORY = Path("/tmp/monitor-bench-history/history-10000-v2.db")
HELP_VS_CLICK = 3.0
QUERY_S = 0.5


def timed(cmd: list[str], runs: int, env: dict[str, str]) -> tuple[float, float, float]:
    """Wall p50, CPU p50 and fastest wall, in seconds, after one untimed run that caches the bytecode."""
    subprocess.run(cmd, stdout=subprocess.DEVNULL, env=env, check=True)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, env=env, check=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus), min(walls)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--history", type=Path, default=DEFAULT_HISTORY, help="a SQLite history to query")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if not args.history.is_file():
        build = "bench/history.py --build-only --db sqlite"
        sys.exit(f"bench/cli.py: no history at {args.history} (build one: {build})")
    monitor = [sys.executable, "-m", "monitor"]
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "history.db"
        shutil.copyfile(args.history, database)
        config = Path(tmp) / "feeds.yaml"
        config.write_text(
            f"database: sqlite:///{database}\nfeeds:\n  - name: x\n    url: http://127.0.0.1:9/feed\n"
        )
        commands = {
            'python -c "import click"': [sys.executable, "-c", "import click"],
            # What any command that opens the database imports (the design card's ORM): its floor.
            'python -c "import sqlmodel"': [sys.executable, "-c", "import sqlmodel"],
            "monitor --help": [*monitor, "--help"],
            "monitor history": [*monitor, "--config", str(config), "history"],
            "monitor stats": [*monitor, "--config", str(config), "stats"],
        }
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        results = {name: timed(cmd, args.runs, env) for name, cmd in commands.items()}
    for name, (wall, cpu, fastest) in results.items():
        ms = [f"{value * 1000:6.0f} ms" for value in (wall, cpu, fastest)]
        print(f"{name:26} wall p50 {ms[0]}  CPU p50 {ms[1]}  fastest {ms[2]}")
    click_wall = results['python -c "import click"'][0]
    help_ratio = results["monitor --help"][0] / click_wall
    slowest = max(results["monitor history"][0], results["monitor stats"][0])
    missed = help_ratio > HELP_VS_CLICK or slowest > QUERY_S
    print(
        f"--help / import click: {help_ratio:.2f} [{'ok' if help_ratio <= HELP_VS_CLICK else 'MISSED'} <= 3]"
    )
    verdict = "ok" if slowest <= QUERY_S else "MISSED"
    print(f"slowest read-only query: {slowest * 1000:.0f} ms [{verdict} <= 500 ms]")
    floor = results['python -c "import sqlmodel"'][0]
    print(f"of which above `import sqlmodel` ({floor * 1000:.0f} ms): {(slowest - floor) * 1000:.0f} ms")
    if args.check and missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
