"""The graph IR every later stage reads: checker tables, builder, exporters, pictures.

Blocks and repeats are already expanded; every node knows its input nodes,
shapes, costs and where in the YAML it came from. Nodes are in topological
order and node 0 is the network input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .diagnostics import Mark
from .kinds.base import Shape

INPUT = "input"  # kind of node 0
BLOCK = "block"  # a block instance's output: a table row and a name, no computation


@dataclass
class Node:
    index: int
    kind: str  # a registry kind, INPUT or BLOCK
    path: str  # e.g. "layers[3].branches.branch5x5[1]"
    inputs: tuple[int, ...]
    out_shape: Shape | None  # None when an error upstream left it unknown
    module_name: str | None = None  # dotted attribute path in the built module (a block: its instance prefix)
    layer: Any = None  # the validated LayerSchema, expressions evaluated
    in_shapes: tuple[Shape, ...] = ()
    params: int = 0
    macs: int = 0
    receptive_field: int | None = None
    trainable: bool = True
    mark: Mark | None = None
    label: str | None = None  # block name for BLOCK nodes

    @property
    def activation_elements(self) -> int:
        """Elements of this node's output for one sample."""
        if self.out_shape is None:
            return 0
        total = 1
        for size in self.out_shape:
            total *= size
        return total


@dataclass
class Graph:
    name: str
    input_shape: Shape
    nodes: list[Node] = field(default_factory=list)
    output: int = 0  # index of the output node

    @property
    def output_shape(self) -> Shape | None:
        return self.nodes[self.output].out_shape

    @property
    def layers(self) -> list[Node]:
        """Every node but the input: one table row each."""
        return self.nodes[1:]

    @property
    def params(self) -> int:
        return sum(node.params for node in self.nodes)

    @property
    def trainable_params(self) -> int:
        return sum(node.params for node in self.nodes if node.trainable)

    @property
    def macs(self) -> int:
        return sum(node.macs for node in self.nodes)
