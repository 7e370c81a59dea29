"""Every command has help text and appears in the README's command reference (sqlite-utils' test_docs)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from monitor.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found += commands(command, path + " ")
    return found


ALL = commands(main)


@pytest.mark.parametrize(("path", "command"), ALL, ids=[p for p, _ in ALL])
def test_command_has_help(path: str, command: click.Command) -> None:
    assert command.help, f"monitor {path} has no help text"
    result = CliRunner().invoke(main, [*path.split(), "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


@pytest.mark.parametrize("path", [p for p, _ in ALL])
def test_command_is_documented(path: str) -> None:
    assert f"`monitor {path}" in README, f"monitor {path} is missing from README.md's command reference"


def test_every_option_has_help() -> None:
    for path, command in ALL:
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"monitor {path} {param.opts[0]} has no help"


def test_every_feed_key_is_in_the_configuration_reference() -> None:
    from monitor.config import FeedConfig

    row = next(line for line in README.splitlines() if line.startswith("| `feeds[]` |"))
    assert [key for key in FeedConfig.model_fields if f"`{key}`" not in row] == []
