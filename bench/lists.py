"""Official sanctions lists: parse time and peak memory on a synthetic full-size file, next to lower bounds.

Run: .venv/bin/python bench/lists.py [--size-mb 30] [--check]

Builds, in memory, a UN consolidated list and an OFAC SDN.XML of about --size-mb each from the real
fixtures (../shared/corpora/sanctions-lists): the real Taliban entries once, then copies of real entries
renumbered into another regime until the size is reached, so about 1% of the entries are selected, as on
the real lists (140 of ~1,000 UN entries; a few dozen of ~19,000 OFAC entries). Each measurement runs in a
fresh child process that first loads the body; time is CPU seconds (the machine may be shared), memory is
tracemalloc's peak from after the body was loaded (a separate run: tracing slows the parse).

- lower bound (time): a bare `xml.etree.ElementTree.iterparse` pass that detaches every record and does
  nothing else: the least any streaming read of the same bytes costs.
- reference (memory): `ElementTree.fromstring`, the whole tree at once (what a non-streaming parser holds).
- measured: `monitor.lists.read_list` (read, normalise, select) then `diff.compare` against a previous
  state of the same document (validation and the per-entry diff).

Targets: read+diff <= 3x the bare iterparse time; its peak memory above the loaded body <= 0.25x the body
size (bounded: it does not grow with the document), while the whole tree needs several times the body.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LISTS = REPO.parent / "shared" / "corpora" / "sanctions-lists"
UN = LISTS / "un" / "un-consolidated_2026-02-27_taliban-excerpt.xml"
OFAC_CSV = LISTS / "ofac" / "sdn-csv_2021-07_taliban-related-rows.csv"
TIME_TARGET = 3.0
MEMORY_TARGET = 0.25


def un_document(size: int) -> bytes:
    """The real excerpt, then its individuals copied under XXi.N references and list type 'Synthetic'."""
    body = UN.read_bytes()
    individuals = re.findall(rb"<INDIVIDUAL>.*?</INDIVIDUAL>", body, re.S)
    head, _, tail = body.partition(b"</INDIVIDUALS>")
    parts, total, number = [head], len(body), 0
    while total < size:
        entry = individuals[number % len(individuals)]
        number += 1
        entry = re.sub(rb"<REFERENCE_NUMBER>[^<]*<", b"<REFERENCE_NUMBER>XXi.%d<" % number, entry)
        entry = re.sub(rb"<UN_LIST_TYPE>[^<]*<", b"<UN_LIST_TYPE>Synthetic<", entry)
        parts.append(entry)
        total += len(entry)
    return b"\n".join(parts) + b"</INDIVIDUALS>" + tail


def ofac_document(size: int) -> bytes:
    """An SDN.XML of the real CSV rows (as SOURCES.md describes), then copies under new uids and a
    programme no rule selects; Record_Count is the true count."""
    sys.path.insert(0, str(REPO / "tests"))
    from lists_fixtures import sdn_xml_from_csv  # type: ignore[import-not-found]

    body = sdn_xml_from_csv(OFAC_CSV)
    entries = re.findall(rb"<sdnEntry>.*?</sdnEntry>", body, re.S)
    head = body[: body.index(b"<sdnEntry>")]
    parts, total, number = [*entries], len(body), 100_000
    while total < size:
        entry = entries[number % len(entries)]
        number += 1
        entry = re.sub(rb"<uid>\d+</uid>", b"<uid>%d</uid>" % number, entry, count=1)
        entry = re.sub(
            rb"<programList>.*?</programList>", b"<programList><program>SYNTH</program></programList>", entry
        )
        parts.append(entry)
        total += len(entry)
    head = re.sub(rb"<Record_Count>\d+</Record_Count>", b"<Record_Count>%d</Record_Count>" % len(parts), head)
    return head + b"\n".join(parts) + b"</sdnList>"


# --- one measurement, in a child process ----------------------------------------------------------

CHILD = r"""
import io, json, sys, time, tracemalloc
from xml.etree import ElementTree as ET
body = open(sys.argv[1], "rb").read()
fmt = sys.argv[2]
from monitor.config import ListSettings
from monitor.lists import load_selection, read_list
from monitor.lists.diff import Previous, compare
selection = load_selection()
RECORDS = {"un-consolidated": ("INDIVIDUAL", "ENTITY"), "ofac-sdn": ("sdnEntry",)}[fmt]

def bare():
    stack, count = [], 0
    for event, element in ET.iterparse(io.BytesIO(body), events=("start", "end")):
        if event == "start":
            stack.append(element)
            continue
        stack.pop()
        if element.tag.rpartition("}")[2] in RECORDS:
            count += 1
            if stack:
                stack[-1].remove(element)
    return {"records": count}

def tree():
    return {"records": len(ET.fromstring(body))}

def read():
    parsed = read_list(fmt, body, selection)
    previous = Previous(parsed.total, {k: e.substance() for k, e in parsed.entries.items()})
    found = compare(previous, parsed, ListSettings())
    return {"records": parsed.total, "selected": len(parsed.entries), "changes": len(found.changes)}

results = {}
for mode, run in (("bare", bare), ("read", read), ("tree", tree)):
    wall, cpu = time.perf_counter(), time.process_time()
    detail = run()
    results[mode] = {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, **detail}
for mode, run in (("bare", bare), ("read", read), ("tree", tree)):
    # Python's allocator from after the body was loaded; a separate run, since tracing slows the parse.
    tracemalloc.start()
    run()
    results[mode]["peak_bytes"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
print(json.dumps(results))
"""


def measure(path: Path, fmt: str) -> dict[str, dict[str, float]]:
    """Every mode's CPU and wall seconds and traced peak, in one fresh child process."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), fmt], capture_output=True, text=True, check=True, cwd=REPO
    )
    result: dict[str, dict[str, float]] = json.loads(done.stdout)
    return result


def report(fmt: str, body: bytes, folder: Path) -> bool:
    path = folder / f"{fmt}.xml"
    path.write_bytes(body)
    size = len(body)
    times = measure(path, fmt)
    peaks = {mode: row["peak_bytes"] / size for mode, row in times.items()}
    time_ratio = times["read"]["cpu"] / times["bare"]["cpu"]
    time_ok, memory_ok = time_ratio <= TIME_TARGET, peaks["read"] <= MEMORY_TARGET
    read = times["read"]
    print(f"{fmt}: {size / 2**20:.1f} MiB, {int(read['records'])} entries, {int(read['selected'])} selected")
    labels = {
        "bare": "lower bound (bare iterparse)",
        "read": "read_list + compare",
        "tree": "whole tree (fromstring)",
    }
    for mode, label in labels.items():
        row = times[mode]
        print(
            f"  {label}: CPU {row['cpu']:.2f} s (wall {row['wall']:.2f} s), "
            f"peak {peaks[mode] * size / 2**20:.1f} MiB = {peaks[mode]:.3f}x the body"
        )
    print(
        f"  time / lower bound: {time_ratio:.2f} ({'ok' if time_ok else 'MISSED'}, target <= {TIME_TARGET:g})"
    )
    print(
        f"  peak memory / body size: {peaks['read']:.3f} ({'ok' if memory_ok else 'MISSED'}, target <= "
        f"{MEMORY_TARGET:g}); whole tree: {peaks['tree']:.2f}"
    )
    return time_ok and memory_ok


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=float, default=30.0, help="size of each synthetic list (MB, 10^6)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    size = int(args.size_mb * 1_000_000)
    with tempfile.TemporaryDirectory() as folder:
        ok = [
            report(fmt, build(size), Path(folder))
            for fmt, build in (("un-consolidated", un_document), ("ofac-sdn", ofac_document))
        ]
    if args.check and not all(ok):
        sys.exit(1)


if __name__ == "__main__":
    main()
