"""The registry of acts: each event type's kinds of step, and whether a baseline fact of that kind is one-off.

A one-off act (a recognition, an ambassador posted to Kabul, a state striking the Taliban off its terrorist
list) happens once per actor: any later report of it, in any tense, is the known fact again. A repeatable act
(a designation, a licence, an exemption, a renewal) is new whenever a new instance is reported; only a
statement that the existing measures stand is old (see seeds/baseline.yaml and ../shared/eval/README.md,
convention 1). Rules name the act they detect; facts in the baseline may name the acts they cover.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.events import EventType


@dataclass(frozen=True, slots=True)
class Act:
    name: str
    event_type: EventType
    one_off: bool
    description: str


_ACTS = (
    Act("recognition", "recognition", True, "formal recognition of the Taliban government"),
    Act(
        "kabul_mission", "diplomatic_upgrade", True, "the actor's own ambassador, embassy or mission in Kabul"
    ),
    Act("taliban_ambassador", "diplomatic_upgrade", True, "the actor accepts a Taliban-appointed ambassador"),
    Act(
        "taliban_mission",
        "diplomatic_upgrade",
        False,
        "the actor accepts other Taliban diplomats or consular staff, or hands them an Afghan mission",
    ),
    Act("terror_delisting", "sanctions_eased", True, "the Taliban struck off the actor's terrorist list"),
    Act("exemption", "sanctions_eased", False, "a travel-ban or asset-freeze exemption, waiver or carve-out"),
    Act("licence", "sanctions_eased", False, "a licence or authorisation for transactions or aid"),
    Act("release", "sanctions_eased", False, "frozen assets released, unfrozen or moved to a fund"),
    Act("lifting", "sanctions_eased", False, "sanctions, bans or bounties lifted or eased"),
    Act("designation", "sanctions_imposed", False, "people or entities designated or listed"),
    Act(
        "reserves_freeze", "sanctions_imposed", True, "Afghanistan's central-bank reserves frozen or blocked"
    ),
    Act("measures", "sanctions_imposed", False, "sanctions, bans or bounties imposed, renewed or extended"),
)
ACTS: dict[str, Act] = {act.name: act for act in _ACTS}


def is_one_off(name: str | None) -> bool:
    return name is not None and name in ACTS and ACTS[name].one_off
