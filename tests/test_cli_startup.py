"""The CLI starts in a blink: help for every command loads click and nothing heavy.

Run in a fresh interpreter, since this test session has long since imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from monitor.db import open_database

HEAVY = ("sqlalchemy", "sqlmodel", "feedparser", "httpx", "httpcore", "pydantic", "yaml", "apscheduler")

# Walk the command tree, ask each command for --help, and report what got imported.
PROBE = """
import json, sys
import click
from click.testing import CliRunner
from monitor.cli import main

def walk(group, path):
    yield path
    if isinstance(group, click.Group):
        for name, command in sorted(group.commands.items()):
            yield from walk(command, [*path, name])

runner = CliRunner()
results = {}
for path in walk(main, []):
    result = runner.invoke(main, [*path, "--help"])
    results[" ".join(path) or "monitor"] = [result.exit_code, result.output.startswith("Usage:")]
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))
print(json.dumps({"results": results, "heavy": heavy}))
"""


def probe() -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *HEAVY], capture_output=True, text=True, timeout=60, check=True
    )
    found: dict[str, object] = json.loads(done.stdout)
    return found


def test_help_of_every_command_imports_nothing_heavy() -> None:
    found = probe()
    results = found["results"]
    assert isinstance(results, dict)
    # The tree as users see it: a new command shows up here and must have working --help too.
    assert {"monitor", "run", "poll", "history", "stats", "feeds", "deliveries", "deliveries retry"} <= set(
        results
    )
    failing = {name: r for name, r in results.items() if r != [0, True]}
    assert failing == {}
    assert found["heavy"] == []


# A read-only query needs the database layer and the config, nothing that fetches, schedules, classifies or
# sends, nor the pipeline's domain objects: each of those costs start-up time that a user waits for (issue
# 13). The history is an existing database at the current schema, as a user's is: opening a new one
# migrates, which a read-only command on a user's history does not.
QUERY_PROBE = """
import json, sys
from click.testing import CliRunner
from monitor.cli import main

results = {}
for args in (["history"], ["history", "--items"], ["stats"], ["feeds"], ["deliveries"]):
    result = CliRunner().invoke(main, ["--config", sys.argv[1], *args])
    results[" ".join(args)] = [result.exit_code, result.output[:200]]
unwanted = sys.argv[2:]
loaded = sorted(m for m in sys.modules if any(m == u or m.startswith(u + ".") for u in unwanted))
postgresql = "sqlalchemy.dialects.postgresql" in sys.modules
print(json.dumps({"results": results, "loaded": loaded, "postgresql": postgresql}))
"""


def test_read_only_queries_import_nothing_that_fetches(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"database: sqlite:///{tmp_path / 'monitor.db'}\nfeeds:\n  - name: wire\n    url: https://a.example/rss\n"
    )
    open_database(f"sqlite:///{tmp_path / 'monitor.db'}").dispose()
    unwanted = (
        *("feedparser", "httpx", "httpcore", "apscheduler"),
        # The monitor's own: the classifier (its tables), the renderers and sender, the pipeline's stages
        # and domain.py's dataclasses. The config needs only the webhook kinds' names (monitor.notify.names).
        *("monitor.classify", "monitor.notify.kinds", "monitor.notify.response", "monitor.outbox"),
        *("monitor.deliver", "monitor.fetch", "monitor.parse", "monitor.pipeline", "monitor.store"),
        *("monitor.daemon", "monitor.domain"),
    )
    done = subprocess.run(
        [sys.executable, "-c", QUERY_PROBE, str(config), *unwanted],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(done.stdout)
    assert {name: r[0] for name, r in found["results"].items()} == {
        "history": 0,
        "history --items": 0,
        "stats": 0,
        "feeds": 0,
        "deliveries": 0,
    }, found["results"]
    assert found["loaded"] == []
    # Nor, on SQLite, SQLAlchemy's PostgreSQL dialect and its drivers' modules (a tenth of the start-up).
    assert found["postgresql"] is False
