"""The real sanctions-list fixtures (../shared/corpora/sanctions-lists) and documents derived from them.

Derived documents are built from the real ones by cutting or copying whole entries, so every field
value in them is real; each builder says what it changes.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from xml.sax.saxutils import escape

from support import SHARED

LISTS = SHARED / "corpora" / "sanctions-lists"
UN_DIR = LISTS / "un"
UN_SERIES = [
    UN_DIR / f"un-consolidated_{day}_taliban-excerpt.xml"
    for day in ("2017-07-03", "2020-03-20", "2024-09-26", "2026-02-27")
]
UN_2026 = UN_SERIES[-1]
OFAC_DIR = LISTS / "ofac"
OFAC_CSV = OFAC_DIR / "sdn-csv_2021-07_taliban-related-rows.csv"
OFAC_EOF = OFAC_DIR / "sdn-csv_2021-07_last-line-with-eof-marker.csv"
OFAC_S3_ERROR = OFAC_DIR / "sls-redirect-target-error_saved-as-sdn.xml"
OFAC_2018 = OFAC_DIR / "consolidated-nonsdn_legacy-namespace_2018-04-06_excerpt.xml"
OFAC_2024 = OFAC_DIR / "consolidated-nonsdn_sls-namespace_2024-05-06_excerpt.xml"
UN_TALIBAN = {"TAi.004", "TAi.007", "TAi.024", "TAi.068", "TAi.144", "TAe.010", "TAe.012"}
_INDIVIDUAL = re.compile(rb"<INDIVIDUAL>.*?</INDIVIDUAL>", re.S)


def un_entry(body: bytes, reference: str) -> bytes:
    for match in _INDIVIDUAL.finditer(body):
        if f"<REFERENCE_NUMBER>{reference}</REFERENCE_NUMBER>".encode() in match.group():
            return match.group()
    raise KeyError(reference)


def un_one_added_one_removed(body: bytes | None = None) -> bytes:
    """The 2026 excerpt with TAi.068 cut out and one new Taliban listing: TAi.024's element copied
    under the new reference TAi.175 with a new name and listing date."""
    body = body or UN_2026.read_bytes()
    body = body.replace(un_entry(body, "TAi.068"), b"")
    new = (
        un_entry(body, "TAi.024")
        .replace(
            b"<REFERENCE_NUMBER>TAi.024</REFERENCE_NUMBER>", b"<REFERENCE_NUMBER>TAi.175</REFERENCE_NUMBER>"
        )
        .replace(b"<FIRST_NAME>ABDUL GHANI</FIRST_NAME>", b"<FIRST_NAME>NEW</FIRST_NAME>")
        .replace(b"<SECOND_NAME>BARADAR</SECOND_NAME>", b"<SECOND_NAME>LISTING</SECOND_NAME>")
        .replace(b"<LISTED_ON>2001-02-23</LISTED_ON>", b"<LISTED_ON>2026-03-02</LISTED_ON>")
    )
    return body.replace(b"</INDIVIDUALS>", new + b"\n</INDIVIDUALS>", 1)


def un_without_taliban(body: bytes, keep: int = 0) -> bytes:
    """Every Taliban individual but the first `keep` cut out (a mass delisting)."""
    for index, reference in enumerate(sorted(r for r in UN_TALIBAN if r.startswith("TAi"))):
        if index >= keep:
            body = body.replace(un_entry(body, reference), b"")
    return body


def sdn_xml_from_csv(
    rows_file: Path = OFAC_CSV,
    namespace: str = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN.XML",
    count: int | None = None,
) -> bytes:
    """An SDN.XML built from the real SDN.CSV rows, as SOURCES.md describes: uid = ent_num, the program
    column split on '] [', remarks copied; names split at the first ', ' into lastName/firstName."""
    rows = list(csv.reader(io.StringIO(rows_file.read_text(encoding="utf-8").rstrip("\x1a\r\n"))))
    entries = []
    for row in rows:
        cells = ["" if c.strip() == "-0-" else c for c in row]
        last, _, first = cells[1].partition(", ")
        programs = "".join(f"<program>{escape(p)}</program>" for p in cells[3].split("] ["))
        parts = [f"<uid>{cells[0]}</uid>"]
        if first:
            parts.append(f"<firstName>{escape(first)}</firstName>")
        parts.append(f"<lastName>{escape(last)}</lastName>")
        parts.append(f"<sdnType>{'Individual' if cells[2] == 'individual' else 'Entity'}</sdnType>")
        if cells[11]:
            parts.append(f"<remarks>{escape(cells[11])}</remarks>")
        parts.append(f"<programList>{programs}</programList>")
        entries.append("<sdnEntry>" + "".join(parts) + "</sdnEntry>")
    declared = len(entries) if count is None else count
    return (
        f'<?xml version="1.0" standalone="yes"?>\n<sdnList xmlns="{namespace}"><publshInformation>'
        f"<Publish_Date>07/07/2021</Publish_Date><Record_Count>{declared}</Record_Count></publshInformation>"
        + "\n".join(entries)
        + "</sdnList>"
    ).encode("utf-8")
