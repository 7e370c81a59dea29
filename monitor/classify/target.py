"""The target the classifier watches, read once from seeds/target.yaml (package data).

The engine and its rules never spell the Taliban's names: they take them from here, so another target (or
a new alias) is a data change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

import yaml

_KEYS = ("movement", "aliases", "state_money", "lookalikes", "regimes", "topic_words", "topic_abbreviations")


@dataclass(frozen=True, slots=True)
class Target:
    movement: tuple[str, ...]
    aliases: tuple[str, ...]
    state_money: tuple[str, ...]
    lookalikes: tuple[str, ...]
    regimes: tuple[str, ...]
    topic_words: tuple[str, ...]
    topic_abbreviations: tuple[str, ...]

    def movement_pattern(self) -> str:
        """An alternation of the movement's names, spaces matching any whitespace."""
        names = sorted(self.movement, key=len, reverse=True)
        return "(?:" + "|".join(re.escape(name).replace(r"\ ", r"\s+") for name in names) + ")"


def load_target() -> Target:
    """The packaged target description; a broken file is a developer's error, raised at import."""
    text = files("monitor.seeds").joinpath("target.yaml").read_text(encoding="utf-8")
    document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when present
    missing = [key for key in _KEYS if not isinstance(document.get(key), list)]
    if missing:
        raise RuntimeError(f"seeds/target.yaml: {', '.join(missing)}: expected a list")
    return Target(*(tuple(str(entry) for entry in document[key]) for key in _KEYS))


TARGET = load_target()
