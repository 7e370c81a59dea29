"""The `--search` language: words as people type them, turned into an FTS5 or tsquery expression.

- Words are all required. Each matches its forms: its root (the word less a common English ending: -s,
  -es, -ed, -ing, -ise, -ize, -ition, -ation...) with any of those endings, so `recognise` finds
  "recognises", "recognized" and "recognition", `ban` finds "bans" and "banned", `country` "countries".
  A form is not another word: `aid` does not find "aide", `plan` not "plane", nor `plane` "plan".
- `word*` matches every word that begins with it: `Kazakh*` finds "Kazakhstan", which `Kazakh` does not.
  A word's forms are read from the index newest first and the reading stops at --limit; a prefix reads
  every match of every word it begins (in a large history, a common prefix costs milliseconds per
  hundred thousand matches), so it is asked for, not implied.
- `"a phrase"` matches those exact words in that order.
- `a OR b` matches either; OR binds tighter than the implied AND (`taliban recognise OR recognition`).
- Punctuation separates words, as in the index (`Kazakhstan's` is `kazakhstan` and `s`).

A query that cannot mean anything (a quote left open, OR or AND with nothing on one side, no letters or
digits at all) is an InputError naming the problem, never an empty result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from monitor.errors import InputError

_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_ENDINGS = (  # longest first; a final e alone is not one: "plane" less it is "plan", another word
    *("isations", "izations", "isation", "ization", "itions", "ations", "ition", "ation"),
    *("ising", "izing", "ised", "ized", "ises", "izes", "ise", "ize", "ings", "ing"),
    *("ies", "ied", "ed", "es", "s"),
)
MIN_ROOT = 4  # shorter roots match too much ("eas" would find "east")
MIN_PREFIX = 3  # one- and two-letter words ("s", "UN") match only themselves; `word*` needs 3 letters
_FORM_ENDINGS = ("", *_ENDINGS, "e")  # "e" gives back one an ending took ("trading": "trade")
_ES_AFTER = ("s", "x", "z", "ch", "sh", "o")  # a whole word takes "es" only after these ("taxes", "vetoes")
_PLAIN_AFTER_SHORT = ("ed", "ing", "ings")  # "planed" is "plane"'s: a short "plan" doubles ("planned")
_SOFT_ENDINGS = ("ed", "es", "ing", "ings", "ation", "ations", "ition", "itions")  # after a final e or y
_KEEP_E = ("", "s", "es", "ies", "ied")  # endings that drop no final e: none of them gives one back
_VOWELS = frozenset("aeiouy")
_VOWEL_GROUPS = re.compile("[aeiouy]+")


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # lower case
    exact: bool  # a quoted phrase; otherwise one word, matched by its forms
    prefix: bool = False  # `word*`: every word that begins with it


# A query: every group must match; a group matches when any of its terms does.
Query = tuple[tuple[Term, ...], ...]


def root(word: str) -> str:
    """The word less its longest common English ending, keeping at least MIN_ROOT letters."""
    return _rooted(word)[0]


def _rooted(word: str) -> tuple[str, str]:
    """`root(word)` and the ending it took off ("" for none). "es" comes off whole only where a word takes
    it ("taxes", "vetoes"); elsewhere only its "s" does: "planes" is "plane" + s, not "plan" + es."""
    word = word.lower()
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_ROOT:
            if ending == "es" and not word[:-2].endswith(_ES_AFTER):
                ending = "s"
            return word[: -len(ending)], ending
    return word, ""


def forms(word: str) -> tuple[str, ...]:
    """The words a bare `word` finds: its root with each common ending, where the root may also drop a
    final e or y ("easing", "countries") or double its final consonant ("banned")."""
    word = word.lower()
    if len(word) < MIN_PREFIX:
        return (word,)
    stem, taken = _rooted(word)
    found = {word} | {stem + ending for ending in _FORM_ENDINGS if _whole(stem, ending, taken)}
    if stem[-1] == "e":
        found |= {stem[:-1] + ending for ending in _SOFT_ENDINGS}
    elif stem[-1] == "y":
        found |= {stem[:-1] + ending for ending in ("ies", "ied")}
    elif stem[-1] not in _VOWELS:
        found |= {stem + stem[-1] + ending for ending in ("ed", "ing", "ings")}
    return tuple(sorted(found))


def _whole(stem: str, ending: str, taken: str) -> bool:
    """Whether `ending` on `stem` (the word less the ending `taken` off it) makes a form of the word, not
    another word's: "aid" + "e" is "aide", "plan" + "es" is "planes", "not" + "ed" is "noted". A final e
    comes back only where the ending taken off had dropped one ("trading": "trade"; "plans" is no "plane")."""
    if ending == "e":
        return taken not in _KEEP_E
    if ending == "es":
        return stem.endswith(_ES_AFTER)
    return ending not in _PLAIN_AFTER_SHORT or not _doubles(stem)


def _doubles(word: str) -> bool:
    """A one-syllable word ending in one vowel and one consonant ("ban", "plan", "sit"), which doubles that
    consonant before -ed and -ing."""
    return (
        len(_VOWEL_GROUPS.findall(word)) == 1
        and word[-1] not in _VOWELS | {"w", "x"}
        and word[-2] in _VOWELS
        and word[-3] not in _VOWELS
    )


def parse(text: str) -> Query | None:
    """The query in `text`; None when it is blank (no filter)."""
    if not text.strip():
        return None
    if text.count('"') % 2:
        raise InputError(f"search {text!r}: a quote is not closed")
    groups: list[list[Term]] = []
    pending_or, operator = False, ""
    for match in _TOKEN.finditer(text.replace("\x00", " ")):
        phrase, bare = match.groups()
        if bare in ("OR", "AND"):
            if not groups or pending_or or (bare == "OR" and not groups[-1]):
                raise InputError(f"search {text!r}: {bare} needs something to search for on each side")
            pending_or, operator = bare == "OR", bare
            if bare == "AND":
                groups.append([])
            continue
        terms = _terms(text, phrase, bare)
        if not terms:
            continue
        if pending_or:
            groups[-1].append(terms[0])
            groups.extend([t] for t in terms[1:])
        else:
            groups.extend([t] for t in terms)
        pending_or = False
    if pending_or or (groups and not groups[-1]):
        raise InputError(f"search {text!r}: {operator} needs something to search for on each side")
    if not groups:
        raise InputError(f"search {text!r}: no words to search for (letters or digits)")
    return tuple(tuple(group) for group in groups if group)


def _terms(text: str, phrase: str | None, bare: str | None) -> list[Term]:
    if phrase is not None:
        words = tuple(w.lower() for w in _WORD.findall(phrase))
        return [Term(words, exact=True)] if words else []
    terms = [Term((w.lower(),), exact=False) for w in _WORD.findall(bare or "")]
    if terms and str(bare).endswith("*"):
        last = terms[-1].words[0]
        if len(last) < MIN_PREFIX:
            raise InputError(
                f"search {text!r}: {last}* is too short a prefix (at least {MIN_PREFIX} letters)"
            )
        terms[-1] = Term((last,), exact=False, prefix=True)
    return terms


def _alternatives(term: Term) -> tuple[tuple[tuple[str, ...], ...], str | None]:
    """(the exact word sequences a term matches, or the prefix it matches)."""
    if term.prefix:
        return (), term.words[0]
    if term.exact:
        return (term.words,), None
    return tuple((form,) for form in forms(term.words[0])), None


def fts5(query: Query) -> str:
    """An FTS5 MATCH expression (every word quoted: nothing the user typed is FTS5 syntax)."""

    def one(term: Term) -> str:
        sequences, prefix = _alternatives(term)
        if prefix is not None:
            return f'"{prefix}"*'
        return " OR ".join('"' + " ".join(words) + '"' for words in sequences)

    return " AND ".join("(" + " OR ".join(one(t) for t in group) + ")" for group in query)


def tsquery(query: Query) -> str:
    """A to_tsquery('simple', ...) expression: each lexeme quoted, prefixes as `:*`, phrases with <->."""

    def one(term: Term) -> str:
        sequences, prefix = _alternatives(term)
        if prefix is not None:
            return f"'{prefix}':*"
        return " | ".join("(" + " <-> ".join(f"'{w}'" for w in words) + ")" for words in sequences)

    return " & ".join("(" + " | ".join(one(t) for t in group) + ")" for group in query)


def share(query: Query, common: Mapping[str, float]) -> float:
    """The share of documents a query matches, as far as the `common` words (word -> share of documents
    holding it, as PostgreSQL's statistics list them) tell: words not among them count as none."""

    def term_share(term: Term) -> float:
        sequences, prefix = _alternatives(term)
        if prefix is not None:
            return sum(f for word, f in common.items() if word.startswith(prefix))
        return sum(min(common.get(word, 0.0) for word in words) for words in sequences)

    return min(min(1.0, sum(term_share(t) for t in group)) for group in query)
