"""Stream the records of a large XML document with bounded memory.

`xml.etree.ElementTree.iterparse` builds a tree as it goes; each record is handed out when it ends and
then detached from its parent, so only one record is held at a time (CPython's docs: iterparse frees
nothing by itself). Namespaces vary between eras of the same list (OFAC), so tags match on local names.

Expat before 2.6 is open to entity-expansion tricks; no official list uses a DTD, so a document that
declares one is refused before parsing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from xml.etree import ElementTree as ET

from monitor.errors import ParseError

_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def child_text(element: ET.Element, name: str) -> str:
    """The text of the first direct child named `name` (any namespace), or ''."""
    for child in element:
        if local(child.tag) == name:
            return child.text or ""
    return ""


def children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if local(child.tag) == name]


def descendants_text(element: ET.Element, name: str) -> list[str]:
    """The texts of every element named `name` below `element`."""
    return [node.text or "" for node in element.iter() if local(node.tag) == name]


def records(body: bytes, root: str, record_tags: frozenset[str], what: str) -> Iterator[ET.Element]:
    """The root element first (attributes read, no children yet), then each ended element whose local
    name is in `record_tags`; every record is detached once the caller has moved on."""
    _refuse_doctype(body)
    stack: list[ET.Element] = []
    try:
        for event, element in ET.iterparse(io.BytesIO(body), events=("start", "end")):
            if event == "start":
                if not stack and local(element.tag) != root:
                    raise ParseError(
                        f"not a {what}: the root element is <{local(element.tag)}>, not <{root}>"
                    )
                if not stack:
                    yield element
                stack.append(element)
                continue
            stack.pop()
            if local(element.tag) in record_tags:
                yield element
                if stack:
                    stack[-1].remove(element)
    except ET.ParseError as error:
        raise ParseError(f"not a {what}: ill-formed XML ({error})") from None


def _refuse_doctype(body: bytes) -> None:
    first = _FIRST_ELEMENT.search(body)
    prolog = body[: first.start()] if first else body
    if _DOCTYPE.search(prolog):
        raise ParseError("refused: the document declares a DTD (no official list uses one)")
