"""Say a list change in the monitor's own terms: an item (headline, summary, official link) and the
decision the store, outbox and webhooks already understand."""

from __future__ import annotations

from datetime import datetime

from monitor.domain import Decision, Evidence, FeedItem, Reason
from monitor.lists.diff import Change, ListDiff, Substance
from monitor.lists.selection import ListRules

_VERBS = {"added": "added to", "removed": "removed from", "amended": "amended on"}
_SHOWN_FIELDS = ("programmes", "measures", "aliases", "dates_of_birth", "nationality", "listed_on")


def first(substance: Substance, name: str) -> str:
    found = substance.get(name) or [""]
    return found[0]


def headline(change: Change, rules: ListRules) -> str:
    """`TAi.144 HAQQANI, Sirajuddin added to UN Security Council Consolidated List (1988 (Taliban))`."""
    name = first(change.current, "name") or "(no name)"
    text = f"{change.key} {name} {_VERBS[change.kind]} the {rules.list_name} ({rules.regime})"
    if change.kind == "amended":
        text += f": {', '.join(change.changed)} changed"
    return text


def summary(change: Change) -> str:
    """What a reader needs to check the entry: listing date, UN reference, and the before/after of each
    amended field."""
    now = change.current
    parts = [f"Reference {change.key}"]
    if listed := first(now, "listed_on"):
        parts.append(f"listed on {listed}")
    elif change.kind == "added":  # OFAC gives no listing date per entry: the first sighting stands in
        parts.append("no listing date on this list (first seen now)")
    if change.un_ref and change.un_ref != change.key:
        parts.append(f"UN reference {change.un_ref}")
    for name in change.changed:
        before = "; ".join((change.before or {}).get(name, [])) or "(none)"
        after = "; ".join((change.after or {}).get(name, [])) or "(none)"
        parts.append(f"{name}: {before} -> {after}")
    if change.kind != "amended":
        parts += [f"{name}: {'; '.join(now[name])}" for name in _SHOWN_FIELDS if now.get(name)]
    return ". ".join(parts)[:4000]


def item(change: Change, rules: ListRules, now: datetime) -> FeedItem:
    """One change as a stored item; its key is unique per change, so a later re-listing is new again."""
    return FeedItem(
        key=f"list:{change.kind}:{change.key}:{now.isoformat()}",
        title=headline(change, rules),
        summary=summary(change),
        link=rules.link(change.key),
        published=now,
        published_known=True,
        tags=("official", "sanctions-list"),
    )


def decision(change: Change, rules: ListRules, found: ListDiff) -> Decision:
    """Alerting changes alert unless the breaker held them; amendments are stored, not alerted."""
    alert = change.event_type is not None and not found.held
    rule = f"list.{change.kind}"
    reason: Reason | None = None
    if not alert:
        reason = "held" if change.event_type is not None else "amendment"
    return Decision(
        alert=alert,
        event_type=change.event_type,
        actor=rules.actor,
        modality="asserted",
        novel=True,
        confidence=1.0,
        evidence=Evidence(sentence=headline(change, rules), rule=rule),
        reason=reason,
    )


def bulk_detail(found: ListDiff, rules: ListRules) -> str:
    counts = {
        kind: sum(1 for c in found.alerting if c.kind == kind) for kind in ("added", "removed", "amended")
    }
    shown = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    keys = ", ".join(c.key for c in found.alerting[:20])
    more = f" and {len(found.alerting) - 20} more" if len(found.alerting) > 20 else ""
    return (
        f"{rules.list_name}: {len(found.alerting)} changes in one fetch ({shown}), above the limit of "
        f"{found.limit:g}; held for review, not alerted one by one: {keys}{more}. "
        "See `monitor history --items --feed <this feed>`."
    )
