"""Read a fetched list document into its selected entries, by the feed's `format`."""

from __future__ import annotations

from collections.abc import Set

from monitor.lists import eu, ofac, uk, un
from monitor.lists.entry import ParsedList
from monitor.lists.selection import Selection

_READERS = {
    "un-consolidated": un.read,
    "ofac-sdn": ofac.read,
    "uk-sanctions-list": uk.read,
    "eu-fsf": eu.read,
}


def read_list(fmt: str, body: bytes, selection: Selection, tracked: Set[str] = frozenset()) -> ParsedList:
    """`tracked`: keys selected last time; those still listed but no longer selected come back in
    `ParsedList.left`, so an entry leaving the selection (a programme dropped) is seen, not lost.
    Raises ParseError for a document that is not the list it should be."""
    return _READERS[fmt](body, selection.rules(fmt), tracked)
