"""Reading a spec: YAML text -> located tree -> validated `Spec`.

Layer lists stay as located YAML nodes here: their fields may use parameters
that only a block call binds, so `expand` evaluates and validates each layer
into its kind's schema while it builds the graph IR.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import DiagnosticSink, Mark, SpecError, nearest
from .expr import UNRESOLVED, ExprError, evaluate
from .imports import Library, read_imports, spec_path
from .kinds import REGISTRY
from .located import reporting_for
from .plugins import read_plugins
from .train_config import TrainConfig
from .spec_defaults import read_defaults
from .validation import validate_into
from .variants import Variant, apply_variant, split_scale, variant_for
from .yamlsrc import YamlBudget, YMap, YNode, YScalar, YSeq, parse_yaml, read_source, to_plain

TOP_LEVEL_KEYS = ("name", "description", "imports", "input", "params", "scales", "defaults", "blocks", "layers",
                  "train", "plugins")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
REQUIRED = object()  # marks a block parameter without default
STRUCTURAL = ("repeat", "block")  # forms handled by the expander, not by the kind registry


@dataclass
class BlockDef:
    name: str
    params: dict[str, Any]  # name -> default value, REQUIRED, or a YNode evaluated at each use (see _block_params)
    layers: YSeq
    mark: Mark
    scope: dict[str, Any] = field(default_factory=dict)  # the params of the file defining it, which its layers see
    defaults: dict | None = None  # `defaults:` of an imported file, which its layers take (None: the spec's)


@dataclass
class Spec:
    """A parsed spec: everything the expander needs, nothing of raw YAML text but marks."""

    name: str
    input_shape: tuple[int, ...]
    layers: YSeq
    params: dict[str, int | float] = field(default_factory=dict)
    blocks: dict[str, BlockDef] = field(default_factory=dict)
    defaults: dict[str, YMap] = field(default_factory=dict)  # kind -> fields every layer of that kind starts from
    refused_blocks: set[str] = field(default_factory=set)  # definitions reported as errors: their uses stay quiet
    train: TrainConfig = field(default_factory=TrainConfig)
    description: str | None = None
    file: str | None = None
    source: str = ""
    scale: str | None = None  # the `scales:` preset it was read at
    scales: tuple[str, ...] = ()  # every preset the spec defines
    overrides: dict[str, Any] = field(default_factory=dict)  # name -> value, as given (`--set`, `overrides=`)
    sources: dict[str, str] = field(default_factory=dict)  # file -> text, for the spec, its imports, its overrides
    document: "Document | None" = field(default=None, repr=False, compare=False)  # to derive other variants
    variant: "Variant | None" = field(default=None, repr=False, compare=False)  # the scale and overrides, located
    plugins: tuple[str, ...] = ()  # modules whose kinds the spec uses (see netspec.plugins)

    def variant_record(self) -> dict:
        """What a checkpoint keeps so that eval, predict, export and --resume rebuild this network."""
        return {"scale": self.scale, "overrides": dict(self.overrides)}


def load(source: str | Path, *, text: str | None = None, overrides: "Mapping[str, Any] | None" = None,
         scale: str | None = None) -> Spec:
    """Read and validate a spec file (or `text`, named `source`); raise SpecError on problems.

    `overrides` sets params (`{"width": 0.5}`) and training settings (`{"train.lr": 0.1}`);
    `scale` picks one of the spec's `scales:` (so does a `@scale` suffix: "net.yaml@s").

    >>> spec = netspec.load("specs/resnet_mini.yaml", overrides={"num_classes": 100})
    >>> spec.name, spec.input_shape, spec.params
    ('resnet_mini', (1, 28, 28), {'num_classes': 100})
    """
    sink = DiagnosticSink(str(source))
    spec = read_spec(str(source), sink, text=text, overrides=overrides, scale=scale)
    if spec is None or sink.has_errors:
        raise SpecError(sink.items, spec.sources if spec else text)
    return spec


def read_spec(source: str, sink: DiagnosticSink, *, text: str | None = None, overrides=None, scale=None,
              variant: Variant | None = None, budget: YamlBudget | None = None) -> Spec | None:
    """Like `load`, but report problems into `sink`; returns what could be read."""
    variant = variant or variant_for(sink, source, scale, overrides)
    document = read_document(split_scale(source)[0] if text is None else source, sink, text=text, budget=budget)
    return None if document is None else derive(document, variant, sink)


@dataclass
class Document:
    """A spec file read, parsed and its imports read, once: each variant of it is derived from this."""

    file: str
    text: str
    root: YNode | None
    libraries: list[Library]
    sink: DiagnosticSink  # what reading found: every variant's report starts with these
    imports_complete: bool = True  # False when an import could not be read: its blocks are missing


def read_document(source: str, sink: DiagnosticSink, *, text: str | None = None,
                  budget: YamlBudget | None = None) -> Document | None:
    sink.file, path = source, source
    if text is None:
        try:
            path = spec_path(source)  # zoo:NAME is a packaged file, whose imports are relative to it
        except FileNotFoundError as error:  # an unknown zoo:NAME
            sink.error("file.zoo_unknown", str(error), hint=getattr(error, "hint", None))
            return None
        text = read_source(path, sink, budget)
        if text is None:
            return None
    root = parse_yaml(text, sink, budget)
    errors_before = sum(d.is_error for d in sink.items)
    libraries = read_imports(root, path, text, sink, budget) if isinstance(root, YMap) else []
    complete = sum(d.is_error for d in sink.items) == errors_before
    return Document(source, text, root, libraries, sink.copy(), complete)


def sink_for(document: Document) -> DiagnosticSink:
    """A sink for one variant of `document`, holding what reading the document found."""
    return document.sink.copy()


def derive(document: Document, variant: Variant, sink: DiagnosticSink) -> Spec:
    """The spec `document` describes at `variant` (its scale and overrides); problems go to `sink`."""
    root, source, text = document.root, document.file, document.text
    if root is None:
        return Spec(name="?", input_shape=(), layers=YSeq([], Mark(1, 1)), file=source, source=text)
    if not isinstance(root, YMap):
        got = "a list" if isinstance(root, YSeq) else f"the single value {to_plain(root)!r}"
        sink.error("spec.not_mapping", f"expected a mapping with name, input and layers at the top of the spec; "
                   f"got {got}", root.mark, hint="start the file with `name: my_net`")
        return Spec(name="?", input_shape=(), layers=YSeq([], root.mark), file=source, source=text)
    spec = _read_root(apply_variant(root, variant, sink), sink, source, text)
    spec.blocks = _with_imported_blocks(document.libraries, spec.blocks, sink, spec.refused_blocks)
    scales = root.get("scales")
    spec.scale, spec.scales = variant.scale, tuple(scales.items) if isinstance(scales, YMap) else ()
    spec.overrides = variant.record()["overrides"]
    spec.sources = {source: text, **{lib.file: lib.text for lib in document.libraries}, **variant.sources}
    spec.document, spec.variant = document, variant
    return spec


def _with_imported_blocks(libraries: list[Library], own: dict[str, BlockDef], sink: DiagnosticSink,
                          refused: set[str]) -> dict:
    """The spec's blocks and its imports' blocks; one name defined in two places is an error naming both.

    The names of imported definitions refused (and reported) join `refused`, whose uses stay quiet."""
    blocks: dict[str, BlockDef] = {}
    for library in libraries:
        with reporting_for(sink, library.file):
            _read_root_keys(library.root, sink)
            params = _read_params(library.root.get("params"), sink)
            defined = _read_blocks(library.root.get("blocks"), params, sink, refused)
            defaults = read_defaults(library.root.get("defaults"), sink)
        for block in defined.values():
            block.defaults = defaults
            _add_block(blocks, block, sink, replace=False)
    for block in own.values():
        _add_block(blocks, block, sink, replace=True)  # uses then fit what the spec itself says: one error, not two
    return blocks


def _add_block(blocks: dict[str, BlockDef], block: BlockDef, sink: DiagnosticSink, replace: bool) -> None:
    first = blocks.get(block.name)
    if first is None or replace:
        blocks[block.name] = block
    if first is None:
        return
    sink.error("block.clash", f"block '{block.name}' is defined twice: at {_where(first.mark, sink)} and here",
               block.mark, hint="rename one of them (blocks of every imported file share one namespace)")


def _where(mark: Mark, sink: DiagnosticSink) -> str:
    return f"{mark.file or sink.file}:{mark.line}:{mark.column}"


def _read_root_keys(root: YMap, sink: DiagnosticSink) -> None:
    for key in root.items:
        if key not in TOP_LEVEL_KEYS:
            guess = nearest(key, TOP_LEVEL_KEYS)
            sink.error("spec.unknown_key", f"unknown top-level key '{key}'", root.key_mark(key),
                       hint=f"did you mean '{guess}'?" if guess else f"top-level keys: {', '.join(TOP_LEVEL_KEYS)}")


def _read_root(root: YMap, sink: DiagnosticSink, source: str, text: str) -> Spec:
    _read_root_keys(root, sink)
    plugins = read_plugins(root.get("plugins"), sink, source)  # first: blocks and layers may use their kinds
    name = _string(root, "name", sink, default="network")
    params = _read_params(root.get("params"), sink)
    refused: set[str] = set()
    spec = Spec(name=name, input_shape=_read_input(root, params, sink), layers=_read_layers(root, sink),
                params=params, blocks=_read_blocks(root.get("blocks"), params, sink, refused), file=source, source=text,
                refused_blocks=refused,
                description=_string(root, "description", sink, default=None),
                defaults=read_defaults(root.get("defaults"), sink), plugins=plugins)
    train = root.get("train")
    if train is not None:
        plain = to_plain(train)
        if not isinstance(plain, dict):
            sink.error("spec.type", "train: expected a mapping of training settings", train.mark)
        else:
            spec.train = validate_into(TrainConfig, plain, train, sink, "train", train.mark, "train") or spec.train
    return spec


def _string(root: YMap, key: str, sink: DiagnosticSink, default):
    node = root.get(key)
    if node is None:
        if default == "network":
            sink.error("spec.missing_key", "missing top-level key 'name'", root.mark, hint="add `name: my_net`")
        return default
    if not isinstance(node, YScalar) or not isinstance(node.value, str):
        sink.error("spec.type", f"{key}: expected a string; got {to_plain(node)!r}", node.mark)
        return default
    return node.value


def _read_params(node: YNode | None, sink: DiagnosticSink) -> dict[str, int | float]:
    if node is None:
        return {}
    if not isinstance(node, YMap):
        sink.error("spec.type", "params: expected a mapping of name: number (or true/false)", node.mark,
                   hint="for example `params: {num_classes: 10, width: 16}`")
        return {}
    params: dict[str, int | float] = {}
    for key, value in node.items.items():
        if not NAME.fullmatch(key):
            sink.error("spec.name", f"params: '{key}' is not a valid parameter name", node.key_mark(key))
        resolved = evaluate_value(value, params, sink, f"params.{key}")
        if isinstance(resolved, (int, float)):  # a bool too: a switch for `if:`
            params[key] = resolved
            continue
        if resolved is not UNRESOLVED:
            sink.error("spec.type", f"params.{key}: expected a number or true/false; got {resolved!r}", value.mark)
        params[key] = UNRESOLVED  # reported once here; what uses it is skipped, not reported again
    return params


def evaluate_value(node: YNode, scope: dict, sink: DiagnosticSink, path: str) -> Any:
    """A scalar's value, with a string that is an arithmetic expression over `scope` evaluated.

    An expression that fails is reported here and comes back as UNRESOLVED.
    """
    from .expr import is_bare_name, names_in

    if not isinstance(node, YScalar) or not isinstance(node.value, str):
        return to_plain(node)
    names = names_in(node.value)
    if names is None or (is_bare_name(node.value) and node.value not in scope):
        return node.value  # a plain string such as 'same'; the schema judges it
    if any(scope.get(name) is UNRESOLVED for name in names):
        return UNRESOLVED  # uses a value whose error is reported (or an input shape an error left unknown)
    try:
        return evaluate(node.value, scope)
    except ExprError as exc:
        unknown = sorted(names - set(scope))
        guess = nearest(unknown[0], scope) if unknown else None
        hint = (f"did you mean '{guess}'?" if guess else
                "parameters come from `params:` or the block's params" if unknown else None)
        sink.error("spec.expression", str(exc), node.mark, path, hint=hint)
        return UNRESOLVED


def _read_input(root: YMap, params: dict, sink: DiagnosticSink) -> tuple[int, ...]:
    node = root.get("input")
    if node is None:
        sink.error("spec.missing_key", "missing top-level key 'input'", root.mark,
                   hint="add the input shape as [channels, height, width], e.g. `input: [1, 28, 28]`")
        return ()
    items = node.items if isinstance(node, YSeq) else None
    values = [evaluate_value(item, params, sink, "input") for item in items] if items else []
    if UNRESOLVED in values:
        return ()
    if not values or len(values) not in (1, 3) or not all(type(v) is int and v > 0 for v in values):
        sink.error("spec.input", f"input: expected [channels, height, width] of positive integers; "
                                 f"got {to_plain(node)!r}", node.mark, hint="e.g. `input: [3, 32, 32]`")
        return ()
    return tuple(values)


def _read_layers(root: YMap, sink: DiagnosticSink) -> YSeq:
    node = root.get("layers")
    if node is None:
        sink.error("spec.missing_key", "missing top-level key 'layers'", root.mark,
                   hint="add `layers:` with a list of layers, e.g. `- {kind: conv, out_channels: 6, kernel_size: 5}`")
        return YSeq([], root.mark)
    if not isinstance(node, YSeq) or not node.items:
        sink.error("spec.layers", "layers: expected a non-empty list of layers", node.mark)
        return YSeq([], node.mark)
    return node


def _read_blocks(node: YNode | None, params: dict, sink: DiagnosticSink, refused: set[str]) -> dict[str, BlockDef]:
    """The valid block definitions; the names of those refused (and reported) go to `refused`."""
    if node is None:
        return {}
    if not isinstance(node, YMap):
        sink.error("spec.type", "blocks: expected a mapping of block name to {params, layers}", node.mark)
        return {}
    blocks = {}
    for name, body in node.items.items():
        at = node.key_mark(name)
        if name in REGISTRY or name in STRUCTURAL or not NAME.fullmatch(name):
            sink.error("spec.block_name", f"blocks: '{name}' cannot name a block (it is a layer kind or not a name)",
                       at, hint="choose another name, e.g. 'my_" + name.strip("-") + "'")
            refused.add(name)
            continue
        if not isinstance(body, YMap) or not isinstance(body.get("layers"), YSeq):
            sink.error("spec.block", f"blocks.{name}: expected a mapping with `layers:` (and optional `params:`)", at)
            refused.add(name)
            continue
        for key in body.items:
            if key not in ("params", "layers", "description"):
                sink.error("spec.unknown_key", f"blocks.{name}: unknown key '{key}'", body.key_mark(key),
                           hint="a block has `params:`, `layers:` and an optional `description:`")
        blocks[name] = BlockDef(name, _block_params(body.get("params"), name, params, sink), body.get("layers"), at,
                                params)
    return blocks


def _block_params(node: YNode | None, block: str, params: dict, sink: DiagnosticSink) -> dict[str, Any]:
    """Parameter names, each with its default or REQUIRED.

    A default over the network's params is evaluated (and reported) here; one that uses other
    names (the block's input shape, `in_channels * 4`, or an earlier parameter) stays a YAML node
    that each use evaluates.
    """
    from .adapt import SHAPE_NAMES
    from .expr import names_in

    if node is None:
        return {}
    if isinstance(node, YSeq) and all(isinstance(i, YScalar) and isinstance(i.value, str) for i in node.items):
        return {item.value: REQUIRED for item in node.items}
    if isinstance(node, YMap):
        later = set(SHAPE_NAMES) | set(node.items)

        defaults = {}
        for key, value in node.items.items():
            text = value.value if isinstance(value, YScalar) and isinstance(value.value, str) else ""
            names = (names_in(text) or set()) - set(params)
            if names and names <= later:
                defaults[key] = value  # evaluated at each use
            elif names & later and names - later:  # an unknown name is reported now, used or not
                unknown = sorted(names - later)[0]
                sink.error("spec.expression", f"unknown parameter '{unknown}' in '{text}'", value.mark,
                           f"blocks.{block}.params.{key}", "parameters come from `params:` or the block's params")
                defaults[key] = UNRESOLVED
            else:
                defaults[key] = evaluate_value(value, params, sink, f"blocks.{block}.params.{key}")
        return defaults
    sink.error("spec.type", f"blocks.{block}.params: expected a list of names or a mapping of name: default",
               node.mark, hint="e.g. `params: [channels]` or `params: {channels: 16}`")
    return {}
