"""Trigger rules (one id each) and the cue lexicons for negation, intent, appeals and history.

Rules are written for the language of wire copy, not for particular items: each trigger is a
verb or noun family with its inflections, and each cue list follows NegEx/ConText
(see /work/shared/reference/event-coding.md, section 4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.classify.target import TARGET
from monitor.events import EventType

_I = re.IGNORECASE


def gap(words: int) -> str:
    """Up to `words` intervening words, lazily."""
    return rf"(?:[^\w;]+[\w'-]+){{0,{words}}}?[^\w;]+"  # never across a semicolon: another clause


_ESCAPE = re.compile(r"\\.")


def case_sensitive_twin(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """`pattern` without IGNORECASE, to run on lower-cased ASCII text, where it finds the same spans.

    A source with an upper-case literal would miss there, so it keeps its own pattern instead.
    """
    source = _ESCAPE.sub("", pattern.pattern)
    if any(char.isupper() for char in source) or "-i" in source or pattern.flags & re.LOCALE:
        return pattern
    return re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    event_type: EventType
    pattern: re.Pattern[str]
    priority: int  # the most specific rule in a sentence wins
    nominal: bool = False  # a noun, not a verb: "recognition of", "sanctions on"
    standing: bool = False  # describes a standing state ("its envoy in Kabul"), not a change
    taliban_subject: bool = False  # the Taliban are the grammatical subject ("take over the embassy")
    keys: tuple[str, ...] = ()  # lower-case substrings one of which any match contains: a cheap pre-check
    act: str = ""  # the kind of step (acts.py); for upgrades the direction may turn it (engine._act)
    # A negation before the trigger is the cause, not a denial ("failed to renew, so the exemptions lapse"):
    # only a negation inside the matched words ("did not lapse") counts.
    cause_negated: bool = False
    # A bare noun that says nothing of who acts unless the actor is attached to it ("US sanctions").
    attached_actor: bool = False


_SANCTION_NOUN = (
    r"(?:sanctions?(?!\s+(?:relief|exemptions?|waivers?|carve-?outs?))|restrictive\s+measures|asset\s+freezes?|travel[\s-]+bans?|visa\s+(?:restrictions|bans?)"
    r"|entry\s+bans?|penalties|embargo(?:es)?"
    # headline words for the measures: "EU rolls over Afghan curbs", "extends Taliban blacklist"
    r"|curbs|blacklist(?:s|ings?)?)"
)
# Headline verbs of approval: "Kazakhstan OKs Taliban envoy", "UN panel greenlights waiver".
_OK = r"(?:ok(?:s|ed|'d|'s|ay(?:s|ed|ing)?)|green-?light\w*|green-?lit)\b"
_SANCTION_KEYS = (
    "sanction",
    "measures",
    "freez",
    " ban",
    "-ban",
    "visa",
    "penalt",
    "embargo",
    "curbs",
    "blacklist",
)
# The movement's names (seeds/target.yaml), for the patterns that need them.
_MOVEMENT = TARGET.movement_pattern()
_MISSION = r"(?:embass(?:y|ies)|consulates?(?:\s+general)?|missions?|representation|office)"
_ENVOY = (
    r"(?:ambassadors?|(?<!special\s)(?<!hostage\s)(?<!peace\s)envoys?|charg[eé]s?\s+d'affaires|diplomats?|officials?|representatives?|consuls?"
    r"|(?:diplomatic|consular|embassy|Taliban-appointed|Taliban-nominated)\s+staff|nominees?"
    r"|consular\s+(?:staff|employees|officers|workers)|(?:first|second|third)\s+secretar(?:y|ies))"
)

RULES: tuple[Rule, ...] = (
    Rule(
        "recognition.verb",
        "recognition",
        re.compile(r"\brecogni[sz](?:e|es|ed|ing)\b", _I),
        9,
        keys=("recogni",),
        act="recognition",
    ),
    Rule(
        "recognition.relations",
        "recognition",
        re.compile(
            r"\bestablish(?:es|ed|ing|ment\s+of)?\s+(?:full\s+|formal\s+|official\s+)?diplomatic\s+(?:relations|ties)"
            r"|\bexchang\w*\s+ambassadors\b",
            _I,
        ),
        9,
        keys=("diplomatic", "exchang"),
        act="recognition",
    ),
    Rule(
        "recognition.noun",
        "recognition",
        re.compile(r"\brecognition\b", _I),
        7,
        nominal=True,
        keys=("recognition",),
        act="recognition",
    ),
    Rule(
        "upgrade.accept",
        "diplomatic_upgrade",
        re.compile(
            r"\b(?:(?:accept|accredit|admit|allow|approv|permit|authori[sz]|welcom)\w*|" + _OK + "|"
            r"host(?:s|ed|ing)?\b|let(?:s|ting)?\b"
            r"|(?:giv(?:e|es|en|ing)|gave)\s+(?:the\s+|its\s+)?(?:nod|go-?ahead|green\s+light)\s+to\b"
            # the host's consent to a nominee, the step before credentials: "gave agrément to the envoy"
            r"|agr[eé]ment\b|(?:giv(?:e|es|en|ing)|gave|grant\w*)\s+(?:[\w'-]+\s+)?(?:agreement|consent)\b)"
            + gap(5)
            + _ENVOY
            + r"\b",
            _I,
        ),
        8,
        keys=(
            "ambassador",
            "envoy",
            "charg",
            "diplomat",
            "official",
            "representative",
            "consul",
            "secretar",
            "staff",
            "nominee",
        ),
        act="taliban_mission",
    ),
    Rule(
        "upgrade.handover",
        "diplomatic_upgrade",
        re.compile(
            r"\b(?:hand(?:s|ed|ing)?|hand-?over\s+of|transferr?\w*|turn\w*\s+over)"
            + gap(5)
            + r"(?<!foreign\s)(?<!Foreign\s)"
            + _MISSION
            + r"\b"
            r"|\btak\w+\s+(?:over|charge\s+(?:of|at)|control\s+of)" + gap(3) + _MISSION + r"\b"
            r"|\b" + _MISSION + gap(4) + r"(?:handed|transferred|turned)\s+(?:over\s+)?to\s+(?:the\s+)?"
            r"(?:" + _MOVEMENT + r"|de\s+facto|Kabul)",
            _I,
        ),
        8,
        taliban_subject=True,
        keys=("embass", "consulate", "mission", "representation", "office"),
        act="taliban_mission",
    ),
    Rule(
        "upgrade.open",
        "diplomatic_upgrade",
        re.compile(
            r"\b(?:(?:re)?open(?:s|ed|ing)?|resum\w*|re-?establish\w*)"
            + gap(4)
            + r"(?:embass(?:y|ies)|consulates?(?:\s+general)?|delegation|diplomatic\s+(?:missions?|presence)"
            r"|(?:missions?|presence)(?=['’\"]?\s+(?:in|to)\s+(?:Kabul|Afghanistan)\b))\b"
            r"|\b(?:re)?open(?:s|ed|ing)?\s+(?:of\s+)?(?:its|their|the)\s+(?:[\w-]+\s+)?missions?\b"
            r"|\b(?:embass(?:y|ies)|consulates?(?:\s+general)?)" + gap(3) + r"(?:re)?open(?:s|ed)\b",
            _I,
        ),
        7,
        taliban_subject=True,
        keys=("embass", "consulate", "mission", "presence", "delegation"),
        act="kabul_mission",
    ),
    Rule(
        "upgrade.raise",
        "diplomatic_upgrade",
        re.compile(
            r"\b(?:upgrad|rais|elevat|restor)\w*" + gap(10) + r"(?:embassy|ambassador(?:ial)?)\b"
            r"|\bbec(?:ame|omes?|oming)\s+(?:a\s+|an\s+)?(?:full\s+)?embassy\b"
            r"|\b(?:upgrad|elevat)\w*" + gap(3) + r"(?:mission|relations|ties|representation)\b",
            _I,
        ),
        8,
        keys=("embass", "ambassador", "mission", "relations", "ties", "representation"),
        act="kabul_mission",
    ),
    Rule(
        "upgrade.appoint",
        "diplomatic_upgrade",
        re.compile(
            r"\b(?:appoint\w*|nam(?:e|es|ed|ing)|nominat\w*)"
            + gap(3)
            + r"(?:ambassadors?|(?<!special\s)envoys?|charg[eé]\s+d'affaires)\b",
            _I,
        ),
        8,
        keys=("ambassador", "envoy", "charg"),
        act="kabul_mission",
    ),
    Rule(
        # Sending diplomats to a post: the sender's own step, or (Taliban sending) the host's, named after it.
        "upgrade.send",
        "diplomatic_upgrade",
        re.compile(
            r"\b(?:send(?:s|ing)?|sent|post(?:s|ed|ing)?|dispatch\w*)"
            + gap(3)
            + r"(?:ambassadors?|envoys?|charg[eé]s?\s+d'affaires|diplomats?|consuls?"
            r"|consular\s+(?:staff|employees|officers|officials))\b",
            _I,
        ),
        8,
        taliban_subject=True,
        keys=("ambassador", "envoy", "charg", "diplomat", "consul"),
        act="kabul_mission",
    ),
    Rule(
        "upgrade.arrive",
        "diplomatic_upgrade",
        re.compile(
            r"\b(?:ambassadors?|envoys?|charg[eé]s?\s+d'affaires|diplomats?|staff|consuls?)\s+(?:[\w'’,-]+\s+){0,6}?"
            r"(?:(?:was\s+|were\s+|is\s+|are\s+|has\s+been\s+|have\s+been\s+)?"
            r"(?:welcomed|received|accepted|accredited|admitted)(?!\s+by\s+(?:the\s+)?Taliban)"
            r"|arriv\w*|assum\w+\s+(?:charge|office|(?:his|her)\s+post)|t(?:akes|ook|aking)\s+(?:up\s+)?"
            r"(?:charge|office|(?:his|her)\s+post)|begins?\s+work|starts?\s+work)\b",
            _I,
        ),
        7,
        taliban_subject=True,
        keys=("ambassador", "envoy", "charg", "diplomat", "staff", "consul"),
        act="taliban_mission",
    ),
    Rule(
        "upgrade.credentials",
        "diplomatic_upgrade",
        re.compile(
            # the exequatur is a consul's credentials: "handed the exequatur to the Afghan consuls"
            r"\b(?:accept|receiv|present|submit|approv|hand|issu|grant)\w*\s+(?:[\w'-]+\s+){0,3}?"
            r"(?:credentials|letters?\s+of\s+credence|exequatur)\b"
            r"|\b(?:credentials|letters?\s+of\s+credence|exequatur)\s+(?:of|from|to)\b",
            _I,
        ),
        6,
        taliban_subject=True,  # "Taliban envoy presents credentials in Abu Dhabi": the host accepts
        keys=("credentials", "credence", "exequatur"),
        act="kabul_mission",
    ),
    Rule(
        "upgrade.standing",
        "diplomatic_upgrade",
        re.compile(
            r"\b(?:ambassador|envoy)\s+(?:in|to)\s+(?=(?:Taliban-\w+\s+)?(?:Kabul|Afghanistan)\b)", _I
        ),
        3,
        nominal=True,
        standing=True,
        keys=("ambassador", "envoy"),
        act="kabul_mission",
    ),
    Rule(
        "sanctions_eased.exempt",
        "sanctions_eased",
        re.compile(
            r"\b(?:(?:grant|extend|approv|renew|issu|prolong)\w*|"
            + _OK
            + r")"
            + gap(6)
            + r"(?:exemptions?|waivers?)\b"
            r"|\bexempt\w*|\bwaivers?\b|\bgeneral\s+licen[cs]es?\b|\bcarve-?outs?\b"
            r"|\b(?:issu|grant|extend|renew)\w*\s+(?:[\w'-]+\s+){0,3}?(?:licen[cs]es?|authori[sz]ations?)\b"
            r"|\b(?:grant|give|gave)\w*\s+(?:[\w'-]+\s+){0,2}?permission\b"
            r"|\bsanctions\s+relief\b"
            r"|\b(?:allow|permit|authori[sz]|clear(?:s|ed|ing)?\b)\w*\s+(?:[\w'’-]+\s+){1,6}?to\s+(?:travel|visit|attend|fly|meet|go)\b"
            r"|\blet(?:s|ting)?\s+(?:[\w'’,-]+\s+){1,10}?(?:travel|visit|attend|fly)\b"
            r"|\bhumanitarian\s+authori[sz]ations?\b"
            # the licence as a headline verb: "Treasury licenses Afghan power payments"
            r"|\b(?:licen[cs](?:es|ed|ing)|authori[sz](?:es|ed|ing))\s+(?:[\w'’-]+\s+){0,4}?"
            r"(?:payments|transactions|transfers|dealings|remittances)\b",
            _I,
        ),
        10,
        keys=(
            "exempt",
            "waiver",
            "licen",
            "carve",
            "permission",
            "relief",
            "exception",
            "authori",
            "travel",
            "visit",
            "attend",
            "fly",
        ),
        act="exemption",
    ),
    Rule(
        # A humanitarian carve-out: aid that "does not violate sanctions", an exception for aid work.
        "sanctions_eased.carve_out",
        "sanctions_eased",
        re.compile(
            r"\b(?:not|no\s+longer|never)\s+(?:be\s+)?(?:a\s+)?(?:violat\w*|breach\w*|contraven\w*|in\s+breach\s+of)"
            r"\s+(?:[\w'-]+\s+){0,4}?(?:sanctions|sanctions\s+regime)\b"
            r"|\bwithout\s+(?:[\w'-]+\s+){0,3}?(?:breach\w*|violat\w*|contraven\w*)\s+(?:[\w'-]+\s+){0,3}?sanctions\b"
            r"|\bhumanitarian\s+(?:exceptions?|carve-?outs?)\b"
            r"|\b(?:eas|clear|pav|smooth)\w*\s+(?:the\s+)?way\s+for\s+(?:[\w'-]+\s+){0,2}?(?:aid|humanitarian|assistance)\b"
            r"|\bexceptions?\b(?=(?:[^\w;]+[\w'-]+){0,8}?[^\w;]+(?:aid|humanitarian|assistance)\b)",
            _I,
        ),
        11,
        keys=("violat", "breach", "contraven", "exception", "carve", "way for"),
        act="exemption",
        cause_negated=True,
    ),
    Rule(
        "sanctions_eased.delist",
        "sanctions_eased",
        re.compile(
            r"\bde-?list\w*|\bde-?designat\w*"
            r"|\b(?:remov|drop|delet|eras|strik|exclud)\w*"
            + gap(8)
            + r"from\s+(?:[\w'-]+\s+){0,6}?(?:lists?|register|sanctions|annex(?:es)?)\b"
            r"|\bno\s+longer\s+(?:lists?|designates?|considers?|regards?|treats?|classifies?|bans?)\b"
            r"|\b(?:struck|strik\w*|tak(?:e|es|en|ing)|took|knock\w*|drop\w*|remov\w*)\s+(?:[\w'’-]+\s+){0,4}?off"
            + gap(4)
            + r"(?:lists?|register|blacklist)\b",
            _I,
        ),
        10,
        keys=("list", "regist", "sanction", "no longer", "designat", "annex"),
        act="terror_delisting",
    ),
    Rule(
        # The Taliban as the subject of their own delisting ("Taliban disappear from X's list of banned
        # groups"); the list's owner, named with it, acts.
        "sanctions_eased.omitted",
        "sanctions_eased",
        re.compile(
            r"\b(?:(?:disappear\w*|vanish\w*|absent|missing|omit\w*|exclu\w*|dropped|removed|struck)\s+from"
            r"|no\s+longer\s+(?:on|in))\s+(?:[\w'’-]+\s+){0,6}?(?:lists?|register|blacklist)\b",
            _I,
        ),
        10,
        taliban_subject=True,
        keys=("list", "regist"),
        act="terror_delisting",
    ),
    Rule(
        "sanctions_eased.unfreeze",
        "sanctions_eased",
        re.compile(
            r"\b(?:unfreez\w*|unfroze\w*|unblock\w*)"
            # "the move" and "Biden's split of the funds" are nouns for an act told elsewhere
            r"|\b(?:releas\w*|return\w*|unlock\w*|free(?:s|d|ing)?|transfer\w*|(?<!the\s)mov(?:e|es|ed|ing)"
            r"|(?<!the\s)(?<!['’]s\s)split\w*"
            r"|channel\w*|rout(?:e|es|ed|ing)|shift\w*|restor\w*|fund\w*\s+from)"
            + gap(8)
            + r"(?:assets|reserves|funds)\b",
            _I,
        ),
        10,
        keys=("unfr", "unblock", "assets", "reserves", "funds"),
        act="release",
    ),
    Rule(
        "sanctions_eased.lift",
        "sanctions_eased",
        re.compile(
            r"\b(?:lift\w*|eas(?:e|es|ed|ing)|relax\w*|loosen\w*|suspend\w*|waiv\w*|scrap\w*|end(?:s|ed|ing)?|remov\w*"
            r"|revok\w*|repeal\w*|rescind\w*|cancel\w*|drop\w*|withdr[ae]w\w*|roll\w*\s+back)"
            + gap(6)
            + r"(?:"
            + _SANCTION_NOUN
            + r"|designations?|bans?|bount(?:y|ies)|rewards?|measures|listings?"
            r"|restrictions)\b"
            r"|\b"
            + _SANCTION_NOUN
            + gap(5)
            + r"(?:(?:was|were|been|be)\s+)?(?:lifted|eased|relaxed|suspended|revoked"
            r"|dropped|waived|scrapped|rescinded|repealed|cancell?ed|withdrawn)\b",
            _I,
        ),
        9,
        keys=(*_SANCTION_KEYS, "designation", "bount", "reward", "listing", "restriction"),
        act="lifting",
    ),
    Rule(
        "sanctions_imposed.add_list",
        "sanctions_imposed",
        re.compile(
            r"\badd(?:s|ed|ing)?" + gap(8) + r"(?:to|on)\s+(?:[\w'-]+\s+){0,4}?(?:list|register|annex)\b", _I
        ),
        8,
        keys=("list", "regist", "annex"),
        act="designation",
    ),
    Rule(
        "sanctions_imposed.impose",
        "sanctions_imposed",
        re.compile(
            r"\b(?:impos|slap|announc|unveil|introduc|expand|broaden|tighten|toughen|adopt|approv|join|levy|levi"
            r"|enact|mirror|match|copy|copie)\w*"
            + gap(4)
            + r"(?:"
            + _SANCTION_NOUN
            + r"|listings|designations)\b"
            # active voice, the object between: "US hits Taliban officials with sanctions"
            r"|\b(?:hit|target|punish|pressur|threat)\w*(?:[^\w;]+[\w'-]+){1,5}?[^\w;]+"
            + r"with\s+(?:[\w'-]+\s+){0,3}?"
            + _SANCTION_NOUN
            + r"\b",
            _I,
        ),
        8,
        keys=(*_SANCTION_KEYS, "listings", "designations"),
        act="measures",
    ),
    Rule(
        "sanctions_imposed.renew",
        "sanctions_imposed",
        re.compile(
            r"\b(?:renew\w*|extend\w*|prolong\w*|maintain\w*|keep(?:s|ing)?|kept|uphold\w*|upheld|roll\w*\s+over)"
            + gap(8)
            + r"(?:"
            + _SANCTION_NOUN
            + r"|sanctions\s+regime|listings|designations"
            + r"|(?:national|assets?|sanctions|Afghanistan|Afghan)\s+(?:national\s+)?emergency)\b"
            + r"(?![\w'-]*\s*(?:exemptions?|waivers?|licen[cs]es?|carve-?outs?))"
            # the regime's monitors: "renews the mandate of the 1988 Monitoring Team"
            r"|\b(?:renew|extend|prolong)\w*"
            + gap(3)
            + r"mandate\s+of\s+(?:[\w'-]+\s+){0,6}?monitoring\s+team\b"
            r"|\b(?:renew|extend|prolong)\w*" + gap(6) + r"monitoring\s+team['’]s\s+mandate\b"
            r"|\bcontinuation\s+of\s+(?:the\s+)?national\s+emergency\b"
            r"|\bnational\s+emergency\b[^.;]{0,120}?\bis\s+continued\b",
            _I,
        ),
        8,
        keys=(*_SANCTION_KEYS, "emergency", "listings", "designations", "monitoring"),
        act="measures",
    ),
    Rule(
        # An exemption that lapses restores the ban (convention 5): a failure to renew is an imposition.
        "sanctions_imposed.lapse",
        "sanctions_imposed",
        re.compile(
            r"\b(?:exemptions?|waivers?)\b[^.;]{0,50}?\b(?:laps\w*|expir\w*|end(?:s|ed)|r[au]n\s+out)\b"
            # nominalised: "lapse of travel ban exemption", "expiry of the waiver"
            r"|\b(?:lapse|lapsing|expiry|expiration|end)\s+of\s+(?:the\s+)?(?:[\w'-]+\s+){0,4}?(?:exemptions?|waivers?)\b"
            r"|\b(?:exclud|remov|drop|strip|struck|strik)\w*"
            + gap(6)
            + r"from\s+(?:the\s+)?(?:[\w-]+\s+){0,2}?"
            r"(?:exemptions?|waivers?)\b"
            r"|\bno\s+longer\s+(?:be\s+)?exempt\w*"
            r"|\bfail\w*\s+to\s+(?:extend|renew|prolong)" + gap(6) + r"(?:exemptions?|waivers?)\b"
            r"|\b(?:ban(?:s|ned|ning)?|stop\w*|halt\w*|bar(?:s|red|ring)?|block\w*)\s+(?:the\s+)?travel\s+(?:to|for|of|by)\b"
            r"|\b(?:reimpos\w*|restor\w*|reinstat\w*)\s+(?:[\w'-]+\s+){0,3}?travel[\s-]+bans?\b"
            r"(?![\s-]+(?:waivers?|exemptions?))",
            _I,
        ),
        11,
        keys=("exempt", "waiver", "ban", "travel"),
        act="measures",
        cause_negated=True,
    ),
    Rule(
        # Bounties and rewards on Taliban figures (convention 6); withdrawing one is an easing (lift rule).
        "sanctions_imposed.bounty",
        "sanctions_imposed",
        re.compile(
            r"\b(?:put\w*|plac\w*|offer\w*|announc\w*|set\w*|rais\w*|doubl\w*|issu\w*|threat\w*|warn\w*\s+of)"
            + gap(3)
            + r"(?:bount(?:y|ies)|rewards?|price\s+on)\b",
            _I,
        ),
        8,
        keys=("bount", "reward", "price"),
        act="measures",
    ),
    Rule(
        "sanctions_imposed.designate",
        "sanctions_imposed",
        re.compile(
            r"\b(?:designat(?:e|es|ed|ing)|blacklist(?:s|ed|ing)?|list(?:s|ing)|to\s+list|re-?list\w*)\b"
            # "listed Taliban leaders": an adjective for people already on a list, not a listing
            r"|\blisted\b(?!\s+(?:Taliban|individuals|entities|persons|people|leaders|officials|figures|members))",
            _I,
        ),
        7,
        keys=("designat", "blacklist", "list"),
        act="designation",
    ),
    Rule(
        "sanctions_imposed.freeze",
        "sanctions_imposed",
        re.compile(
            r"\b(?:freez(?:e|es|ing)|froze|frozen|block(?:s|ed|ing)?|seiz(?:e|es|ed|ing))"
            + gap(6)
            + r"(?:assets|accounts|reserves|funds|property)\b"
            r"|\b(?:assets|accounts|reserves|funds)" + gap(3) + r"(?:frozen|blocked)\b"
            r"|\basset\s+freezes?\b",
            _I,
        ),
        7,
        keys=("assets", "accounts", "reserves", "funds", "property", "freez"),
        act="designation",  # the engine makes it reserves_freeze when the state's money is frozen
    ),
    Rule(
        "sanctions_imposed.travel_ban",
        "sanctions_imposed",
        re.compile(
            r"\b(?:travel|entry|visa)[\s-]+(?:bans?|restrictions)\b(?![\s-]+(?:waivers?|exemptions?))"
            r"|\bbarr\w*\s+entry\b",
            _I,
        ),
        6,
        nominal=True,
        keys=(" ban", "-ban", "restriction", "barr"),
        act="measures",
    ),
    Rule(
        "sanctions_imposed.noun",
        "sanctions_imposed",
        re.compile(
            r"\bsanction(?:s|ed|ing)?\b(?!\s+(?:committee|list|regime|monitoring|framework|team|panel|exemption|annex))",
            _I,
        ),
        4,
        nominal=True,
        attached_actor=True,
        keys=("sanction",),
        act="measures",
    ),
    Rule(
        # The nominalised listing, with its author on it: "new EU listings of Taliban officials".
        "sanctions_imposed.listing_noun",
        "sanctions_imposed",
        re.compile(r"\b(?:designations?|listings)\b", _I),
        4,
        nominal=True,
        attached_actor=True,
        keys=("designation", "listings"),
        act="designation",
    ),
)

# The prefilter: no item without one of these can be about our target. Substring tests on the
# lower-cased text first (fast), then the regex for the case-sensitive "IEA".
TOPIC_KEYS = TARGET.topic_words
TOPIC = re.compile(
    "(?i:"
    + "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in TARGET.topic_words)
    + ")"
    + "".join(rf"|\b{re.escape(word)}\b" for word in TARGET.topic_abbreviations)
)
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
MONTH_NUMBER = {name: index + 1 for index, name in enumerate(_MONTHS)}
_MONTH = "(?:" + "|".join(_MONTHS) + ")"

# Phrases that look negative but are not ("no longer lists" is itself an easing trigger).
# Two negations make a possibility: "does not rule out recognising" is a step being considered.
DOUBLE_NEGATION = re.compile(
    r"\b(?:not|n't|never|won't|wouldn't)\s+(?:\w+\s+)?(?:rul(?:e|es|ed|ing)\s+out|exclud\w*)\b", _I
)
PSEUDO_NEGATION = re.compile(
    r"\b(?:no\s+longer|not\s+only|not\s+just|no\s+doubt|not\s+least|whether\s+or\s+not|if\s+not\s+the\s+first"
    r"|nothing\s+but|not\s+to\s+mention|never\s+before"
    # standing by a step already taken: "no regrets about recognising Kabul"
    r"|no\s+regrets?|(?:does|do|did)\s*n[o']t\s+regret|never\s+regrett?\w*|no\s+second\s+thoughts)\b",
    _I,
)
NEGATION = re.compile(
    r"\b(?:not|never|no|nor|cannot|won't|refus\w*|declin\w*|reject\w*|rul(?:e|es|ed|ing)\s+out|den(?:y|ies|ied|ying)"
    r"|dismiss\w*|fail(?:s|ed|ing)?\s+to|turn\w*\s+down|block(?:s|ed|ing)|veto\w*|oppos(?:e|es|ed|ing)|withh[oe]ld\w*"
    r"|stop\w*\s+short\s+of|f[ae]ll\w*\s+short\s+of|short\s+of|without|premature|out\s+of\s+the\s+question"
    r"|shelv\w*|unacceptable|firm\s+(?:on|against)|resist\w*|yet\s+to\s+decide|undecided"
    r"|defer\w*|postpon\w*|put\s+off|puts\s+off|downgrad\w*|balk\w*|baulk\w*"
    r"|far\s+from"
    # headline refusals: "UN panel nixes waiver", "Astana rebuffs Taliban envoy", "says no to recognition"
    r"|nix(?:es|ed|ing)?|spurn\w*|rebuff\w*|snub\w*|shun(?:s|ned|ning)?|scuttl\w*|torpedo\w*"
    r"|sa(?:y|ys|id|ying)\s+no\s+to|thumbs[\s-]down)\b|n't\b",
    _I,
)
NEGATION_AFTER = re.compile(
    r"\b(?:failed|fell\s+through|(?:is|are|was|would\s+be)\s+(?:unacceptable|premature|out\s+of\s+the\s+question)"
    r"|(?:has|have)\s+not\s+been\s+(?:taken|made|decided)|premature"
    r"|(?:would\s+be|is|are|was)\s+(?:a\s+)?(?:mistake|error|wrong|counterproductive|unwise)"
    r"|only\s+(?:if|when|after|once)|not\s+(?:until|before)|\?\s+(?:[\w'-]+\s+){0,3}?says?\s+no|\?\s+(?:no|not|never)\b"
    r"|(?:was|were|has\s+been|have\s+been)\s+(?:rejected|blocked|vetoed|denied)"
    r"|(?:is\s+)?not\s+(?:yet\s+)?(?:planned|expected|on\s+(?:the\s+)?(?:table|agenda|cards)|under\s+consideration)"
    r"|off\s+the\s+table|out\s+of\s+the\s+question|(?:was|is|remains?|remained)\s+unchanged)\b",
    _I,
)
PLANNED = re.compile(
    r"(?i:\b(?:will|would|shall|could|might|should|plan\w*|intend\w*|aim(?:s|ed|ing)?|seek\w*|sought|prepar\w*"
    r"|ready|willing|open\s+to|poised|set\s+to|expected|likely|consider\w*|weigh\w*|mull\w*|stud(?:y|ies|ying)"
    r"|examin\w*|review\w*|explor\w*|discuss\w*|debat\w*|propos\w*|threat\w*|warn\w*|mov(?:es|ing)\s+to"
    r"|promis\w*|pledg\w*|vow\w*|offer\w*\s+to|bid\s+to|soon|if|unless|provided|negotiat\w*|envisag\w*"
    r"|contemplat\w*|look\w*\s+into|eye(?:s|ing)?|mooted|(?<!-)draft\w*|in\s+talks|about\s+to|on\s+the\s+verge\s+of)\b)"
    r"|(?<!in\s)(?<!In\s)(?<!since\s)(?<!last\s)(?<!early\s)(?<!late\s)(?<!mid-)(?<!by\s)(?<!of\s)\b[Mm]ay\b"
)
PLANNED_AFTER = re.compile(
    r"\b(?:if|unless|once|provided|on\s+condition|in\s+coming\s+(?:days|weeks|months)|soon|next\s+(?:week|month"
    r"|year))\b",
    _I,
)
APPEAL = re.compile(
    r"\b(?:urg(?:e|es|ed|ing)|call(?:s|ed|ing)?\s+(?:on|for|upon)|calls?\s+to|ask(?:s|ed|ing)?|appeal\w*"
    r"|demand\w*|press(?:es|ed|ing)?|lobb\w*|push(?:es|ed|ing)?|petition\w*|encourag\w*|recommend\w*"
    # advocacy for someone else's step: "would support lifting UN sanctions", "work for their removal"
    r"|advocat\w*|work(?:s|ed|ing)?\s+(?:for|towards?)|(?:support|back)(?:s|ed|ing)?(?=\s+(?:the\s+)?$))\b"
    # a view of what another should do: "told reporters that the US should unfreeze", "says Kabul should"
    r"|\b(?:that|says?|said|argues?|argued|insists?|insisted|believes?)\s+(?:the\s+)?(?:[\w'-]+\s+){1,2}?should\b",
    _I,
)
# An appeal addressed to a state ("urged the US to", "called on Washington to"): the state named is
# the one asked, and the sentence is the appeal of whoever asks (convention 4), not that state's step.
APPEAL_TO = re.compile(
    r"\b(?:urg(?:e|es|ed|ing)|call(?:s|ed|ing)?\s+(?:on|upon)|press(?:es|ed|ing)?|ask(?:s|ed|ing)?|lobb\w*"
    r"|implor\w*|petition\w*|appeal\w*\s+to)\s+(?:the\s+)?$",
    _I,
)
# The Taliban's posting still awaits the host ("await Japanese approval", "requested agrément"):
# no host has acted (convention 3).
AWAITING = re.compile(
    r"\b(?:await\w*|seek\w*|sought|request\w*|pending)\s+(?:[\w'-]+\s+){0,2}?(?:approval|response|reply"
    r"|agr[ée]ment|acceptance|consent)\b",
    _I,
)
# Speculation by the writer or a third party: neither a step nor a plan of the actor.
SPECULATION = re.compile(
    r"\b(?:unclear|uncertain|unknown|not\s+clear|not\s+known)\s+(?:whether|if)\b"
    r"|\b(?:will|to)\s+['\"]?(?:\w+\s+)?decide\b|\bdecide\s+(?:whether|if|on)\b"
    r"|\b(?:take|make)s?\s+(?:a\s+|the\s+)?decision\s+(?:on|about|whether)\b|\bin\s+concert\s+with\b"
    r"|\b(?:will|would|to)\s+be\s+decided\b"  # "recognition will be decided with neighbours"
    r"|\b(?:will|would)\s+(?:eventually\s+|sooner\s+or\s+later\s+)?have\s+to\b|\b(?:must|ought\s+to)\b"
    r"|\bsooner\s+or\s+later\b"
    # an open question, not one being studied ("studying whether to" is a plan: PLANNED)
    r"|(?:^|\b(?:said|says|say|told|asked|asks|wonder\w*|doubt\w*)\s+(?:that\s+)?)whether\b"
    # a journalist's question answered ("a question about whether X will recognise"): nobody has acted
    r"|\b(?:question\w*|quer(?:y|ies))\s+(?:about|on|over|of|as\s+to)\s+whether\b",
    _I,
)
# The Taliban seeking recognition ("their case for recognition", "seek global recognition"): no one grants it.
SOUGHT = re.compile(
    r"\b(?:case|bid\w*|quest|push\w*|campaign\w*|hop\w*|demand\w*|call\w*|efforts?|drive|appeal\w*|desire"
    r"|search|lobby\w*|ask\w*|press\w*)\s+for\s+(?:[\w-]+\s+){0,2}?$"
    r"|\b(?:seek\w*|sought|gain\w*|win(?:s|ning)?|won|secur\w*|obtain\w*|earn\w*|want\w*|pursu\w*|crav\w*"
    r"|right\s+to|deserv\w*|rais\w*|request\w*|await\w*)\s+(?:[\w-]+\s+){0,2}?$",
    _I,
)
# Legislators' bills are no executive step (convention 4): "Senators introduce bill to sanction the Taliban".
LEGISLATORS = re.compile(
    r"\b(?:senators?|lawmakers?|legislators?|congress(?:m[ae]n|wom[ae]n)|MPs|parliamentarians|House\s+bill"
    r"|Senate\s+bill|House\s+(?:Republicans|Democrats)|Republican\s+lawmakers|Democratic\s+lawmakers)\b",
    _I,
)
BILL = re.compile(r"\b(?:bills?|legislation|draft\s+law|amendments?)\b", _I)
REPORTED = re.compile(
    r"\b(?:reportedly|rumou?r\w*|unconfirmed|alleged\w*|claim\w*|purportedly|according\s+to\s+(?:unnamed"
    r"|unconfirmed|local\s+media|media\s+reports))\b",
    _I,
)
INTERESTED_SOURCE = re.compile(
    r"\b(?:" + _MOVEMENT + r"|Kabul)(?:'s)?\s+(?:\w+\s+){0,3}?(?:claim\w*|said|say|says|announc\w*)\b"
)
# A speaker before a colon at the start: "Mujahid: Turkey has recognised ..." (engine checks who speaks).
SPEAKER = re.compile(r"^([^:;]{1,60}):\s")
# Nobody confirms a claim: "Turkish officials did not comment", "could not be independently verified".
UNCONFIRMED = re.compile(
    r"\b(?:did\s+not|didn't|declined\s+to|would\s+not|refused\s+to|(?:has|have|had)\s+not)\s+(?:yet\s+|immediately\s+"
    r"|publicly\s+)?(?:comment|confirm|respond)\w*|\bno\s+(?:immediate\s+|official\s+)?(?:comment|confirmation)\b"
    r"|\b(?:could|can)\s*(?:not|n't)\s+be\s+(?:independently\s+)?(?:confirmed|verified|reached)\b|\bunconfirmed\b",
    _I,
)
# Of the ongoing cues, those that say nothing changed: not news even for a fact the baseline lacks.
KEEP_CUE = re.compile(r"(?:keep|kept|maintain|uphold|upheld)", re.I)
NO_CHANGE = re.compile(
    r"^(?:remain|stay|unchanged|in\s+force|still|keep|kept|maintain|uphold|upheld|(?:is|are|was|were)\s)",
    re.I,
)
LATER_DENIAL = re.compile(
    r"\b(?:den(?:y|ies|ied)|reject(?:s|ed)?\s+(?:the\s+)?(?:claim|report)s?|no\s+such\s+(?:statement|announcement|decision)"
    r"|(?:has|have|did)\s+not\s+confirm\w*)\b",
    re.I,
)
QUESTION_START = re.compile(r"^(?:Will|Would|Could|Should|Is|Are|Can|Does|Do|Might|Has|Have)\b")
# A Taliban-side name before one of these is a modifier ("Taliban claim", "Taliban envoy"), not a subject.
MODIFIED_NOUN = re.compile(
    r"^(?:'s)?\s+(?:claims?|requests?|bids?|offers?|demands?|calls?|push|appeals?|pleas?|proposals?|government"
    r"|administration|authorities|officials?|envoys?|ambassadors?|diplomats?|representatives?|leaders?|ministers?"
    r"|delegation)\b",
    _I,
)
# Words between a Taliban-side name and a noun trigger that make the name a modifier of it:
# "Taliban travel ban waiver", "Taliban leaders' sanctions".
MODIFIER_RUN = re.compile(
    r"^(?:['’]s?)?(?:\s+(?:travel|ban|bans|asset|assets|freeze|sanctions?|leaders?['’]?|officials?['’]?"
    r"|ministers?['’]?|figures?['’]?|members?['’]?|regime['’]?s?|government['’]?s?|entry|visa|senior|top))+\s*$",
    _I,
)
# A noun trigger judged, not taken: "Travel ban waiver necessary for engagement".
OPINION_AFTER = re.compile(
    r"^\s*(?:is\s+|are\s+|was\s+|would\s+be\s+)?(?:necessary|needed|essential|vital|crucial|important|required"
    r"|key|a\s+must|justified|unjustified|counterproductive|wrong|right"
    # another state's complaint about measures on itself: "calls renewed UN sanctions unlawful"
    r"|illegal|unlawful|illegitimate)\b",
    _I,
)
GERUND = re.compile(r"[A-Za-z]+ing\b")
# A posting for Afghanistan held elsewhere: "charge d'affaires to Afghanistan, based in Doha".
OFFSHORE = re.compile(r"\b(?i:based|resident|located|operating)\s+(?i:in|from|out\s+of)\s+(?!Kabul\b)[A-Z]")
# A modal right after a noun trigger makes it hypothetical: "a unilateral recognition would make no impact".
HYPOTHETICAL_AFTER = re.compile(r"^\s*(?:[\w'-]+\s+){0,3}?(?:would|could|might)\b", _I)
# A name of the target side followed by one of these is its people, not its state: hard negatives.
PEOPLE_AFTER = re.compile(
    r"^\s+(?:nationals|citizens|refugees|migrants|immigrants|asylum|people|students|women|girls"
    r"|travell?ers|passport|evacuees|returnees|workers|deportees)\b",
    _I,
)
# Afghanistan as a market or a route ("Afghanistan transit trade"): the trade, not the state, follows.
TRADE_AFTER = re.compile(
    r"^\s+(?:transit|trade|imports?|exports?|fuel|supplies|shipments?|routes?|corridor|market|traders?)\b", _I
)
# A third party dealing with Afghanistan ("a fuel network supplying Afghanistan", "shipping grain to
# Afghanistan", "trade with Kabul"): a sanction on that party does not aim at Afghanistan.
SUPPLY_BEFORE = re.compile(
    r"\b(?:suppl(?:y|ies|ying|ied)|smuggl\w*|ship(?:s|ped|ping)?|export\w*|sell\w*|sold|carr(?:y|ies|ying|ied)"
    r"|transit\w*|trad(?:e|es|ed|ing)|deal\w*)\b(?:(?:\s+[\w'-]+){0,3}?\s+(?:to|into|with))?\s+(?:the\s+)?$",
    _I,
)
# "Kabul airport", "Kabul university": the city as a place, not the government.
KABUL_PLACE_AFTER = re.compile(
    r"^\s+(?:airport|attack|bombing|blast|suicide|university|hospital|residents?|city|province|streets?|airlift)\b",
    _I,
)
# The bare demonym qualifying a measure or the state's money: "Afghan sanctions", "Afghan central bank".
STATE_NOUN_AFTER = re.compile(
    r"^\s+(?:sanctions|assets|funds|reserves|banks?|banking|central\s+bank|economy|government|regime|state|aid"
    r"|humanitarian|relief|governing|institutions|public\s+bodies|ministries|curbs|restrictions|restrictive\s+measures"
    # money sent under a licence: "Afghan power payments", "Afghan utility transactions"
    r"|(?:[\w-]+\s+)?(?:payments|transactions))\b",
    _I,
)
# Between a name and a trigger it modifies directly: "Swiss asset freeze", "the EU's new sanctions".
MODIFIER_GAP = re.compile(r"(?:['’]s)?\s+(?:new|fresh|further|own|latest|additional)?\s*", _I)
# The target as the one suffering a measure named after it: "Taliban minister hit with a Swiss asset freeze".
SUFFERS = re.compile(
    r"\b(?:hit|slapped|struck|targeted|sanctioned)\s+(?:with|by)\b|\bfac(?:e|es|ed|ing)\b|\bsubject\s+to\b|\bunder\b",
    _I,
)
# The owner of a mission named after it: "the Embassy of India".
OWNER_BEFORE = re.compile(
    r"\b(?:embass(?:y|ies)|missions?|consulates?(?:\s+general)?)\s+of\s+(?:the\s+)?$", _I
)
# The issuer of a measure named after it: "a waiver from the UN travel ban".
ISSUER_BEFORE = re.compile(r"\b(?:from|under|by)\s+(?:the\s+)?$", _I)
PLACE_BEFORE = re.compile(r"\b(?:in|from|across|inside|operating\s+in|based\s+in)\s+(?:the\s+)?$", _I)
DESTINATION_BEFORE = re.compile(
    r"\b(?:(?:visit(?:s|ing)?|travel\w*|trips?|fly|go|pilgrimage|journey|Hajj|Umrah|talks|meetings?|conference)"
    r"\s+(?:[\w'-]+\s+){0,2}?(?:to|in)|visit(?:s|ing)?|attend\w*\s+\w+\s+in)\s+(?:the\s+)?$",
    _I,
)
# A state or capital naming a meeting's venue: "an exemption for the Moscow forum", "Doha talks".
VENUE_AFTER = re.compile(
    r"(?:['’]s)?\s+(?:forum|summit|talks|conference|meetings?|format|consultations|dialogue|gathering"
    r"|process|round)\b",
    _I,
)
# Words that link two clauses: an actor before one is not attached to a noun after it.
CLAUSE_LINK = re.compile(r"\b(?:if|when|unless|with|that|because|as|amid|over|after|before|while|and)\b", _I)
OBJECT_PRONOUN = re.compile(
    r"^\s+(?:(?:on|against|for|of)\s+)?(?:them|it|the\s+group|the\s+movement|its\s+government|their\s+leaders?)\b",
    _I,
)
HEADLINE_FUTURE = re.compile(r"^(?:\s|['\"])*to\s+(?:\w+ly\s+)?$")
# Words that make the words around them a separate clause for cues.
CLAUSE_BREAK = re.compile(
    r";|\s-\s|\b(?:but|however|although|though|while|whereas|despite|after|before|even\s+as)\b|,\s*yet\b"
    r"|,\s*(?:which|who|whose|where|when)\b",
    _I,
)
# A clause opened by one of these is subordinate: an act told there in the past is background.
SUBORDINATE = re.compile(r"\W*(?:though|although|while|whereas|after|before|even\s+as|despite)\b", _I)
# The second of two places after one preposition: "trips to Doha and Beijing".
COORDINATED_OBJECT_BEFORE = re.compile(
    r"\b(?:for|of|in|to|with|on|from|at|into|towards?|between|via)\s+(?:the\s+)?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?"
    r"(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)(?:the\s+)?$"
)
# A state named as the owner of an organ, in translated state-media English: "the Supreme Court of
# Kyrgyzstan", "the Ministry of Foreign Affairs of the Republic of Azerbaijan". The organ speaks for the
# state: it acts.
ORGAN_OF = re.compile(
    r"\b(?:ministry(?:\s+of\s+(?:foreign|external|internal)\s+affairs|\s+of\s+[a-z]+)?|government|president|presidency"
    r"|(?:supreme|constitutional|high)\s+court|cabinet(?:\s+of\s+ministers)?|parliament|prosecutor[\s-]general"
    r"|prosecutor\s+general['’]s\s+office|foreign\s+ministry|foreign\s+minister|council\s+of\s+ministers"
    r"|head\s+of\s+state|leadership)\s+of\s+(?:the\s+)?(?:(?:islamic\s+|kyrgyz\s+|federal\s+)?republic\s+of\s+"
    r"|kingdom\s+of\s+|state\s+of\s+)?$",
    _I,
)
PREPOSITION_BEFORE = re.compile(
    r"\b(?:for|of|in|to|with|on|from|against|by|at|into|towards?|about|over|under|between|inside)\s+(?:the\s+)?$",
    _I,
)
# A sum of money beside a reward or a release: one item, however many words it takes.
MONEY = re.compile(
    r"(?:\bof\s+)?(?:\bup\s+to\s+)?(?:US)?\$\s?\d[\d.,]*(?:\s*(?:million|billion|mn|bn|m)\b)?"
    r"(?:\s+(?:each|apiece))?",
    _I,
)
# List entries named by count, not by name, in a summary: "deleted one name from Annex I" (the headline
# says whose names they are).
ENTRY_ANAPHOR = re.compile(
    r"\b(?:the|one|two|three|four|five|six|seven|eight|nine|ten|\d+|several|these|those|both)\s+(?:more\s+)?"
    r"(?:names?|entr(?:y|ies)|individuals|persons)\b",
    _I,
)
# A ban on a country's travellers, told as immigration policy: "travel ban proclamation", "full-ban list".
# Its targets are the people (convention 4), so the country named is no sanctions target.
BAN_WORDS = re.compile(r"\b(?:travel|entry|visas?|bans?|barr\w*|curbs)\b", _I)
IMMIGRATION = re.compile(
    # not "entry ban": the UN's travel ban on listed Taliban is told so too
    r"\bcountries\s+(?:facing|whose|subject\s+to)\b|\bnationals\s+of\b"
    r"|\bbarred\s+from\s+entering\b|\bproclamation\b|\b(?:full|partial)[\s-]+(?:(?:travel|entry)[\s-]+)?ban\b|\bvisa\s+applicants\b"
    r"|\bimmigra\w*|\brefugee\s+admissions\b",
    _I,
)
PEOPLE = re.compile(
    r"\b(?:citizens|nationals|refugees|migrants|immigrants|travell?ers|passport|people|students|women|girls"
    r"|asylum|returnees|workers|deportees|graduates|footballers|team|diplomas)\b",
    _I,
)

# Background: the act is told as history or as an aside ("Qatar, which hosted ..."), not as the news.
# "Since 2021" is not here: "the first envoy since 2021" is news; a year dates other things too.
PAST = re.compile(
    r"\b(?:last|past)\s+(?:week|month|year|summer|spring|autumn|fall|winter|" + _MONTH + r")\b"
    r"|\bearlier\s+this\s+(?:year|month|week)\b|\b(?:a|one|two|three|four|five|six|several|many)\s+"
    r"(?:years?|months?)\s+(?:ago|on|after|since)\b|\b(?:years|months|decades)\s+ago\b|\bpreviously\b"
    r"|\bfor\s+(?:several|many|two|three|four|five|some)\s+"
    r"(?:years|months)\b|\banniversary\b|\bexplainer\b|\bbackgrounder\b|\bhow\s+[\w\s]{1,25}came\s+to\b"
    r"|\b(?:paved|cleared)\s+(?:the\s+)?way\b|\b\w+\s+years?\s+after\b|\bin\s+the\s+past\b"
    r"|\b(?:which|who)\s+(?:had\s+|has\s+)?(?:\w+ly\s+)?\w+ed\b"
    # A present-tense relative clause is background too: "Qatar, which hosts a Taliban ambassador, ..."
    r"|\b(?:which|who)\s+(?:already\s+)?(?:hosts?|keeps?|maintains?|holds?)\b",
    _I,
)
# A standing state of affairs: old news when the baseline already knows the fact.
ONGOING = re.compile(
    r"\balready\b|\b(?:first|only)\s+(?:country|state|nation|government)\s+(?:in\s+the\s+world\s+)?"
    r"(?:so\s+far\s+)?to\b|\bremain\w*\s+(?:frozen|in\s+force|in\s+place|in\s+effect|out\s+of\s+reach|intact"
    r"|unchanged|blocked|listed)\b|\bstill\b|\bcontinu\w*\s+to\b|\bha[sd]\s+had\b|\birreversible\b"
    r"|\bnot\s+be\s+revisited\b|\bexisting\b|\bunchanged\b|(?<!back\s)(?<!again\s)\bin\s+force\b"
    r"|\bstay(?:s|ed|ing)?\s+(?:frozen|in\s+force|in\s+place|in\s+effect|blocked|listed)\b"
    r"|\b(?:have|has)\s+been\s+(?:[\w-]+\s+){0,1}?(?:frozen|blocked|listed|sanctioned|banned|designated)\b"
    r"|\b(?:remain|stay)(?:s|ed)?\b(?!\s+(?:to|a|an|the|open|committed|ready|willing|silent|unclear))"
    r"|\b(?:is|are|was|were|remains?)\s+(?:still\s+|already\s+)?(?:under|subject\s+to)\b"
    # keeping or maintaining measures is no renewal: they stand ("US keeps Taliban leaders under sanctions")
    r"|\b(?:keep(?:s|ing)?|kept|maintain\w*|uphold\w*|upheld)\b",
    _I,
)
# A date attached to an act ("in March 2024"), never a year that names something else ("the 1988
# Committee", "resolution 2255 (2015)", "since 2021"). It makes a report of a known fact old; it never
# makes an unknown act old (convention 1 of ../shared/eval/README.md: novelty is against the baseline).
DATED = re.compile(
    r"\b(?:in|during|on)\s+(?:(?:early|late|mid-?)\s*)?(?:(" + _MONTH + r")\s+)?"
    r"(?:\d{1,2},?\s+)?((?:19|20)\d\d)\b(?!\s+(?:committee|sanctions|list|regime|resolution))|\bin\s+(?:(?:early|late|mid-?)\s*)?("
    + _MONTH
    + r")\b(?!\s+\d)",
    _I,
)
# A step dated to the day of the report is the news even in a later sentence ("On Friday X removed ...").
NEWS_DAY = re.compile(
    r"\b(?:today|tonight|yesterday|this\s+(?:week|morning|afternoon|evening)"
    r"|on\s+(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday))\b",
    _I,
)
GENRE_HISTORY = re.compile(
    r"\b(?:explainer|backgrounder|anniversary|one\s+year\s+on|a\s+year\s+on|how\s+[\w\s]{1,25}came\s+to)\b",
    _I,
)

# The direction of a diplomatic step. Inward: Taliban diplomats received abroad, or an Afghan mission abroad
# handed to them. Outward: the actor's own envoy or mission in Kabul.
INWARD = re.compile(
    r"\b" + _MOVEMENT + r"(?:['’]s)?[\s-]+(?:[\w'’]+[\s-]+)?"
    r"(?i:appointed|posted|nominated|named|sent|ambassadors?|envoys?|diplomats?|charg[eé]s?|consuls?"
    r"|consular|representatives?|staff|officials?|second\s+secretar(?:y|ies)|first\s+secretar(?:y|ies))\b"
    r"|\b(?:Afghan|Afghanistan['’]s)\s+(?i:embassy|embassies|consulates?|missions?)\s+in\s+(?!Kabul\b)[A-Z]"
    r"|\b(?:handed|handing|hands|transferred|turned)\s+(?:over\s+)?to\s+(?:the\s+)?" + _MOVEMENT + r"\b",
)
# The Taliban as the receiving side: "Taliban officials welcomed the first Chinese ambassador".
TALIBAN_RECEIVES = re.compile(r"\b(?:" + _MOVEMENT + r"|Kabul)(?:['’]s)?\s+(?:[\w-]+\s+){0,2}?$", _I)
# The movement itself as the object, not people in it: "the Taliban" but not "Taliban leaders".
MOVEMENT_OBJECT = re.compile(
    r"\bthe\s+movement\b|\b"
    + _MOVEMENT
    + r"\b(?!['’]s|\s+(?:leaders?|officials?|ministers?|figures?|members?"
    r"|commanders?|individuals|government\s+officials))",
    _I,
)
# A host receiving credentials (the envoy comes to it), as opposed to its envoy presenting them abroad.
RECEIVING = re.compile(r"(?:accept|receiv|approv)", _I)
# "lifts the ban" with no travel, entry or visa: the ban on the movement itself.
BAN_ON_MOVEMENT = re.compile(
    r"(?<![\w-])(?<!travel\s)(?<!entry\s)(?<!visa\s)(?<!import\s)(?<!export\s)ban\b"
    r"(?!\s+on\s+(?:travel|entry|visas?|imports?|exports?))",
    _I,
)
AMBASSADOR = re.compile(r"\bambassadors?\b|\bcredentials\b|\bletters?\s+of\s+credence\b", _I)
# Where a Taliban diplomat is posted: "to Germany", "in New Delhi", "at the embassy in Berlin".
HOST_BEFORE = re.compile(r"\b(?:to|in|at)\s+(?:the\s+)?$", _I)
# A state named as the sponsor of a text or a request: "a US proposal", "Islamabad's request".
SPONSOR_NOUN = re.compile(
    r"-(?:drafted|sponsored|backed|proposed|authored)\b"
    r"|(?:['’]s)?(?:-led)?\s+(?:draft\s+)?(?:proposals?|resolutions?|drafts?|texts?|motions?|requests?|initiatives?"
    r"|bids?)\b",
    _I,
)
FOLLOWED_BEFORE = re.compile(r"\b(?:follow(?:s|ed|ing)?|join(?:s|ed|ing)?|emulat\w*)\s+(?:the\s+)?$", _I)
# Between an object and a second verb of the same subject: "recognise the Syrian government, name envoy".
COORDINATED_PREDICATE = re.compile(r"(?:['’]s)?(?:\s+[\w'’-]+){0,3}\s*,\s*(?:and\s+)?", _I)
# The UN regime whose only targets are the Taliban: naming it names them (seeds/target.yaml).
REGIME = re.compile("|".join(re.escape(name).replace(r"\ ", r"\s+") for name in TARGET.regimes), _I)
# A noun trigger's object named by a capitalised word that is no known name: "US sanctions on Rosneft".
# Only checked once no target was found in or after the trigger.
NAMED_OBJECT = re.compile(r"\s+(?i:on|against)\s+(?:the\s+)?[A-Z][a-z]")
NOUN_OBJECT = re.compile(r"\s+(?:of|for)\s+", _I)
# Who is recognised, in translated English: "accorded recognition to the Syrian government".
GRANTED_TO = re.compile(r"\s+to\s+", _I)
POSSESSIVE_AFTER = re.compile(r"['’]s?\b")
OUTWARD = re.compile(r"\b(?:to|in)\s+(?:Taliban-[\w-]+\s+)?(?:Kabul|Afghanistan)\b", _I)
# A terrorist or banned-organisations list (a state's own), as opposed to a sanctions list of people.
TERROR_LIST = re.compile(
    r"\b(?:terror\w*|banned|prohibited|extremist|proscribed)\s+(?:\w+\s+){0,2}?"
    r"(?:lists?|organi[sz]ations?|groups?|entit(?:y|ies)|register)\b"
    r"|\bterror\w*\s+designation|\bdesignation\s+as\s+(?:a\s+)?terror\w*",
    _I,
)
