"""The OFAC SDN list, as SDN.XML (sdnList/sdnEntry, namespace varies by era) or SDN.CSV.

Key: uid (CSV: ent_num). Selected (rules from the seeds file): a program among SDGT/FTO AND one of an
exact primary name (TALIBAN, HAQQANI NETWORK), a "Linked To: TALIBAN" style remark, or a curated uid.
A plain "TALIBAN" substring would catch Tehrik-e Taliban Pakistan (12206) and an alias "KURDISH
TALIBAN" (7472); remarks alone miss Sirajuddin Haqqani (10743).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Set
from xml.etree.ElementTree import Element

from monitor.errors import ParseError
from monitor.lists.entry import Collector, ListEntry, ParsedList, clean, values
from monitor.lists.selection import ListRules
from monitor.lists.xmlstream import child_text, children, descendants_text, local, records

WHAT = "OFAC SDN list"
_CSV_COLUMNS = 12  # ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
# Vess_flag, Vess_owner, Remarks
_NULL = "-0-"
_LINKED = re.compile(r"Linked To:\s*([^;]+?)\s*(?:[;.)]|$)", re.IGNORECASE)


def read(body: bytes, rules: ListRules, tracked: Set[str]) -> ParsedList:
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return _read_xml(body, rules, tracked)
    return _read_csv(body, rules, tracked)


def is_selected(rules: ListRules, uid: str, name: str, programs: tuple[str, ...], remarks: str) -> bool:
    if not rules.programs.intersection(p.upper() for p in programs):
        return False
    if uid in rules.uids or name.upper() in rules.names:
        return True
    linked = {match.strip().upper() for match in _LINKED.findall(remarks)}
    return bool(linked.intersection(rules.linked_to))


# --- XML --------------------------------------------------------------------------------------


def _read_xml(body: bytes, rules: ListRules, tracked: Set[str]) -> ParsedList:
    found = Collector(tracked)
    declared: int | None = None
    published = None
    for element in records(body, "sdnList", frozenset({"sdnEntry", "publshInformation"}), WHAT):
        tag = local(element.tag)
        if tag == "publshInformation":
            published = clean(child_text(element, "Publish_Date")) or None
            declared = _count(child_text(element, "Record_Count"))
            continue
        if tag != "sdnEntry":
            continue
        position = found.count()
        uid = child_text(element, "uid").strip()
        if not uid:
            raise ParseError(f"{WHAT}: sdnEntry {position} has no uid")
        # Selection first, on the few fields it needs, programs before names: nearly every entry of
        # the full list is dropped here.
        programs = _programs(element)
        selected = bool(rules.programs.intersection(programs)) and is_selected(
            rules, uid, _person_name(element), programs, child_text(element, "remarks")
        )
        if found.wants(uid, selected):
            found.keep(_xml_entry(element, uid, programs), selected)
    return found.parsed(f"{rules.list_name} ({published or 'undated'})", declared, published)


def _count(text: str) -> int | None:
    text = clean(text).replace(",", "")
    if not text:
        return None
    if not text.isdigit():
        raise ParseError(f"{WHAT}: Record_Count {text[:20]!r} is not a number")
    return int(text)


def _programs(element: Element) -> tuple[str, ...]:
    return values(t for node in children(element, "programList") for t in descendants_text(node, "program"))


def _xml_entry(element: Element, uid: str, programs: tuple[str, ...]) -> ListEntry:
    name = _person_name(element)
    aliases = [_person_name(aka) for node in children(element, "akaList") for aka in children(node, "aka")]
    ids = [
        f"{clean(child_text(i, 'idType'))}: {clean(child_text(i, 'idNumber'))}"
        for node in children(element, "idList")
        for i in children(node, "id")
    ]
    fields = {
        "programmes": programs,
        "aliases": values(aliases),
        "dates_of_birth": values(descendants_text(element, "dateOfBirth")),
        "nationality": values(
            child_text(n, "country")
            for tag in ("nationalityList", "citizenshipList")
            for node in children(element, tag)
            for n in node
        ),
        "ids": values(ids),
        "remarks": values([child_text(element, "remarks")]),
    }
    kind = clean(child_text(element, "sdnType")).lower() or "entity"
    return ListEntry(key=uid, name=name, kind=kind, listed_on=None, un_ref=None, fields=fields)


def _person_name(element: Element) -> str:
    last = clean(child_text(element, "lastName"))
    first = clean(child_text(element, "firstName"))
    return f"{last}, {first}" if first and last else last or first


# --- CSV --------------------------------------------------------------------------------------


def _read_csv(body: bytes, rules: ListRules, tracked: Set[str]) -> ParsedList:
    found = Collector(tracked)
    for row in _csv_rows(body):
        found.count()
        entry = _csv_entry(row)
        found.keep(entry, is_selected(rules, entry.key, entry.name, entry.fields["programmes"], row[11]))
    return found.parsed(f"{rules.list_name} (CSV)")


def _csv_rows(body: bytes) -> Iterator[list[str]]:
    """Rows of SDN.CSV (no header; `-0-` is null; CRLF; a 0x1A byte ends the file)."""
    body = body.rstrip(b"\x1a\r\n \t")
    for number, row in enumerate(csv.reader(_decoded_lines(body)), start=1):
        if not row or row == [""]:
            continue
        if len(row) != _CSV_COLUMNS or not row[0].strip().isdigit():
            raise ParseError(
                f"not an {WHAT}: CSV line {number} has {len(row)} fields (SDN.CSV rows have {_CSV_COLUMNS}, "
                "starting with a numeric ent_num)"
            )
        yield ["" if cell.strip() == _NULL else cell for cell in row]


def _decoded_lines(body: bytes) -> Iterator[str]:
    # OFAC's CSV is ASCII in practice; UTF-8 where it is not, cp1252 for a legacy export.
    encoding = "utf-8"
    try:
        codecs.decode(body[:65536], "utf-8")
    except UnicodeDecodeError as error:
        if error.start < 65530:  # not merely a character cut at the sample's end
            encoding = "cp1252"
    yield from io.TextIOWrapper(io.BytesIO(body), encoding=encoding, errors="replace", newline="")


def _csv_entry(row: list[str]) -> ListEntry:
    programmes = values(p.strip(" []") for p in row[3].split("] ["))
    fields = {"programmes": programmes, "title": values([row[4]]), "remarks": values([row[11]])}
    kind = clean(row[2]).lower() or "entity"
    return ListEntry(
        key=row[0].strip(), name=clean(row[1]), kind=kind, listed_on=None, un_ref=None, fields=fields
    )
