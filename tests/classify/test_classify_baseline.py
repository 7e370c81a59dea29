"""`load_baseline`: the shipped file loads; bad files name the file, the fact, the field and the line."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from monitor.classify import Baseline, load_baseline
from monitor.errors import ConfigError

GOOD_FACT = "- actor: KZ\n  relation: recognition\n  target: taliban\n  date: 2026-09-22\n  source: x\n"


def test_shipped_baseline_covers_the_seed_facts(baseline: Baseline) -> None:
    assert baseline.knows("RU", "recognition") and baseline.knows("RU", "sanctions_eased")
    for code in ("CN", "AE", "UZ", "PK"):
        assert baseline.knows(code, "diplomatic_upgrade")
    assert baseline.knows("US", "sanctions_imposed")
    assert not baseline.knows("KZ", "recognition")
    russia = next(fact for fact in baseline.facts if (fact.actor, fact.relation) == ("RU", "recognition"))
    assert russia.date == datetime.date(2025, 7, 3)


def test_mapping_form_and_partial_dates(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text("facts:\n- {actor: kz, relation: sanctions_eased, date: 2024-05}\n", encoding="utf-8")
    fact = load_baseline(path).facts[0]
    assert (fact.actor, fact.relation, fact.target, fact.date) == (
        "KZ",
        "sanctions_eased",
        "taliban",
        datetime.date(2024, 5, 1),
    )


@pytest.mark.parametrize(
    ("text", "key", "reason", "line"),
    [
        (GOOD_FACT + "- actor: XX\n  relation: recognition\n", "facts[1].actor", "unknown actor", 6),
        (GOOD_FACT + "- actor: KZ\n  relation: likes\n", "facts[1].relation", "must be one of", 6),
        (GOOD_FACT + "- {actor: KZ, relation: recognition, target: iran}\n", "facts[1].target", "must be", 6),
        (GOOD_FACT + "- {actor: KZ, relation: recognition, date: soon}\n", "facts[1].date", "YYYY-MM-DD", 6),
        (GOOD_FACT + "- {actor: KZ, relation: recognition, actr: KZ}\n", "facts[1].actr", "unknown field", 6),
        (GOOD_FACT + "- just a string\n", "facts[1]", "expected a mapping", 6),
        # an act that is not of the fact's relation: a recognition is no delisting
        (
            GOOD_FACT + "- {actor: KZ, relation: recognition, act: terror_delisting}\n",
            "facts[1].act",
            "must be",
            6,
        ),
        (
            GOOD_FACT + "- {actor: KZ, relation: sanctions_eased, act: forgiveness}\n",
            "facts[1].act",
            "must be",
            6,
        ),
        ("actor: KZ\n", "facts", "expected a list", None),
        ("- [unclosed\n", "", "not valid YAML", 2),
    ],
)
def test_bad_file_names_where_and_why(
    tmp_path: Path, text: str, key: str, reason: str, line: int | None
) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_baseline(path)
    error = caught.value
    assert (error.path, error.key, error.line) == (str(path), key, line)
    assert reason in error.reason
    assert str(path) in str(error)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_baseline(tmp_path / "absent.yaml")
