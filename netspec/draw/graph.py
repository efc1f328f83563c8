"""IR -> a picture's source: Graphviz DOT or Mermaid, with the shape on every edge.

Pure Python (no torch): one box per layer, an oval for the input and the output,
merges drawn as their own node so branches visibly fork and join, and each block
instance framed as a cluster named after the block.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ..ir import BLOCK, INPUT, Graph, Node

COMMON_FIELDS = {"kind", "name", "from_", "trainable", "branches", "inputs"}
FIELD_FORMATS = {"out_channels": "{} ch", "out_features": "{} out", "kernel_size": "{}", "stride": "s{}",
                 "padding": "p{}", "dilation": "d{}", "groups": "g{}"}  # the rest: "name=value"
MERGE_SYMBOLS = {"concat": "concat", "add": "+"}
OUTPUT_ID = "output"


@dataclass
class Cluster:
    """A block instance: its title, its own nodes and the blocks nested in it."""

    title: str
    path: str
    nodes: list[Node] = field(default_factory=list)
    children: list["Cluster"] = field(default_factory=list)


def dot_source(graph: Graph) -> str:
    """The network as a Graphviz digraph."""
    lines = [f"digraph {_dot_quote(graph.name)} {{", "  rankdir=TB;", "  newrank=true;",
             '  node [shape=box, style="rounded,filled", fillcolor="#e8eef7", color="#4a6a94", '
             'fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9, color="#555555"];']
    root = _clusters(graph)
    lines += _dot_cluster_body(root, "  ", itertools.count(1))
    lines += [f"  {_id(source)} -> {_id(node)} [label={_dot_quote(_shape(source.out_shape))}];"
              for node, source in _edges(graph)]
    lines.append(f'  {OUTPUT_ID} [label={_dot_quote("output " + _shape(graph.output_shape))}, shape=oval, '
                 f'fillcolor="#f3f3f3"];')
    last = _value(graph, graph.output)
    lines.append(f"  {_id(last)} -> {OUTPUT_ID} [label={_dot_quote(_shape(last.out_shape))}];")
    return "\n".join(lines + ["}"]) + "\n"


def mermaid_source(graph: Graph) -> str:
    """The network as a Mermaid flowchart (renders on GitHub and in many editors)."""
    lines = ["flowchart TB"]
    lines += _mermaid_cluster_body(_clusters(graph), "  ", itertools.count(1))
    lines += [f'  {_id(source)} -->|"{_shape(source.out_shape)}"| {_id(node)}' for node, source in _edges(graph)]
    last = _value(graph, graph.output)
    lines.append(f'  {OUTPUT_ID}(["output {_shape(graph.output_shape)}"])')
    lines.append(f'  {_id(last)} -->|"{_shape(last.out_shape)}"| {OUTPUT_ID}')
    return "\n".join(lines) + "\n"


# -- structure -------------------------------------------------------------


def _drawn(graph: Graph) -> list[Node]:
    """Nodes that do something: block outputs are aliases of their last layer, not boxes."""
    return [node for node in graph.nodes if node.kind != BLOCK]


def _value(graph: Graph, index: int) -> Node:
    node = graph.nodes[index]
    while node.kind == BLOCK:
        node = graph.nodes[node.inputs[0]]
    return node


def _edges(graph: Graph) -> list[tuple[Node, Node]]:
    return [(node, _value(graph, index)) for node in _drawn(graph) for index in node.inputs]


def _clusters(graph: Graph) -> Cluster:
    """Block instances nested by YAML path; every drawn node in the innermost one containing it."""
    root = Cluster("", "")
    blocks = sorted((node for node in graph.nodes if node.kind == BLOCK), key=lambda node: len(node.path))
    for block in blocks:
        inner = f"{block.path}.{block.label}["
        _innermost(root, block.path).children.append(Cluster(_block_title(block), inner))
    for node in _drawn(graph):
        _innermost(root, node.path).nodes.append(node)
    return root


def _innermost(cluster: Cluster, path: str) -> Cluster:
    for child in cluster.children:
        if path.startswith(child.path):
            return _innermost(child, path)
    return cluster


def _block_title(block: Node) -> str:
    """`incep1: inception_a`: the instance's attribute name and the block it uses."""
    return f"{block.module_name}: {block.label}" if block.module_name else block.label


# -- labels ----------------------------------------------------------------


def _id(node: Node) -> str:
    return f"n{node.index}"


def _node_label(node: Node) -> str:
    if node.kind == INPUT:
        return f"input {_shape(node.out_shape)}"
    if node.kind in MERGE_SYMBOLS:
        return MERGE_SYMBOLS[node.kind]
    title = f"{_name(node)}: {node.kind}" if _name(node) else node.kind
    details = _details(node)
    return f"{title}\n{details}" if details else title


def _name(node: Node) -> str:
    """The layer's name in the spec, else the branch it sits in (`branch3x3`), else nothing."""
    segments = (node.module_name or "").split(".")
    named = [segment for segment in segments[-2:] if not segment.isdigit()]
    return named[-1] if named and (not segments[-1].isdigit() or ".branches." in node.path) else ""


def _details(node: Node) -> str:
    """The layer's fields that differ from their defaults, briefly: `24 ch, 5×5, p2`."""
    if node.layer is None:
        return ""
    fields = node.layer.model_dump(exclude_defaults=True, exclude=COMMON_FIELDS)
    parts = []
    for key, value in fields.items():
        if key == "kernel_size" and isinstance(value, int):
            value = [value, value]
        text = "×".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        numeric = not isinstance(value, str)
        parts.append((FIELD_FORMATS.get(key, "") if numeric else "").format(text) or f"{key}={text}")
    if not node.trainable:
        parts.append("frozen")
    return ", ".join(parts)


def _shape(shape) -> str:
    return "×".join(map(str, shape)) if shape else "?"


def _node_style(node: Node) -> str:
    if node.kind == INPUT:
        return ', shape=oval, fillcolor="#f3f3f3"'
    if node.kind in MERGE_SYMBOLS:
        return ', shape=ellipse, fillcolor="#fbe3c4", color="#b07020"'
    if node.params == 0:
        return ', fillcolor="#f7f7f7", color="#888888"'
    return ""


# -- DOT -------------------------------------------------------------------


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_cluster_body(cluster: Cluster, pad: str, numbers) -> list[str]:
    lines = [f"{pad}{_id(node)} [label={_dot_quote(_node_label(node))}{_node_style(node)}];" for node in cluster.nodes]
    for child in cluster.children:
        lines.append(f"{pad}subgraph cluster_{next(numbers)} {{")
        lines.append(f'{pad}  label={_dot_quote(child.title)}; style="rounded,dashed"; color="#7a8fa8"; '
                     f'fontname="Helvetica"; fontsize=12;')
        lines += _dot_cluster_body(child, pad + "  ", numbers)
        lines.append(f"{pad}}}")
    return lines


# -- Mermaid ---------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br/>")


def _mermaid_node(node: Node) -> str:
    label = _mermaid_text(_node_label(node))
    if node.kind == INPUT:
        return f'{_id(node)}(["{label}"])'
    if node.kind in MERGE_SYMBOLS:
        return f'{_id(node)}(("{label}"))'
    return f'{_id(node)}["{label}"]'


def _mermaid_cluster_body(cluster: Cluster, pad: str, numbers) -> list[str]:
    lines = [pad + _mermaid_node(node) for node in cluster.nodes]
    for child in cluster.children:
        lines.append(f'{pad}subgraph block{next(numbers)} ["{_mermaid_text(child.title)}"]')
        lines += _mermaid_cluster_body(child, pad + "  ", numbers)
        lines.append(f"{pad}end")
    return lines
