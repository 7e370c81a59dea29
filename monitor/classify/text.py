"""Normalisation and sentence splitting."""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "–": "-",
        "—": " - ",
        "‑": "-",
        "\u00a0": " ",
    }
)
_SPACE = re.compile(r"\s+")
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
# A full stop after these is not the end of a sentence.
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:[A-Z]\.){2,}|\b(?:Mr|Mrs|Ms|Dr|Gen|Lt|Col|Sen|Rep|St|No|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|"
    r"Oct|Nov|Dec|Inc|Corp|Co|vs|Prof|Gov|Amb)\.)$"
)


def normalise(text: str) -> str:
    """NFKC, straight quotes and dashes, folded whitespace."""
    if text.isascii():
        return _SPACE.sub(" ", text).strip()
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).translate(_QUOTES)).strip()


def sentences(text: str) -> list[str]:
    """Split a summary into sentences, keeping "U.S." and "Jan." inside theirs."""
    parts: list[str] = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        if _ABBREVIATIONS.search(text[start : boundary.start() + 1]):
            continue
        parts.append(text[start : boundary.end()].strip())
        start = boundary.end()
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts
