"""The UN Security Council Consolidated List (XML): INDIVIDUALS/INDIVIDUAL and ENTITIES/ENTITY.

Key: REFERENCE_NUMBER, trimmed (`KPe.023 ` occurs). Selected: UN_LIST_TYPE in the rules' list types or
a reference matching the rules' pattern (TAi/TAe); QDi entries that mention Afghanistan are not.
"""

from __future__ import annotations

from collections.abc import Set
from xml.etree.ElementTree import Element

from monitor.errors import ParseError
from monitor.lists.entry import Collector, ListEntry, ParsedList, clean, iso_day, values
from monitor.lists.selection import ListRules
from monitor.lists.xmlstream import child_text, children, descendants_text, local, records

WHAT = "UN consolidated list"
_NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")


def read(body: bytes, rules: ListRules, tracked: Set[str]) -> ParsedList:
    found = Collector(tracked)
    generated = None
    for element in records(body, "CONSOLIDATED_LIST", frozenset({"INDIVIDUAL", "ENTITY"}), WHAT):
        if local(element.tag) == "CONSOLIDATED_LIST":
            generated = element.get("dateGenerated")
            continue
        position = found.count()
        key = clean(child_text(element, "REFERENCE_NUMBER"))
        if not key:
            raise ParseError(f"{WHAT}: entry {position} has no REFERENCE_NUMBER")
        selected = _selected(element, key, rules)
        if found.wants(key, selected):
            found.keep(_entry(element, key), selected)
    return found.parsed(f"{rules.list_name} ({generated or 'undated'})", None, generated)


def _selected(element: Element, key: str, rules: ListRules) -> bool:
    list_type = clean(child_text(element, "UN_LIST_TYPE")).upper()
    return list_type in rules.list_types or rules.is_un_reference(key)


def _entry(element: Element, key: str) -> ListEntry:
    individual = local(element.tag) == "INDIVIDUAL"
    name = " ".join(part for part in (clean(child_text(element, p)) for p in _NAME_PARTS) if part)
    aliases = [
        child_text(alias, "ALIAS_NAME")
        for tag in ("INDIVIDUAL_ALIAS", "ENTITY_ALIAS")
        for alias in children(element, tag)
    ]
    documents = [
        f"{clean(child_text(doc, 'TYPE_OF_DOCUMENT'))} {clean(child_text(doc, 'NUMBER'))}"
        for doc in children(element, "INDIVIDUAL_DOCUMENT")
    ]
    fields = {
        "programmes": values([child_text(element, "UN_LIST_TYPE")]),
        "aliases": values(aliases),
        "original_script": values([child_text(element, "NAME_ORIGINAL_SCRIPT")]),
        "dates_of_birth": values(_birth_dates(element)),
        "nationality": values(_values_of(element, "NATIONALITY")),
        "documents": values(documents),
    }
    return ListEntry(
        key=key,
        name=name,
        kind="individual" if individual else "entity",
        listed_on=iso_day(child_text(element, "LISTED_ON")) or None,
        un_ref=key,
        fields=fields,
    )


def _values_of(element: Element, container: str) -> list[str]:
    return [text for node in children(element, container) for text in descendants_text(node, "VALUE")]


def _birth_dates(element: Element) -> list[str]:
    """`1960`, `1967-1969`, `1957-01-01`. The 2024 export moved some years into
    INDIVIDUAL_ALIAS/DATE_OF_BIRTH without their EXACT/APPROXIMATELY qualifier, so dates are read from
    both places and the qualifier is left out: the same facts hash the same in every export."""
    dates = [_birth_date(node) for node in children(element, "INDIVIDUAL_DATE_OF_BIRTH")]
    moved = [child_text(alias, "DATE_OF_BIRTH") for alias in children(element, "INDIVIDUAL_ALIAS")]
    return dates + [iso_day(text) for text in moved]


def _birth_date(element: Element) -> str:
    date = iso_day(child_text(element, "DATE"))
    years = (clean(child_text(element, "FROM_YEAR")), clean(child_text(element, "TO_YEAR")))
    return date or clean(child_text(element, "YEAR")) or "-".join(year for year in years if year)
