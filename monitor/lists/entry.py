"""One entry of a sanctions list, reduced to normalised substantive fields, and a parsed list document.

Only fields that say who is listed and under what are kept (names, aliases, dates of birth, nationality,
identity documents, listing date, programmes/regimes, measures); narrative comments, sort keys, links
and generation dates are left out, so cosmetic re-exports hash the same.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field

from monitor.errors import ParseError

Fields = Mapping[str, tuple[str, ...]]
# Changes to these fields change what the entry is sanctioned under: they alert.
ALERTING_FIELDS = ("programmes", "measures")
_SPACE = re.compile(r"\s+")
KEY_LIMIT = 100  # list_entries.key and .un_ref: reference numbers are short (TAi.144, EU.27.28, 10743)


def clean(value: str | None) -> str:
    """NFC, whitespace folded; text damaged in export (U+FFFD) counts as absent."""
    if not value:
        return ""
    text = _SPACE.sub(" ", unicodedata.normalize("NFC", value)).strip()
    return "" if "\ufffd" in text else text


def values(items: Iterable[str | None]) -> tuple[str, ...]:
    """A multi-valued field: cleaned, blanks dropped, de-duplicated, sorted (order is never substance)."""
    return tuple(sorted({text for text in (clean(item) for item in items) if text}))


def iso_day(value: str | None) -> str:
    """`2015-03-27-04:00` and `2015-03-27T00:00:00` -> `2015-03-27`; dd/mm/yyyy -> yyyy-mm-dd."""
    text = clean(value)
    if match := re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text):
        return f"{match[3]}-{match[2]}-{match[1]}"
    return text[:10] if re.match(r"\d{4}-\d{2}-\d{2}", text) else text


@dataclass(frozen=True, slots=True)
class ListEntry:
    """A selected entry: its key (the trimmed reference number) and its substantive fields."""

    key: str
    name: str
    kind: str  # individual | entity | vessel | ...
    listed_on: str | None
    un_ref: str | None  # the UN reference (TAi.NNN) this entry implements, if any
    fields: Fields = field(default_factory=dict)

    def substance(self) -> dict[str, list[str]]:
        """Every substantive field, non-empty only: what is hashed, stored and compared."""
        core = {
            "name": (self.name,),
            "kind": (self.kind,),
            "listed_on": (self.listed_on or "",),
            "un_ref": (self.un_ref or "",),
        }
        merged = {**self.fields, **core}
        return {name: list(vals) for name, vals in sorted(merged.items()) if any(vals)}


def substance_hash(substance: Mapping[str, list[str]]) -> str:
    text = json.dumps(substance, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ParsedList:
    """A list document as read: the selected entries (and tracked ones that left the selection)."""

    title: str
    entries: dict[str, ListEntry]  # selected, by key
    left: dict[str, ListEntry]  # tracked before, still listed, no longer selected
    total: int  # entries in the whole document
    declared: int | None = None  # the document's own record count, where it has one
    generated: str | None = None  # the publisher's generation stamp (never hashed)
    problem: str | None = None  # pipeline.poll_feed stores this like a feed's bozo warning


class Collector:
    """Sorts a list's entries as they stream past (selected, tracked but no longer selected, or not
    wanted) and counts them: the part every reader shares."""

    def __init__(self, tracked: Set[str]) -> None:
        self.tracked = tracked
        self.entries: dict[str, ListEntry] = {}
        self.left: dict[str, ListEntry] = {}
        self.total = 0

    def count(self) -> int:
        """Count one more entry of the document; its position, for error messages."""
        self.total += 1
        return self.total

    def wants(self, key: str, selected: bool) -> bool:
        return selected or key in self.tracked

    def keep(self, entry: ListEntry, selected: bool) -> None:
        if not self.wants(entry.key, selected):
            return
        if len(entry.key) > KEY_LIMIT:
            raise ParseError(f"entry {self.total}: a reference number of {len(entry.key)} characters")
        if entry.un_ref is not None and len(entry.un_ref) > KEY_LIMIT:
            entry = dataclasses.replace(entry, un_ref=None)  # not a UN reference: nothing to tie it to
        (self.entries if selected else self.left)[entry.key] = entry

    def parsed(self, title: str, declared: int | None = None, generated: str | None = None) -> ParsedList:
        return ParsedList(title, self.entries, self.left, self.total, declared, generated)
