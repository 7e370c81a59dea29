"""The classifier: does a news item report a new recognition of the Taliban or a sanctions change?

Public API: `classify`, `explain`, `classify_jsonl`, `load_baseline`, `Baseline`, `Fact`,
`actor_name`, `resolve_actor`.
"""

from monitor.classify.baseline import Baseline, Fact, load_baseline
from monitor.classify.engine import classify
from monitor.classify.gazetteer import actor_name, resolve_actor
from monitor.classify.jsonl import classify_jsonl, explain

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
