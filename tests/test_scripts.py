"""scripts/run installs only when pyproject.toml changed since the last install, so a start needs no
package index and no pip run; scripts/test shares the same set-up."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

from support import REPO

FAKE_PYTHON = """#!/usr/bin/env bash
bin="$(dirname "$0")"
echo "python $*" >> "$bin/../calls"
if [[ "$1 $2 $3" == "-m pip install" ]]; then
  printf '#!/usr/bin/env bash\\necho "monitor $*" >> "$(dirname "$0")/../calls"\\n' > "$bin/monitor"
  chmod +x "$bin/monitor"
fi
"""


def checkout(tmp: Path) -> Path:
    """The scripts and pyproject.toml, with a .venv whose python and pip only record their calls."""
    (tmp / "scripts").mkdir()
    for name in ("run", "test", "venv.sh"):
        shutil.copy(REPO / "scripts" / name, tmp / "scripts" / name)
    shutil.copy(REPO / "pyproject.toml", tmp / "pyproject.toml")
    (tmp / ".venv" / "bin").mkdir(parents=True)
    python = tmp / ".venv" / "bin" / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return tmp


def start(tmp: Path) -> list[str]:
    """Run scripts/run; the calls it made."""
    calls = tmp / ".venv" / "calls"
    calls.unlink(missing_ok=True)
    subprocess.run(["bash", "scripts/run", "--stop-timeout", "5"], cwd=tmp, check=True, timeout=60)
    return calls.read_text().splitlines()


def test_run_installs_once_then_starts_without_pip_until_pyproject_changes(tmp_path: Path) -> None:
    tmp = checkout(tmp_path)
    first = start(tmp)
    assert first == ["python -m pip install --quiet -e .", "monitor --config feeds.yaml run --stop-timeout 5"]
    assert start(tmp) == ["monitor --config feeds.yaml run --stop-timeout 5"]  # no pip: no index needed
    (tmp / "pyproject.toml").write_text((tmp / "pyproject.toml").read_text() + "\n# changed\n")
    assert start(tmp)[0] == "python -m pip install --quiet -e ."
    assert len(start(tmp)) == 1


def test_a_dev_install_serves_the_daemon_too(tmp_path: Path) -> None:
    tmp = checkout(tmp_path)
    subprocess.run(
        ["bash", "-c", "source scripts/venv.sh && ensure_venv dev"], cwd=tmp, check=True, timeout=60
    )
    assert (tmp / ".venv" / "calls").read_text().splitlines() == ["python -m pip install --quiet -e .[dev]"]
    assert start(tmp) == ["monitor --config feeds.yaml run --stop-timeout 5"]


def test_dev_tools_are_pinned_so_a_fresh_clone_checks_the_same() -> None:
    dev = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    pins = {req.split("==")[0] for req in dev if "==" in req}
    assert {"ruff", "mypy", "types-PyYAML"} <= pins
