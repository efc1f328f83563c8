"""Moving located YAML trees between files: imported specs and `--set` values keep their own positions.

A node read from an imported file, or from the text of a `--set` override, carries
marks whose `file` names where it came from, so a diagnostic about it points there
and not at a line of the spec that used it.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from .diagnostics import DiagnosticSink, Mark
from .yamlsrc import YMap, YNode, YScalar, YSeq


def relocated(node: YNode, file: str, column_offset: int = 0) -> YNode:
    """A copy of `node` whose marks (and its keys' marks) name `file`, shifted right on the first line."""

    def move(mark: Mark) -> Mark:
        return Mark(mark.line, mark.column + (column_offset if mark.line == 1 else 0), file)

    if isinstance(node, YScalar):
        return YScalar(node.value, move(node.mark), node.raw)
    if isinstance(node, YSeq):
        return YSeq([relocated(item, file, column_offset) for item in node.items], move(node.mark))
    return YMap({key: relocated(value, file, column_offset) for key, value in node.items.items()}, move(node.mark),
                {key: move(mark) for key, mark in node.key_marks.items()})


def from_plain(value: Any, mark: Mark) -> YNode:
    """A located node for a Python value given through the API, typed as YAML would type it."""
    if isinstance(value, dict):
        return YMap({str(key): from_plain(item, mark) for key, item in value.items()}, mark,
                    {str(key): mark for key in value})
    if isinstance(value, (list, tuple)):
        return YSeq([from_plain(item, mark) for item in value], mark)
    return YScalar(value, mark, repr(value))


def count_nodes(node: YNode) -> int:
    """Nodes in a located tree, as the YAML node budget counts them."""
    if isinstance(node, YScalar):
        return 1
    children = node.items if isinstance(node, YSeq) else node.items.values()
    return 1 + sum(count_nodes(child) for child in children)


@contextmanager
def reporting_for(sink: DiagnosticSink, file: str) -> Iterator[DiagnosticSink]:
    """Diagnostics without a position of their own go to `file` while the block runs."""
    previous, sink.file = sink.file, file
    try:
        yield sink
    finally:
        sink.file = previous
