"""Validate a parsed list against the last good one, diff it per entry, and decide what alerts.

Pure functions: the ledger supplies the previous state and stores the result.

- Validation: a well-formed document with no entries, a declared record count that differs from the
  entries read, or far fewer entries than the last good fetch is a feed error, never a mass delisting.
- Diff: keyed on the trimmed reference number; only substantive fields count. A field that is empty in
  the new version keeps its old value (exports drop fields and bring them back); a field that changes
  value is an amendment.
- Alerts: an entry added imposes sanctions, an entry removed eases them; an amendment alerts only when
  it adds or removes a programme or measure.
- Breaker: more alerting changes than max(breaker_min, breaker_share x entries) in one fetch are held:
  stored, shown in history, and summed up in one notice for a person to check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from monitor.config import ListSettings
from monitor.errors import ParseError
from monitor.events import EventType
from monitor.lists.entry import ALERTING_FIELDS, ListEntry, ParsedList, substance_hash

Substance = dict[str, list[str]]
ChangeKind = Literal["added", "removed", "amended"]


@dataclass(frozen=True, slots=True)
class Previous:
    """What the ledger holds for a list: the last good fetch's size and the tracked entries."""

    total: int
    entries: Mapping[str, Substance]


@dataclass(frozen=True, slots=True)
class Change:
    key: str
    kind: ChangeKind
    before: Substance | None
    after: Substance | None
    changed: tuple[str, ...]  # amended fields
    event_type: EventType | None  # what it alerts as; None for an amendment that does not alert

    @property
    def current(self) -> Substance:
        return self.after or self.before or {}

    @property
    def un_ref(self) -> str | None:
        refs = self.current.get("un_ref") or []
        return refs[0] if refs else None


@dataclass(frozen=True, slots=True)
class ListDiff:
    baseline: bool  # the first fetch: entries recorded, nothing alerts
    changes: list[Change] = field(default_factory=list)
    upserts: dict[str, Substance] = field(default_factory=dict)  # tracked entries to write
    untracked: list[str] = field(default_factory=list)  # keys no longer tracked
    held: bool = False  # the breaker tripped: nothing alerts, one notice
    limit: float = 0.0  # the breaker's threshold this time

    @property
    def alerting(self) -> list[Change]:
        return [change for change in self.changes if change.event_type is not None]


def validate(parsed: ParsedList, previous_total: int | None, settings: ListSettings) -> None:
    if parsed.total == 0:
        raise ParseError(f"{parsed.title}: the document holds no entries (an error page or a cut export?)")
    if parsed.declared is not None and parsed.declared != parsed.total:
        raise ParseError(
            f"{parsed.title}: the document declares {parsed.declared} records but holds {parsed.total}"
        )
    if previous_total and parsed.total < previous_total * settings.min_kept:
        raise ParseError(
            f"{parsed.title}: {parsed.total} entries, far fewer than the {previous_total} of the last good "
            "fetch (a cut or broken export?)"
        )


def compare(previous: Previous | None, parsed: ParsedList, settings: ListSettings) -> ListDiff:
    """Raises ParseError when `parsed` fails validation."""
    validate(parsed, previous.total if previous else None, settings)
    if previous is None:
        return ListDiff(True, upserts={key: e.substance() for key, e in parsed.entries.items()})
    changes: list[Change] = []
    upserts: dict[str, Substance] = {}
    for key, entry in parsed.entries.items():
        before = previous.entries.get(key)
        if before is None:
            upserts[key] = after = entry.substance()
            changes.append(Change(key, "added", None, after, (), "sanctions_imposed"))
            continue
        change, merged = _amendment(key, before, entry)
        if change is not None:
            changes.append(change)
            upserts[key] = merged
    untracked = [key for key in previous.entries if key not in parsed.entries]
    for key in untracked:
        left = parsed.left.get(key)
        if left is not None:  # still listed, no longer selected: say what changed
            change, _ = _amendment(key, previous.entries[key], left)
            changes.extend([change] if change else [])
        else:
            changes.append(Change(key, "removed", previous.entries[key], None, (), "sanctions_eased"))
    size = max(len(previous.entries), len(parsed.entries))
    return _breaker(ListDiff(False, changes, upserts, untracked), size, settings)


def _amendment(key: str, before: Substance, entry: ListEntry) -> tuple[Change | None, Substance]:
    new = entry.substance()
    merged = {name: new.get(name) or before[name] for name in sorted(set(before) | set(new))}
    if substance_hash(merged) == substance_hash(before):
        return None, before
    changed = tuple(name for name in merged if merged[name] != before.get(name))
    return Change(key, "amended", before, merged, changed, _alert_type(before, merged)), merged


def _alert_type(before: Substance, after: Substance) -> EventType | None:
    """Programmes or measures gained impose sanctions; lost ones ease them; other fields do not alert."""
    gained = any(set(after.get(name, [])) - set(before.get(name, [])) for name in ALERTING_FIELDS)
    lost = any(set(before.get(name, [])) - set(after.get(name, [])) for name in ALERTING_FIELDS)
    if gained:
        return "sanctions_imposed"
    return "sanctions_eased" if lost else None


def _breaker(found: ListDiff, size: int, settings: ListSettings) -> ListDiff:
    limit = max(float(settings.breaker_min), settings.breaker_share * size)
    held = len(found.alerting) > limit
    return ListDiff(False, found.changes, found.upserts, found.untracked, held, limit)
