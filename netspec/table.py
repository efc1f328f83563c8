"""Rendering a check report as the per-layer table people print by hand in the seeds.

Rows follow the built module's tree the way torchinfo prints one: a block instance or a merge
comes first, its layers indented under it and named relative to it. Below `depth` levels a
block or merge is folded into one row carrying its layers' totals. The `line` column points
at the YAML line the row came from.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from .check import Report
from .ir import BLOCK, Node
from .kinds import REGISTRY, fmt_shape

HEADERS = ("layer", "kind", "output", "params", "MACs", "RF", "line")
RIGHT_ALIGNED = {"params", "MACs", "RF", "line"}
EXPANDED = "--"  # a container's cells when its layers are listed under it (torchinfo's habit)


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


@dataclass
class Row:
    node: Node
    name: str  # relative to the container row above it
    level: int
    children: list["Row"] = field(default_factory=list)

    @property
    def params(self) -> int:
        return self.node.params + sum(child.params for child in self.children)

    @property
    def macs(self) -> int:
        return self.node.macs + sum(child.macs for child in self.children)

    def cells(self, folded: bool) -> tuple[str, ...]:
        node = self.node
        kind = f"block {node.label}" if node.label else node.kind
        counts = (f"{self.params:,}", f"{self.macs:,}") if folded or not self.children else (EXPANDED, EXPANDED)
        return (self.name, kind, fmt_shape(node.out_shape), *counts, str(node.receptive_field or ""),
                str(node.mark.line) if node.mark else "")


def layer_tree(report: Report) -> list[Row]:
    """Top-level rows, each holding the rows of its block's or merge's layers."""
    rows = [Row(node, node.module_name or node.path, 0) for node in report.graph.layers]
    containers = {row.node.module_name: row for row in rows if row.node.module_name and _is_container(row.node)}
    roots: list[Row] = []
    for row in rows:
        parent = _parent(row.node.module_name or "", containers)
        if parent:
            row.name = row.name[len(parent.node.module_name) + 1:]
        (parent.children if parent else roots).append(row)
    for row in rows:  # the IR lists a container after its layers; the table shows it first
        row.children.sort(key=_first_index)
        row.level = _level(row, containers)
    roots.sort(key=_first_index)
    return roots


def _is_container(node: Node) -> bool:
    return node.kind == BLOCK or (REGISTRY.get(node.kind) is not None and REGISTRY[node.kind].merges
                                  and getattr(node.layer, "branches", None) is not None)


def _parent(module_name: str, containers: dict[str, Row]) -> Row | None:
    parts = module_name.split(".")
    for length in range(len(parts) - 1, 0, -1):
        row = containers.get(".".join(parts[:length]))
        if row is not None:
            return row
    return None


def _level(row: Row, containers: dict[str, Row]) -> int:
    parent = _parent(row.node.module_name or "", containers)
    return 0 if parent is None else _level(parent, containers) + 1


def _first_index(row: Row) -> int:
    return min([row.node.index, *(_first_index(child) for child in row.children)])


def visible_rows(report: Report, depth: int | None = None) -> list[tuple[Row, bool]]:
    """(row, folded) in display order; rows `depth` levels down fold their layers into themselves."""
    shown: list[tuple[Row, bool]] = []

    def visit(row: Row) -> None:
        folded = depth is not None and row.level >= depth - 1 and bool(row.children)
        shown.append((row, folded))
        if not folded:
            for child in row.children:
                visit(child)

    for root in layer_tree(report):
        visit(root)
    return shown


def totals(report: Report) -> list[str]:
    graph = report.graph
    return [
        f"{graph.name}: input {fmt_shape(graph.input_shape)} -> output {fmt_shape(graph.output_shape)}",
        f"params: {report.params:,} total, {report.trainable_params:,} trainable ({human_bytes(report.param_bytes)})",
        f"MACs per sample: {report.macs:,} ({_short(report.macs)}); "
        f"FLOPs per sample (2 x MACs): {2 * report.macs:,} ({_short(2 * report.macs)})",
        f"activations per sample: {human_bytes(report.activation_bytes)}; training memory estimate at batch "
        f"{report.batch_size}: {human_bytes(report.training_memory_bytes())}",
    ]


def _short(count: int) -> str:
    return f"{count / 1e9:.2f} G" if count >= 1e9 else f"{count / 1e6:.2f} M"


def render_table(report: Report, depth: int | None = None) -> str:
    """The table as text; `depth` folds blocks and merges nested deeper (None: every layer)."""
    cells = [HEADERS] + [_indented(row, folded) for row, folded in visible_rows(report, depth)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    lines = ["  ".join(f"{cell:{'>' if header in RIGHT_ALIGNED else '<'}{width}}"
                       for cell, header, width in zip(line, HEADERS, widths)).rstrip() for line in cells]
    rule = "-" * max(len(line) for line in lines)
    return "\n".join([lines[0], rule, *lines[1:], rule, *totals(report)])


def _indented(row: Row, folded: bool) -> tuple[str, ...]:
    name, *rest = row.cells(folded)
    return ("  " * row.level + name, *rest)


def render_html(report: Report, depth: int | None = None) -> str:
    """The table as HTML for notebooks (`Report._repr_html_`)."""
    def cell(tag: str, text: str, header: str, level: int = 0) -> str:
        style = "text-align:right" if header in RIGHT_ALIGNED else f"text-align:left;padding-left:{level * 1.2 + 0.3}em"
        return f'<{tag} style="{style}">{html.escape(text)}</{tag}>'

    head = "".join(cell("th", header, header) for header in HEADERS)
    body = ["<tr>" + "".join(cell("td", text, header, row.level if header == "layer" else 0)
                             for text, header in zip(row.cells(folded), HEADERS)) + "</tr>"
            for row, folded in visible_rows(report, depth)]
    foot = "<br>".join(html.escape(line) for line in totals(report))
    return (f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<p style=\"font-family:monospace\">{foot}</p>")
