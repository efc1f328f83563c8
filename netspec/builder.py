"""IR -> nn.Module. The builder never re-derives a shape: it reads the checker's.

The network is emitted as a torch.fx graph and compiled to Python code once, so
the module's forward is straight-line calls like a hand-written one; nothing
interprets the spec per call. Attribute names follow the spec: a layer's `name`
or its index, nested under its block, merge and branch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .check import Report, check
from .ir import BLOCK, INPUT, Graph
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
    import torch.fx as fx

    modules: dict[str, nn.Module] = {}
    code = fx.Graph()
    values: dict[int, fx.Node] = {}
    for node in graph.nodes:
        if node.kind == INPUT:
            values[node.index] = code.placeholder("x")
        elif node.kind == BLOCK:
            values[node.index] = values[node.inputs[0]]
        else:
            module = REGISTRY[node.kind].build(node.layer, node.in_shapes, node.out_shape)
            if not node.trainable:
                module.requires_grad_(False)
            modules[node.module_name] = module
            args = [values[i] for i in node.inputs]
            values[node.index] = code.call_module(node.module_name, (args,) if REGISTRY[node.kind].merges else
                                                  tuple(args))
    code.output(values[graph.output])
    network = fx.GraphModule(modules, code, class_name=_class_name(graph.name))
    _order_like_spec(network, list(modules))
    return network


def _order_like_spec(network: "nn.Module", names_in_spec_order: list[str]) -> None:
    """Put every submodule list in spec order, so named_parameters() and print() read top to bottom.

    fx installs modules shallowest first, which would list conv1, conv2, fc before the blocks.
    """
    rank: dict[str, int] = {}
    for position, name in enumerate(names_in_spec_order):
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            rank.setdefault(".".join(parts[:depth]), position)
    for prefix, module in network.named_modules():
        children = module._modules
        qualified = {key: f"{prefix}.{key}" if prefix else key for key in children}
        # a built module's own children (global_avgpool's Sequential) are not in the spec: they keep their order
        module._modules = {key: children[key] for key in sorted(children, key=lambda k: rank.get(qualified[k], 0))}


def _class_name(name: str) -> str:
    words = "".join(ch if ch.isalnum() else " " for ch in name).split()
    title = "".join(word[:1].upper() + word[1:] for word in words) or "Network"
    return title if title[0].isalpha() else "Net" + title
