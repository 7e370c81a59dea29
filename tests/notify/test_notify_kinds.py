"""The webhook kinds' registry is the one list: every kind in it validates in a config, renders every message,
paces and reads answers; an unknown kind is refused naming the field; the README lists exactly its kinds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from notify_samples import CASES, MSG_ID, SECRET, TIMESTAMP
from support import REPO

from monitor.config import load_config
from monitor.errors import ConfigError, TargetBroken
from monitor.notify import NAMES, REGISTRY, WebhookKind, interpret, min_interval, render

NOW = datetime(2025, 7, 4, 9, 30, tzinfo=UTC)


def config_with_kind(tmp_path: Path, kind: str, secret: str | None = None) -> Path:
    path = tmp_path / "feeds.yaml"
    hook = f"webhooks:\n  - name: chat\n    kind: {kind}\n    url: https://hooks.example/chat\n"
    path.write_text(hook + (f"    secret: {secret}\n" if secret else ""), encoding="utf-8")
    return path


@pytest.mark.parametrize("entry", REGISTRY, ids=NAMES)
def test_every_registered_kind_validates_renders_paces_and_reads_answers(
    entry: WebhookKind, tmp_path: Path
) -> None:
    secret = SECRET if entry.signed else None
    (hook,) = load_config(config_with_kind(tmp_path, entry.name, secret)).webhooks
    assert hook.kind == entry.name
    for name, message in CASES.items():
        rendered = render(hook.kind, message, msg_id=MSG_ID, timestamp=TIMESTAMP, secret=secret)
        assert rendered.body, name
    assert min_interval(hook.kind) == entry.min_interval >= 0
    assert interpret(hook.kind, hook.name, 200, {}, b"", NOW) is None
    for words in entry.broken_errors:
        with pytest.raises(TargetBroken):
            interpret(hook.kind, hook.name, 400, {}, words.encode(), NOW)


def test_an_unknown_kind_is_refused_naming_the_field_and_the_known_kinds(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(config_with_kind(tmp_path, "telegram"))
    message = str(error.value)
    assert "webhooks[0].kind" in message
    assert all(name in message for name in NAMES), message


def test_the_readme_lists_exactly_the_registered_kinds() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    (listed,) = re.findall(
        r"^\| `webhooks\[\]` \| `name` \(unique\), `kind` \(([^)]*)\)", readme, re.MULTILINE
    )
    assert tuple(re.findall(r"`([a-z]+)`", listed)) == NAMES
