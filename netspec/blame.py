"""Errors an override caused, moved to the override: `--set num_classes=1.5` is at fault, not the line using it.

An error at a value of the spec's own file whose expression uses an overridden param points at the
`<--set ...>` text and names the line that used it. Params computed from an overridden one
(`c2: 2 * width`) count as overridden, and so does a block's param whose argument at the use (or whose
default) uses one: `out_channels: channels` inside a block used as `{block: unit, channels: width}`
is the fault of `--set width=0`. The diagnostic's layer path (`layers[0].unit[0]`) says which uses lead there.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .diagnostics import Diagnostic
from .expr import names_in
from .variants import Override, Variant
from .yamlsrc import YMap, YNode, YScalar, YSeq

# a layer path's steps: `layers`, `[3]`, `unit`, `branches`, `body`, `[0]`, `repeat`, `[2]`, ...
_STEP = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")
Causes = dict[str, Override]  # param name -> the override behind its value


def blame_overrides(diagnostics: list[Diagnostic], spec, root: YMap) -> list[Diagnostic]:
    """`diagnostics`, each error an override caused moved to that override (see the module's docstring)."""
    variant = spec.variant
    if variant is None or not variant.overrides or not any(d.is_error for d in diagnostics):
        return diagnostics
    causes = _overridden_params(variant, root)
    if not causes:
        return diagnostics
    used = _expressions_by_position(root)
    return [_blamed(d, spec.file, used, _visible_at(d.path, root, causes)) for d in diagnostics]


def _overridden_params(variant: Variant, root: YMap) -> Causes:
    causes = {o.name: o for o in variant.overrides if not o.is_training}
    params = root.get("params")
    for key, node in (params.items.items() if isinstance(params, YMap) else ()):
        cause = _cause(_text(node), causes)
        if key not in causes and cause is not None:
            causes[key] = cause
    return causes


def _text(node: YNode | None) -> str | None:
    return node.value if isinstance(node, YScalar) and isinstance(node.value, str) else None


def _cause(text: str | None, causes: Causes) -> Override | None:
    """The override behind the first overridden name that the expression `text` uses."""
    names = (names_in(text) or set()) if text else set()
    return next((causes[name] for name in sorted(names) if name in causes), None)


def _visible_at(path: str | None, root: YMap, network: Causes) -> Causes:
    """The overridden names an expression at the layer `path` sees: the network's params, or inside a block
    (which sees the network's params and its own) those and the block's params that an override set.
    Where the path leaves the spec's own YAML (an imported block), what was found so far."""
    blocks = root.get("blocks")
    node, visible, skip_copy = root, network, False
    for index, name in _STEP.findall(path or ""):
        if name and isinstance(blocks, YMap) and _uses_block(node, name) and isinstance(blocks.get(name), YMap):
            visible = _bound(node, blocks.get(name), visible, network)
            node = blocks.get(name).get("layers")
        elif name and isinstance(node, YMap) and name in node.items:
            skip_copy = name == "repeat"  # `repeat[2]` is a copy of the body, not one of its layers
            node = node.get("layers") if skip_copy else node.get(name)
        elif index and skip_copy:
            skip_copy = False
        elif index.isdigit() and isinstance(node, YSeq) and int(index) < len(node.items):
            node = node.items[int(index)]
        elif index and isinstance(node, YMap) and index in node.items:  # branches: [label]
            node = node.get(index)
        else:
            break
    return visible


def _uses_block(node: YNode, name: str) -> bool:
    """`{block: name, ...}`, or the block's bare name as a layer."""
    return (_text(node.get("block")) if isinstance(node, YMap) else _text(node)) == name


def _bound(use: YNode, block: YMap, visible: Causes, network: Causes) -> Causes:
    """What a block's layers see: the network's overridden params, and each block param whose argument at the
    use (evaluated where the use is) or, without one, whose default uses an overridden name."""
    params = block.get("params")
    names = (list(params.items) if isinstance(params, YMap) else
             [_text(item) for item in params.items] if isinstance(params, YSeq) else [])
    inside = {name: cause for name, cause in network.items() if name not in names}
    for name in names:
        argument = use.get(name) if isinstance(use, YMap) else None
        cause = (_cause(_text(argument), visible) if argument is not None else
                 _cause(_text(params.get(name)), {**network, **inside}) if isinstance(params, YMap) else None)
        if cause is not None:
            inside[name] = cause
    return inside


def _expressions_by_position(node: YNode, found: dict | None = None) -> dict[tuple[int, int], str]:
    """(line, column) -> text of every string scalar of the spec's own file."""
    found = {} if found is None else found
    if isinstance(node, YScalar):
        if isinstance(node.value, str) and node.mark.file is None:
            found[(node.mark.line, node.mark.column)] = node.value
    else:
        for child in node.items if isinstance(node, YSeq) else node.items.values():
            _expressions_by_position(child, found)
    return found


def _blamed(diagnostic: Diagnostic, file: str, used: dict, causes: Causes) -> Diagnostic:
    if not diagnostic.is_error or diagnostic.file != file or diagnostic.line is None:
        return diagnostic
    text = used.get((diagnostic.line, diagnostic.column))
    cause = _cause(text, causes) if text is not None else None
    if cause is None:
        return diagnostic
    mark = cause.node.mark
    return replace(diagnostic, file=cause.label, line=mark.line, column=mark.column,
                   message=f"{diagnostic.message} (at {file}:{diagnostic.line}:{diagnostic.column}, "
                           f"`{text}` with {cause.label[1:-1]})")
