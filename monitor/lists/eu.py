"""The EU Financial Sanctions Files consolidated list (XML v1.1): export/sanctionEntity.

Key: euReferenceNumber, else logicalId. Selected: a regulation programme among the rules' (AFG), or a UN
Taliban reference (unitedNationId TAi/TAe) under any programme, since a new UN 1988 listing first
appears as UNLI.
"""

from __future__ import annotations

from collections.abc import Set
from xml.etree.ElementTree import Element

from monitor.errors import ParseError
from monitor.lists.entry import Collector, ListEntry, ParsedList, clean, iso_day, values
from monitor.lists.selection import ListRules
from monitor.lists.xmlstream import children, local, records

WHAT = "EU financial sanctions file"


def read(body: bytes, rules: ListRules, tracked: Set[str]) -> ParsedList:
    found = Collector(tracked)
    generated = None
    for element in records(body, "export", frozenset({"sanctionEntity"}), WHAT):
        if local(element.tag) == "export":
            generated = element.get("generationDate") or element.get("globalFileId")
            continue
        position = found.count()
        key = clean(element.get("euReferenceNumber")) or clean(element.get("logicalId"))
        if not key:
            raise ParseError(f"{WHAT}: sanctionEntity {position} has neither euReferenceNumber nor logicalId")
        entry = _entry(element, key)
        programmes = rules.programs.intersection(entry.fields["programmes"])
        found.keep(entry, bool(programmes) or rules.is_un_reference(entry.un_ref))
    return found.parsed(f"{rules.list_name} ({generated or 'undated'})", None, generated)


def _entry(element: Element, key: str) -> ListEntry:
    aliases = [clean(alias.get("wholeName")) for alias in children(element, "nameAlias")]
    subject = next(iter(children(element, "subjectType")), None)
    fields = {
        "programmes": values(r.get("programme", "").upper() for r in children(element, "regulation")),
        "aliases": values(aliases[1:]),
        "dates_of_birth": values(b.get("birthdate") or b.get("year") for b in children(element, "birthdate")),
        "nationality": values(c.get("countryIso2Code") for c in children(element, "citizenship")),
    }
    return ListEntry(
        key=key,
        name=aliases[0] if aliases else "",
        kind=(subject.get("code", "") if subject is not None else "") or "entity",
        listed_on=iso_day(element.get("designationDate")) or None,
        un_ref=clean(element.get("unitedNationId")) or None,
        fields=fields,
    )
