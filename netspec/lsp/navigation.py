"""Go to definition (block uses, `from:`/`inputs:` names, parameters) and inlay hints (each layer's
output shape at the end of its line)."""

from __future__ import annotations

from collections import Counter

import yaml

from .analysis import Analysis
from .outline import Outline, Pos, end, spot_at


def definition(outline: Outline, pos: Pos) -> yaml.Node | None:
    """The node that defines what is under `pos`: a block's key, a layer's `name:` value, a parameter."""
    spot = spot_at(outline, pos)
    if spot is None or spot.role == "block":
        return None
    if spot.role == "head":
        block = outline.blocks.get(spot.entry.block) if spot.entry.block else None
        return block.key if block else None
    if spot.role == "value" and spot.key in ("from", "inputs"):
        target = outline.visible_names(spot.entry).get(spot.node.value)
        return target.value("name") if target else None
    if spot.role == "value" and spot.key == "block":
        block = outline.blocks.get(spot.node.value)
        return block.key if block else None
    if spot.role in ("value", "param") and spot.word:
        found = outline.param_definition(spot.word, spot.entry)
        if found is None and spot.block:  # a block parameter's default is an expression over `params:`
            found = outline.params[spot.word][0] if spot.word in outline.params else None
        return None if found is spot.node else found
    return None


def inlay_hints(analysis: Analysis, first_line: int, last_line: int) -> list[tuple[Pos, str]]:
    """(position, label) for each layer entry on lines first_line..last_line with a known shape.

    The label goes at the end of the entry's first line, or right after the entry where one line
    holds several (`[{kind: conv, ...}, relu]`).
    """
    outline = analysis.outline
    if outline is None:
        return []
    per_line = Counter(entry.start[0] for entry in outline.entries)
    hints = []
    for entry in outline.entries:
        line = entry.start[0]
        if not first_line <= line <= last_line or entry.is_repeat:
            continue
        shapes = analysis.shapes_text(entry)
        if shapes is None:
            continue
        if per_line[line] == 1:
            where = (line, len(outline.lines[line].rstrip()))
        elif end(entry.node)[0] == line:
            where = end(entry.node)
        else:
            continue
        hints.append((where, f"→ {shapes}"))
    return hints

