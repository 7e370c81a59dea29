"""The classifier: trigger -> roles (actor, target) -> factuality -> novelty against the baseline.

Pure and I/O-free. Every decision carries its evidence: the sentence, the rule id and the cues.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from monitor.classify import rules as R
from monitor.classify.baseline import Baseline
from monitor.classify.gazetteer import ACTOR_KINDS, REVERSED_KINDS, TARGET_KINDS, Mention, find_mentions
from monitor.classify.text import normalise, sentences
from monitor.domain import Decision, Evidence, Modality, Reason

_WORD = re.compile(r"[\w'-]+")
# The first `count` words when more follow: possessive, so a word is never split to make up the count.
_FIRST_WORDS = {
    count: re.compile(rf"(?:[^\w'-]*+[\w'-]++){{{count}}}(?=[^\w'-]*+[\w'-])") for count in (8, 10, 12)
}
_COORDINATION = re.compile(r"\s*(?:,|,?\s*and|&|as\s+well\s+as)\s*(?:the\s+)?", re.IGNORECASE)
_RELATIVE = re.compile(r"(?:'s\b|\s*,\s*(?:which|who)\b)", re.IGNORECASE)
_RELATIVE_CUE = re.compile(r"(?:which|who)\b", re.IGNORECASE)
_PERSON_RELATIVE = re.compile(r"\bwho\b", re.IGNORECASE)
_BY = re.compile(r"\bby\s+(?:the\s+)?$", re.IGNORECASE)
_AGENT = re.compile(r"\s*(?:\w+ly\s+)?by\s+(?:the\s+)?", re.IGNORECASE)  # right after a passive trigger
# Rules share keys: test each distinct key once per sentence, then pick the rules holding one.
_KEYS = tuple(sorted({key for rule in R.RULES for key in rule.keys}))
# Case-sensitive twins of the trigger patterns, run on lower-cased ASCII text (where they match
# the same spans): `re` only takes its fast literal-character paths when matching case-sensitively.
_FOLDED = {rule.id: R.case_sensitive_twin(rule.pattern) for rule in R.RULES}


@dataclass(frozen=True, slots=True)
class _Cue:
    """A case-blind cue pattern and its fast twin for lower-cased ASCII text."""

    pattern: re.Pattern[str]
    twin: re.Pattern[str]

    @classmethod
    def of(cls, pattern: re.Pattern[str]) -> _Cue:
        return cls(pattern, R.case_sensitive_twin(pattern))


_PSEUDO_NEGATION, _REPORTED, _NEGATION, _NEGATION_AFTER = map(
    _Cue.of, (R.PSEUDO_NEGATION, R.REPORTED, R.NEGATION, R.NEGATION_AFTER)
)
_APPEAL, _PLANNED_AFTER, _PAST, _DATED, _ONGOING, _SPECULATION = map(
    _Cue.of, (R.APPEAL, R.PLANNED_AFTER, R.PAST, R.DATED, R.ONGOING, R.SPECULATION)
)


@dataclass(slots=True)
class Candidate:
    """One trigger match in one sentence, with its roles and cues.

    `_evaluate` fills a fresh one in place (copying a frozen one per step was the hot spot);
    afterwards it is treated as read-only and changed only through `dataclasses.replace`.
    """

    rule: R.Rule
    index: int  # sentence number; 0 is the title
    sentence: str
    start: int
    end: int
    actors: tuple[Mention, ...] = ()
    actor_from: str = "none"  # subject | by | host | sentence | item | none
    modality: Modality = "asserted"
    cues: tuple[str, ...] = ()
    past: tuple[str, ...] = ()  # background cues: the act is told as history or an aside
    dated: tuple[str, ...] = ()  # a past date attached to the act: old only for a known fact
    ongoing: tuple[str, ...] = ()  # state-of-affairs cues: "remain frozen", "first country to"
    reject: Reason | None = None
    act: str = ""  # the kind of step (acts.py)
    subordinate: bool = False  # in a "though"/"after"/"while" clause: past cues there make it background
    legislative: bool = False  # the item is about legislators' bill: "the bill would require ..."
    headline_target: bool = False  # the headline names the target: "one name" in the summary is its

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(mention.code for mention in self.actors if mention.code)

    @property
    def sanctions(self) -> bool:
        """Is the act of the sanctions family (imposed or eased), rather than diplomacy?"""
        return self.rule.event_type.startswith("sanctions")

    @property
    def sort_key(self) -> tuple[int, bool, int, int]:
        return (self.index, self.modality == "negated", -self.rule.priority, self.start)


def classify(
    title: str, summary: str, baseline: Baseline, published: datetime.date | None = None
) -> Decision:
    """Decide whether one item reports a new recognition, upgrade or sanctions change."""
    if not _on_topic(title, summary):
        return Decision(False, None, None, None, None, 0.99, None, "not_relevant")
    texts = [normalise(title), *sentences(normalise(summary))]
    legislative = bool(R.LEGISLATORS.search(texts[0]))  # the headline names legislators: a bill is theirs
    headline_target = any(_is_target(mention, texts[0]) for mention in find_mentions(texts[0]))
    found = [
        candidate
        for index, text in enumerate(texts)
        for candidate in _candidates(index, text, published, legislative, headline_target)
    ]
    valid = [candidate for candidate in found if candidate.reject is None]
    if not valid:
        return _no_event(found)
    # Sentences that name no target ("The assets frozen by Washington ...") still tell who and when.
    support = valid + [c for c in found if "target:none" in c.cues and c.index > 0]
    chosen = _fill_actor(_main_event(valid), support, texts)
    unconfirmed = _unconfirmed(chosen, texts)
    if unconfirmed:
        cues = (*chosen.cues, f"unconfirmed:{unconfirmed}")
        return _no_event([replace(chosen, reject="speculative", cues=cues)])
    if chosen.index > 0 and "source:interested" in chosen.cues:
        # No headline tells of the step and only the Taliban say it in the body ("Taliban spokesmen said
        # new US visa curbs ... harm ties"): their statement is the story, not a step by the state.
        cues = (*chosen.cues, "claim:summary only")
        return _no_event([replace(chosen, reject="speculative", cues=cues)])
    if not chosen.codes:  # an act with nobody doing it ("Does the world need to recognise ...?")
        return _no_event([replace(chosen, reject="not_relevant", cues=(*chosen.cues, "actor:none"))])
    return _decide(chosen, support, baseline, texts[0], _background(chosen, found))


def _background(chosen: Candidate, found: list[Candidate]) -> str | None:
    """Why an act told only in the summary is background to another story (convention 2), if it is.

    News copy puts the news up front (the inverted pyramid): a kind of step that neither the headline nor
    the lead names, told first in a later sentence, is context ("The ruling comes a week after X
    recognised ..."), unless it is dated to the day ("On Friday X removed ..."). So is a step told in a
    subordinate clause under a headline that names no such step ("warning of famine after the freeze of
    Afghan reserves"). A headline's rejected trigger (a question, the Taliban's own bid) still says what
    kind of step the story is about."""
    if chosen.index == 0:
        return None
    if chosen.ongoing and _headline_aims_elsewhere(chosen, found):
        return "state of affairs"  # "US sanctions an Iranian network ... Taliban, already under sanctions"
    if chosen.subordinate and not _family_told(chosen, found, last=0):
        return "subordinate clause"
    if (
        chosen.index >= 2
        and not _family_told(chosen, found, last=1)
        and not R.NEWS_DAY.search(chosen.sentence)
    ):
        return "later sentence"
    return None


def _headline_aims_elsewhere(chosen: Candidate, found: list[Candidate]) -> bool:
    """Is the headline's step of the chosen act's family aimed at another target (convention 4)?"""
    return any(
        other.index == 0 and other.reject == "other_target" and other.sanctions == chosen.sanctions
        for other in found
    )


def _family_told(chosen: Candidate, found: list[Candidate], last: int) -> bool:
    """Does a sentence up to `last` (0: the headline, 1: the lead) name a step of the chosen act's family,
    valid or not? The families: diplomacy (recognition, upgrades) and sanctions (imposed or eased)."""
    return any(other.index <= last and other.sanctions == chosen.sanctions for other in found)


def _main_event(valid: list[Candidate]) -> Candidate:
    """The first sentence's most specific act; a refusal there gives way to what the refusal caused.

    "Council fails to agree on exemptions" followed by "so they lapse and the ban is restored": the lapse
    (an imposition) is the news, the failed vote its cause (convention 5)."""
    chosen = min(valid, key=lambda candidate: candidate.sort_key)
    if chosen.modality == "negated" and chosen.rule.event_type == "sanctions_eased":
        lapses = [c for c in valid if c.rule.id == "sanctions_imposed.lapse" and c.modality == "asserted"]
        if lapses:
            return replace(lapses[0], actors=lapses[0].actors or chosen.actors)
    return chosen


def _on_topic(title: str, summary: str) -> bool:
    lowered = title.lower() + " " + summary.lower()
    if any(key in lowered for key in R.TOPIC_KEYS):
        return True
    return ("IEA" in title or "IEA" in summary) and bool(R.TOPIC.search(title + " " + summary))


def _no_event(found: Sequence[Candidate]) -> Decision:
    """Nothing valid: say why, citing the rejected trigger nearest the title."""
    for reason in ("taliban_actor", "other_target", "speculative", "not_relevant"):
        rejected = [candidate for candidate in found if candidate.reject == reason]
        if rejected:
            first = min(rejected, key=lambda candidate: candidate.sort_key)
            evidence = Evidence(
                first.sentence,
                first.rule.id,
                (f"rejected:{reason}", *first.cues),
                first.actors[0].text if first.actors else None,
            )
            return Decision(False, None, None, None, None, 0.8, evidence, reason)
    return Decision(False, None, None, None, None, 0.9, None, "not_relevant")


def _candidates(
    index: int,
    text: str,
    published: datetime.date | None,
    legislative: bool = False,
    headline_target: bool = False,
) -> list[Candidate]:
    folded = text.lower()
    lowered = " " + folded
    present = {key for key in _KEYS if key in lowered}
    plausible = [rule for rule in R.RULES if not present.isdisjoint(rule.keys)]
    matches = [
        (rule, match.start(), match.end()) for rule in plausible for match in _triggers(rule, text, folded)
    ]
    if not matches:
        return []
    matches.sort(key=lambda item: -item[0].priority)
    kept: list[tuple[R.Rule, int, int]] = []
    for rule, start, end in matches:
        # An overlapping, more specific rule has already claimed these words.
        if all(end <= other_start or start >= other_end for _rule, other_start, other_end in kept):
            kept.append((rule, start, end))
    mentions = find_mentions(text)
    return [
        _evaluate(
            Candidate(
                rule, index, text, start, end, legislative=legislative, headline_target=headline_target
            ),
            mentions,
            published,
        )
        for rule, start, end in kept
    ]


def _triggers(rule: R.Rule, text: str, folded: str) -> Iterator[re.Match[str]]:
    """The rule's matches; only their spans are used, so on ASCII text the lower-cased copy serves."""
    if text.isascii():
        return _FOLDED[rule.id].finditer(folded)
    return rule.pattern.finditer(text)


def _cue_matches(cue: _Cue, text: str) -> Iterator[re.Match[str]]:
    """A cue pattern's matches, via its fast twin on ASCII text: slice `text` by their spans for
    the words as written (the twin's `group()` is lower-cased)."""
    if text.isascii():
        return cue.twin.finditer(text.lower())
    return cue.pattern.finditer(text)


def _cue(cue: _Cue, text: str) -> str | None:
    """The first match of a cue pattern, as written in `text`."""
    match = next(_cue_matches(cue, text), None)
    return text[match.start() : match.end()] if match else None


def _blank_pseudo_negations(text: str) -> str:
    """`PSEUDO_NEGATION.sub(" ", text)`, by the fast twin's spans."""
    pieces, last = [], 0
    for match in _cue_matches(_PSEUDO_NEGATION, text):
        pieces += [text[last : match.start()], " "]
        last = match.end()
    return "".join(pieces) + text[last:]


def _evaluate(candidate: Candidate, mentions: list[Mention], published: datetime.date | None) -> Candidate:
    """Fill in roles, modality and history; the clause bounds are found once and shared."""
    text = candidate.sentence
    clause = _clause_start(text, candidate.start)
    _set_actor(candidate, mentions)
    if candidate.reject:
        return candidate
    asked = next((m for m in candidate.actors if R.APPEAL_TO.search(text, 0, m.start)), None)
    if asked:  # "Oxfam urged the US to ... saying the new licence ...": an appeal to the US, not its step
        candidate.reject = "not_relevant"
        candidate.cues += (f"appeal_to:{asked.text}",)
        return candidate
    clause_end = _clause_end(text, candidate.end)
    after = _first_words(text[candidate.end : clause_end], 12)
    _set_modality(candidate, clause, after)
    if candidate.actor_from == "host" and candidate.modality != "asserted" and not candidate.reject:
        candidate.reject = "taliban_actor"  # the Taliban plan a posting; no host has acted yet
    _set_history(candidate, text[clause : candidate.end] + after, candidate.start - clause, published)
    candidate.subordinate = bool(R.SUBORDINATE.match(text, clause))
    target = _target(candidate, mentions, clause, clause_end) if not candidate.reject else "ok"
    if target != "ok":
        candidate.reject = target  # type: ignore[assignment]
        candidate.cues += ("target:none",) if target == "not_relevant" else ()
    candidate.act = _act(candidate, text[clause:clause_end])
    offshore = candidate.act == "kabul_mission" and R.OFFSHORE.search(text, candidate.end, clause_end + 40)
    if offshore and not candidate.reject:
        candidate.reject = "not_relevant"  # an envoy for Afghanistan posted elsewhere is no step in Kabul
        candidate.cues += (f"offshore:{offshore.group()}",)
    immigration = _immigration_ban(candidate, mentions, after)
    if immigration and not candidate.reject:
        candidate.reject = "not_relevant"  # a ban on a country's travellers, not on its rulers
        candidate.cues += (f"immigration:{immigration}",)
    if _own_posting(candidate, mentions) and not candidate.reject:
        # "The Taliban have sent envoys to a dozen capitals", "... await Japanese approval": their own
        # step, with no host named, or the host yet to accept (convention 3)
        candidate.reject = "taliban_actor"
    if candidate.act != "kabul_mission" and _sender_inside(candidate):
        # "it will accept a Syrian envoy": the named state sends; who accepts is not named as a host
        candidate.reject = "taliban_actor"
    if candidate.rule.attached_actor and not candidate.reject and not _attached(candidate):
        candidate.reject = "not_relevant"  # "threatens the US ... if sanctions continue": nobody acts
        candidate.cues += ("actor:not attached",)
    return candidate


def _own_posting(candidate: Candidate, mentions: list[Mention]) -> bool:
    """Do the Taliban post a diplomat abroad with no host named, or with the host yet to answer?"""
    if candidate.rule.event_type != "diplomatic_upgrade" or candidate.actor_from == "subject":
        return False
    taliban_first = any(m.kind == "taliban" and m.end <= candidate.start for m in mentions)
    unanswered = not candidate.actors and candidate.act == "taliban_mission"
    return taliban_first and (unanswered or bool(R.AWAITING.search(candidate.sentence, candidate.end)))


def _entry_anaphor(candidate: Candidate) -> bool:
    """Does a summary's sanctions step name its object only by count ("deleted one name from Annex I")?"""
    text = candidate.sentence
    window = text[candidate.start : candidate.end] + _first_words(text[candidate.end :], 8)
    return candidate.index > 0 and candidate.sanctions and bool(R.ENTRY_ANAPHOR.search(window))


def _immigration_ban(candidate: Candidate, mentions: list[Mention], after: str) -> str | None:
    """A travel or entry ban told as immigration policy ("travel ban proclamation", "countries facing entry
    curbs"), or aimed at the country alone ("adds Afghanistan to travel ban list"): its targets are the
    country's people (convention 4); a ban on the Taliban or its officials names them."""
    window = candidate.sentence[candidate.start : candidate.end + len(after)]
    if not candidate.sanctions or not R.BAN_WORDS.search(window):
        return None
    match = R.IMMIGRATION.search(candidate.sentence)
    if match:
        return match.group()
    named = {m.kind for m in mentions if m.kind in TARGET_KINDS}  # "Afghanistan back on US travel ban list"
    return "country" if named == {"afghanistan"} else None


def _sender_inside(candidate: Candidate) -> bool:
    """Is the only state named inside an accepting trigger the envoy's own ("accept a Syrian envoy")?"""
    return candidate.rule.id == "upgrade.accept" and any(
        candidate.start < mention.start < candidate.end for mention in candidate.actors
    )


def _attached(candidate: Candidate) -> bool:
    """Is the actor attached to a bare noun trigger ("US sanctions", "EU's new sanctions", "sanctions by
    the US")?"""
    if candidate.actor_from == "by":
        return True
    if candidate.actor_from != "subject":
        return False
    between = candidate.sentence[candidate.actors[-1].end : candidate.start]
    return "," not in between and _words(between) <= 3 and not R.CLAUSE_LINK.search(between)


def _act(candidate: Candidate, clause: str) -> str:
    """The kind of step: a rule's own, turned by the direction of a diplomatic step or the list named."""
    rule = candidate.rule
    if rule.event_type == "diplomatic_upgrade":
        before = candidate.sentence[max(0, candidate.start - 60) : candidate.start]
        receiving = rule.id == "upgrade.accept" or (
            rule.id == "upgrade.credentials" and R.RECEIVING.match(candidate.sentence, candidate.start)
        )
        if receiving and R.TALIBAN_RECEIVES.search(before):
            return "kabul_mission"  # the Taliban receive the actor's envoy in Kabul
        if receiving and rule.id == "upgrade.credentials":
            return "taliban_ambassador"  # "Putin receives the credentials of the Afghan ambassador"
        if R.INWARD.search(clause) or candidate.actor_from == "host":
            # "accepts a Taliban-appointed envoy", "the Afghan embassy in Berlin"
            return "taliban_ambassador" if R.AMBASSADOR.search(clause) else "taliban_mission"
        if R.OUTWARD.search(clause):
            return "kabul_mission"  # "its ambassador to Kabul", "reopens its embassy in Afghanistan"
        return rule.act
    if rule.event_type == "sanctions_eased" and rule.act in ("terror_delisting", "lifting"):
        # A state striking the movement itself off its list (not named leaders off the UN's) is the
        # one-off terrorist delisting: "Moscow hints at dropping sanctions against the Taliban".
        window = candidate.sentence[max(0, candidate.start - 12) : candidate.end + 30]
        movement = R.MOVEMENT_OBJECT.search(window) or R.BAN_ON_MOVEMENT.search(
            candidate.sentence, candidate.start, candidate.end
        )
        state = any(mention.kind == "state" for mention in candidate.actors)
        if R.TERROR_LIST.search(clause) or (movement and state):
            return "terror_delisting"
        return "lifting"
    if rule.id == "sanctions_imposed.freeze" and any(m.kind == "bank" for m in find_mentions(clause)):
        return "reserves_freeze"  # the central bank's reserves: frozen once, in August 2021
    return rule.act


def _clause_start(text: str, position: int) -> int:
    start = 0
    for match in R.CLAUSE_BREAK.finditer(text, 0, position):
        start = match.start()
    return start


def _clause_end(text: str, position: int) -> int:
    match = R.CLAUSE_BREAK.search(text, position)
    return match.start() if match else len(text)


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _last_words(text: str, count: int) -> str:
    # Words read the same backwards, so the last words are the first words of the reversed text.
    match = _FIRST_WORDS[count].match(text[::-1])
    return text[len(text) - match.end() :] if match else text


def _first_words(text: str, count: int) -> str:
    match = _FIRST_WORDS[count].match(text)
    return text[: match.end()] if match else text


def _set_actor(candidate: Candidate, mentions: list[Mention]) -> None:
    """The actor: a name on the measure itself, "by X" after a passive trigger, the subject left of it, else
    any state in the sentence, the host of a Taliban posting, or the owner of a mission."""
    for find in (_actor_attached, _actor_by, _actor_subject, _actor_elsewhere):
        found = find(candidate, mentions)
        if found is not None:
            mention, candidate.actor_from = found
            if candidate.actor_from == "taliban":  # the Taliban act: never our event (convention 3)
                candidate.actors, candidate.reject = (mention,), "taliban_actor"
            elif candidate.actor_from == "subject":
                candidate.actors = _coordinated(mentions, mentions.index(mention), candidate.sentence)
            else:
                candidate.actors = (mention,)
            return


_Found = tuple[Mention, str] | None


def _actor_attached(candidate: Candidate, mentions: list[Mention]) -> _Found:
    """A name right on the measure: "hit with a Swiss asset freeze", "the EU's new sanctions"."""
    text, start = candidate.sentence, candidate.start
    for mention in mentions:
        if mention.end <= start and R.MODIFIER_GAP.fullmatch(text[mention.end : start]):
            return (mention, "subject") if mention.kind in ACTOR_KINDS else None
    return None


def _actor_by(candidate: Candidate, mentions: list[Mention]) -> _Found:
    text, end = candidate.sentence, candidate.end
    for mention in mentions:
        if mention.start < end or _words(text[end : mention.start]) > 5:
            continue
        if mention.kind in ACTOR_KINDS and _BY.search(text[end : mention.start]):
            return mention, "by"
        if mention.kind in REVERSED_KINDS and _AGENT.fullmatch(text[end : mention.start]):
            return mention, "taliban"  # "Syria's new government recognised by the Taliban"
    return None


def _actor_subject(candidate: Candidate, mentions: list[Mention]) -> _Found:
    text, start = candidate.sentence, candidate.start
    coordinated = False  # the trigger opens a second predicate of the sentence's first subject
    for mention in reversed(mentions):
        if mention.end > start:
            continue
        if mention.kind in ACTOR_KINDS and R.COORDINATED_PREDICATE.fullmatch(text[mention.end : start]):
            coordinated = True  # "Taliban recognise the Syrian government, name envoy": Syria is an object
            continue
        if mention.kind in ACTOR_KINDS and _may_be_subject(text, mention, start):
            return mention, "subject"
        if mention.kind in REVERSED_KINDS and (coordinated or _is_subject(candidate, mention)):
            return mention, "taliban"
    return None


def _actor_elsewhere(candidate: Candidate, mentions: list[Mention]) -> _Found:
    text = candidate.sentence
    for mention in mentions:
        if (
            mention.kind in ACTOR_KINDS
            and not _object_of(text, mention)
            and not R.SPONSOR_NOUN.match(text, mention.end)
        ):
            return mention, "sentence"
    host = _host(candidate, mentions)
    if host is not None:
        return host, "host"
    if candidate.rule.event_type == "diplomatic_upgrade":
        for mention in mentions:
            if mention.kind == "state" and R.OWNER_BEFORE.search(text[: mention.start]):
                return mention, "subject"  # "the Embassy of India" in Kabul
    for mention in mentions:
        if mention.kind in ACTOR_KINDS and candidate.start <= mention.start and mention.end <= candidate.end:
            return (
                mention,
                "sentence",
            )  # the trigger names its author: "Continuation of the National Emergency"
    return None


def _host(candidate: Candidate, mentions: list[Mention]) -> Mention | None:
    """The state receiving a Taliban diplomat: "Taliban envoy arrives in India" -> India acts (it accepts).

    Only for steps the Taliban take abroad (sending, arriving, taking charge of a mission); an
    international body is no host (a UN seat is a credentials question, not a mission)."""
    if not candidate.rule.taliban_subject:
        return None
    text = candidate.sentence
    for mention in mentions:
        if mention.start < candidate.start or mention.kind != "state":
            continue
        if R.POSSESSIVE_AFTER.match(text, mention.end) and mention.end <= candidate.end:
            return mention  # the owner of the list or mission: "from Turkmenistan's list"
        if R.HOST_BEFORE.search(text[max(candidate.start, mention.start - 40) : mention.start]):
            return mention  # "arrives in India", "the Afghan consulate in Dubai reopens"
    return None


def _may_be_subject(text: str, mention: Mention, trigger_start: int) -> bool:
    """ "the government in Damascus and would send" is a place; "from Russia, which recognised" is not."""
    if R.SPONSOR_NOUN.match(text, mention.end):
        return False  # "adopted a US proposal": the sponsor of a text, not who acts
    if R.FOLLOWED_BEFORE.search(text[max(0, mention.start - 20) : mention.start]):
        return False  # "Burkina Faso follows Mali in recognising": Mali went first
    if not _object_of(text, mention):
        return True
    return bool(_RELATIVE.match(text[mention.end : trigger_start]))


def _is_subject(candidate: Candidate, mention: Mention) -> bool:
    """Is this Taliban-side mention the one doing the act (reverse direction)?"""
    between = candidate.sentence[mention.end : candidate.start]
    if candidate.rule.taliban_subject or R.PREPOSITION_BEFORE.search(candidate.sentence[: mention.start]):
        return False
    if candidate.rule.nominal and (not between.strip(" -") or R.MODIFIER_RUN.match(between)):
        return False  # a modifier: "Taliban sanctions", "Taliban ambassador", "Taliban travel ban waiver"
    if R.MODIFIED_NOUN.match(between):
        return (
            False  # "denies Taliban claim it recognised ...", "accepted a Taliban envoy and recognised ..."
        )
    return "," not in between and _words(between) <= 5


def _coordinated(mentions: list[Mention], position: int, text: str) -> tuple[Mention, ...]:
    """ "China, the UAE and Kazakhstan accepted ...": every coordinated actor."""
    actors = [mentions[position]]
    while position > 0:
        previous = mentions[position - 1]
        if previous.kind not in ACTOR_KINDS or not _COORDINATION.fullmatch(
            text[previous.end : actors[-1].start]
        ):
            break
        actors.append(previous)
        position -= 1
    return tuple(reversed(actors))  # in the order the text names them


def _target(candidate: Candidate, mentions: list[Mention], clause: int, clause_end: int) -> Reason | str:
    """ "ok" when the act is aimed at the Taliban or Afghanistan; else why not."""
    text = candidate.sentence
    subject_end = max((m.end for m in candidate.actors if m.end <= candidate.start), default=clause)
    # Nouns take their target from anywhere in the clause: "left the Taliban without UN recognition".
    left = clause if candidate.rule.nominal else max(subject_end, clause)
    if candidate.rule.nominal and _names_other_object(candidate, mentions):
        return "other_target"  # "the Taliban welcome France's recognition of Palestine"
    verdict = _target_within(candidate, mentions, left) or _target_after(candidate, mentions, clause_end)
    if verdict:
        return verdict
    if candidate.sanctions and R.REGIME.search(text):
        return "ok"  # "extends the mandate of the team supporting the 1988 Sanctions Committee"
    if candidate.rule.nominal and R.NAMED_OBJECT.match(text, candidate.end):
        return "other_target"  # "sanctions on Rosneft": a named object that is not ours
    headline_target = any(
        _is_target(m, text) and not R.PLACE_BEFORE.search(text[max(0, m.start - 20) : m.start])
        for m in mentions
    )
    if candidate.index == 0 and candidate.rule.nominal and headline_target:
        return (
            "ok"  # a headline's noun takes its target from the headline: "India declines formal recognition"
        )
    if any(
        _is_target(m, text)
        and R.SUFFERS.search(text[m.end : candidate.start])
        and not R.PEOPLE.search(text[m.end : candidate.start])
        for m in mentions
        if m.end <= candidate.start
    ):
        return "ok"  # "Taliban deputy minister hit with a Swiss asset freeze"
    if candidate.headline_target and _entry_anaphor(candidate):
        return "ok"  # "Brussels deleted one name from Annex I" under "... amends Afghanistan sanctions list"
    # No object after the trigger ("recognise them", "upgraded its mission") but the Taliban named before.
    named = any(m.kind in TARGET_KINDS for m in mentions if m.end <= candidate.start)
    if named and (
        R.OBJECT_PRONOUN.match(text[candidate.end :]) or candidate.rule.event_type != "sanctions_imposed"
    ):
        return "ok"
    return "not_relevant"


def _target_within(candidate: Candidate, mentions: list[Mention], left: int) -> str | None:
    """The first target-like name between the subject and the trigger's end decides, if any does:
    "added an ISIS-K recruiter operating in Afghanistan" is another target."""
    text = candidate.sentence
    for mention in mentions:
        if not (left <= mention.start and mention.end <= candidate.end) or mention.kind == "region":
            continue
        if mention.kind == "other":
            return "other_target"
        sanctioned_state = (
            mention.kind == "state"
            and candidate.sanctions
            and mention.code not in {actor.code for actor in candidate.actors}
            and mention.start > candidate.start
        )
        if sanctioned_state:
            return "other_target"  # "lifted Syria sanctions": another state's measures
        if mention.kind not in (*TARGET_KINDS, "afghan"):
            continue
        if R.PEOPLE.search(text[mention.end : candidate.start]):
            continue  # "Afghanistan is among 12 countries whose nationals face an entry ban"
        place = candidate.sanctions and R.PLACE_BEFORE.search(
            text[max(0, mention.start - 20) : mention.start]
        )  # "a recruiter operating in Afghanistan"; for a mission, "in Kabul" is the point
        if _is_target(mention, text) and not place:
            return "ok"
    return None


def _target_after(candidate: Candidate, mentions: list[Mention], clause_end: int) -> str | None:
    """The first name after the trigger, within its clause: ours, another target, or none."""
    text, end = candidate.sentence, candidate.end
    own = {mention.code for mention in candidate.actors}
    limit = min(clause_end, _object_limit(text, end))
    for mention in mentions:
        if mention.start < end or mention.kind == "region" or (mention.code and mention.code in own):
            continue
        if mention.start > limit:
            break
        if R.DESTINATION_BEFORE.search(text[end : mention.start]):
            continue  # "an exemption to visit New Delhi": where the act leads, not at whom it is aimed
        if mention.kind in ACTOR_KINDS and R.VENUE_AFTER.match(text, mention.end):
            continue  # "an exemption for the Moscow forum": where a meeting is held
        if mention.kind in ACTOR_KINDS and R.ISSUER_BEFORE.search(text[end : mention.start]):
            continue  # "a waiver from the UN travel ban": who issued the measure
        if mention.kind in ACTOR_KINDS and R.OWNER_BEFORE.search(text[: mention.start]):
            continue  # "to the Embassy of India": whose mission it is
        if candidate.sanctions and R.SUPPLY_BEFORE.search(text, end, mention.start):
            continue  # "a fuel network supplying Afghanistan": the network is the target
        if _is_target(mention, text) and not R.PEOPLE.search(text[end : mention.start]):
            return "ok"
        if mention.kind == "afghan":
            continue  # the bare demonym of people or things: neither ours nor another target
        return "other_target"
    return None


def _object_limit(text: str, end: int) -> int:
    """Where the object of a trigger ending at `end` must be named: within 12 words, a sum of money
    counting as one ("reward offers of up to $10 million each for information on Taliban ministers")."""
    if "$" not in text[end : end + 160]:
        return end + len(_first_words(text[end:], 12))
    count = 12 + sum(_words(match.group()) - 1 for match in R.MONEY.finditer(text, end, end + 160))
    ends = [word.end() for _number, word in zip(range(count), _WORD.finditer(text, end), strict=False)]
    return ends[-1] if len(ends) == count else len(text)


def _names_other_object(candidate: Candidate, mentions: list[Mention]) -> bool:
    """A noun trigger whose "of"/"for" object is named and is not ours."""
    text = candidate.sentence
    granted_to = candidate.rule.event_type == "recognition" and R.GRANTED_TO.match(text, candidate.end)
    if not (R.NOUN_OBJECT.match(text, candidate.end) or granted_to):
        return False
    following = next((m for m in mentions if m.start >= candidate.end), None)
    return (
        following is not None
        and following.start - candidate.end <= 24
        and not _is_target(following, text)
        and following.kind in ("other", "state")
    )


def _is_target(mention: Mention, text: str) -> bool:
    """The Taliban or Afghanistan's state, never its people ("Afghan nationals", "Afghanistan citizens");
    the bare demonym counts where it qualifies a measure ("Afghan sanctions", "frozen Afghan funds")."""
    following = text[mention.end : mention.end + 40]
    if mention.kind == "afghan":
        return bool(R.STATE_NOUN_AFTER.match(following))
    if mention.kind == "kabul" and R.KABUL_PLACE_AFTER.match(following):
        return False
    if mention.kind in ("afghanistan", "kabul") and R.TRADE_AFTER.match(following):
        return False  # "Afghanistan transit trade": a market or a route
    return mention.kind in TARGET_KINDS and not R.PEOPLE_AFTER.match(following)


def _set_modality(candidate: Candidate, clause: int, after: str) -> None:
    """`after`: the first words of the clause after the trigger."""
    text = candidate.sentence
    raw_before = _last_words(text[clause : candidate.start], 10)
    double = R.DOUBLE_NEGATION.search(raw_before)
    if double:  # "does not rule out recognising": still under consideration
        candidate.modality = "planned"
        candidate.cues = (f"planned:{double.group()}",)
        return
    before = _blank_pseudo_negations(raw_before)
    interested = candidate.actors and _interested_source(text[: candidate.start])
    reported = _cue(_REPORTED, before) or interested
    candidate.cues = (f"reported:{reported.strip()}",) if reported else ()
    candidate.cues += ("source:interested",) if interested else ()
    # A claim answered by a denial later in the sentence ("Taliban say X recognised them; X denies").
    denied = reported and R.LATER_DENIAL.search(text, candidate.start)
    if candidate.rule.cause_negated:
        before, after = "", ""
    negation = _cue(_NEGATION, before) or _cue(_NEGATION_AFTER, after) or (denied.group() if denied else None)
    if negation:
        candidate.modality = "negated"
        candidate.cues += (f"negation:{negation}",)
        return
    opinion = R.OPINION_AFTER.match(after)
    if opinion:  # "a waiver is necessary": someone's view of a measure, not a step
        candidate.reject = "speculative"
        candidate.cues += (f"opinion:{opinion.group().strip()}",)
        return
    gerund = not before.strip() and R.GERUND.match(text, candidate.start)
    hypothetical = (candidate.rule.nominal or gerund) and R.HYPOTHETICAL_AFTER.match(after)
    bill = R.BILL.search(text)
    if bill and (candidate.legislative or R.LEGISLATORS.search(text)):
        candidate.reject = "not_relevant"  # a legislators' bill, not an executive plan (convention 4)
        candidate.cues += (f"bill:{bill.group()}",)
        return
    speculation = (
        _cue(_SPECULATION, before) or _cue(_SPECULATION, after) or (hypothetical and hypothetical.group())
    )
    if speculation:  # "unclear whether", "will decide", "will have to ... sooner or later"
        candidate.reject = "speculative"
        candidate.cues += (f"speculation:{speculation}",)
        return
    sought = candidate.rule.event_type == "recognition" and R.SOUGHT.search(before)
    if sought:  # the Taliban's "case for recognition": nobody grants anything
        candidate.reject = "taliban_actor"
        candidate.cues += (f"sought:{sought.group().strip()}",)
        return
    appeal = _cue(_APPEAL, before)
    if appeal:
        candidate.reject = "not_relevant"
        candidate.cues += (f"appeal:{appeal}",)
        return
    planned = _planned_cue(candidate, before, after)
    if planned == "question":
        # "Will X recognise the Taliban?" is speculation, not a step by X; a question that also carries an
        # intent cue ("Is X about to...", "weighing") is caught as planned above.
        candidate.reject = "speculative"
        candidate.cues += ("question",)
        return
    if planned:
        candidate.modality = "planned"
        candidate.cues += (f"planned:{planned}",)


def _interested_source(text: str) -> str | None:
    """ "Taliban say ...", or a Taliban speaker before a colon ("Mujahid: X has recognised ...")."""
    match = R.INTERESTED_SOURCE.search(text)
    if match:
        return match.group()
    speaker = R.SPEAKER.match(text)
    if speaker and any(mention.kind == "taliban" for mention in find_mentions(speaker.group(1))):
        return speaker.group()
    return None


def _unconfirmed(chosen: Candidate, texts: list[str]) -> str | None:
    """An interested party's claim that the item then says nobody confirmed ("X officials did not
    comment"): the Taliban's word alone, no step of X."""
    if "source:interested" not in chosen.cues:
        return None
    rest = " ".join([chosen.sentence[chosen.end :], *texts[chosen.index + 1 :]])
    match = R.UNCONFIRMED.search(rest)
    return match.group() if match else None


def _planned_cue(candidate: Candidate, before: str, after: str) -> str | None:
    text = candidate.sentence
    question = text.endswith("?") or R.QUESTION_START.match(text)
    if question:  # the question's auxiliary ("Will X recognise...?") is no intent cue
        before = R.QUESTION_START.sub("", before.lstrip(), count=1)
    match = R.PLANNED.search(before) or R.PLANNED.match(text, candidate.start)  # case matters ("May")
    if match:  # the trigger's own first word may be the intent: "threatens the Taliban with sanctions"
        return match.group()
    planned_after = _cue(_PLANNED_AFTER, after)
    if planned_after:
        return planned_after
    if question:
        return "question"
    headline = candidate.index == 0 and candidate.actor_from == "subject"
    if headline and R.HEADLINE_FUTURE.match(text[candidate.actors[-1].end : candidate.start]):
        return "to (headline)"
    return None


def _set_history(candidate: Candidate, window: str, trigger: int, published: datetime.date | None) -> None:
    """`window`: the clause up to the trigger and the first words after it; `trigger`: where it starts.

    A cue inside the trigger's own words is the act itself ("exemptions, which expired"); a cue in a
    "who" clause after it tells of the person ("sanctions on an official who resigned"), not of the act."""
    span_end = trigger + candidate.end - candidate.start
    person = _PERSON_RELATIVE.search(window, span_end)
    about_act = window[: person.start()] if person else window
    candidate.past = tuple(
        about_act[match.start() : match.end()]
        for match in _cue_matches(_PAST, about_act)
        if not _aside_of_actor(about_act, match, trigger) and not trigger <= match.start() < span_end
    )
    candidate.ongoing = tuple(
        about_act[match.start() : match.end()]
        for match in _cue_matches(_ONGOING, about_act)
        # "extends the emergency, keeping assets blocked": keeping is the renewal's effect, not the news
        if not (R.KEEP_CUE.match(about_act[match.start() : match.end()]) and match.start() >= span_end)
    )
    candidate.dated = tuple(
        about_act[match.start() : match.end()]
        for match in _cue_matches(_DATED, about_act)
        if _is_past(match, published)  # reads the month case-blind
    )


def _aside_of_actor(window: str, match: re.Match[str], trigger: int) -> bool:
    """A relative clause closed before the trigger describes the actor, not the act:
    "Noor, who accompanied the visit, arrived in Delhi"."""
    return bool(
        match.end() < trigger
        and "," in window[match.end() : trigger]
        and _RELATIVE_CUE.match(window, match.start())
    )


def _is_past(match: re.Match[str], published: datetime.date | None) -> bool:
    month_name, year_text, bare_month = match.groups()
    month = R.MONTH_NUMBER.get((month_name or bare_month or "").lower())
    if published is None:
        return True
    if year_text is None:
        return month is not None and month < published.month
    year = int(year_text)
    return year < published.year or (year == published.year and month is not None and month < published.month)


def _fill_actor(chosen: Candidate, valid: list[Candidate], texts: list[str]) -> Candidate:
    """No subject in the deciding sentence: borrow it from a sentence about the same act."""
    if chosen.actor_from in ("subject", "by", "host"):
        return chosen
    for other in valid:
        if other.rule.event_type == chosen.rule.event_type and other.actor_from in ("subject", "by", "host"):
            return replace(chosen, actors=other.actors, actor_from="item")
    if chosen.actors:
        return chosen
    regime = _regime_named(texts) if chosen.sanctions else None
    if regime is not None:
        return replace(chosen, actors=(regime,), actor_from="item")  # "the 1988 travel ban": the UN's
    for text in texts:
        for mention in find_mentions(text):
            if mention.kind in ACTOR_KINDS and not _object_of_preposition(text, mention):
                return replace(chosen, actors=(mention,), actor_from="item")
    return chosen


def _regime_named(texts: list[str]) -> Mention | None:
    """The UN, as the owner of the 1988 regime named somewhere in the item."""
    for text in texts:
        match = R.REGIME.search(text)
        if match:
            return Mention(match.start(), match.end(), match.group(), "body", "UN")
    return None


def _object_of_preposition(text: str, mention: Mention) -> bool:
    """ "to Doha", and "Beijing" in "trips to Doha and Beijing": a place, not who acts."""
    before = text[: mention.start]
    return _object_of(text, mention) or bool(R.COORDINATED_OBJECT_BEFORE.search(before))


def _object_of(text: str, mention: Mention) -> bool:
    """Is the name a preposition's object ("to Doha")? Not when it owns an organ: "the Supreme Court of
    Kyrgyzstan" is Kyrgyzstan acting."""
    before = text[max(0, mention.start - 60) : mention.start]
    return bool(R.PREPOSITION_BEFORE.search(before)) and not R.ORGAN_OF.search(before)


def _decide(
    chosen: Candidate, valid: list[Candidate], baseline: Baseline, title: str, background: str | None = None
) -> Decision:
    event_type = chosen.rule.event_type
    novel, reason, actor, cues = True, None, chosen.codes[0] if chosen.codes else None, list(chosen.cues)
    if chosen.modality != "negated":
        verdicts = [
            (code, _novelty(chosen, code, valid, baseline, title, background)) for code in chosen.codes
        ]
        if verdicts:
            # The actor making news: one the baseline does not know, else any new act, else the first named.
            unknown = [
                item for item in verdicts if item[1][0] is None and not baseline.knows(item[0], event_type)
            ]
            actor, (reason, history) = next(
                iter(unknown), next((item for item in verdicts if item[1][0] is None), verdicts[0])
            )
            cues += history
            novel = reason is None
    else:
        reason = "negated"
    cues += [f"act:{chosen.act}"] + [f"also:{code}" for code in chosen.codes if code != actor]
    alert = novel and chosen.modality != "negated"
    actor_text = next((mention.text for mention in chosen.actors if mention.code == actor), None)
    evidence = Evidence(chosen.sentence, chosen.rule.id, tuple(cues), actor_text)
    return Decision(
        alert,
        event_type,
        actor,
        chosen.modality,
        novel,
        _confidence(chosen, valid, actor),
        evidence,
        None if alert else reason,
        chosen.act or None,
    )


def _novelty(
    chosen: Candidate,
    code: str,
    valid: list[Candidate],
    baseline: Baseline,
    title: str,
    background: str | None = None,
) -> tuple[Reason | None, list[str]]:
    """None when new; else restatement (a known fact again) or historical (background, not the news).

    `background`: why the act, told only in the summary, is context for another story (`_background`)."""
    event_type = chosen.rule.event_type
    known = baseline.one_off(code, event_type, chosen.act)
    if known is not None:  # a one-off fact happens once: any report of it, in any tense, is the fact again
        return "restatement", [f"baseline:{code} {event_type} ({known.act}, one-off)"]
    if chosen.modality == "planned":
        return ("historical", [f"background:{background}"]) if background else (None, [])
    if baseline.knows(code, event_type, chosen.act):
        same = [c for c in valid if c.rule.event_type == event_type and (code in c.codes or not c.codes)]
        told_as_old = [cue for c in same for cue in (*c.past, *c.dated, *c.ongoing)]
        told_as_old += ["standing state" for c in same if c.rule.standing]
        genre = R.GENRE_HISTORY.search(title)
        told_as_old += [genre.group()] if genre else []
        if told_as_old or event_type == "recognition" or chosen.rule.standing:
            return "restatement", [
                f"baseline:{code} {event_type}",
                *(f"history:{cue}" for cue in told_as_old),
            ]
    # An act the baseline lacks is news even when told as past ("Belarus lifted its ban last year"):
    # novelty is against the baseline (convention 1). Only an aside is background ("Pakistan, which
    # recognised the Taliban in 1997, hosts a fair"), and a standing state is no act at all.
    asides = [cue for cue in chosen.past if _RELATIVE_CUE.match(cue) or chosen.subordinate]
    genre = R.GENRE_HISTORY.search(title)
    asides += [genre.group()] if genre else []  # an explainer describes a state of affairs
    if asides or chosen.rule.standing:
        return "historical", [f"history:{cue}" for cue in asides or ("standing state",)]
    if background:
        return "historical", [f"background:{background}"]
    unchanged = [cue for cue in chosen.ongoing if R.NO_CHANGE.match(cue)]
    if unchanged:  # "the UN travel ban remains in place": a state of affairs, not a change to it
        return "restatement", [f"history:{cue}" for cue in unchanged]
    return None, []


def _confidence(chosen: Candidate, valid: list[Candidate], actor: str | None) -> float:
    score = 0.92
    score -= 0.1 if chosen.index > 0 else 0.0  # summary-only evidence
    score -= 0.08 if chosen.rule.nominal else 0.0
    score -= 0.05 if chosen.rule.priority <= 4 else 0.0
    score -= 0.15 if chosen.modality == "planned" else 0.0
    score -= {"subject": 0.0, "by": 0.0, "sentence": 0.1, "host": 0.1, "item": 0.15}.get(
        chosen.actor_from, 0.35
    )
    score -= 0.35 if actor is None else 0.0
    score -= 0.2 if any(cue.startswith("reported:") for cue in chosen.cues) else 0.0
    corroborated = any(
        other.index != chosen.index
        and other.rule.event_type == chosen.rule.event_type
        and actor in other.codes
        for other in valid
    )
    score += 0.05 if corroborated else 0.0
    return round(min(0.99, max(0.05, score)), 3)
