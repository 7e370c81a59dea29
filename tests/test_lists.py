"""Reading, selecting and diffing official sanctions lists on the real fixtures (no network, no database)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from lists_fixtures import (
    OFAC_2018,
    OFAC_2024,
    OFAC_CSV,
    OFAC_EOF,
    OFAC_S3_ERROR,
    UN_2026,
    UN_SERIES,
    UN_TALIBAN,
    sdn_xml_from_csv,
    un_one_added_one_removed,
    un_without_taliban,
)

from monitor.config import ListSettings
from monitor.errors import ParseError
from monitor.lists import ParsedList, load_selection, read_list
from monitor.lists.diff import ListDiff, Previous, compare
from monitor.lists.selection import ListRules, Selection

SELECTION = load_selection()
SETTINGS = ListSettings()
# Hand-built from the element trees in ../shared/reference/sanctions-lists.md 1.3-1.4 (no real UK or EU file
# is small enough to store); the UN references and names are the real ones of TAe.010 and TAi.144.
CASES = Path(__file__).resolve().parent / "list_cases"
OFAC_TALIBAN = {"6636", "10743", "12129", "15005", "15006", "15484", "19680", "23635", "25397", "25474"}


def previous_of(parsed: ParsedList) -> Previous:
    return Previous(parsed.total, {key: entry.substance() for key, entry in parsed.entries.items()})


def walk(
    documents: list[bytes], fmt: str = "un-consolidated", selection: Selection = SELECTION
) -> list[ListDiff]:
    """Diff each document against the state the previous ones left, as the ledger would."""
    previous: Previous | None = None
    found = []
    for body in documents:
        tracked = frozenset(previous.entries) if previous else frozenset()
        parsed = read_list(fmt, body, selection, tracked)
        step = compare(previous, parsed, SETTINGS)
        found.append(step)
        entries = {**(previous.entries if previous else {}), **step.upserts}
        for key in step.untracked:
            entries.pop(key, None)
        previous = Previous(parsed.total, entries)
    return found


def test_un_selection_is_the_taliban_list_not_the_afghan_al_qaida_entry() -> None:
    for path in UN_SERIES:
        parsed = read_list("un-consolidated", path.read_bytes(), SELECTION)
        assert set(parsed.entries) == UN_TALIBAN, path.name
        assert parsed.total == 8  # QDi.058 is read but not selected


def test_un_entry_has_reference_name_listing_date_and_programme() -> None:
    entry = read_list("un-consolidated", UN_2026.read_bytes(), SELECTION).entries["TAi.144"]
    assert entry.listed_on == "2007-09-13"
    assert entry.un_ref == "TAi.144" and entry.kind == "individual"
    assert "HAQQANI" in entry.name
    assert entry.fields["programmes"] == ("Taliban",)


def test_un_series_2017_to_2026_changes_nothing_that_alerts() -> None:
    steps = walk([path.read_bytes() for path in UN_SERIES])
    assert steps[0].baseline
    assert [c for step in steps[1:] for c in step.alerting] == []
    assert not any(step.held for step in steps)
    # The real amendment in the series: TAi.004's listing date moved (2017 -> 2020), stored, not alerted.
    amended = [(c.key, c.changed) for step in steps for c in step.changes]
    assert amended == [("TAi.004", ("listed_on",))]


def test_fields_that_vanish_and_come_back_are_not_changes() -> None:
    # 2024 moved TAi.004's birth years into alias elements and 2026 broke TAi.068's original-script
    # name (U+FFFD): neither is an amendment.
    steps = walk([UN_SERIES[1].read_bytes(), UN_SERIES[2].read_bytes(), UN_SERIES[3].read_bytes()])
    assert [c for step in steps for c in step.changes] == []


def test_one_added_and_one_removed_are_exactly_two_alerts() -> None:
    steps = walk([UN_2026.read_bytes(), un_one_added_one_removed()])
    alerts = sorted((c.kind, c.key, c.event_type) for c in steps[1].alerting)
    assert alerts == [("added", "TAi.175", "sanctions_imposed"), ("removed", "TAi.068", "sanctions_eased")]
    assert not steps[1].held


def test_whitespace_and_order_do_not_count() -> None:
    body = UN_2026.read_bytes()
    shuffled = body.replace(
        b"<REFERENCE_NUMBER>TAi.144</REFERENCE_NUMBER>", b"<REFERENCE_NUMBER> TAi.144 </REFERENCE_NUMBER>"
    )
    shuffled = shuffled.replace(b"<FIRST_NAME>", b"<FIRST_NAME>  ").replace(
        b'dateGenerated="2026', b'dateGenerated="2027'
    )
    assert walk([body, shuffled])[1].changes == []


def test_mass_removal_is_held_not_dropped() -> None:
    # The excerpt is tiny, so the size guard is set aside: 5 of its 8 entries go.
    previous = previous_of(read_list("un-consolidated", UN_2026.read_bytes(), SELECTION))
    cut = read_list("un-consolidated", un_without_taliban(UN_2026.read_bytes()), SELECTION)
    at_floor = compare(previous, cut, SETTINGS.model_copy(update={"min_kept": 0.0}))
    assert len(at_floor.alerting) == 5 and not at_floor.held  # not above the floor of 5
    held = compare(previous, cut, SETTINGS.model_copy(update={"min_kept": 0.0, "breaker_min": 2}))
    assert held.held and held.limit == 2
    assert sorted(c.key for c in held.alerting) == sorted(r for r in UN_TALIBAN if r.startswith("TAi"))
    assert held.untracked  # the new state is still recorded: the next fetch diffs against it


def test_empty_document_and_far_fewer_entries_are_feed_errors() -> None:
    empty = b'<?xml version="1.0"?><CONSOLIDATED_LIST><INDIVIDUALS/><ENTITIES/></CONSOLIDATED_LIST>'
    with pytest.raises(ParseError, match="no entries"):
        compare(None, read_list("un-consolidated", empty, SELECTION), SETTINGS)
    previous = Previous(1000, {})
    with pytest.raises(ParseError, match="far fewer than the 1000"):
        compare(previous, read_list("un-consolidated", UN_2026.read_bytes(), SELECTION), SETTINGS)


def test_s3_error_page_is_not_an_ofac_list() -> None:
    with pytest.raises(ParseError, match=r"root element is <Error>"):
        read_list("ofac-sdn", OFAC_S3_ERROR.read_bytes(), SELECTION)


def test_declared_record_count_must_match() -> None:
    parsed = read_list("ofac-sdn", OFAC_2024.read_bytes(), SELECTION)
    assert (parsed.declared, parsed.total) == (443, 2)  # the real excerpt keeps the full list's count
    with pytest.raises(ParseError, match="declares 443 records but holds 2"):
        compare(None, parsed, SETTINGS)


def test_ofac_csv_selection_keeps_haqqani_and_drops_ttp_and_kurdish_taliban() -> None:
    parsed = read_list("ofac-sdn", OFAC_CSV.read_bytes(), SELECTION)
    assert set(parsed.entries) == OFAC_TALIBAN
    assert "10743" in parsed.entries and {"12206", "7472"}.isdisjoint(parsed.entries)
    assert parsed.entries["15484"].fields["programmes"] == ("FTO", "SDGT")


def test_ofac_xml_selects_the_same_as_the_csv_in_either_namespace() -> None:
    for namespace in (
        "http://tempuri.org/sdnList.xsd",
        "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML",
    ):
        parsed = read_list("ofac-sdn", sdn_xml_from_csv(namespace=namespace), SELECTION)
        assert set(parsed.entries) == OFAC_TALIBAN and parsed.declared == parsed.total == 12
        assert parsed.entries["10743"].name == "MUHAMMAD, Sirajuddin Haqqani Jalaluddin Khwasa"


def test_ofac_csv_end_of_file_marker_is_not_a_row() -> None:
    parsed = read_list("ofac-sdn", OFAC_EOF.read_bytes(), SELECTION)
    assert parsed.total == 1 and parsed.entries == {}


def test_a_programme_added_or_removed_alerts_other_amendments_do_not() -> None:
    # uid 9647 is real: NS-PLC only in 2018, NS-PLC + SDGT (and more detail) in 2024. Followed by uid
    # for this test; Record_Count is the full list's in both excerpts, so it is set aside here.
    rules = dataclasses.replace(SELECTION.rules("ofac-sdn"), uids=frozenset({"9647"}))
    selection = Selection({**SELECTION.lists, "ofac-sdn": rules})

    def parsed(path: object, tracked: frozenset[str] = frozenset()) -> ParsedList:
        found = read_list("ofac-sdn", path.read_bytes(), selection, tracked)  # type: ignore[attr-defined]
        return dataclasses.replace(found, declared=None)

    start = parsed(OFAC_2024)
    assert set(start.entries) == {"9647"}
    dropped = compare(previous_of(start), parsed(OFAC_2018, frozenset({"9647"})), SETTINGS)
    (change,) = dropped.changes
    assert (change.kind, change.event_type, change.key) == ("amended", "sanctions_eased", "9647")
    assert "programmes" in change.changed and dropped.untracked == ["9647"]
    renamed = dataclasses.replace(start.entries["9647"], name="ZAHHAR, M. K.")
    step = compare(previous_of(start), dataclasses.replace(start, entries={"9647": renamed}), SETTINGS)
    assert [(c.kind, c.changed, c.event_type) for c in step.changes] == [("amended", ("name",), None)]


def test_a_document_with_a_dtd_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><CONSOLIDATED_LIST/>'
    with pytest.raises(ParseError, match="DTD"):
        read_list("un-consolidated", bomb, SELECTION)


def test_uk_list_selects_the_afghanistan_regime_and_keeps_the_un_reference() -> None:
    parsed = read_list(
        "uk-sanctions-list", (CASES / "uk-sanctions-list_hand-built.xml").read_bytes(), SELECTION
    )
    assert set(parsed.entries) == {"AFG0001"} and parsed.total == 2
    entry = parsed.entries["AFG0001"]
    assert (entry.un_ref, entry.listed_on, entry.kind) == ("TAe.010", "2001-02-02", "entity")
    assert entry.fields["measures"] == ("AssetFreeze",)


def test_eu_file_selects_afg_and_a_un_taliban_reference_under_unli() -> None:
    parsed = read_list("eu-fsf", (CASES / "eu-fsf_hand-built.xml").read_bytes(), SELECTION)
    assert set(parsed.entries) == {"EU.1234.56", "9999"}  # no euReferenceNumber: the logicalId
    assert parsed.entries["EU.1234.56"].un_ref == "TAi.144"
    assert parsed.entries["9999"].fields["programmes"] == ("UNLI",)


def test_selection_rules_are_data() -> None:
    rules = SELECTION.rules("ofac-sdn")
    assert isinstance(rules, ListRules) and "10743" in rules.uids and rules.actor == "US"
    assert rules.link("6636").endswith("id=6636")
    assert {
        SELECTION.rules(f).actor for f in ("un-consolidated", "ofac-sdn", "uk-sanctions-list", "eu-fsf")
    } == {"UN", "US", "GB", "EU"}


def test_an_absurd_reference_number_is_a_parse_error_not_a_database_error() -> None:
    body = UN_2026.read_bytes().replace(
        b"<REFERENCE_NUMBER>TAi.144<", b"<REFERENCE_NUMBER>TAi." + b"1" * 150 + b"<"
    )
    with pytest.raises(ParseError, match="reference number of 154 characters"):
        read_list("un-consolidated", body, SELECTION)
