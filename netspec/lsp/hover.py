"""Hover text (Markdown): what the checker knows about the thing under the cursor."""

from __future__ import annotations

from ..adapt import CONDITION, SHAPE_NAMES, shape_names
from ..ir import Node
from ..kinds import REGISTRY, fmt_shape
from .analysis import Analysis
from .outline import Entry, Outline, Pos, scalar_text, spot_at, start

MAX_INSTANCES = 6  # a layer of a block used 20 times lists its first uses, then a count


def hover_text(analysis: Analysis, pos: Pos) -> str | None:
    outline = analysis.outline
    spot = spot_at(outline, pos) if outline else None
    if spot is None:
        return None
    if spot.role == "param" or (spot.role == "value" and spot.key not in ("from", "inputs", "block", "kind")
                                and spot.word and outline.param_definition(spot.word, spot.entry)):
        return param_text(analysis, spot.key if spot.role == "param" else spot.word, spot.entry, spot.block)
    if spot.role == "block":
        return block_definition_text(analysis, spot.key)
    if spot.role == "network":
        return network_text(analysis)
    if spot.role == "value" and spot.word in SHAPE_NAMES and spot.word not in analysis.outline.params:
        return shape_name_text(analysis, spot.entry, spot.word)
    if spot.role == "value" and spot.key in ("from", "inputs"):
        return reference_text(analysis, spot.entry, scalar_text(spot.node))
    text = layer_text(analysis, spot.entry)
    if spot.role == "key":
        doc = field_doc(spot.entry.kind, spot.key)
        text = (f"`{spot.key}`: {doc}\n\n---\n\n" if doc else "") + text
    return text


def layer_text(analysis: Analysis, entry: Entry) -> str:
    """A layer's (or block use's) output and input shapes, params, MACs and receptive field, per instance."""
    nodes = analysis.instances(entry)
    what = f"block `{entry.block}`" if entry.block else (f"`{entry.kind}`" if entry.kind else
                                                         "repeat" if entry.is_repeat else "layer")
    title = f"**{what}**" + (f" `{entry.name}`" if entry.name else "")
    if entry.kind:
        title += f" — {REGISTRY[entry.kind].summary}"
    if not nodes:
        block = entry.layers.block
        why = (f"block `{block}` is not used by any layer, so it has no shapes yet" if block and analysis.outline
               and not analysis.outline.uses_of(block) else
               "removed: its `if:` is false wherever it is used" if CONDITION in entry.fields else
               "shape unknown: see the diagnostics")
        return f"{title}\n\n{why}"
    if len(nodes) == 1:
        parts = [title, f"`{nodes[0].path}`", _costs(analysis, nodes[0])]
    else:
        parts = [title, f"{len(nodes)} instances:"]
        parts += [f"- `{node.path}`: {_costs(analysis, node)}" for node in nodes[:MAX_INSTANCES]]
        if len(nodes) > MAX_INSTANCES:
            parts.append(f"- ... and {len(nodes) - MAX_INSTANCES} more")
    if entry.block:
        parts.append(_arguments(analysis.outline, entry))
    return "\n\n".join(part for part in parts if part)


def _costs(analysis: Analysis, node: Node) -> str:
    members = analysis.block_members(node) if node.kind == "block" else [node]
    params, macs = sum(m.params for m in members), sum(m.macs for m in members)
    rf = f" · receptive field {node.receptive_field}" if node.receptive_field else ""
    merged = node.kind != "block" and len(node.in_shapes) > 1  # a merge receives its branches' outputs
    inputs = node.in_shapes if merged else (analysis.input_shape(node),)
    return (f"output {fmt_shape(node.out_shape)} ← input{'s' * merged} {' + '.join(map(fmt_shape, inputs))} · "
            f"params {params:,} · MACs {macs:,}{rf}")


def _arguments(outline: Outline, entry: Entry) -> str:
    block = outline.blocks.get(entry.block)
    if block is None:
        return ""
    if not block.params:
        return f"block `{entry.block}` takes no parameters"
    given = [f"`{name}` = {_raw(entry.value(name)) if name in entry.fields else _default(default)}"
             for name, (_, default) in block.params.items()]
    return "parameters: " + ", ".join(given)


def _raw(node) -> str:
    return scalar_text(node) or "..." if node is not None else "..."


def _default(node) -> str:
    return "required (no default)" if node is None else f"{_raw(node)} (default)"


def reference_text(analysis: Analysis, entry: Entry, name: str | None) -> str | None:
    """A `from:`/`inputs:` name: the layer it points to and that layer's shape."""
    if not name:
        return None
    target = analysis.outline.visible_names(entry).get(name, False)
    if target is False:
        return f"no earlier layer named `{name}` is visible here"
    if target is None:
        where = f"the input of block `{entry.layers.block}`" if entry.layers.block else "the network's input"
        shapes = _input_shapes(analysis, entry)
        return f"`input`: {where}" + (f", {shapes}" if shapes else "")
    shapes = analysis.shapes_text(target) or "?"
    return (f"`{name}` → {_describe(target)} on line {start(target.node)[0] + 1}: output {shapes}\n\n---\n\n"
            + layer_text(analysis, target))


def _input_shapes(analysis: Analysis, entry: Entry) -> str:
    if not entry.layers.block:
        graph = analysis.report.graph if analysis.report else None
        return fmt_shape(graph.input_shape) if graph else ""
    shapes = [fmt_shape(analysis.input_shape(node)) for use in analysis.outline.uses_of(entry.layers.block)
              for node in analysis.instances(use)]
    return " | ".join(dict.fromkeys(shapes))


def _describe(entry: Entry) -> str:
    return f"block `{entry.block}`" if entry.block else f"`{entry.kind}`" if entry.kind else "repeat"


def param_text(analysis: Analysis, name: str, entry: Entry | None, block_name: str | None) -> str | None:
    """A parameter: the network's value, or a block parameter's default and the value each use passes."""
    outline = analysis.outline
    block = outline.blocks.get(block_name) if block_name else (outline.block_of(entry) if entry else None)
    if block is not None and name in block.params:
        lines = [f"**parameter** `{name}` of block `{block.key.value}`: {_default(block.params[name][1])}"]
        for use in outline.uses_of(block.key.value):
            value = _raw(use.value(name)) if name in use.fields else "the default"
            label = f"`{use.name}`" if use.name else "a use"
            lines.append(f"- {label} on line {use.start[0] + 1}: {value}")
        return "\n".join(lines)
    if name not in outline.params:
        return None
    spec = analysis.report.spec if analysis.report else None
    value = spec.params.get(name) if spec else None
    raw = _raw(outline.params[name][1])
    shown = f"{value}" if value is not None else "?"
    return f"**parameter** `{name}` = {shown}" + (f" (`{raw}`)" if raw != str(value) else "")


def block_definition_text(analysis: Analysis, name: str) -> str:
    block = analysis.outline.blocks[name]
    params = ", ".join(f"`{p}` = {_default(default)}" for p, (_, default) in block.params.items()) or "none"
    lines = [f"**block** `{name}`", f"parameters: {params}"]
    for use in analysis.outline.uses_of(name):
        label = f"`{use.name}`" if use.name else "a use"
        lines.append(f"- {label} on line {use.start[0] + 1}: output {analysis.shapes_text(use) or '?'}")
    return "\n\n".join(lines[:2]) + ("\n\nuses:\n" + "\n".join(lines[2:]) if lines[2:] else "\n\nnot used yet")


def shape_name_text(analysis: Analysis, entry: Entry, name: str) -> str:
    """`in_channels` and its kin: the value each instance of the layer gets from its input."""
    values = [shape_names(analysis.input_shape(node)).get(name) for node in analysis.instances(entry)]
    shown = " | ".join(dict.fromkeys(str(value) for value in values)) or "?"
    return f"`{name}` = {shown}: from this layer's input shape"


def network_text(analysis: Analysis) -> str | None:
    """The whole network: input, output and totals, as `netspec check` prints them."""
    report = analysis.report
    if report is None or report.graph is None:
        return None
    graph = report.graph
    return (f"**network** `{graph.name}`: input {fmt_shape(graph.input_shape)} → output "
            f"{fmt_shape(graph.output_shape)}\n\n{len(graph.layers)} layers · params {report.params:,} · "
            f"MACs {report.macs:,}")


def field_doc(kind: str | None, key: str) -> str | None:
    """A layer field's description from its kind's schema."""
    schema = REGISTRY[kind].schema if kind in REGISTRY else None
    if schema is None:
        return None
    for field_name, info in schema.model_fields.items():
        if key in (field_name, info.alias):
            return info.description
    return None
