"""Common mistakes recognised for what they are, so the message names the fix, not the symptom.

- misindented YAML: PyYAML's "mapping values are not allowed here" and "expected <block
  end>", and a `- flatten` indented under `- relu` (read as the one value 'relu - flatten');
- `{block: se, squeeze: max(1, c // 4)}`: YAML splits a flow mapping at the expression's comma;
- `input: [28, 28, 1]`: an image written channels-last;
- after a shape error, the output the layer would have had where that is certain, so the
  mistakes after it are still found.
"""

from __future__ import annotations

import math
import re

from .diagnostics import DiagnosticSink, Mark
from .kinds import Notes, ShapeError
from .yamlsrc import YMap, YScalar

_LEAD = re.compile(r"( *)(- +)?([^\s:#]*)")  # always matches: indent, a list dash, the first word


def _line_parts(line: str) -> tuple[int, int | None, int, str]:
    """(indent, dash column or None, column of the content after any dash, its first word), columns from 1."""
    match = _LEAD.match(line)
    indent, dash, word = len(match.group(1)), match.group(2), (match.group(3) or "").strip()
    return indent + 1, (indent + 1 if dash else None), indent + 1 + len(dash or ""), word


def _line_above(lines: list[str], number: int) -> int | None:
    """The number of the nearest non-blank, non-comment line above line `number` (from 1)."""
    for above in range(number - 1, 0, -1):
        text = lines[above - 1].strip()
        if text and not text.startswith("#"):
            return above
    return None


def indentation_mistake(problem: str, where: Mark, text: str) -> tuple[str, str, Mark] | None:
    """(message, hint, mark) for PyYAML's indentation errors, or None when it is some other problem."""
    lines = text.splitlines()
    known = problem.startswith("expected <block end>") or problem == "mapping values are not allowed here"
    if not known or not 0 < where.line <= len(lines):
        return None
    line = where.line  # PyYAML stops on the misindented line: at its start, or at its key's colon
    above = _line_above(lines, line)
    if above is None:
        return None
    indent, dash, content, word = _line_parts(lines[line - 1])
    _, above_dash, above_content, above_word = _line_parts(lines[above - 1])
    target = above_dash if dash and above_dash else above_content
    if indent == target:
        return None  # lined up with the line above: not an indentation mistake we can name
    what = f"`- {word}`" if dash else f"`{word}:`"
    like = f"the `-` of `- {above_word}`" if dash and above_dash else f"`{above_word}:`"
    deeper = "deeper than" if indent > target else "less than"
    message = (f"line {line} is indented {deeper} line {above}, so YAML cannot tell which list or mapping "
               f"{what} belongs to")
    if problem == "mapping values are not allowed here" and indent > target:
        message = (f"line {line} is indented deeper than line {above}, so YAML reads {what} as part of "
                   f"line {above}'s value")
    return message, f"indent {what} to column {target}, like {like} on line {above}", Mark(line, indent)


def merged_list_items(value: str, mark: Mark, text: str) -> tuple[str, str, Mark] | None:
    """'relu - flatten': a `- flatten` line indented under `- relu` continues relu's plain scalar."""
    parts = value.split(" - ")
    if len(parts) < 2 or not all(part.strip().isidentifier() for part in parts):
        return None
    lines = text.splitlines()
    below = mark.line + 1
    column = (len(lines[below - 1]) - len(lines[below - 1].lstrip()) + 1) if below <= len(lines) else 1
    first = _line_parts(lines[mark.line - 1])[1] if mark.line <= len(lines) else None
    message = (f"`- {parts[1]}` on line {below} is indented deeper than `- {parts[0]}` above it, so YAML reads "
               f"both as the one value '{value}'")
    hint = f"put the `-` of `- {parts[1]}` in column {first}, under the one above" if first else \
        "put the dashes of one list in one column"
    return message, hint, Mark(below, column)


def rejoin_split_expression(fields: YMap, sink: DiagnosticSink, path: str) -> YMap:
    """`{squeeze: max(1, c // 4)}` reads as squeeze: 'max(1' and a key 'c // 4)' without value:
    report it once and put the expression back together, so nothing else about it is reported."""
    keys = list(fields.items)
    index = 0
    while index < len(keys):
        start = fields.items[keys[index]]
        depth = _depth(start.value) if isinstance(start, YScalar) and isinstance(start.value, str) else 0
        end = index + 1
        while depth > 0 and end < len(keys) and _valueless(fields.items[keys[end]]):
            depth += _depth(keys[end])
            end += 1
        if depth <= 0 and end > index + 1:
            joined = ", ".join([start.value, *keys[index + 1:end]])
            sink.error("yaml.split_expression", f"{keys[index]}: YAML split the expression '{joined}' at its comma",
                       start.mark, path, f"quote it: `{keys[index]}: '{joined}'` (in `{{...}}` a comma separates "
                                         f"fields)")
            items = {**fields.items, keys[index]: YScalar(joined, start.mark, joined)}
            for key in keys[index + 1:end]:
                del items[key]
            fields = YMap(items, fields.mark, {k: m for k, m in fields.key_marks.items() if k in items})
            keys = list(fields.items)
        index += 1
    return fields


def _depth(text: str) -> int:
    return sum(text.count(c) for c in "([") - sum(text.count(c) for c in ")]")


def _valueless(node) -> bool:
    return isinstance(node, YScalar) and node.value is None


def channels_last_hint(input_shape: tuple) -> str | None:
    """[28, 28, 1] or [32, 32, 3]: an image written as [H, W, C]."""
    if len(input_shape) != 3:
        return None
    height, width, channels = input_shape
    if channels in (1, 3, 4) and height > 4 and width > 4:
        return (f"the input {list(input_shape)} looks channels-last: netspec reads [C, H, W], so an image is "
                f"`input: [{channels}, {height}, {width}]`")
    return None


CHECK_FIELDS = ("in_channels", "in_features", "num_features")  # given only to be checked against the input


def recovered_shape(kind, layer, in_shapes: tuple) -> tuple | None:
    """The output a layer whose shape rule failed would have without the mistake, where that is certain:
    without a wrong `in_channels` (or in_features, num_features), or after the `flatten` a linear lacks.
    None elsewhere: what follows then has an unknown input and reports nothing it cannot be sure of."""
    unchecked = layer.model_copy(update={name: None for name in CHECK_FIELDS if getattr(layer, name, None) is not None})
    attempts = [in_shapes]
    if len(in_shapes) == 1 and len(in_shapes[0]) == 3:
        attempts.append(((math.prod(in_shapes[0]),),))
    for shapes in attempts:
        try:
            return kind.infer_output_shape(unchecked, shapes, Notes())
        except ShapeError:
            continue
    return None
