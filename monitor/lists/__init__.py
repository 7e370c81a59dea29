"""Official sanctions lists as feeds: read a list, select the Taliban/Afghanistan entries, diff per entry.

`read_list` (reading + selection) and `diff.compare` (validation, per-entry diff, breaker) are pure;
`ledger` writes what they found; `describe` turns a change into the item and decision the rest of the
monitor already knows how to store, alert on and show.
"""

from monitor.lists.entry import ListEntry, ParsedList
from monitor.lists.read import read_list
from monitor.lists.selection import Selection, load_selection

__all__ = ["ListEntry", "ParsedList", "Selection", "load_selection", "read_list"]
