"""Decisions carry usable evidence and confidence; novelty follows the baseline as it grows."""

from __future__ import annotations

import datetime

from monitor.classify import Baseline, Fact, actor_name, classify, explain, resolve_actor


def test_alerting_decision_fills_every_field(baseline: Baseline) -> None:
    decision = classify("Kazakhstan recognises Islamic Emirate", "", baseline, datetime.date(2026, 9, 22))
    assert (decision.alert, decision.event_type, decision.actor) == (True, "recognition", "KZ")
    assert (decision.modality, decision.novel, decision.reason) == ("asserted", True, None)
    assert decision.evidence is not None
    assert decision.evidence.rule == "recognition.verb"
    assert decision.evidence.actor_text == "Kazakhstan"


def test_confidence_is_lower_for_planned_summary_only_and_unnamed_actor(baseline: Baseline) -> None:
    asserted = classify("Oman recognises the Taliban government", "", baseline).confidence
    planned = classify("Oman to recognise the Taliban government", "", baseline).confidence
    summary_only = classify("Gulf diplomacy shifts", "Oman recognised the Taliban government.", baseline)
    assert 0.0 <= planned < asserted <= 1.0
    assert summary_only.alert and summary_only.confidence < asserted


def test_off_topic_items_are_rejected(baseline: Baseline) -> None:
    decision = classify("Stocks rally as inflation cools", "Markets rose in Tokyo and London.", baseline)
    assert (decision.alert, decision.event_type, decision.reason) == (False, None, "not_relevant")


def test_baseline_fact_told_as_old_is_a_restatement(baseline: Baseline) -> None:
    decision = classify("Uzbekistan's ambassador in Kabul says trade doubled", "", baseline)
    assert (decision.event_type, decision.actor, decision.novel, decision.alert) == (
        "diplomatic_upgrade",
        "UZ",
        False,
        False,
    )
    assert decision.reason == "restatement"


def test_state_transition_ambassador_to_recognition_is_novel(baseline: Baseline) -> None:
    assert baseline.knows("UZ", "diplomatic_upgrade") and not baseline.knows("UZ", "recognition")
    decision = classify("Uzbekistan recognises Islamic Emirate", "", baseline)
    assert decision.alert and decision.novel


def test_with_facts_makes_a_confirmed_event_old(baseline: Baseline) -> None:
    item = ("Belarus lifted its ban on the Taliban last year, minister recalls", "")
    before = classify(*item, baseline, datetime.date(2027, 1, 5))
    grown = baseline.with_facts([Fact("BY", "sanctions_eased", "taliban", datetime.date(2026, 3, 1))])
    after = classify(*item, grown, datetime.date(2027, 1, 5))
    assert grown.knows("BY", "sanctions_eased") and not baseline.knows("BY", "sanctions_eased")
    # Unknown to the baseline, a past act is news (convention 1); once confirmed, a report of it is old.
    assert (before.alert, before.reason, after.reason) == (True, None, "restatement")
    assert len(grown.facts) == len(baseline.facts) + 1


def test_new_designation_by_a_known_sanctioner_is_novel(baseline: Baseline) -> None:
    assert baseline.knows("US", "sanctions_imposed")
    decision = classify("Treasury sanctions Taliban prisons chief", "", baseline)
    assert (decision.actor, decision.novel, decision.alert) == ("US", True, True)


def test_easing_of_a_known_sanction_is_a_transition(baseline: Baseline) -> None:
    decision = classify("US unfreezes Afghan central bank reserves", "", baseline)
    assert (decision.event_type, decision.actor, decision.alert) == ("sanctions_eased", "US", True)


def test_explain_names_verdict_actor_rule_and_cues(baseline: Baseline) -> None:
    title = "Berlin rules out recognising Taliban"
    text = explain(classify(title, "", baseline), title, "")
    lines = dict(line.split(":", 1) for line in text.splitlines())
    assert "no alert (negated)" in lines["verdict"]
    assert "DE (Germany)" in lines["actor"]
    assert lines["rule"].strip().startswith("recognition.verb")
    assert "negation:rules out" in lines["cues"]


def test_actor_names_and_resolution() -> None:
    assert actor_name("KZ") == "Kazakhstan"
    assert actor_name("UN") == "United Nations"
    assert actor_name("XX") is None
    assert resolve_actor("Kazakhstan") == resolve_actor("kazakh") == resolve_actor("KZ") == "KZ"
    assert resolve_actor("the Kremlin") == "RU"
    assert resolve_actor("OFAC") == "US"
    assert resolve_actor("Security Council") == "UN"
    assert resolve_actor("Atlantis") is None


def test_interested_party_claim_lowers_confidence(baseline: Baseline) -> None:
    claimed = classify("Taliban claim Bahrain has recognised the Islamic Emirate", "", baseline)
    stated = classify("Bahrain recognises the Islamic Emirate", "", baseline)
    assert claimed.alert and stated.alert
    assert claimed.confidence < stated.confidence
