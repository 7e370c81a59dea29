"""The baseline: what is already known, so that restatements of it do not alert."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import cast

import yaml

from monitor import events
from monitor.classify.acts import ACTS, is_one_off
from monitor.classify.gazetteer import NAMES
from monitor.errors import ConfigError
from monitor.events import EventType

TARGETS = ("taliban", "afghanistan")
_FIELDS = ("actor", "relation", "target", "act", "date", "source", "note")
_UNREADABLE = datetime.date.min  # a sentinel: no real baseline fact is dated in year 1
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


@dataclass(frozen=True, slots=True)
class Fact:
    """One known state of affairs: `actor` did `relation` to `target` (as of `date`)."""

    actor: str
    relation: EventType
    target: str = "taliban"
    date: datetime.date | None = None
    source: str = ""
    note: str = ""
    act: str | None = None  # which kind of step (monitor/classify/acts.py); None covers every kind

    @property
    def one_off(self) -> bool:
        return is_one_off(self.act)


@dataclass(frozen=True, slots=True)
class Baseline:
    """An immutable set of facts; grow it with `with_facts`, which returns a new baseline."""

    facts: tuple[Fact, ...] = ()
    _keys: frozenset[tuple[str, str]] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_keys", frozenset((fact.actor, fact.relation) for fact in self.facts))

    def knows(self, actor: str, relation: EventType, act: str | None = None) -> bool:
        """Is there a fact of this actor and relation (covering `act`, when one is given)?"""
        if act is None:
            return (actor, relation) in self._keys
        return any(
            fact.actor == actor and fact.relation == relation and fact.act in (None, act)
            for fact in self.facts
        )

    def one_off(self, actor: str, relation: EventType, act: str | None) -> Fact | None:
        """The one-off fact this act repeats: any report of it is old news, whatever its tense."""
        for fact in self.facts:
            if fact.actor == actor and fact.relation == relation and fact.one_off and fact.act == act:
                return fact
        return None

    def with_facts(self, facts: Iterable[Fact]) -> Baseline:
        return Baseline((*self.facts, *facts))


PACKAGED = "monitor.seeds"  # the top-level seeds/ folder, shipped inside the package


def packaged_baseline() -> Traversable:
    """The baseline that ships with the package: the default when the config names none."""
    return files(PACKAGED).joinpath("baseline.yaml")


def load_baseline(path: Path | Traversable | None) -> Baseline:
    """Read a baseline YAML file (a list of facts, or a mapping with `facts:`); None: the packaged one."""
    if path is None:
        path = packaged_baseline()
    try:
        text = path.read_text(encoding="utf-8")
        document = yaml.safe_load(text)
        root = yaml.compose(text)
    except OSError as error:
        raise ConfigError(str(path), "", f"cannot read: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(
            str(path), "", f"not valid YAML: {getattr(error, 'problem', error)}", line
        ) from None
    if isinstance(document, Mapping) and "facts" in document:
        document = document["facts"]
        root = _child(root, "facts")
    if not isinstance(document, list):
        raise ConfigError(str(path), "facts", "expected a list of facts")
    lines = [node.start_mark.line + 1 for node in getattr(root, "value", [])]
    facts = [
        _fact(path, index, entry, lines[index] if index < len(lines) else None)
        for index, entry in enumerate(document)
    ]
    return Baseline(tuple(facts))


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key:
                return value_node  # type: ignore[no-any-return]
    return None


def _fact(path: Path | Traversable, index: int, entry: object, line: int | None) -> Fact:
    def fail(key: str, reason: str) -> ConfigError:
        return ConfigError(str(path), f"facts[{index}].{key}" if key else f"facts[{index}]", reason, line)

    if not isinstance(entry, Mapping):
        raise fail("", "expected a mapping with actor, relation, target")
    unknown = sorted(str(key) for key in entry if key not in _FIELDS)
    if unknown:
        raise fail(unknown[0], f"unknown field (expected one of {', '.join(_FIELDS)})")
    actor = str(entry.get("actor", "")).strip().upper()
    if actor not in NAMES or actor == "AF":
        raise fail("actor", f"unknown actor code {entry.get('actor')!r} (use ISO alpha-2, UN or EU)")
    relation = cast(EventType, entry.get("relation"))
    if relation not in events.NAMES:
        raise fail("relation", f"must be one of {', '.join(events.NAMES)}, not {relation!r}")
    target = entry.get("target", "taliban")
    if target not in TARGETS:
        raise fail("target", f"must be one of {', '.join(TARGETS)}, not {target!r}")
    date = _date(entry.get("date"))
    if date is _UNREADABLE:
        raise fail("date", f"expected YYYY-MM-DD, YYYY-MM or YYYY, not {entry.get('date')!r}")
    act = entry.get("act")
    if act is not None and (act not in ACTS or ACTS[act].event_type != relation):
        kinds = ", ".join(name for name, known in ACTS.items() if known.event_type == relation)
        raise fail("act", f"for {relation} must be one of {kinds}, not {act!r}")
    source, note = str(entry.get("source") or ""), str(entry.get("note") or "")
    return Fact(actor, relation, target, date, source, note, act)


def _date(value: object) -> datetime.date | None:
    """A date; None when absent; _UNREADABLE when unreadable. Partial dates mean their first day."""
    if value is None:
        return None
    if isinstance(value, datetime.date):
        return value
    match = _PARTIAL_DATE.match(str(value).strip())
    if not match:
        return _UNREADABLE
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return _UNREADABLE
