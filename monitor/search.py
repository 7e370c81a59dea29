"""The `--search` language: words as people type them, turned into an FTS5 or tsquery expression.

- Words are all required. Each matches as a prefix of its root, so `Kazakh` finds "Kazakhstan" and
  `recognise` finds "recognises", "recognized" and "recognition" (the root is the word less a common
  English ending: -s, -es, -ed, -ing, -ise, -ize, -ition, -ation...).
- `"a phrase"` matches those exact words in that order.
- `a OR b` matches either; OR binds tighter than the implied AND (`taliban recognise OR recognition`).
- Punctuation separates words, as in the index (`Kazakhstan's` is `kazakhstan` and `s`).

A query that cannot mean anything (a quote left open, OR or AND with nothing on one side, no letters or
digits at all) is an InputError naming the problem, never an empty result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.errors import InputError

_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_ENDINGS = (  # longest first
    *("isations", "izations", "isation", "ization", "itions", "ations", "ition", "ation"),
    *("ising", "izing", "ised", "ized", "ises", "izes", "ise", "ize", "ings", "ing"),
    *("ies", "ied", "ed", "es", "s", "e"),
)
MIN_ROOT = 4  # shorter roots match too much ("eas" would find "east")
MIN_PREFIX = 3  # one- and two-letter words ("s", "UN") match only themselves


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # lower case
    exact: bool  # a quoted phrase; otherwise one word matched by its root as a prefix


# A query: every group must match; a group matches when any of its terms does.
Query = tuple[tuple[Term, ...], ...]


def root(word: str) -> str:
    """The word less its longest common English ending, keeping at least MIN_ROOT letters."""
    word = word.lower()
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_ROOT:
            return word[: -len(ending)]
    return word


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
        terms = _terms(phrase, bare)
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


def _terms(phrase: str | None, bare: str | None) -> list[Term]:
    if phrase is not None:
        words = tuple(w.lower() for w in _WORD.findall(phrase))
        return [Term(words, exact=True)] if words else []
    return [Term((w.lower(),), exact=False) for w in _WORD.findall(bare or "")]


def _prefix(term: Term) -> str | None:
    """The prefix a bare word matches, or None when it matches only itself."""
    word = term.words[0]
    return None if term.exact or len(word) < MIN_PREFIX else root(word)


def fts5(query: Query) -> str:
    """An FTS5 MATCH expression (every word quoted: nothing the user typed is FTS5 syntax)."""

    def one(term: Term) -> str:
        prefix = _prefix(term)
        if prefix is not None:
            return f'"{prefix}"*'
        return '"' + " ".join(term.words) + '"'

    return " AND ".join("(" + " OR ".join(one(t) for t in group) + ")" for group in query)


def tsquery(query: Query) -> str:
    """A to_tsquery('simple', ...) expression: each lexeme quoted, prefixes as `:*`, phrases with <->."""

    def one(term: Term) -> str:
        prefix = _prefix(term)
        if prefix is not None:
            return f"'{prefix}':*"
        return "(" + " <-> ".join(f"'{w}'" for w in term.words) + ")"

    return " & ".join("(" + " | ".join(one(t) for t in group) + ")" for group in query)
