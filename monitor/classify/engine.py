"""The classifier: trigger -> roles (actor, target) -> factuality -> novelty against the baseline.

Pure and I/O-free. Every decision carries its evidence: the sentence, the rule id and the cues.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from monitor.classify import rules as R
from monitor.classify.baseline import Baseline
from monitor.classify.gazetteer import ACTOR_KINDS, REVERSED_KINDS, TARGET_KINDS, Mention, find_mentions
from monitor.classify.text import normalise, sentences
from monitor.domain import Decision, Evidence, Modality, Reason

_WORD = re.compile(r"[\w'-]+")
_COORDINATION = re.compile(r"\s*(?:,|,?\s*and|&|as\s+well\s+as)\s*(?:the\s+)?", re.IGNORECASE)
_RELATIVE = re.compile(r"(?:'s\b|\s*,\s*(?:which|who)\b)", re.IGNORECASE)
_BY = re.compile(r"\bby\s+(?:the\s+)?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One trigger match in one sentence, with its roles and cues."""

    rule: R.Rule
    index: int  # sentence number; 0 is the title
    sentence: str
    start: int
    end: int
    actors: tuple[Mention, ...] = ()
    actor_from: str = "none"  # subject | by | sentence | item | none
    modality: Modality = "asserted"
    cues: tuple[str, ...] = ()
    past: tuple[str, ...] = ()  # explicit past-time cues: the event is history
    ongoing: tuple[str, ...] = ()  # state-of-affairs cues: "remain frozen", "first country to"
    reject: Reason | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(mention.code for mention in self.actors if mention.code)

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
    found = [
        candidate for index, text in enumerate(texts) for candidate in _candidates(index, text, published)
    ]
    valid = [candidate for candidate in found if candidate.reject is None]
    if not valid:
        return _no_event(found)
    # Sentences that name no target ("The assets frozen by Washington ...") still tell who and when.
    support = valid + [c for c in found if "target:none" in c.cues and c.index > 0]
    chosen = _fill_actor(min(valid, key=lambda candidate: candidate.sort_key), support, texts)
    if not chosen.codes:  # an act with nobody doing it ("Does the world need to recognise ...?")
        return _no_event([replace(chosen, reject="not_relevant", cues=(*chosen.cues, "actor:none"))])
    return _decide(chosen, support, baseline, texts[0])


def _on_topic(title: str, summary: str) -> bool:
    lowered = title.lower() + " " + summary.lower()
    if any(key in lowered for key in R.TOPIC_KEYS):
        return True
    return ("IEA" in title or "IEA" in summary) and bool(R.TOPIC.search(title + " " + summary))


def _no_event(found: Sequence[Candidate]) -> Decision:
    """Nothing valid: say why, citing the rejected trigger nearest the title."""
    for reason in ("taliban_actor", "other_target", "not_relevant"):
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


def _candidates(index: int, text: str, published: datetime.date | None) -> list[Candidate]:
    lowered = " " + text.lower()
    plausible = [rule for rule in R.RULES if any(key in lowered for key in rule.keys)]
    matches = [
        (rule, match.start(), match.end()) for rule in plausible for match in rule.pattern.finditer(text)
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
        _evaluate(Candidate(rule, index, text, start, end), mentions, published) for rule, start, end in kept
    ]


def _evaluate(candidate: Candidate, mentions: list[Mention], published: datetime.date | None) -> Candidate:
    clause = _clause_start(candidate.sentence, candidate.start)
    candidate = _with_actor(candidate, mentions)
    if candidate.reject:
        return candidate
    candidate = _with_history(_with_modality(candidate, clause), clause, published)
    target = _target(candidate, mentions, clause) if not candidate.reject else "ok"
    if target != "ok":
        cues = ("target:none",) if target == "not_relevant" else ()
        return replace(candidate, reject=target, cues=(*candidate.cues, *cues))  # type: ignore[arg-type]
    return candidate


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
    found = list(_WORD.finditer(text))
    return text[found[-count].start() :] if len(found) > count else text


def _first_words(text: str, count: int) -> str:
    found = list(_WORD.finditer(text))
    return text[: found[count - 1].end()] if len(found) > count else text


def _with_actor(candidate: Candidate, mentions: list[Mention]) -> Candidate:
    """The actor is the subject left of the trigger, or "by X" after a passive one."""
    text, start, end = candidate.sentence, candidate.start, candidate.end
    for mention in mentions:
        if mention.start < end or mention.kind not in ACTOR_KINDS or _words(text[end : mention.start]) > 5:
            continue
        if _BY.search(text[end : mention.start]):
            return replace(candidate, actors=(mention,), actor_from="by")
    for position in range(len(mentions) - 1, -1, -1):
        mention = mentions[position]
        if mention.end > start:
            continue
        if mention.kind in ACTOR_KINDS and _may_be_subject(text, mention, start):
            return replace(candidate, actors=_coordinated(mentions, position, text), actor_from="subject")
        if mention.kind in REVERSED_KINDS and _is_subject(candidate, mention):
            return replace(candidate, actors=(mention,), reject="taliban_actor")
    for mention in mentions:
        if mention.kind in ACTOR_KINDS and not R.PREPOSITION_BEFORE.search(text[: mention.start]):
            return replace(candidate, actors=(mention,), actor_from="sentence")
    return candidate


def _may_be_subject(text: str, mention: Mention, trigger_start: int) -> bool:
    """ "the government in Damascus and would send" is a place; "from Russia, which recognised" is not."""
    if not R.PREPOSITION_BEFORE.search(text[max(0, mention.start - 30) : mention.start]):
        return True
    return bool(_RELATIVE.match(text[mention.end : trigger_start]))


def _is_subject(candidate: Candidate, mention: Mention) -> bool:
    """Is this Taliban-side mention the one doing the act (reverse direction)?"""
    between = candidate.sentence[mention.end : candidate.start]
    if candidate.rule.taliban_subject or R.PREPOSITION_BEFORE.search(candidate.sentence[: mention.start]):
        return False
    if candidate.rule.nominal and not between.strip(" -"):
        return False  # a modifier: "Taliban sanctions", "Taliban ambassador"
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


def _target(candidate: Candidate, mentions: list[Mention], clause: int) -> Reason | str:
    """ "ok" when the act is aimed at the Taliban or Afghanistan; else why not."""
    text, end = candidate.sentence, candidate.end
    subject_end = max((m.end for m in candidate.actors if m.end <= candidate.start), default=clause)
    own = {mention.code for mention in candidate.actors}
    # Nouns take their target from anywhere in the clause: "left the Taliban without UN recognition".
    left = clause if candidate.rule.nominal else max(subject_end, clause)
    if any(m.kind in TARGET_KINDS and left <= m.start and m.end <= end for m in mentions):
        return "ok"
    limit = min(_clause_end(text, end), end + len(_first_words(text[end:], 12)))
    for mention in mentions:
        if mention.start < end or mention.kind == "region" or (mention.code and mention.code in own):
            continue
        if mention.start > limit:
            break
        if mention.kind in TARGET_KINDS and not R.PEOPLE.search(text[end : mention.start]):
            return "ok"
        return "other_target"
    # No object after the trigger ("recognise them", "upgraded its mission") but the Taliban named before.
    named = any(m.kind in TARGET_KINDS for m in mentions if m.end <= candidate.start)
    if named and (R.OBJECT_PRONOUN.match(text[end:]) or candidate.rule.event_type != "sanctions_imposed"):
        return "ok"
    return "not_relevant"


def _with_modality(candidate: Candidate, clause: int) -> Candidate:
    text = candidate.sentence
    before = R.PSEUDO_NEGATION.sub(" ", _last_words(text[clause : candidate.start], 10))
    after = _first_words(text[candidate.end : _clause_end(text, candidate.end)], 8)
    cues: list[str] = []
    reported = R.REPORTED.search(before) or (
        candidate.actors and R.INTERESTED_SOURCE.search(text[: candidate.start])
    )
    if reported:
        cues.append(f"reported:{reported.group().strip()}")
    negation = R.NEGATION.search(before) or R.NEGATION_AFTER.search(after)
    if negation:
        return replace(candidate, modality="negated", cues=(*cues, f"negation:{negation.group()}"))
    appeal = R.APPEAL.search(before)
    if appeal:
        return replace(candidate, reject="not_relevant", cues=(*cues, f"appeal:{appeal.group()}"))
    planned = _planned_cue(candidate, before, after)
    if planned:
        return replace(candidate, modality="planned", cues=(*cues, f"planned:{planned}"))
    return replace(candidate, cues=tuple(cues))


def _planned_cue(candidate: Candidate, before: str, after: str) -> str | None:
    text = candidate.sentence
    match = R.PLANNED.search(before) or R.PLANNED_AFTER.search(after)
    if match:
        return match.group()
    if text.endswith("?") or R.QUESTION_START.match(text):
        return "question"
    headline = candidate.index == 0 and candidate.actor_from == "subject"
    if headline and R.HEADLINE_FUTURE.match(text[candidate.actors[-1].end : candidate.start]):
        return "to (headline)"
    return None


def _with_history(candidate: Candidate, clause: int, published: datetime.date | None) -> Candidate:
    text = candidate.sentence
    window = text[clause : candidate.end] + _first_words(
        text[candidate.end : _clause_end(text, candidate.end)], 8
    )
    past = [match.group() for match in R.PAST.finditer(window)]
    past += [match.group() for match in R.DATED.finditer(window) if _is_past(match, published)]
    ongoing = [match.group() for match in R.ONGOING.finditer(window)]
    return replace(candidate, past=tuple(past), ongoing=tuple(ongoing))


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
    if chosen.actor_from in ("subject", "by"):
        return chosen
    for other in valid:
        if other.rule.event_type == chosen.rule.event_type and other.actor_from in ("subject", "by"):
            return replace(chosen, actors=other.actors, actor_from="item")
    if chosen.actors:
        return chosen
    for text in texts:
        for mention in find_mentions(text):
            if mention.kind in ACTOR_KINDS and not R.PREPOSITION_BEFORE.search(text[: mention.start]):
                return replace(chosen, actors=(mention,), actor_from="item")
    return chosen


def _decide(chosen: Candidate, valid: list[Candidate], baseline: Baseline, title: str) -> Decision:
    event_type = chosen.rule.event_type
    novel, reason, actor, cues = True, None, chosen.codes[0] if chosen.codes else None, list(chosen.cues)
    if chosen.modality == "asserted":
        verdicts = [(code, _novelty(chosen, code, valid, baseline, title)) for code in chosen.codes]
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
    elif chosen.modality == "negated":
        reason = "negated"
    cues += [f"also:{code}" for code in chosen.codes if code != actor]
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
    )


def _novelty(
    chosen: Candidate, code: str, valid: list[Candidate], baseline: Baseline, title: str
) -> tuple[Reason | None, list[str]]:
    """None when new; else restatement (a known fact told as old) or historical (an old, unknown one)."""
    event_type = chosen.rule.event_type
    if baseline.knows(code, event_type):
        same = [c for c in valid if c.rule.event_type == event_type and (code in c.codes or not c.codes)]
        told_as_old = [cue for c in same for cue in (*c.past, *c.ongoing)]
        told_as_old += ["standing state" for c in same if c.rule.standing]
        genre = R.GENRE_HISTORY.search(title)
        told_as_old += [genre.group()] if genre else []
        if told_as_old or event_type == "recognition" or chosen.rule.standing:
            return "restatement", [
                f"baseline:{code} {event_type}",
                *(f"history:{cue}" for cue in told_as_old),
            ]
    if chosen.past or chosen.rule.standing:
        return "historical", [f"history:{cue}" for cue in chosen.past or ("standing state",)]
    return None, []


def _confidence(chosen: Candidate, valid: list[Candidate], actor: str | None) -> float:
    score = 0.92
    score -= 0.1 if chosen.index > 0 else 0.0  # summary-only evidence
    score -= 0.08 if chosen.rule.nominal else 0.0
    score -= 0.05 if chosen.rule.priority <= 4 else 0.0
    score -= 0.15 if chosen.modality == "planned" else 0.0
    score -= {"subject": 0.0, "by": 0.0, "sentence": 0.1, "item": 0.15}.get(chosen.actor_from, 0.35)
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
