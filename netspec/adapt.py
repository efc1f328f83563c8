"""What makes a block adapt to where it is used, decided statically while expanding.

- `if: <condition>` on a layer, a block use or a repeat keeps the entry or removes it
  (a removed entry is the identity); on a branch written `{if: ..., layers: [...]}` it
  keeps the branch or drops it from the merge;
- the input's shape is visible to expressions as `in_channels`, `in_height`,
  `in_width` (a (C, H, W) input) or `in_features` (a flat input);
- `repeat:` takes 0 copies, and `index: i` names the copy number (0, 1, ...);
- `defaults:` gives fields per kind, which each layer may override;
- a block parameter may name a layer kind (`{kind: act}`).
"""

from __future__ import annotations

from .diagnostics import DiagnosticSink
from .expr import UNRESOLVED
from .spec import evaluate_value
from .yamlsrc import YMap, YNode, YScalar, to_plain

CONDITION = "if"
SHAPE_NAMES = ("in_channels", "in_height", "in_width", "in_features")


def shape_names(shape: tuple[int, ...] | None) -> dict:
    """The names an expression uses for its layer's input shape; unknown after an earlier error.

    An unknown shape binds every name to UNRESOLVED, so an expression using one is skipped,
    not reported: the error that made the shape unknown was.
    """
    if shape is None:
        return dict.fromkeys(SHAPE_NAMES, UNRESOLVED)
    if len(shape) == 3:
        return dict(zip(SHAPE_NAMES, shape))
    return {"in_features": shape[0]} if len(shape) == 1 else {}


def expression_scope(params: dict, shape: tuple[int, ...] | None) -> dict:
    """Parameters win over the shape names: a spec's own `in_channels` parameter keeps working."""
    return {**shape_names(shape), **params}


def condition(fields: YMap, scope: dict, sink: DiagnosticSink, path: str):
    """True or False for the entry's `if:` (True when it has none), or UNRESOLVED when reported."""
    node = fields.get(CONDITION)
    if node is None:
        return True
    value = evaluate_value(node, scope, sink, f"{path}.if")
    if value is UNRESOLVED or type(value) is bool:
        return value
    sink.error("layer.if", f"if: expected a condition (true, false or a comparison); got {to_plain(node)!r}"
               + ("" if value == to_plain(node) else f" = {value!r}"), node.mark, path,
               "e.g. `if: stride > 1 or in_channels != out_channels`")
    return UNRESOLVED


def without(fields: YMap, *keys: str) -> YMap:
    return YMap({k: v for k, v in fields.items.items() if k not in keys}, fields.mark,
                {k: v for k, v in fields.key_marks.items() if k not in keys})


def with_defaults(fields: YMap, defaults: YMap | None) -> YMap:
    """A layer's fields over the spec's `defaults:` for its kind: the layer's own win."""
    if defaults is None:
        return fields
    return YMap({**defaults.items, **fields.items}, fields.mark, {**defaults.key_marks, **fields.key_marks})


def conditional_branch(body: YNode) -> bool:
    """`{if: ..., layers: [...]}`: a branch kept or dropped as a whole."""
    return isinstance(body, YMap) and "layers" in body.items and "kind" not in body.items \
        and set(body.items) <= {CONDITION, "layers"}


def kept_branch_values(branches, kept_labels: list[str]):
    """A merge's `branches` (validated, plain values) as the IR has them: only the branches a false `if:` left,
    each `{if: ..., layers: X}` as its X. A list that lost a branch becomes a mapping, so labels stay the
    module names ("0", "2")."""
    def body(value):
        return value["layers"] if isinstance(value, dict) and set(value) <= {CONDITION, "layers"} \
            and "layers" in value else value

    if isinstance(branches, dict):
        return {label: body(branches[label]) for label in kept_labels}
    if isinstance(branches, list):
        kept = {label: body(branches[int(label)]) for label in kept_labels}
        return list(kept.values()) if list(kept) == [str(i) for i in range(len(branches))] else kept
    return branches


def kind_argument(name, params: dict, known) -> tuple[str, str | None]:
    """The kind a layer names, and the parameter it came through (`{kind: act}`, act: hardswish)."""
    if not isinstance(name, str) or name in known or name not in params:
        return name, None
    value = params[name]
    return (value, name) if isinstance(value, str) else (f"{value!r}", name)


def repeat_index(fields: YMap, sink: DiagnosticSink, path: str) -> str | None:
    """The name `index:` gives the copy number; None when absent or reported."""
    node = fields.get("index")
    if node is None:
        return None
    if isinstance(node, YScalar) and isinstance(node.value, str) and node.value.isidentifier():
        return node.value
    sink.error("repeat.index", f"repeat: index: expected a name for the copy number; got {to_plain(node)!r}",
               node.mark, path, "e.g. `{repeat: 3, index: i, layers: [{kind: dropout, p: 0.1 * i}]}`")
    return None
