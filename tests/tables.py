"""Read back the tables the CLI prints (import as `from tables import parse_table`)."""

from __future__ import annotations

import re


def parse_table(text: str) -> list[dict[str, str]]:
    """Rows of the first table in `text` by column name; the dashes under the header give the spans."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if line and set(line) <= {"-", " "} and i > 0)
    spans = [m.span() for m in re.finditer(r"-+", lines[rule])]
    # The last column runs to the end of the line (it may be clipped or longer than its dashes).
    spans[-1] = (spans[-1][0], 10**6)

    def cells(line: str) -> list[str]:
        return [line[start:end].strip() for start, end in spans]

    names = cells(lines[rule - 1])
    rows = []
    for line in lines[rule + 1 :]:
        if not line.strip():
            break
        rows.append(dict(zip(names, cells(line), strict=True)))
    return rows
