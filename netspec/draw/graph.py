"""IR -> a picture's source: Graphviz DOT or Mermaid, with the shape on every edge.

Pure Python (no torch): one box per layer, an oval for the input and the output,
merges drawn as their own node so branches visibly fork and join, and each block
instance framed as a cluster named after the block. A frame has its own entry point,
so an identity shortcut runs inside the block it belongs to; blocks deeper than
`depth` are folded into one box with their input and output shapes (`depth=0`: every
block folded). Branches keep their spec order left to right.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ..ir import BLOCK, INPUT, Graph, Node
from ..kinds import REGISTRY

COMMON_FIELDS = {"kind", "name", "from_", "trainable", "branches", "inputs"}
FIELD_FORMATS = {"out_channels": "{} ch", "out_features": "{} out", "kernel_size": "{}", "stride": "s{}",
                 "padding": "p{}", "dilation": "d{}", "groups": "g{}"}  # the rest: "name=value"
MERGE_SYMBOLS = {"concat": "concat", "add": "+", "mul": "×"}
OUTPUT_ID = "output"
RANKDIRS = ("TB", "LR")


@dataclass
class Cluster:
    """A block instance: its title, its own nodes and the blocks nested in it."""

    title: str
    path: str
    block: Node | None = None  # the instance's BLOCK node (None for the whole network)
    depth: int = 0
    nodes: list[Node] = field(default_factory=list)
    children: list["Cluster"] = field(default_factory=list)
    folded: bool = False
    entries: dict[str, str] = field(default_factory=dict)  # outside source id -> this frame's entry point id

    @property
    def id(self) -> str:
        return f"b{self.block.index}" if self.block else "root"

    def members(self) -> list[Node]:
        return self.nodes + [node for child in self.children for node in child.members()]


@dataclass
class View:
    """What is drawn: clusters (some folded into a box), and edges between drawn ids with their labels."""

    graph: Graph
    root: Cluster
    edges: list[tuple[str, str, str]]  # (tail id, head id, label); label "" for an entry point's fan-out
    rankdir: str = "TB"


def dot_source(graph: Graph, *, depth: int | None = None, rankdir: str = "TB") -> str:
    """The network as a Graphviz digraph; blocks nested deeper than `depth` folded into one box."""
    view = layout_view(graph, depth, rankdir)
    # folded overviews are for one screen: shapes as external labels, which take no rank of their own
    compact = depth is not None
    label_key = "xlabel" if compact else "label"
    lines = [f"digraph {_dot_quote(graph.name)} {{", f"  rankdir={rankdir};", "  newrank=true;", "  ordering=out;",
             *(["  ranksep=0.25; nodesep=0.3;", "  forcelabels=true;"] if compact else []),
             '  node [shape=box, style="rounded,filled", fillcolor="#e8eef7", color="#4a6a94", '
             'fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9, color="#555555"];']
    lines += _dot_cluster_body(view.root, "  ", itertools.count(1))
    lines.append(f'  {OUTPUT_ID} [label={_dot_quote("output " + shape_text(graph.output_shape))}, shape=oval, '
                 f'fillcolor="#f3f3f3"];')
    branch_starts = {_id(node) for node in graph.nodes if ".branches." in node.path and node.path.endswith("[0]")}
    for tail, head, label in view.edges:
        attributes = f"{label_key}={_dot_quote(label)}" if label else "arrowhead=none"
        weight = ", weight=4" if head in branch_starts else ""  # keeps every branch's first layer on one row
        lines.append(f"  {tail} -> {head} [{attributes}{weight}];")
    return "\n".join(lines + ["}"]) + "\n"


def mermaid_source(graph: Graph, *, depth: int | None = None, rankdir: str = "TB") -> str:
    """The network as a Mermaid flowchart (renders on GitHub and in many editors)."""
    view = layout_view(graph, depth, rankdir)
    lines = [f"flowchart {rankdir}"]
    lines += _mermaid_cluster_body(view.root, "  ", itertools.count(1))
    lines.append(f'  {OUTPUT_ID}(["output {shape_text(graph.output_shape)}"])')
    lines += [f'  {tail} -->|"{label}"| {head}' if label else f"  {tail} --- {head}" for tail, head, label in view.edges]
    return "\n".join(lines) + "\n"


# -- structure -------------------------------------------------------------


def layout_view(graph: Graph, depth: int | None = None, rankdir: str = "TB") -> View:
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir: expected one of {', '.join(RANKDIRS)}; got {rankdir!r}")
    root = clusters(graph)
    _fold(root, depth)
    shown = _representatives(root)
    edges: list[tuple[str, str, str]] = []
    for node in sorted(_drawn(graph), key=lambda node: node.index):
        for index in node.inputs:
            source = value_node(graph, index)
            edge = (shown[source.index], shown[node.index], shape_text(source.out_shape))
            if edge[0] != edge[1] and edge not in edges:  # a folded block takes its input once
                edges.append(edge)
    last = value_node(graph, graph.output)
    edges.append((shown[last.index], OUTPUT_ID, shape_text(last.out_shape)))
    return View(graph, root, _through_entries(root, edges, shown), rankdir)


def clusters(graph: Graph) -> Cluster:
    """Block instances nested by YAML path; every drawn node in the innermost one containing it."""
    root = Cluster("", "")
    blocks = sorted((node for node in graph.nodes if node.kind == BLOCK), key=lambda node: len(node.path))
    for block in blocks:
        parent = _innermost(root, block.path)
        parent.children.append(Cluster(_block_title(block), f"{block.path}.{block.label}[", block, parent.depth + 1))
    for node in _drawn(graph):
        _innermost(root, node.path).nodes.append(node)
    return root


def _fold(cluster: Cluster, depth: int | None) -> None:
    for child in cluster.children:
        child.folded = depth is not None and child.depth > depth
        if not child.folded:
            _fold(child, depth)


def _representatives(cluster: Cluster, folded_into: str | None = None) -> dict[int, str]:
    """Node index -> the id it is drawn as: its own, or the folded block that holds it."""
    shown = {node.index: folded_into or _id(node) for node in cluster.nodes}
    for child in cluster.children:
        shown.update(_representatives(child, folded_into or (child.id if child.folded else None)))
    return shown


def _through_entries(root: Cluster, edges: list[tuple[str, str, str]], shown: dict[int, str]):
    """Edges entering an unfolded frame from outside go through the frame's entry point."""
    inside = _shown_inside(root, shown, {})
    routed = []
    for tail, head, label in edges:
        frame = _entered_frame(root, tail, head, inside)
        if frame is None:
            routed.append((tail, head, label))
            continue
        if tail not in frame.entries:
            frame.entries[tail] = f"{frame.id}_in{len(frame.entries)}"
            routed.append((tail, frame.entries[tail], label))
        routed.append((frame.entries[tail], head, ""))
    return routed


def _shown_inside(cluster: Cluster, shown: dict[int, str], inside: dict[str, set[str]]) -> dict[str, set[str]]:
    """Frame id -> the ids drawn inside it, worked out once (not per edge)."""
    for child in cluster.children:
        inside[child.id] = {shown[node.index] for node in child.members()}
        _shown_inside(child, shown, inside)
    return inside


def _entered_frame(cluster: Cluster, tail: str, head: str, inside: dict[str, set[str]]) -> Cluster | None:
    """The outermost unfolded frame that holds `head` but not `tail`."""
    for child in cluster.children:
        if child.folded:
            continue
        if head in inside[child.id]:
            return child if tail not in inside[child.id] else _entered_frame(child, tail, head, inside)
    return None


def _drawn(graph: Graph) -> list[Node]:
    """Nodes that do something: block outputs are aliases of their last layer, not boxes."""
    return [node for node in graph.nodes if node.kind != BLOCK]


def value_node(graph: Graph, index: int) -> Node:
    node = graph.nodes[index]
    while node.kind == BLOCK:
        node = graph.nodes[node.inputs[0]]
    return node


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


def node_label(node: Node) -> str:
    if node.kind == INPUT:
        return f"input {shape_text(node.out_shape)}"
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
    """The layer's fields that differ from their defaults, and its main field always: `24 ch, 5×5, p2`, `p=0.5`."""
    if node.layer is None:
        return ""
    fields = node.layer.model_dump(exclude_defaults=True, exclude=COMMON_FIELDS)
    main = REGISTRY[node.kind].shorthand if node.kind in REGISTRY else None
    if main and main not in fields and getattr(node.layer, main, None) is not None:
        fields = {main: getattr(node.layer, main), **fields}
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


def shape_text(shape) -> str:
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
    lines = [f"{pad}{_id(node)} [label={_dot_quote(node_label(node))}{_node_style(node)}];" for node in cluster.nodes]
    lines += [f'{pad}{entry} [shape=point, width=0.06, color="#7a8fa8", label=""];'
              for entry in cluster.entries.values()]
    for child in cluster.children:
        if child.folded:
            lines.append(f'{pad}{child.id} [label={_dot_quote(_folded_text(child))}, shape=box3d, '
                         f'fillcolor="#dde7d4", color="#5b7a45"];')
            continue
        lines.append(f"{pad}subgraph cluster_{next(numbers)} {{")
        lines.append(f'{pad}  label={_dot_quote(child.title)}; style="rounded,dashed"; color="#7a8fa8"; '
                     f'fontname="Helvetica"; fontsize=12;')
        lines += _dot_cluster_body(child, pad + "  ", numbers)
        lines.append(f"{pad}}}")
    return lines


def _folded_text(cluster: Cluster) -> str:
    members = cluster.members()
    params = sum(node.params for node in members)
    first = min(members, key=lambda node: node.index)
    return (f"{cluster.title}\n{shape_text(first.in_shapes[0] if first.in_shapes else None)} → "
            f"{shape_text(cluster.block.out_shape)}\n{len(members)} layers, {params:,} params")


# -- Mermaid ---------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br/>")


def _mermaid_node(node: Node) -> str:
    label = _mermaid_text(node_label(node))
    if node.kind == INPUT:
        return f'{_id(node)}(["{label}"])'
    if node.kind in MERGE_SYMBOLS:
        return f'{_id(node)}(("{label}"))'
    return f'{_id(node)}["{label}"]'


def _mermaid_cluster_body(cluster: Cluster, pad: str, numbers) -> list[str]:
    lines = [pad + _mermaid_node(node) for node in cluster.nodes]
    lines += [f"{pad}{entry}(( ))" for entry in cluster.entries.values()]
    for child in cluster.children:
        if child.folded:
            lines.append(f'{pad}{child.id}[["{_mermaid_text(_folded_text(child))}"]]')
            continue
        lines.append(f'{pad}subgraph block{next(numbers)} ["{_mermaid_text(child.title)}"]')
        lines += _mermaid_cluster_body(child, pad + "  ", numbers)
        lines.append(f"{pad}end")
    return lines
