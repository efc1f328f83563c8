"""Blocks, repeats and conditional branches: the forms that expand into several layers.

A mixin of `expand.Expander`, which owns the graph, the sink and the per-layer work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import adapt, receptive
from .diagnostics import Mark, NameIndex, nearest
from .expr import UNRESOLVED
from .ir import BLOCK, Node
from .spec import REQUIRED, evaluate_value
from .yamlsrc import YMap, YNode, YScalar, YSeq, to_plain


@dataclass
class Scope:
    """Names visible to `from:` and `inputs:`, and the parameters expressions may use."""

    params: dict
    parent: "Scope | None" = None
    names: dict[str, tuple[int, Mark | None]] = field(default_factory=dict)
    index: NameIndex = field(default_factory=NameIndex, repr=False)  # built on the first miss only
    defaults: dict | None = None  # `defaults:` of the file whose layers these are (None: the spec's own)

    def lookup(self, name: str) -> int | None:
        scope = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name][0]
            scope = scope.parent
        return None

    def suggest(self, word: str) -> str | None:
        """The visible name closest to `word`, in time independent of how many names there are."""
        near, scope = [], self
        while scope is not None:
            near += scope.index.sync(scope.names).near(word)
            scope = scope.parent
        return nearest(word, near)

    def child(self) -> "Scope":
        return Scope(self.params, self, defaults=self.defaults)


@dataclass
class Form:
    """One layer entry, whichever way it was written: kind (or block/repeat), fields, marks."""

    kind: str
    fields: YMap


class BlockForms:
    """Expanding `block:` uses, `repeat:` and `{if: ..., layers: [...]}` branches."""

    def kept_branches(self, labelled: list, branches: YNode, x: int, scope: Scope, path: str) -> list | None:
        """(label, path, layers) of each branch a false `if:` does not drop; None when a condition failed."""
        kept = []
        for label, body in labelled:
            where = f"{path}.branches.{label}" if isinstance(branches, YMap) else f"{path}.branches[{label}]"
            if adapt.conditional_branch(body):
                keep = adapt.condition(body, self.expression_scope(scope, self.graph.nodes[x].out_shape),
                                       self.sink, where)
                if keep is not True:
                    if keep is UNRESOLVED:
                        return None
                    continue
                body = body.items["layers"]
            kept.append((label, where, body.items if isinstance(body, YSeq) else [body]))
        return kept

    def block_call(self, form: Form, x: int, scope: Scope, path: str, prefix: str, stack: tuple) -> int:
        name_node = form.fields.items["block"]
        block = self.spec.blocks.get(name_node.value) if isinstance(name_node, YScalar) else None
        if block is None and isinstance(name_node, YScalar) and name_node.value in self.spec.refused_blocks:
            return self.unknown(x, path, form.fields.mark)  # its definition's error says why
        if block is None:
            guess = nearest(str(to_plain(name_node)), self.block_names)
            self.sink.error("block.unknown", f"unknown block '{to_plain(name_node)}'", name_node.mark, path,
                            f"did you mean '{guess}'?" if guess else "define it under `blocks:` at the top level")
            return self.unknown(x, path, form.fields.mark)
        if block.name in stack:
            chain = " -> ".join((*stack, block.name))
            self.sink.error("block.recursive", f"block '{block.name}' uses itself ({chain})", name_node.mark, path,
                            "a block cannot contain itself; use `repeat:` to stack copies")
            return self.unknown(x, path, form.fields.mark)
        source = x
        if "from" in form.fields.items:
            source = self.resolve(to_plain(form.fields.items["from"]), scope, form, "from", path)
        bound = self.bind_args(block, form, scope, self.graph.nodes[source].out_shape if source is not None else None,
                               path)
        if bound is None or source is None:
            return self.unknown(x, path, form.fields.mark)
        inner = Scope({**block.scope, **bound}, names={"input": (source, None)},  # its own file's params and defaults
                      defaults=block.defaults)
        out = self.sequence(block.layers.items, source, inner, f"{path}.{block.name}", prefix + ".",
                            (*stack, block.name))
        node = Node(len(self.graph.nodes), BLOCK, path, (out,), self.graph.nodes[out].out_shape,
                    mark=form.fields.mark, label=block.name, receptive_field=self.graph.nodes[out].receptive_field,
                    module_name=prefix)  # the instance's name: its layers' common prefix; no module of its own
        self.footprints[node.index] = self.footprints.get(out, receptive.INPUT)
        return self.add(node)

    def bind_args(self, block, form: Form, scope: Scope, shape: tuple | None, path: str) -> dict | None:
        args = self.values(form, self.expression_scope(scope, shape), path, skip=("block", "name", "from"))
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
            if isinstance(value, YScalar):  # a default over the block's input or earlier parameters
                value = evaluate_value(value, adapt.expression_scope({**block.scope, **bound}, shape), self.sink,
                                       f"blocks.{block.name}.params.{param}")
            if value is UNRESOLVED:
                ok = False  # already reported where it was evaluated
            elif value is REQUIRED:
                self.sink.error("block.missing_param", f"block '{block.name}' needs parameter '{param}'",
                                form.fields.mark, path, f"add `{param}: ...` to this use of the block")
                ok = False
            bound[param] = value
        return bound if ok else None

    def repeat(self, form: Form, x: int, scope: Scope, path: str, prefix: str, stack: tuple) -> int:
        times = evaluate_value(form.fields.items["repeat"], self.expression_scope(scope, self.graph.nodes[x].out_shape),
                               self.sink, path)
        if times is UNRESOLVED:
            return self.unknown(x, path, form.fields.mark)
        body = form.fields.get("layers")
        extra = set(form.fields.items) - {"repeat", "layers", "name", "index"}
        if extra:
            self.sink.error("repeat.unknown_field", f"repeat: unknown field '{sorted(extra)[0]}'",
                            form.fields.key_mark(sorted(extra)[0]), path,
                            "repeat takes `repeat: N`, `layers:` and an optional `index:` name")
        example = "e.g. `{repeat: 3, layers: [{block: residual, channels: 16}]}`"
        if type(times) is not int or not 0 <= times <= self.limits.max_repeat:
            self.sink.error("repeat.count", f"repeat: expected a whole number from 0 to {self.limits.max_repeat}; "
                            f"got {times!r}", self.field_mark(form, "repeat"), path,
                            f"{example}; more copies: raise Limits.max_repeat (Python API)")
            return self.unknown(x, path, form.fields.mark)
        if not isinstance(body, YSeq):
            got = "nothing" if body is None else repr(to_plain(body))
            self.sink.error("repeat.layers", f"repeat: expected a `layers:` list to repeat; got {got}",
                            self.field_mark(form, "layers"), path, example)
            return self.unknown(x, path, form.fields.mark)
        index = adapt.repeat_index(form.fields, self.sink, path)
        if times == 0:  # the input passes through; the body is still checked once, as copy 0 would be, then dropped
            kept = len(self.graph.nodes)
            self.sequence(body.items, x, _copy_scope(scope, index, 0), f"{path}.repeat[0]", f"{prefix}.0.", stack)
            del self.graph.nodes[kept:]
            return x
        for copy in range(times):
            x = self.sequence(body.items, x, _copy_scope(scope, index, copy), f"{path}.repeat[{copy}]",
                              f"{prefix}.{copy}.", stack)
        return x


def _copy_scope(scope: Scope, index: str | None, copy: int) -> Scope:
    """A repeated copy's scope: its own names, and the copy number under the `index:` name."""
    return Scope({**scope.params, index: copy}, scope, defaults=scope.defaults) if index else scope.child()
