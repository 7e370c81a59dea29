"""The docs are true: every example command in README.md, deploy/README.md and docs/ is run here (or its
block is marked as needing systemd or Docker, and the `monitor` commands inside it still run here, on a
config and database of our own), every `monitor` synopsis names real options, the documented output
columns are the real ones, and so are the documented metrics and backoff formula."""

from __future__ import annotations

import csv
import io
import json
import random
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner
from history_cases.wire import FOOTBALL, KZ, poll, rss, write_config
from httpserver import LoopbackServer, Reply
from prometheus_client.parser import text_string_to_metric_families
from support import REPO
from tables import parse_table

from monitor.cli import main
from monitor.config import FeedConfig, load_config
from monitor.metrics import Metrics
from monitor.pipeline import next_poll

DOCS = [REPO / "README.md", REPO / "deploy" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"(?:<!-- docs-test: (?P<mark>[^\n]*?) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)
INLINE = re.compile(r"`([^`\n]*\bmonitor [^`\n]*)`")
GLOBAL_OPTIONS = {"--config", "--log-format", "--log-level", "--help", "-h", "--version"}
# Example lines that are not `monitor` commands, and the test that runs them.
COVERED = {
    "./scripts/run": "tests/test_scripts.py runs it (install once, then start without pip)",
    "./scripts/test": "this suite is what it runs",
}
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]*$")


@dataclass(frozen=True)
class Example:
    where: str  # file:line
    line: str
    fenced: bool
    marked: str | None  # "needs systemd" / "needs Docker"

    def __str__(self) -> str:
        return f"{self.where}: {self.line}"


def _logical_lines(body: str) -> Iterator[tuple[int, str]]:
    pending, start = "", 0
    for offset, raw in enumerate(body.splitlines()):
        if not pending:
            start = offset
        pending += raw.rstrip("\\").rstrip() + " " if raw.endswith("\\") else raw
        if not raw.endswith("\\"):
            if pending.strip() and not pending.strip().startswith("#"):
                yield start, pending.strip()
            pending = ""


def examples() -> list[Example]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        name = doc.relative_to(REPO)
        for fence in FENCE.finditer(text):
            if fence["lang"] not in ("sh", "bash", "shell", "console"):
                continue
            first = text.count("\n", 0, fence.start("body")) + 1
            for offset, line in _logical_lines(fence["body"]):
                found.append(Example(f"{name}:{first + offset}", line, True, fence["mark"]))
        prose = FENCE.sub(lambda m: "\n" * m[0].count("\n"), text)
        for span in INLINE.finditer(prose):
            line = text.count("\n", 0, span.start()) + 1
            found.append(Example(f"{name}:{line}", span[1].replace("\\|", "|"), False, None))
    return found


def monitor_args(line: str) -> list[str] | None:
    """The arguments after the `monitor` executable in a shell line (`sudo -u monitor ... monitor ...`,
    `docker exec c monitor ...`), or None when the line runs no monitor command."""
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError:
        tokens = line.split()
    for index, token in enumerate(tokens[:-1]):
        if (token == "monitor" or token.endswith("/monitor")) and (
            tokens[index + 1] in main.commands or tokens[index + 1] in GLOBAL_OPTIONS
        ):
            return tokens[index + 1 :]
    return None


ALL = examples()
MONITOR = [(e, args) for e in ALL if (args := monitor_args(e.line)) is not None]


def test_the_docs_have_examples() -> None:
    assert len([e for e in ALL if e.fenced]) >= 20 and len(MONITOR) >= 15


@pytest.mark.parametrize("example", [e for e in ALL if e.fenced], ids=str)
def test_every_example_line_is_run_or_marked(example: Example) -> None:
    line = example.line
    if monitor_args(line) is not None or line in COVERED or line.startswith("export "):
        return
    assert example.marked and re.match(r"needs (systemd|Docker)", example.marked), (
        f"{example}: run it in tests/test_docs_examples.py or mark its block "
        "<!-- docs-test: needs systemd --> / <!-- docs-test: needs Docker -->"
    )


def command_of(args: list[str]) -> tuple[click.Command, list[str], list[str]]:
    """(the command, its path, the options the synopsis names) for `args` after `monitor`."""
    command: click.Command = main
    path: list[str] = []
    rest = list(args)
    while rest and rest[0].startswith("-") and rest[0].split("=")[0] in GLOBAL_OPTIONS:
        rest = rest[2:] if rest[0] in ("--config", "--log-format", "--log-level") else rest[1:]
    while rest and isinstance(command, click.Group) and rest[0] in command.commands:
        command = command.commands[rest[0]]
        path.append(rest.pop(0))
    options = [token.split("=")[0].strip("[]") for token in args if token.lstrip("[").startswith("--")]
    return command, path, options


def is_synopsis(args: list[str]) -> bool:
    """A reference line (`monitor history [--type T] ...`), not a command to run."""
    return any("[" in a or "|" in a or (PLACEHOLDER.match(a) and a not in ("UN", "EU")) for a in args)


@pytest.mark.parametrize(("example", "args"), MONITOR, ids=[str(e) for e, _ in MONITOR])
def test_every_monitor_command_in_the_docs_names_real_options(example: Example, args: list[str]) -> None:
    command, path, options = command_of(args)
    assert path, f"{example}: no such monitor command"
    known = set(GLOBAL_OPTIONS) | {opt for p in command.params for opt in p.opts}
    unknown = [o for o in options if o not in known]
    assert not unknown, f"{example}: monitor {' '.join(path)} has no option {unknown}"


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A config and database with events, items and pending deliveries (the webhook answers 500)."""
    tmp = tmp_path_factory.mktemp("docs")
    with LoopbackServer() as server:
        server.route("/feed", Reply(200, body=rss("wire", KZ, FOOTBALL)))
        server.route("/hook", Reply(500))
        hooks = f"webhooks:\n  - name: team\n    kind: generic\n    url: {server.url('/hook')}\n"
        config = write_config(tmp, f"sqlite:///{tmp / 'm.db'}", {"wire": server.url("/feed")}, hooks)
        assert poll(config, "--drain-timeout", "0")[0] == 0
        yield config


def _runnable(example: Example, args: list[str]) -> bool:
    _, path, _ = command_of(args)
    if is_synopsis(args) or path[:1] == ["run"]:  # `run` never returns: the daemon tests run it
        return False
    return example.fenced or len(args) > len(path)  # a bare `monitor feeds` in prose is a mention


RUNNABLE = [(e, args) for e, args in MONITOR if _runnable(e, args)]


@pytest.mark.parametrize(("example", "args"), RUNNABLE, ids=[str(e) for e, _ in RUNNABLE])
def test_every_runnable_monitor_example_runs(
    request: pytest.FixtureRequest, populated: Path, example: Example, args: list[str]
) -> None:
    """Each documented command, with its --config (if any) pointed at our own config and database."""
    _, path, _ = command_of(args)
    if path == ["demo"]:  # needs no config; run once per session (tests/test_demo.py checks its output)
        assert "verdict:" in request.getfixturevalue("demo_output")
        return
    rest = args[args.index(path[0]) :]
    result = CliRunner(env={"MONITOR_DATABASE_URL": None}).invoke(
        main, ["--config", str(populated), *rest], input=""
    )
    assert result.exit_code == 0, f"{example}\n{result.output}"


def documented_columns() -> list[tuple[str, list[str], list[str]]]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Output columns", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `monitor ([^`]+)` \| (.*?) \| (.*?) \|$", section, flags=re.M)
    return [
        (listing, re.findall(r"`(\w+)`", data), re.findall(r"`(\w+)`", table))
        for listing, data, table in rows
    ]


COLUMNS = documented_columns()


def test_the_readme_documents_every_listing() -> None:
    assert [listing for listing, _, _ in COLUMNS] == ["history", "history --items", "feeds", "deliveries"]


@pytest.mark.parametrize(("listing", "data", "table"), COLUMNS, ids=[c[0] for c in COLUMNS])
def test_documented_columns_are_the_real_ones(
    populated: Path, listing: str, data: list[str], table: list[str]
) -> None:
    def run(*extra: str) -> str:
        env = {"COLUMNS": "400", "MONITOR_DATABASE_URL": None}
        result = CliRunner(env=env).invoke(main, ["--config", str(populated), *listing.split(), *extra])
        assert result.exit_code == 0, result.output
        return result.stdout

    rows = json.loads(run("--format", "json"))
    assert rows and all(list(row) == data for row in rows)
    assert next(csv.reader(io.StringIO(run("--format", "csv")))) == data
    assert list(parse_table(run())[0]) == table


def test_documented_metrics_are_the_ones_served() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(monitor_\w+)` \|", section, flags=re.M))
    metrics = Metrics()
    metrics.watch_state(lambda now: (0, 0.0, 0))
    metrics.polled("f", "new", 1, ["recognition"])
    metrics.delivered("w", "sent")
    metrics.claimed("r", 1)
    served = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in text_string_to_metric_families(metrics.render().decode())
        if not family.name.endswith("_created")  # the client's own creation-time series
    }
    assert documented == served


def test_the_documented_failure_backoff_is_the_code() -> None:
    decisions = (REPO / "docs" / "decisions.md").read_text(encoding="utf-8")
    assert "`min(backoff_cap, interval * 2^(errors-1))` plus 0-20% jitter" in decisions
    config = load_config(REPO / "feeds.yaml", environ={})
    feed = FeedConfig(name="f", url="https://x.example/", interval=60)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for errors in range(1, 12):
        ctx = SimpleNamespace(config=config, rng=random.Random(errors))
        waited = (next_poll(ctx, feed, now, errors) - now).total_seconds()  # type: ignore[arg-type]
        documented = min(config.defaults.backoff_cap, 60 * 2 ** (errors - 1))
        assert documented <= waited <= documented * 1.2


def documented_table_columns() -> list[tuple[str, list[str]]]:
    schema = (REPO / "docs" / "schema.md").read_text(encoding="utf-8")
    found = []
    for table, columns in re.findall(r"^\| `(\w+)` \| .*? \| (.*) \|$", schema, flags=re.M):
        plain = re.sub(r"\([^)]*\)", "", columns.replace("\\|", "|"))  # values and notes in parentheses
        plain = re.sub(r"-> \w+", "", plain)  # foreign-key targets
        found.append((table, re.findall(r"`(\w+)`", plain)))
    return found


@pytest.mark.parametrize(("table", "columns"), documented_table_columns(), ids=lambda v: str(v)[:20])
def test_documented_database_columns_exist(tmp_path: Path, table: str, columns: list[str]) -> None:
    import sqlalchemy as sa

    from monitor.db import open_database

    engine = open_database(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        real = {column["name"] for column in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()
    if table.endswith("_fts"):  # FTS5 tables: rowid is implicit
        real |= {"rowid"}
    assert set(columns) <= real, f"docs/schema.md names columns {table} lacks: {set(columns) - real}"
