"""A conv layer's learned kernels as an image grid (seed 004 shows AlexNet's first layer this way).

Each kernel is scaled to its own min..max so weak and strong filters are equally
visible. RGB-input kernels are drawn in colour; kernels over other channel counts
are drawn as the mean over their input channels, in grey.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from ..builder import build_graph
from ..exporters.errors import ExportError
from ..ir import Graph, Node
from ..weights import load_weights

TILE_PIXELS = 48  # a kernel's side on screen, whatever its size in weights


def save_filter_grid(graph: Graph, checkpoint: str | Path, path: Path, layer: str | None = None) -> None:
    node = _conv_node(graph, layer)
    model = load_weights(build_graph(graph), checkpoint)
    weight = model.get_submodule(node.module_name).weight.detach().float()
    tiles = weight if weight.shape[1] == 3 else weight.mean(dim=1, keepdim=True)
    low = tiles.amin(dim=(1, 2, 3), keepdim=True)
    high = tiles.amax(dim=(1, 2, 3), keepdim=True)
    tiles = (tiles - low) / (high - low).clamp_min(1e-12)
    _plot(tiles, f"{node.module_name}: {weight.shape[0]} kernels, {weight.shape[1]}×{weight.shape[2]}×"
                 f"{weight.shape[3]}" + ("" if weight.shape[1] in (1, 3) else " (mean over input channels)"), path)


def _conv_node(graph: Graph, layer: str | None) -> Node:
    convs = [node for node in graph.nodes if node.kind == "conv"]
    if not convs:
        raise ExportError("filters: expected a network with a conv layer; this one has none")
    if layer is None:
        return convs[0]
    for node in convs:
        if node.module_name == layer:
            return node
    raise ExportError(f"filters: expected the name of a conv layer; got '{layer}'",
                      "conv layers: " + ", ".join(node.module_name for node in convs[:10]))


def _plot(tiles: torch.Tensor, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from torchvision.utils import make_grid

    columns = math.ceil(math.sqrt(tiles.shape[0]))
    grid = make_grid(tiles, nrow=columns, padding=1, pad_value=1.0)[: tiles.shape[1]].permute(1, 2, 0).numpy()
    rows = math.ceil(tiles.shape[0] / columns)
    inches = TILE_PIXELS / 100
    figure = plt.figure(figsize=(max(columns * inches, 3.0), rows * inches + 0.4), dpi=100)
    axis = figure.add_axes((0, 0, 1, rows * inches / (rows * inches + 0.4)))
    axis.set_axis_off()
    axis.imshow(grid if grid.shape[2] == 3 else grid[:, :, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    figure.suptitle(title, fontsize=9, y=0.99)
    try:
        figure.savefig(path, dpi=100)
    except OSError as exc:
        raise ExportError(f"output: cannot write '{path}' ({exc.strerror})", "choose a path you can write to") from None
    finally:
        plt.close(figure)
