"""The classifier: does a news item report a new recognition of the Taliban or a sanctions change?

Public API: `classify`, `explain`, `classify_jsonl`, `load_baseline`, `Baseline`, `Fact`,
`actor_name`, `resolve_actor`. Names are loaded on first use, so a command that only needs the gazetteer
(`actor_name`, `resolve_actor`) does not compile the engine's rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.lazy import lazy_names

if TYPE_CHECKING:
    from monitor.classify.baseline import Baseline, Fact, load_baseline
    from monitor.classify.engine import classify
    from monitor.classify.gazetteer import actor_name, resolve_actor
    from monitor.classify.jsonl import classify_jsonl, explain

_HOMES = {
    "Baseline": "baseline",
    "Fact": "baseline",
    "load_baseline": "baseline",
    "classify": "engine",
    "actor_name": "gazetteer",
    "resolve_actor": "gazetteer",
    "classify_jsonl": "jsonl",
    "explain": "jsonl",
}

__all__ = [
    "Baseline",
    "Fact",
    "actor_name",
    "classify",
    "classify_jsonl",
    "explain",
    "load_baseline",
    "resolve_actor",
]


__getattr__ = lazy_names(__name__, _HOMES, globals())
