"""Spec -> graph IR: expand blocks and repeats, validate each layer, infer shapes.

One walk over the layer lists does it all, so every node of the IR carries its
validated layer, its input and output shapes, its cost and its YAML position.
Problems are collected, never raised: a node whose input is unknown because of
an earlier error gets an unknown shape instead of a second, confusing error.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from . import adapt, mistakes, receptive
from .diagnostics import DiagnosticSink, Mark, NameIndex, nearest
from .expand_blocks import BlockForms, Form, Scope
from .ir import INPUT, Graph, Node
from .kinds import REGISTRY, Notes, ShapeError
from .expr import UNRESOLVED
from .names import name_problem
from .plugins import PluginError, kind_from_entry_points
from .spec import Spec, evaluate_value
from .validation import validate_into
from .yamlsrc import DEFAULT_MAX_LAYERS, YamlBudget, YMap, YNode, YScalar, YSeq, to_plain

NAMED_FORMS = ("block", "repeat")


@dataclass(frozen=True)
class Limits:
    """Budgets that refuse a spec before anything is allocated."""

    max_nodes: int = DEFAULT_MAX_LAYERS  # also sizes the YAML reading budget (`reading`)
    max_repeat: int = 1_000
    max_params: int = 2_000_000_000
    max_memory_bytes: int = 64 * 2**30
    max_macs: int | None = None  # multiply-accumulates per sample; None: no limit

    @property
    def reading(self) -> YamlBudget:
        """How much YAML may be read for a spec within these limits."""
        return YamlBudget(self.max_nodes)


class Expander(BlockForms):
    def __init__(self, spec: Spec, sink: DiagnosticSink, limits: Limits):
        self.spec, self.sink, self.limits = spec, sink, limits
        self.graph = Graph(spec.name, spec.input_shape or (), [Node(0, INPUT, "input", (), spec.input_shape or None,
                                                                      receptive_field=1)])
        self.footprints: dict[int, receptive.Footprint | None] = {0: receptive.INPUT}
        self.stopped = False

    def run(self) -> Graph:
        scope = Scope(dict(self.spec.params), names={"input": (0, None)})
        self.graph.output = self.sequence(self.spec.layers.items, 0, scope, "layers", "", ())
        return self.graph

    def sequence(self, items: list[YNode], x: int, scope: Scope, path: str, prefix: str, stack: tuple) -> int:
        for index, item in enumerate(items):
            if self.stopped:
                break
            x = self.item(item, x, scope, f"{path}[{index}]", prefix, str(index), stack)
        return x

    def item(self, node: YNode, x: int, scope: Scope, path: str, prefix: str, seg: str, stack: tuple) -> int:
        form = self.classify(node, path, scope)
        if form is None:
            return self.unknown(x, path, node.mark)
        form = Form(form.kind, mistakes.rejoin_split_expression(form.fields, self.sink, path))
        if adapt.CONDITION in form.fields.items:
            keep = adapt.condition(form.fields, self.expression_scope(scope, self.input_of(form, x, scope)),
                                   self.sink, path)
            if keep is not True:  # a false `if` removes the entry: the next one reads what it would have without it,
                out = x if keep is False else self.unknown(x, path, node.mark)
                name = self.declared_name(form, path)
                if name:  # and its name names its input (its `from:` layer), as if it were the identity
                    self.define(scope, name, self.source_of(form, out, scope, path), form.fields.key_mark("name"), path)
                return out
            form = Form(form.kind, adapt.without(form.fields, adapt.CONDITION))
        name = self.declared_name(form, path)
        if form.kind == "block":
            out = self.block_call(form, x, scope, path, prefix + (name or seg), stack)
        elif form.kind == "repeat":
            out = self.repeat(form, x, scope, path, prefix + (name or seg), stack)
        else:
            out = self.layer(form, x, scope, path, prefix, name or seg, stack)
        if name:
            self.define(scope, name, out, form.fields.key_mark("name"), path)
        return out

    # -- reading one entry -------------------------------------------------

    def classify(self, node: YNode, path: str, scope: Scope) -> Form | None:
        if isinstance(node, YScalar) and isinstance(node.value, str):
            if node.value in self.spec.blocks:
                return Form("block", YMap({"block": node}, node.mark))
            kind, via = adapt.kind_argument(node.value, scope.params, REGISTRY)
            return Form(kind, YMap({}, node.mark)) if self.known_kind(kind, node.mark, path, via) else None
        if not isinstance(node, YMap) or not node.items:
            self.sink.error("layer.form", f"expected a layer (a kind name or a mapping); got {to_plain(node)!r}",
                            node.mark, path, "e.g. `- relu` or `- {kind: conv, out_channels: 16, kernel_size: 3}`")
            return None
        for key in ("kind", *NAMED_FORMS):
            if key in node.items:
                return self.tagged(node, key, path, scope)
        if len(node.items) == 1:
            return self.short_form(node, path)
        self.sink.error("layer.form", "expected `kind:` in this layer; got " + ", ".join(node.items), node.mark, path,
                        "write the layer as `{kind: conv, ...}`, a block as `{block: name, ...}`")
        return None

    def tagged(self, node: YMap, key: str, path: str, scope: Scope) -> Form | None:
        value = node.items[key]
        if key != "kind":
            return Form(key, node)
        kind, via = adapt.kind_argument(value.value if isinstance(value, YScalar) else None, scope.params, REGISTRY)
        if isinstance(kind, str) and kind in self.spec.blocks:
            self.sink.error("layer.block_as_kind", f"'{kind}' is a block, not a layer kind", value.mark, path,
                            f"write `block: {kind}` instead of `kind: {kind}`")
            return None
        if not isinstance(kind, str):
            self.sink.error("layer.kind", f"kind: expected a layer kind name such as conv; got {to_plain(value)!r}",
                            value.mark, path, f"known kinds: {', '.join(sorted(REGISTRY))}")
            return None
        if not self.known_kind(kind, value.mark, path, via):
            return None
        fields = YMap({k: v for k, v in node.items.items() if k != "kind"}, node.mark, node.key_marks)
        return Form(kind, fields)

    def short_form(self, node: YMap, path: str) -> Form | None:
        ((key, value),) = node.items.items()
        at = node.key_mark(key)
        if key in self.spec.blocks:
            args = value.items if isinstance(value, YMap) else {}
            return Form("block", YMap({"block": YScalar(key, at), **args}, node.mark,
                                      getattr(value, "key_marks", {})))
        if not self.known_kind(key, at, path):
            return None
        if isinstance(value, YMap):
            return Form(key, value)
        shorthand = REGISTRY[key].shorthand
        if shorthand is None:
            self.sink.error("layer.shorthand", f"{key} has no short form `{key}: value`", at, path,
                            f"write `{{kind: {key}, ...}}` with its fields (see `netspec schema`)")
            return None
        return Form(key, YMap({shorthand: value}, node.mark, {shorthand: at}))

    @cached_property
    def kind_names(self) -> NameIndex:
        """What a layer entry may name, indexed once: a file with thousands of typos stays linear."""
        return NameIndex.of(set(REGISTRY) | set(self.spec.blocks) | set(NAMED_FORMS))

    @cached_property
    def block_names(self) -> NameIndex:
        return NameIndex.of(self.spec.blocks)

    def known_kind(self, kind: str, mark: Mark, path: str, via: str | None = None) -> bool:
        if kind in REGISTRY:
            return True
        try:
            if kind_from_entry_points(kind):  # read only now: a spec of built-in kinds never scans them
                return True
        except PluginError as exc:
            self.sink.error("plugin.load", exc.message, mark, path, exc.hint)
            return False
        if kind in self.spec.refused_blocks:
            return False  # its definition's error says why
        merged = mistakes.merged_list_items(kind, mark, self.spec.source) if via is None else None
        if merged:
            self.sink.error("yaml.indentation", merged[0], merged[2], path, merged[1])
            return False
        guess = nearest(kind, self.kind_names)
        where = f" (the value of parameter '{via}')" if via else ""
        self.sink.error("layer.unknown_kind", f"unknown layer kind '{kind}'{where}", mark, path,
                        f"did you mean '{guess}'?" if guess else f"known kinds: {', '.join(sorted(REGISTRY))}")
        return False

    def declared_name(self, form: Form, path: str) -> str | None:
        node = form.fields.get("name")
        if node is None:
            return None
        value = node.value if isinstance(node, YScalar) else None
        problem = name_problem(value) or ("a name other than 'input' (the input's own name)" if value == "input"
                                          else None)
        if problem:
            self.sink.error("layer.name", f"name: expected {problem}; got {to_plain(node)!r}",
                            node.mark, path, "names become attribute names of the built module, e.g. `conv1`")
            return None
        return value

    def define(self, scope: Scope, name: str, index: int, mark: Mark, path: str) -> None:
        if name in scope.names:
            first = scope.names[name][1]
            line = f" (first used on line {first.line})" if first else ""
            self.sink.error("layer.duplicate_name", f"duplicate layer name '{name}'{line}", mark, path,
                            "names must be unique within one layer list")
            return
        scope.names[name] = (index, mark)

    def values(self, form: Form, params: dict, path: str, skip=()) -> dict:
        data = {}
        for key, node in form.fields.items.items():
            if key in skip:
                data[key] = to_plain(node)
            elif isinstance(node, YSeq):
                data[key] = [evaluate_value(item, params, self.sink, path) for item in node.items]
            else:
                data[key] = evaluate_value(node, params, self.sink, path)
        return data

    def source_of(self, form: Form, x: int, scope: Scope, path: str) -> int:
        """The node an entry reads: `x`, or its `from:` layer (an unknown stand-in when that name is unknown)."""
        if "from" not in form.fields.items:
            return x
        source = self.resolve(to_plain(form.fields.items["from"]), scope, form, "from", path)
        return self.unknown(x, path, form.fields.mark) if source is None else source

    def input_of(self, form: Form, x: int, scope: Scope) -> tuple | None:
        """The entry's input shape: the previous layer's, or its `from:` layer's (reported later if unknown)."""
        source = form.fields.get("from")
        index = scope.lookup(source.value) if isinstance(source, YScalar) and isinstance(source.value, str) else x
        return self.graph.nodes[index].out_shape if index is not None else None

    def expression_scope(self, scope: Scope, shape: tuple | None) -> dict:
        return adapt.expression_scope(scope.params, shape)

    def field_mark(self, form: Form, name: str | None) -> Mark:
        node = form.fields.get(name) if name else None
        return node.mark if node is not None else form.fields.mark

    def resolve(self, name, scope: Scope, form: Form, key: str, path: str, mark: Mark | None = None) -> int | None:
        index = scope.lookup(name) if isinstance(name, str) else None
        if index is None:
            guess = scope.suggest(str(name))
            self.sink.error("layer.unknown_name", f"{key}: no earlier layer is named '{name}'",
                            mark or self.field_mark(form, key), path,
                            f"did you mean '{guess}'?" if guess else "give the layer `name: ...` before referring to it")
        return index

    # -- producing nodes ---------------------------------------------------

    def layer(self, form: Form, x: int, scope: Scope, path: str, prefix: str, seg: str, stack: tuple) -> int:
        kind = REGISTRY[form.kind]
        defaults = self.spec.defaults if scope.defaults is None else scope.defaults  # an imported block: its file's
        form = Form(form.kind, adapt.with_defaults(form.fields, defaults.get(form.kind)))
        params = self.expression_scope(scope, self.input_of(form, x, scope))
        data = self.values(form, params, path, skip=("name", "from", "branches", "inputs"))
        data["kind"] = kind.name
        if not isinstance(data.get("name", ""), str):
            data["name"] = UNRESOLVED  # declared_name reported it
        layer = validate_into(kind.schema, data, form.fields, self.sink, path, form.fields.mark, kind.name, params)
        source = x
        if layer is not None and layer.from_ is not None:
            source = self.resolve(layer.from_, scope, form, "from", path)
        if kind.merges and source is not None:  # branches start from `source`, like any layer's input
            first_branch_node = len(self.graph.nodes)
            inputs, kept = self.merge_inputs(form, source, scope, path, f"{prefix}{seg}.", stack)
            if layer is not None and kept is not None:  # later stages see the branches a false `if:` left
                layer = layer.model_copy(update={"branches": adapt.kept_branch_values(layer.branches, kept)})
            if layer is not None and not layer.trainable:  # a frozen merge freezes its branches
                for branch_node in self.graph.nodes[first_branch_node:]:
                    branch_node.trainable = False
        else:
            inputs = [source]
        if layer is None or any(i is None for i in inputs):
            return self.unknown(x, path, form.fields.mark, tuple(i for i in inputs if i is not None))
        in_shapes = tuple(self.graph.nodes[i].out_shape for i in inputs)
        node = Node(len(self.graph.nodes), kind.name, path, tuple(inputs), None, layer=layer, in_shapes=in_shapes,
                    trainable=layer.trainable, mark=form.fields.mark,
                    module_name=prefix + seg)
        if all(shape is not None for shape in in_shapes):
            self.infer(kind, node, form)
        return self.add(node)

    def infer(self, kind, node: Node, form: Form) -> None:
        notes = Notes()
        try:
            node.out_shape = kind.infer_output_shape(node.layer, node.in_shapes, notes)
        except ShapeError as exc:
            layout = mistakes.channels_last_hint(self.spec.input_shape)
            hint = f"{layout}; if it is right: {exc.hint}" if layout and exc.hint else layout or exc.hint
            self.sink.error("shape." + node.kind, exc.message, self.field_mark(form, exc.field), node.path, hint)
            node.out_shape = mistakes.recovered_shape(kind, node.layer, node.in_shapes)  # to find later mistakes
            self.footprints[node.index] = self.footprints[node.inputs[0]]
            return
        for message, hint, field_name in notes.warnings:
            self.sink.warning("shape.inexact", message, self.field_mark(form, field_name), node.path, hint)
        cost = kind.count(node.layer, node.in_shapes, node.out_shape)
        node.params, node.macs = cost.params, cost.macs
        footprints = [self.footprints[i] for i in node.inputs]
        reach = kind.window(node.layer, node.in_shapes, node.out_shape)
        rows = node.out_shape[1] if len(node.out_shape) == 3 else None
        footprint = (receptive.merged(footprints, rows) if kind.merges
                     else receptive.through(footprints[0], reach, rows))
        node.receptive_field = footprint.receptive_field if footprint is not None else None
        self.footprints[node.index] = footprint

    def merge_inputs(self, form: Form, x: int, scope: Scope, path: str, prefix: str, stack: tuple):
        """The merge's input nodes, and the labels of the branches it keeps (None: it joins `inputs:`)."""
        branches, refs = form.fields.get("branches"), form.fields.get("inputs")
        if (branches is None) == (refs is None):
            self.sink.error("merge.form", f"{form.kind}: expected exactly one of `branches` or `inputs`",
                            form.fields.mark, path, "`branches:` runs layer lists on the current input; "
                                                    "`inputs:` joins earlier layers by name")
            return [None], None
        if refs is not None:
            if "from" in form.fields.items:
                self.sink.error("merge.form", f"{form.kind}: expected `from` or `inputs`, not both",
                                form.fields.key_mark("from"), path, "list every input under `inputs:`")
            names = refs.items if isinstance(refs, YSeq) else [refs]
            if len(names) < 2:
                self.sink.error("merge.inputs", f"{form.kind}: expected at least 2 inputs; got {len(names)}",
                                refs.mark, path)
            return [self.resolve(to_plain(n), scope, form, "inputs", path, n.mark) for n in names], None
        if isinstance(branches, YMap):
            labelled = list(branches.items.items())
            for label, _ in labelled:
                if name_problem(label):
                    self.sink.error("merge.label", f"branch label: expected {name_problem(label)}; got '{label}'",
                                    branches.key_mark(label), path, "labels name the branch's submodule, "
                                                                    "e.g. `branch3x3`")
        elif isinstance(branches, YSeq):
            labelled = [(str(i), item) for i, item in enumerate(branches.items)]
        else:
            labelled = []
        if len(labelled) < 2:
            self.sink.error("merge.branches", f"{form.kind}: expected at least 2 branches; got {len(labelled)}",
                            branches.mark, path, "use [] for an identity (skip) branch")
            return [None], None
        kept = self.kept_branches(labelled, branches, x, scope, path)
        if not kept:  # one kept branch is fine: MobileNetV2's residual `add` without its shortcut is the body
            if kept is not None:
                self.sink.error("merge.branches", f"{form.kind}: expected a branch whose `if:` holds; got none",
                                branches.mark, path, "keep at least one branch, or put the `if:` on the merge")
            return [None], None
        outputs = []
        for label, where, items in kept:
            outputs.append(self.sequence(items, x, scope.child(), where, f"{prefix}{label}.", stack))
        return outputs, [label for label, _, _ in kept]

    def unknown(self, x: int, path: str, mark: Mark, inputs: tuple = ()) -> int:
        """A node that stands in for an invalid entry: unknown shape, no module."""
        node = Node(len(self.graph.nodes), "invalid", path, inputs or (x,), None, mark=mark)
        self.footprints[node.index] = receptive.INPUT  # what follows counts again from here
        return self.add(node)

    def add(self, node: Node) -> int:
        self.graph.nodes.append(node)
        if len(self.graph.nodes) > self.limits.max_nodes and not self.stopped:
            self.stopped = True
            self.sink.error("budget.nodes", f"the spec expands to more than {self.limits.max_nodes} layers",
                            node.mark, node.path, "lower a `repeat:` count, or raise the limit with --max-layers (Limits.max_nodes)")
        return node.index


def expand(spec: Spec, sink: DiagnosticSink, limits: Limits | None = None) -> Graph:
    """Expand `spec` into the graph IR, reporting every problem into `sink`."""
    return Expander(spec, sink, limits or Limits()).run()
