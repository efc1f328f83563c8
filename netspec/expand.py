"""Spec -> graph IR: expand blocks and repeats, validate each layer, infer shapes.

One walk over the layer lists does it all, so every node of the IR carries its
validated layer, its input and output shapes, its cost and its YAML position.
Problems are collected, never raised: a node whose input is unknown because of
an earlier error gets an unknown shape instead of a second, confusing error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import DiagnosticSink, Mark, nearest
from .ir import BLOCK, INPUT, Graph, Node
from .kinds import REGISTRY, Notes, ShapeError
from .expr import UNRESOLVED
from .names import name_problem
from .plugins import PluginError, kind_from_entry_points
from .spec import REQUIRED, Spec, evaluate_value
from .validation import validate_into
from .yamlsrc import YMap, YNode, YScalar, YSeq, to_plain

NAMED_FORMS = ("block", "repeat")


@dataclass(frozen=True)
class Limits:
    """Budgets that refuse a spec before anything is allocated."""

    max_nodes: int = 10_000
    max_repeat: int = 1_000
    max_params: int = 2_000_000_000
    max_memory_bytes: int = 64 * 2**30


@dataclass
class Scope:
    """Names visible to `from:` and `inputs:`, and the parameters expressions may use."""

    params: dict
    parent: "Scope | None" = None
    names: dict[str, tuple[int, Mark | None]] = field(default_factory=dict)

    def lookup(self, name: str) -> int | None:
        scope = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name][0]
            scope = scope.parent
        return None

    def visible(self) -> set[str]:
        return set(self.names) | (self.parent.visible() if self.parent else set())

    def child(self) -> "Scope":
        return Scope(self.params, self)


@dataclass
class Form:
    """One layer entry, whichever way it was written: kind (or block/repeat), fields, marks."""

    kind: str
    fields: YMap


class Expander:
    def __init__(self, spec: Spec, sink: DiagnosticSink, limits: Limits):
        self.spec, self.sink, self.limits = spec, sink, limits
        self.graph = Graph(spec.name, spec.input_shape or (), [Node(0, INPUT, "input", (), spec.input_shape or None,
                                                                      receptive_field=1)])
        self.jumps = {0: 1}
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
        form = self.classify(node, path)
        if form is None:
            return self.unknown(x, path, node.mark)
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

    def classify(self, node: YNode, path: str) -> Form | None:
        if isinstance(node, YScalar) and isinstance(node.value, str):
            if node.value in self.spec.blocks:
                return Form("block", YMap({"block": node}, node.mark))
            return Form(node.value, YMap({}, node.mark)) if self.known_kind(node.value, node.mark, path) else None
        if not isinstance(node, YMap) or not node.items:
            self.sink.error("layer.form", f"expected a layer (a kind name or a mapping); got {to_plain(node)!r}",
                            node.mark, path, "e.g. `- relu` or `- {kind: conv, out_channels: 16, kernel_size: 3}`")
            return None
        for key in ("kind", *NAMED_FORMS):
            if key in node.items:
                return self.tagged(node, key, path)
        if len(node.items) == 1:
            return self.short_form(node, path)
        self.sink.error("layer.form", "expected `kind:` in this layer; got " + ", ".join(node.items), node.mark, path,
                        "write the layer as `{kind: conv, ...}`, a block as `{block: name, ...}`")
        return None

    def tagged(self, node: YMap, key: str, path: str) -> Form | None:
        value = node.items[key]
        if key != "kind":
            return Form(key, node)
        kind = value.value if isinstance(value, YScalar) else None
        if isinstance(kind, str) and kind in self.spec.blocks:
            self.sink.error("layer.block_as_kind", f"'{kind}' is a block, not a layer kind", value.mark, path,
                            f"write `block: {kind}` instead of `kind: {kind}`")
            return None
        if not isinstance(kind, str):
            self.sink.error("layer.kind", f"kind: expected a layer kind name such as conv; got {to_plain(value)!r}",
                            value.mark, path, f"known kinds: {', '.join(sorted(REGISTRY))}")
            return None
        if not self.known_kind(kind, value.mark, path):
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

    def known_kind(self, kind: str, mark: Mark, path: str) -> bool:
        if kind in REGISTRY:
            return True
        try:
            if kind_from_entry_points(kind):  # read only now: a spec of built-in kinds never scans them
                return True
        except PluginError as exc:
            self.sink.error("plugin.load", exc.message, mark, path, exc.hint)
            return False
        choices = set(REGISTRY) | set(self.spec.blocks) | set(NAMED_FORMS)
        guess = nearest(kind, choices)
        self.sink.error("layer.unknown_kind", f"unknown layer kind '{kind}'", mark, path,
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

    def values(self, form: Form, scope: Scope, path: str, skip=()) -> dict:
        data = {}
        for key, node in form.fields.items.items():
            if key in skip:
                data[key] = to_plain(node)
            elif isinstance(node, YSeq):
                data[key] = [evaluate_value(item, scope.params, self.sink, path) for item in node.items]
            else:
                data[key] = evaluate_value(node, scope.params, self.sink, path)
        return data

    def field_mark(self, form: Form, name: str | None) -> Mark:
        node = form.fields.get(name) if name else None
        return node.mark if node is not None else form.fields.mark

    def resolve(self, name, scope: Scope, form: Form, key: str, path: str, mark: Mark | None = None) -> int | None:
        index = scope.lookup(name) if isinstance(name, str) else None
        if index is None:
            guess = nearest(str(name), scope.visible())
            self.sink.error("layer.unknown_name", f"{key}: no earlier layer is named '{name}'",
                            mark or self.field_mark(form, key), path,
                            f"did you mean '{guess}'?" if guess else "give the layer `name: ...` before referring to it")
        return index

    # -- producing nodes ---------------------------------------------------

    def layer(self, form: Form, x: int, scope: Scope, path: str, prefix: str, seg: str, stack: tuple) -> int:
        kind = REGISTRY[form.kind]
        data = self.values(form, scope, path, skip=("name", "from", "branches", "inputs"))
        data["kind"] = kind.name
        if not isinstance(data.get("name", ""), str):
            data["name"] = UNRESOLVED  # declared_name reported it
        layer = validate_into(kind.schema, data, form.fields, self.sink, path, form.fields.mark, kind.name,
                              scope.params)
        source = x
        if layer is not None and layer.from_ is not None:
            source = self.resolve(layer.from_, scope, form, "from", path)
        if kind.merges and source is not None:  # branches start from `source`, like any layer's input
            first_branch_node = len(self.graph.nodes)
            inputs = self.merge_inputs(form, source, scope, path, f"{prefix}{seg}.", stack)
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
            self.sink.error("shape." + node.kind, exc.message, self.field_mark(form, exc.field), node.path, exc.hint)
            return
        for message, hint, field_name in notes.warnings:
            self.sink.warning("shape.inexact", message, self.field_mark(form, field_name), node.path, hint)
        cost = kind.count(node.layer, node.in_shapes, node.out_shape)
        node.params, node.macs = cost.params, cost.macs
        window = kind.window(node.layer)
        rf_in = max(self.graph.nodes[i].receptive_field or 1 for i in node.inputs)
        jump_in = self.jumps[node.inputs[0]]
        node.receptive_field = rf_in + (window.dilation * (window.kernel - 1) * jump_in if window else 0)
        self.jumps[node.index] = jump_in * (window.stride if window else 1)

    def merge_inputs(self, form: Form, x: int, scope: Scope, path: str, prefix: str, stack: tuple) -> list:
        branches, refs = form.fields.get("branches"), form.fields.get("inputs")
        if (branches is None) == (refs is None):
            self.sink.error("merge.form", f"{form.kind}: expected exactly one of `branches` or `inputs`",
                            form.fields.mark, path, "`branches:` runs layer lists on the current input; "
                                                    "`inputs:` joins earlier layers by name")
            return [None]
        if refs is not None:
            if "from" in form.fields.items:
                self.sink.error("merge.form", f"{form.kind}: expected `from` or `inputs`, not both",
                                form.fields.key_mark("from"), path, "list every input under `inputs:`")
            names = refs.items if isinstance(refs, YSeq) else [refs]
            if len(names) < 2:
                self.sink.error("merge.inputs", f"{form.kind}: expected at least 2 inputs; got {len(names)}",
                                refs.mark, path)
            return [self.resolve(to_plain(n), scope, form, "inputs", path, n.mark) for n in names]
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
            return [None]
        outputs = []
        for label, body in labelled:
            items = body.items if isinstance(body, YSeq) else [body]
            where = f"{path}.branches.{label}" if isinstance(branches, YMap) else f"{path}.branches[{label}]"
            outputs.append(self.sequence(items, x, scope.child(), where, f"{prefix}{label}.", stack))
        return outputs

    def block_call(self, form: Form, x: int, scope: Scope, path: str, prefix: str, stack: tuple) -> int:
        name_node = form.fields.items["block"]
        block = self.spec.blocks.get(name_node.value) if isinstance(name_node, YScalar) else None
        if block is None:
            guess = nearest(str(to_plain(name_node)), self.spec.blocks)
            self.sink.error("block.unknown", f"unknown block '{to_plain(name_node)}'", name_node.mark, path,
                            f"did you mean '{guess}'?" if guess else "define it under `blocks:` at the top level")
            return self.unknown(x, path, form.fields.mark)
        if block.name in stack:
            chain = " -> ".join((*stack, block.name))
            self.sink.error("block.recursive", f"block '{block.name}' uses itself ({chain})", name_node.mark, path,
                            "a block cannot contain itself; use `repeat:` to stack copies")
            return self.unknown(x, path, form.fields.mark)
        bound = self.bind_args(block, form, scope, path)
        if bound is None:
            return self.unknown(x, path, form.fields.mark)
        source = x
        if "from" in form.fields.items:
            source = self.resolve(to_plain(form.fields.items["from"]), scope, form, "from", path)
            if source is None:
                return self.unknown(x, path, form.fields.mark)
        inner = Scope({**self.spec.params, **bound}, names={"input": (source, None)})
        out = self.sequence(block.layers.items, source, inner, f"{path}.{block.name}", prefix + ".",
                            (*stack, block.name))
        node = Node(len(self.graph.nodes), BLOCK, path, (out,), self.graph.nodes[out].out_shape,
                    mark=form.fields.mark, label=block.name, receptive_field=self.graph.nodes[out].receptive_field,
                    module_name=prefix)  # the instance's name: its layers' common prefix; no module of its own
        self.jumps[node.index] = self.jumps.get(out, 1)
        return self.add(node)

    def bind_args(self, block, form: Form, scope: Scope, path: str) -> dict | None:
        args = self.values(form, scope, path, skip=("block", "name", "from"))
        bound, ok = {}, True
        for key in args:
            if key in ("block", "name", "from"):
                continue
            if key not in block.params:
                guess = nearest(key, block.params)
                self.sink.error("block.unknown_param", f"block '{block.name}' has no parameter '{key}'",
                                form.fields.key_mark(key), path,
                                f"did you mean '{guess}'?" if guess else
                                f"its parameters: {', '.join(block.params) or 'none'}")
                ok = False
        for param, default in block.params.items():
            value = args.get(param, default)
            if value is UNRESOLVED:
                ok = False  # already reported where it was evaluated
            elif value is REQUIRED:
                self.sink.error("block.missing_param", f"block '{block.name}' needs parameter '{param}'",
                                form.fields.mark, path, f"add `{param}: ...` to this use of the block")
                ok = False
            bound[param] = value
        return bound if ok else None

    def repeat(self, form: Form, x: int, scope: Scope, path: str, prefix: str, stack: tuple) -> int:
        times = evaluate_value(form.fields.items["repeat"], scope.params, self.sink, path)
        if times is UNRESOLVED:
            return self.unknown(x, path, form.fields.mark)
        body = form.fields.get("layers")
        extra = set(form.fields.items) - {"repeat", "layers", "name"}
        if extra:
            self.sink.error("repeat.unknown_field", f"repeat: unknown field '{sorted(extra)[0]}'",
                            form.fields.key_mark(sorted(extra)[0]), path, "repeat takes `repeat: N` and `layers:`")
        example = "e.g. `{repeat: 3, layers: [{block: residual, channels: 16}]}`"
        if type(times) is not int or not 1 <= times <= self.limits.max_repeat:
            self.sink.error("repeat.count", f"repeat: expected a whole number from 1 to {self.limits.max_repeat}; "
                            f"got {times!r}", self.field_mark(form, "repeat"), path, example)
            return self.unknown(x, path, form.fields.mark)
        if not isinstance(body, YSeq):
            got = "nothing" if body is None else repr(to_plain(body))
            self.sink.error("repeat.layers", f"repeat: expected a `layers:` list to repeat; got {got}",
                            self.field_mark(form, "layers"), path, example)
            return self.unknown(x, path, form.fields.mark)
        for copy in range(times):
            x = self.sequence(body.items, x, scope.child(), f"{path}.repeat[{copy}]", f"{prefix}.{copy}.", stack)
        return x

    def unknown(self, x: int, path: str, mark: Mark, inputs: tuple = ()) -> int:
        """A node that stands in for an invalid entry: unknown shape, no module."""
        node = Node(len(self.graph.nodes), "invalid", path, inputs or (x,), None, mark=mark)
        self.jumps[node.index] = 1
        return self.add(node)

    def add(self, node: Node) -> int:
        self.graph.nodes.append(node)
        if len(self.graph.nodes) > self.limits.max_nodes and not self.stopped:
            self.stopped = True
            self.sink.error("budget.nodes", f"the spec expands to more than {self.limits.max_nodes} layers",
                            node.mark, node.path, "lower a `repeat:` count, or raise the limit with --max-layers")
        return node.index


def expand(spec: Spec, sink: DiagnosticSink, limits: Limits | None = None) -> Graph:
    """Expand `spec` into the graph IR, reporting every problem into `sink`."""
    return Expander(spec, sink, limits or Limits()).run()
