"""IR -> nn.Module. The builder never re-derives a shape: it reads the checker's.

The module tree is the call tree, as in a hand-written network: every block
instance, repeat, merge and branch is a submodule whose forward calls its own
children, so a forward hook on `model.rblock2` fires once per forward and
hook-based tools (torchinfo, fvcore, feature extraction) see each layer once.
Each of these modules is a torch.fx GraphModule compiled to Python code once:
its forward is straight-line calls like a hand-written one and nothing
interprets the spec per call. Attribute names follow the spec (a layer's
`name` or its index, nested under its block, merge and branch), so state dict
keys are the dotted module names of the IR.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .check import Report, check, collector_paused
from .ir import BLOCK, INPUT, Graph, Node
from .kinds import REGISTRY

if TYPE_CHECKING:
    import torch.nn as nn

    from .spec import Spec


def build(spec: "Spec | Report | str | Path", *, input_shape: tuple[int, ...] | None = None, overrides=None,
          scale: str | None = None) -> "nn.Module":
    """Build the `nn.Module` the checker describes; raise SpecError if the spec has errors.

    `overrides` and `scale` pick a member of the spec's family, as in `netspec.load`.

    >>> model = netspec.build("specs/resnet_mini.yaml", overrides={"num_classes": 100})
    >>> model(torch.zeros(8, 1, 28, 28)).shape
    torch.Size([8, 100])
    """
    report = spec if isinstance(spec, Report) else check(spec, input_shape=input_shape, overrides=overrides,
                                                         scale=scale)
    report.raise_for_errors()
    return build_graph(report.graph)


def build_graph(graph: Graph) -> "nn.Module":
    with collector_paused():
        return _Emitter(graph).module(module_tree(graph), _class_name(graph.name), chain=False)


@dataclass
class Part:
    """One attribute of the built module: a layer (`node`, no children), a merge with its branches
    (`node` and children), or a layer list (block instance, repeat, branch: children only)."""

    key: str
    node: Node | None = None
    block: str | None = None  # the block's name when this part is a block instance
    children: dict[str, "Part"] = field(default_factory=dict)
    members: list[int] = field(default_factory=list)  # IR nodes inside, in graph order
    inputs: list[int] = field(default_factory=list)  # values from outside it takes, its forward's arguments
    output: int = 0  # the value it returns


def module_tree(graph: Graph) -> Part:
    """The IR's nodes arranged by module name, with each part's inputs and output worked out.

    A part's inputs are the values its members read from outside it (a `from:` across a block
    boundary is one more argument), its output the one value read outside it. Linear in the
    number of nodes times the nesting depth.
    """
    value = _values(graph)
    root = Part("")
    for node in graph.nodes:
        if node.kind == INPUT or node.module_name is None or node.kind == BLOCK and not _built(root, node):
            continue
        part = root
        if node.kind != BLOCK:
            root.members.append(node.index)
        for key in node.module_name.split("."):
            part = part.children.setdefault(key, Part(key))
            if node.kind != BLOCK:
                part.members.append(node.index)
        if node.kind == BLOCK:
            part.block = node.label
        else:
            part.node = node
    outside_readers = _readers(graph, value)
    _connect(root, graph, value, outside_readers)
    root.inputs, root.output = [0], value[graph.output]
    return root


def _built(root: Part, block: Node) -> bool:
    """Whether a block instance has a layer (`if:` and `repeat: 0` can remove them all: it is then the identity)."""
    part = root
    for key in block.module_name.split("."):
        part = part.children.get(key)
        if part is None:
            return False
    return True


def _values(graph: Graph) -> list[int]:
    """The node computing each node's value: a block instance's output is its last layer's."""
    value = []
    for node in graph.nodes:
        value.append(value[node.inputs[0]] if node.kind == BLOCK else node.index)
    return value


def _readers(graph: Graph, value: list[int]) -> list[list[int]]:
    """For each value, the nodes that read it (block instances are names, not readers)."""
    readers: list[list[int]] = [[] for _ in graph.nodes]
    for node in graph.nodes:
        if node.kind != BLOCK:
            for source in node.inputs:
                readers[value[source]].append(node.index)
    readers[value[graph.output]].append(-1)  # the network's output is read by the caller
    return readers


def _connect(part: Part, graph: Graph, value: list[int], readers: list[list[int]]) -> None:
    for child in part.children.values():
        if child.children:
            _connect(child, graph, value, readers)
    if not part.children:
        return
    inside = set(part.members)
    for index in part.members:
        for source in graph.nodes[index].inputs:
            if value[source] not in inside and value[source] not in part.inputs:
                part.inputs.append(value[source])
    leaving = [index for index in part.members if any(reader not in inside for reader in readers[index])]
    if len(leaving) > 1:
        raise AssertionError(f"{part.key}: values {leaving} leave one layer list")  # scopes forbid it
    part.output = leaving[0] if leaving else part.members[-1]  # a list nothing reads returns its last value


class _Emitter:
    """Parts -> GraphModules, children first."""

    def __init__(self, graph: Graph):
        self.graph = graph

    def module(self, part: Part, class_name: str, chain: bool = True) -> "nn.Module":
        """The part's module: an nn.Sequential where it is a plain chain outside a block, else a GraphModule.

        A Sequential costs a tenth of a GraphModule to make (no code generated), which repeats and
        branches, the many small parts of a deep network, are mostly.
        """
        import torch
        import torch.fx as fx

        if chain and part.block is None and self._is_chain(part):
            return torch.nn.Sequential(OrderedDict(
                (key, self.module(child, self._child_class(part, child)) if child.children else self.layer(child.node))
                for key, child in part.children.items()))
        code = fx.Graph()
        values = {source: code.placeholder("x" if position == 0 else f"x{position}")
                  for position, source in enumerate(part.inputs)}
        children: dict[str, nn.Module] = {}
        containers: dict[str, nn.Module] = {}
        for key, child in part.children.items():
            if child.children:
                containers[key] = self.module(child, self._child_class(part, child))
                children[key] = torch.nn.Module()  # stands in while this part compiles; see _install
                values[child.output] = code.call_module(key, tuple(values[v] for v in child.inputs))
            else:
                children[key] = self.layer(child.node)
                args = [values[self._value(i)] for i in child.node.inputs]
                values[child.node.index] = code.call_module(key, (args,) if REGISTRY[child.node.kind].merges
                                                            else tuple(args))
        if part.node is None:
            code.output(values[part.output])
            module = fx.GraphModule(children, code, class_name=class_name)
        else:
            module = self.merge(part, code, values, children)
        return _install(module, containers)

    def merge(self, part: Part, code, values: dict, children: dict) -> "nn.Module":
        """A merge with branches: the kind's own module, traced into the code after the branch calls.

        The container keeps the merge module's class name and parameters (their state dict
        keys stay `<merge>.<param>`), and its branches are its children.
        """
        import torch.fx as fx

        join = self.layer(part.node)
        for key, module in children.items():
            join.add_module(key, module)
        tracer = fx.Tracer()
        tracer.graph, tracer.root = code, join
        joined = join([fx.Proxy(values[self._value(i)], tracer) for i in part.node.inputs])
        code.output(tracer.create_arg(joined))
        return fx.GraphModule(join, code, class_name=type(join).__name__)

    def layer(self, node: Node) -> "nn.Module":
        module = REGISTRY[node.kind].build(node.layer, node.in_shapes, node.out_shape)
        if not node.trainable:
            module.requires_grad_(False)
        return module

    def _is_chain(self, part: Part) -> bool:
        """True when each child reads only the value before it: the part's one input, then its previous child's."""
        if part.node is not None or len(part.inputs) != 1:
            return False
        previous = part.inputs[0]
        for child in part.children.values():
            if child.children:
                reads, previous_next = child.inputs, child.output
            else:
                reads, previous_next = [self._value(i) for i in child.node.inputs], child.node.index
                if REGISTRY[child.node.kind].merges:
                    return False  # takes a list, not one tensor
            if reads != [previous]:
                return False
            previous = previous_next
        return previous == part.output

    def _value(self, index: int) -> int:
        while self.graph.nodes[index].kind == BLOCK:
            index = self.graph.nodes[index].inputs[0]
        return index

    @staticmethod
    def _child_class(parent: Part, child: Part) -> str:
        if child.block:
            return _class_name(child.block)
        return "Branch" if parent.node is not None else "Layers"


def _install(module: "nn.Module", containers: dict) -> "nn.Module":
    """Put the compiled child GraphModules in place of their stand-ins, keeping the children's order.

    A GraphModule recompiles every GraphModule child when it compiles itself, so handing it its
    compiled children would redo each level once per level above it: quadratic in the depth.
    """
    for key, child in containers.items():
        module._modules[key] = child
    return module


def _class_name(name: str) -> str:
    words = "".join(ch if ch.isalnum() else " " for ch in name).split()
    title = "".join(word[:1].upper() + word[1:] for word in words) or "Network"
    return title if title[0].isalpha() else "Net" + title
