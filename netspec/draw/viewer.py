"""The interactive HTML viewer: the checker's graph as one self-contained page.

The page (viewer.html beside this file) holds its script and styles inline and the
network as JSON, so it opens from disk with no network access. Python gives it the
facts (every layer's kind, fields, shapes, params, MACs, receptive field and YAML line,
every block instance and its nesting, every edge); the page lays them out, folds and
unfolds blocks on click, pans, zooms, and shows a clicked layer's row.
"""

from __future__ import annotations

import json
from importlib import resources

from ..check import Report
from ..ir import BLOCK, Node
from .graph import RANKDIRS, Cluster, clusters, node_label, shape_text, value_node

DATA_MARK = "/*NETSPEC_DATA*/null"


def viewer_html(report: Report, *, depth: int | None = None, rankdir: str = "TB") -> str:
    """The page for a checked report; blocks deeper than `depth` start folded."""
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir: expected one of {', '.join(RANKDIRS)}; got {rankdir!r}")
    template = resources.files(__package__).joinpath("viewer.html").read_text(encoding="utf-8")
    data = viewer_data(report, depth, rankdir)
    # </script> inside a string would end the script element early: escape every "<"
    payload = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    return template.replace(DATA_MARK, payload).replace("{{title}}", _html_text(report.graph.name))


def viewer_data(report: Report, depth: int | None, rankdir: str) -> dict:
    graph = report.graph
    lines = (report.spec.source or "").splitlines() if report.spec is not None else []
    parents: dict[int, str | None] = {}
    blocks: list[dict] = []
    _walk(clusters(graph), None, parents, blocks, depth, lines)
    nodes = [_node_row(node, parents.get(node.index), lines) for node in graph.nodes if node.kind != BLOCK]
    edges = [{"from": f"n{value_node(graph, index).index}", "to": f"n{node.index}",
              "label": shape_text(value_node(graph, index).out_shape)}
             for node in graph.nodes if node.kind != BLOCK for index in node.inputs]
    return {"name": graph.name, "file": report.spec.file if report.spec is not None else None,
            "input": list(graph.input_shape), "output": list(graph.output_shape or ()),
            "params": graph.params, "macs": graph.macs, "rankdir": rankdir, "nodes": nodes, "blocks": blocks,
            "edges": edges, "outputNode": f"n{value_node(graph, graph.output).index}"}


def _walk(cluster: Cluster, parent: str | None, parents: dict, blocks: list, depth: int | None, lines) -> None:
    for node in cluster.nodes:
        parents[node.index] = parent
    for child in cluster.children:
        members = child.members()
        block = child.block
        blocks.append({"id": child.id, "title": child.title, "parent": parent, "depth": child.depth,
                       "folded": depth is not None and child.depth > depth, "out": list(block.out_shape or ()),
                       "params": sum(node.params for node in members), "macs": sum(node.macs for node in members),
                       "layers": len(members), **_where(block, lines)})
        _walk(child, child.id, parents, blocks, depth, lines)


def _node_row(node: Node, parent: str | None, lines: list[str]) -> dict:
    fields = {}
    if node.layer is not None:
        fields = node.layer.model_dump(mode="json", by_alias=True, exclude={"kind"}, exclude_none=True)
    return {"id": f"n{node.index}", "index": node.index, "kind": node.kind, "label": node_label(node),
            "module": node.module_name, "path": node.path, "parent": parent, "fields": fields,
            "out": list(node.out_shape or ()), "in": [list(shape) for shape in node.in_shapes],
            "params": node.params, "macs": node.macs, "rf": node.receptive_field, "trainable": node.trainable,
            **_where(node, lines)}


def _where(node: Node, lines: list[str]) -> dict:
    mark = node.mark
    if mark is None or mark.line is None:
        return {"line": None, "column": None, "source": None}
    text = lines[mark.line - 1] if 0 < mark.line <= len(lines) else None
    return {"line": mark.line, "column": mark.column, "source": text[:300] if text is not None else None}


def _html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
