"""Which entries of each list concern the Taliban and Afghanistan: rules read from
seeds/sanctions_selection.yaml (data next to the baseline, not code)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from monitor.classify.baseline import PACKAGED
from monitor.errors import ConfigError

SELECTION_FILE = "sanctions_selection.yaml"  # in monitor.seeds, next to the baseline (package data)
LIST_FORMATS = ("un-consolidated", "ofac-sdn", "uk-sanctions-list", "eu-fsf")


@dataclass(frozen=True, slots=True)
class ListRules:
    """One list's selection rules and how its alerts name things."""

    actor: str  # UN, US, GB, EU
    list_name: str
    regime: str
    entry_link: str  # may hold {key}
    reference_pattern: re.Pattern[str] | None = None
    list_types: frozenset[str] = frozenset()  # UN
    programs: frozenset[str] = frozenset()  # OFAC programs / EU programmes
    names: frozenset[str] = frozenset()  # OFAC exact primary names
    linked_to: tuple[str, ...] = ()  # OFAC "Linked To: X" remarks
    uids: frozenset[str] = frozenset()  # OFAC curated uids
    regimes: frozenset[str] = frozenset()  # UK regime names
    id_prefixes: tuple[str, ...] = ()  # UK UniqueID prefixes

    def is_un_reference(self, reference: str | None) -> bool:
        return bool(reference and self.reference_pattern and self.reference_pattern.match(reference.strip()))

    def link(self, key: str) -> str:
        return self.entry_link.replace("{key}", key)


@dataclass(frozen=True, slots=True)
class Selection:
    lists: Mapping[str, ListRules]

    def rules(self, fmt: str) -> ListRules:
        return self.lists[fmt]


def load_selection(path: Path | Traversable | None = None) -> Selection:
    """Read and check the rules (the packaged file by default); a broken file is a ConfigError naming the
    file and key."""
    if path is None:
        path = files(PACKAGED).joinpath(SELECTION_FILE)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(str(path), "", f"cannot read the list selection: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(str(path), "", "expected a mapping of list formats")
    missing = [fmt for fmt in LIST_FORMATS if fmt not in raw]
    if missing:
        raise ConfigError(str(path), missing[0], "no selection rules for this list format")
    return Selection({fmt: _rules(path, fmt, raw[fmt]) for fmt in LIST_FORMATS})


def _rules(path: Path | Traversable, fmt: str, raw: Any) -> ListRules:
    if not isinstance(raw, dict):
        raise ConfigError(str(path), fmt, "expected a mapping of rules")
    for key in ("actor", "list_name", "regime", "entry_link"):
        if not isinstance(raw.get(key), str):
            raise ConfigError(str(path), f"{fmt}.{key}", "required text is missing")
    pattern = raw.get("reference_pattern")
    try:
        compiled = re.compile(pattern) if pattern else None
    except re.error as error:
        raise ConfigError(
            str(path), f"{fmt}.reference_pattern", f"not a regular expression: {error}"
        ) from None

    def words(key: str) -> frozenset[str]:
        return frozenset(str(v).strip().upper() for v in raw.get(key) or ())

    return ListRules(
        actor=raw["actor"],
        list_name=raw["list_name"],
        regime=raw["regime"],
        entry_link=raw["entry_link"],
        reference_pattern=compiled,
        list_types=words("list_types"),
        programs=words("programs") | words("programmes"),
        names=words("names"),
        linked_to=tuple(sorted(words("linked_to"))),
        uids=frozenset(str(v).strip() for v in raw.get("uids") or ()),
        regimes=words("regimes"),
        id_prefixes=tuple(sorted(words("id_prefixes"))),
    )
