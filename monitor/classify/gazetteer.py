"""Entity tagging: states, bodies, the Taliban side and other targets, by one compiled regex."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from monitor.classify import gazetteer_data as data

# state/body: can act. taliban/kabul/afghanistan: the target side (and, as a subject, a reversed
# direction). bank: a sanctions target only. afghan: the bare demonym, people, never a target.
# other: a target that is not ours (Palestine, ISIS-K). region: blocks a demonym inside it.
Kind = Literal["state", "body", "taliban", "kabul", "afghanistan", "bank", "afghan", "other", "region"]
TARGET_KINDS = frozenset({"taliban", "kabul", "afghanistan", "bank"})
ACTOR_KINDS = frozenset({"state", "body"})
REVERSED_KINDS = frozenset({"taliban", "kabul", "afghanistan"})


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    text: str
    kind: Kind
    code: str | None  # ISO code, "UN" or "EU" for actors


def _split(field: str) -> list[str]:
    return [part.strip() for part in field.split(";") if part.strip()]


def _plural(demonym: str) -> list[str]:
    if demonym.endswith(("sh", "ch", "ese", "s", "Swiss")):
        return [demonym]
    return [demonym, demonym + "s"]


def _actor_rows(table: str) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """Names of each code, and surface form -> (code, kind)."""
    names: dict[str, str] = {}
    forms: dict[str, tuple[str, str]] = {}
    kind = "body" if table is data.BODIES else "state"  # leaders speak for a state (or the UN)
    for line in table.splitlines():
        if not line.strip():
            continue
        code, name_field, demonym_field, capital_field = line.split("|")
        spellings = _split(name_field)
        names[code] = spellings[0]
        demonyms = [form for demonym in _split(demonym_field) for form in _plural(demonym)]
        for form in [*spellings, *demonyms, *_split(capital_field)]:
            forms.setdefault(form, (code, kind))
    return names, forms


def _all_forms() -> tuple[dict[str, str], dict[str, tuple[str | None, str]]]:
    state_names, state_forms = _actor_rows(data.STATES)
    body_names, body_forms = _actor_rows(data.BODIES)
    _leader_names, leader_forms = _actor_rows(data.LEADERS)
    forms: dict[str, tuple[str | None, str]] = {**leader_forms, **state_forms, **body_forms}
    # The Afghan side overrides the generic AF row: it is never an actor code.
    forms.update({"Afghanistan": (None, "afghanistan"), "Kabul": (None, "kabul")})
    forms.update({"Afghan": (None, "afghan"), "Afghans": (None, "afghan")})
    forms.update({form: (None, "taliban") for form in data.TALIBAN_ALIASES})
    forms.update({form: (None, "bank") for form in data.CENTRAL_BANK})
    forms.update({form: (None, "other") for form in data.OTHER_TARGETS})
    forms.update({form: (None, "region") for form in data.NON_ACTORS})
    return {**state_names, **body_names}, forms


class _Node(dict[str, "_Node"]):
    """A trie node; the key "" marks the end of a word."""


def _trie_pattern(words: list[str]) -> str:
    """An alternation that branches on one character at a time: fast in `re` for many literals."""
    trie = _Node()
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, _Node())
        node[""] = _Node()

    def render(node: _Node) -> str:
        branches = [re.escape(char) + render(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return render(trie)


NAMES, _FORMS = _all_forms()
_BY_LOWER_NAME = {form.lower(): code for form, (code, _kind) in _FORMS.items() if code is not None}
_BY_LOWER_NAME.update({code.lower(): code for code in NAMES})


_POSSESSIVE_GAP = re.compile(r"['’]s\s+$")
# A headline rebuilt from a URL slug is all lower case ("kazakhstan delists taliban"): there, names of five
# letters or more are matched case-blind. Shorter ones ("us", "un", "eu") and names that are also common
# words stay case-sensitive.
_COMMON_WORDS = frozenset(
    {"turkey", "china", "jordan", "georgia", "guinea", "chad", "niger", "monaco", "malta"}
)
_LOWER_FORMS: dict[str, tuple[str | None, str]] = {}
for _form, _value in _FORMS.items():
    if len(_form) >= 5 and _form.lower() not in _COMMON_WORDS:
        _LOWER_FORMS.setdefault(_form.lower(), _value)


@functools.cache
def _entity_re(lower: bool) -> re.Pattern[str]:
    """The names as one trie regex, compiled on first use (0.1-0.2 s): code that only needs `actor_name`
    or `resolve_actor` never pays for it. Greedy trie matching is longest-first; the boundaries keep
    "Niger" out of "Nigeria"."""
    forms = list(_LOWER_FORMS if lower else _FORMS)
    return re.compile(r"(?<![\w.])(?:" + _trie_pattern(forms) + r")(?![\w]|-(?:born|based)\b)")


def find_mentions(text: str) -> list[Mention]:
    mentions: list[Mention] = []
    lower = text.islower()  # no capital anywhere: a slug
    for match in _entity_re(lower).finditer(text):
        surface = match.group()
        code, kind = _LOWER_FORMS[surface] if lower else _FORMS[surface]
        previous = mentions[-1] if mentions else None
        if (
            previous is not None
            and previous.kind in ("state", "body")
            and kind in ("state", "body")
            and _POSSESSIVE_GAP.fullmatch(text[previous.end : match.start()])
        ):
            continue  # "Pakistan's Foreign Office", "China's UN envoy": the possessor acts
        mentions.append(Mention(match.start(), match.end(), surface, kind, code))  # type: ignore[arg-type]
    return mentions


def actor_name(code: str) -> str | None:
    """The display name of an actor code: "KZ" -> "Kazakhstan", "UN" -> "United Nations"."""
    if code == "AF":
        return "Afghanistan"
    return NAMES.get(code.upper())


def resolve_actor(text: str) -> str | None:
    """A code, name, demonym, capital or agency -> the actor code, or None if unknown."""
    key = " ".join(text.split()).lower().removeprefix("the ")
    code = _BY_LOWER_NAME.get(key) or _BY_LOWER_NAME.get("the " + key)
    return None if code == "AF" else code
