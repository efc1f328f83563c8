"""One analysis of an editor buffer: the checker's report on the unsaved text, the text's outline,
and the IR nodes each layer entry became (a block's layers once per use, a repeat's once per copy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..check import Report, check
from ..diagnostics import Diagnostic
from ..expand import Limits
from ..ir import Node
from ..kinds import fmt_shape
from .outline import Entry, Outline, Pos, read_outline, split_lines


@dataclass
class Analysis:
    text: str
    lines: list[str]
    diagnostics: list[Diagnostic]
    outline: Outline | None = None  # None when the text is not a YAML mapping
    report: Report | None = None
    nodes_at: dict[Pos, list[Node]] = field(default_factory=dict)  # entry start -> its IR nodes

    def instances(self, entry: Entry) -> list[Node]:
        """The IR nodes `entry` produced: one per use of its block, per copy of its repeat."""
        if entry.is_repeat:
            body = entry.bodies[0].entries if entry.bodies else []
            return self.instances(body[-1]) if body else []
        return self.nodes_at.get(entry.start, [])

    def block_members(self, node: Node) -> list[Node]:
        """The nodes a block use expanded to: they come just before its BLOCK node, under its path."""
        nodes, prefix = self.report.graph.nodes, node.path + "."
        first = node.index
        while first > 1 and nodes[first - 1].path.startswith(prefix):
            first -= 1
        return nodes[first:node.index]

    def input_shape(self, node: Node):
        """The shape a node receives: a layer's first input, a block use's input from outside it."""
        if node.kind != "block":
            return node.in_shapes[0] if node.in_shapes else None
        members = self.block_members(node)
        inside = {member.index for member in members}
        outside = [i for member in members for i in member.inputs if i not in inside]
        return self.report.graph.nodes[min(outside)].out_shape if outside else None

    def shapes_text(self, entry: Entry, limit: int = 3) -> str | None:
        """The entry's output shape(s), each distinct one once, in order: `(16, 12, 12) | (16, 4, 4)`."""
        shapes = list(dict.fromkeys(fmt_shape(node.out_shape) for node in self.instances(entry)))
        if not shapes:
            return None
        if len(shapes) > limit:
            shapes = [shapes[0], f"... {len(shapes) - 2} more ...", shapes[-1]]
        return " | ".join(shapes)


def analyse(text: str, path: str, limits: Limits | None = None) -> Analysis:
    """Check `text` as the spec `path` (which is not read) and index it for the editor."""
    lines = split_lines(text)
    problem = _not_unicode(text, path)
    if problem:
        return Analysis(text, lines, [problem])
    report = check(path, text=text, limits=limits)
    nodes_at: dict[Pos, list[Node]] = {}
    for node in report.graph.layers if report.graph else ():
        if node.mark is not None:
            nodes_at.setdefault((node.mark.line - 1, node.mark.column - 1), []).append(node)
    return Analysis(text, lines, report.diagnostics, read_outline(text, (limits or Limits()).reading), report, nodes_at)


def _not_unicode(text: str, path: str) -> Diagnostic | None:
    """A buffer with a lone surrogate (JSON can carry one; no UTF-8 file can) cannot be YAML."""
    try:
        text.encode("utf-8")
        return None
    except UnicodeEncodeError as exc:
        before = text[:exc.start]
        line = before.count("\n") + 1
        return Diagnostic("error", "file.encoding",
                          f"expected Unicode text; got the unpaired surrogate {ord(text[exc.start]):#06x}", path,
                          line, exc.start - (before.rfind("\n") + 1) + 1,
                          hint="specs are YAML text files; delete the stray character")
