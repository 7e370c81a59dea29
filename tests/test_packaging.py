"""A wheel installed outside the repository works on its own: the baseline (and the demo's wire) are
package data, and every package under monitor/ is in the wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from setuptools import find_packages
from support import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_under_monitor_is_listed_for_the_wheel() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = set(find_packages(str(REPO), include=["monitor", "monitor.*"]))
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages in pyproject.toml"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, installed into a fresh virtualenv outside the repository; its bin folder.

    Built and installed offline: the test environment's setuptools builds it, and the fresh venv sees
    this environment's dependencies (not the editable checkout) through a .pth line."""
    tmp = tmp_path_factory.mktemp("wheel")
    # Built from a copy of the sources: an in-tree build would leave build/ (and stale files) in the checkout.
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for name in ("monitor", "seeds"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        source,
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        tmp,
        cwd=tmp,
    )
    wheel = next(tmp.glob("taliban_monitor-*.whl"))
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    python = venv / "bin" / "python"
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "-q",
        "--no-deps",
        "--no-index",
        wheel,
        cwd=tmp,
    )
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp).strip())
    ours = Path(
        run(sys.executable, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp).strip()
    )
    (site / "zz_test_dependencies.pth").write_text(f"{ours}\n", encoding="utf-8")
    where = run(python, "-c", "import monitor; print(monitor.__file__)", cwd=tmp)
    assert where.startswith(str(venv)), where  # the wheel's code, not the checkout
    with zipfile.ZipFile(wheel) as archive:
        assert "monitor/seeds/baseline.yaml" in archive.namelist()
        assert "monitor/seeds/sanctions_selection.yaml" in archive.namelist()
    return venv / "bin"


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}


def test_the_installed_wheel_classifies_and_explains_without_a_config(
    installed: Path, tmp_path: Path
) -> None:
    out = run(
        installed / "monitor",
        "classify",
        "--text",
        "Kazakhstan recognises the Taliban government",
        cwd=tmp_path,
        env=clean_env(),
    )
    assert '"alert": true' in out and '"actor": "KZ"' in out
    out = run(
        installed / "monitor",
        "explain",
        "Russia recognises the Taliban government",
        cwd=tmp_path,
        env=clean_env(),
    )
    assert "no alert (restatement)" in out  # the packaged baseline is there


def test_the_installed_wheel_runs_the_demo_offline(installed: Path, tmp_path: Path) -> None:
    out = run(installed / "monitor", "demo", cwd=tmp_path, env=clean_env())
    assert "■ Recognition: Kazakhstan (KZ)" in out and "verdict:    no alert (restatement)" in out


def test_the_installed_wheel_accepts_a_config_with_only_feeds(installed: Path, tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds:\n  - name: wire\n    url: https://news.example/rss\n", encoding="utf-8")
    out = run(installed / "monitor", "--config", config, "check-config", cwd=tmp_path, env=clean_env())
    assert "baseline facts: " in out and "database state: not created yet" in out
    assert not (tmp_path / "storage").exists()


def test_the_installed_wheel_reads_a_sanctions_list_with_its_packaged_selection(
    installed: Path, tmp_path: Path
) -> None:
    un_list = REPO.parent / "shared/corpora/sanctions-lists/un/un-consolidated_2026-02-27_taliban-excerpt.xml"
    script = (
        "import sys; from monitor.lists import load_selection, read_list; "
        "body = open(sys.argv[1], 'rb').read(); "
        "print(sorted(read_list('un-consolidated', body, load_selection()).entries))"
    )
    out = run(installed / "python", "-c", script, un_list, cwd=tmp_path, env=clean_env())
    assert "TAi.144" in out and "QDi.058" not in out
