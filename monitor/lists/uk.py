"""The UK Sanctions List (FCDO, XML): Designations/Designation.

Key: UniqueID (AFG0006). Selected: RegimeName among the rules' regimes, a UniqueID prefix (AFG), or a UN
reference (UNReferenceNumber TAi/TAe). The UN reference is kept so a UK copy of a UN listing joins it.
"""

from __future__ import annotations

from collections.abc import Set
from xml.etree.ElementTree import Element

from monitor.errors import ParseError
from monitor.lists.entry import Collector, ListEntry, ParsedList, clean, iso_day, values
from monitor.lists.selection import ListRules
from monitor.lists.xmlstream import child_text, children, descendants_text, local, records

WHAT = "UK sanctions list"


def read(body: bytes, rules: ListRules, tracked: Set[str]) -> ParsedList:
    found = Collector(tracked)
    generated = None
    for element in records(body, "Designations", frozenset({"Designation", "DateGenerated"}), WHAT):
        tag = local(element.tag)
        if tag == "DateGenerated":
            generated = clean(element.text) or None
            continue
        if tag != "Designation":
            continue
        position = found.count()
        key = clean(child_text(element, "UniqueID"))
        if not key:
            raise ParseError(f"{WHAT}: Designation {position} has no UniqueID")
        selected = _selected(element, key, rules)
        if found.wants(key, selected):
            found.keep(_entry(element, key), selected)
    return found.parsed(f"{rules.list_name} ({generated or 'undated'})", None, generated)


def _selected(element: Element, key: str, rules: ListRules) -> bool:
    regime = clean(child_text(element, "RegimeName")).upper()
    un_ref = clean(child_text(element, "UNReferenceNumber"))
    return (
        regime in rules.regimes or key.upper().startswith(rules.id_prefixes) or rules.is_un_reference(un_ref)
    )


def _entry(element: Element, key: str) -> ListEntry:
    names = [
        (clean(child_text(n, "NameType")).lower(), _full_name(n)) for n in _all(element, "Names", "Name")
    ]
    primary = next((name for kind, name in names if kind == "primary name"), names[0][1] if names else "")
    indicators = [
        local(flag.tag)
        for node in children(element, "SanctionsImposedIndicators")
        for flag in node
        if clean(flag.text).lower() == "true"
    ]
    fields = {
        "programmes": values([child_text(element, "RegimeName")]),
        "measures": values(indicators or child_text(element, "SanctionsImposed").split("|")),
        "aliases": values(name for _, name in names if name != primary),
        "original_script": values(descendants_text(element, "NameNonLatinScript")),
        "dates_of_birth": values(iso_day(d) for d in descendants_text(element, "DOB")),
        "nationality": values(descendants_text(element, "Nationality")),
    }
    un_ref = clean(child_text(element, "UNReferenceNumber")) or None
    return ListEntry(
        key=key,
        name=primary,
        kind=clean(child_text(element, "IndividualEntityShip")).lower() or "entity",
        listed_on=iso_day(child_text(element, "DateDesignated")) or None,
        un_ref=un_ref,
        fields=fields,
    )


def _all(element: Element, container: str, name: str) -> list[Element]:
    return [item for node in children(element, container) for item in children(node, name)]


def _full_name(name: Element) -> str:
    return " ".join(part for part in (clean(child_text(name, f"Name{i}")) for i in range(1, 7)) if part)
