"""A conv layer's learned kernels as a picture (seed 004 shows AlexNet's first layer this way).

Kernels with a window (3x3, 5x5, ...) become an image grid, each scaled to its own min..max
so weak and strong filters are equally visible: RGB-input kernels in colour, kernels over
other channel counts as the mean over their input channels, in grey. A 1x1 kernel has no
picture to show, only one weight per input channel, so a 1x1 layer is drawn as its weight
matrix (kernels x input channels) on a diverging scale around 0, with the values written in
the cells when they fit. The title names the layer and its weight shape on lines of their
own, and the figure is saved to fit everything in it, so nothing is clipped.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from ..builder import build_graph
from ..exporters.errors import ExportError
from ..figures import integer_ticks, new_figure
from ..ir import Graph, Node
from ..weights import load_weights

TILE_PIXELS = 48  # a kernel's side on screen, whatever its size in weights


def save_filter_grid(graph: Graph, checkpoint: str | Path, path: Path, layer: str | None = None) -> None:
    node = _conv_node(graph, layer)
    model = load_weights(build_graph(graph), checkpoint)
    weight = model.get_submodule(node.module_name).weight.detach().float().cpu()
    out_channels, in_channels, height, width = weight.shape
    title = [node.module_name, f"weight {out_channels}×{in_channels}×{height}×{width}: {out_channels} kernels "
                               f"over {in_channels} input channels"]
    if height == width == 1:
        _plot_matrix(weight[:, :, 0, 0], title, path)
        return
    tiles = weight if in_channels == 3 else weight.mean(dim=1, keepdim=True)
    low = tiles.amin(dim=(1, 2, 3), keepdim=True)
    high = tiles.amax(dim=(1, 2, 3), keepdim=True)
    tiles = (tiles - low) / (high - low).clamp_min(1e-12)
    note = "each kernel scaled to its own min..max" + ("" if in_channels in (1, 3) else
                                                         ", mean over input channels")
    _plot(tiles, [*title, note], path)


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


def _plot(tiles: torch.Tensor, title: list[str], path: Path) -> None:
    from torchvision.utils import make_grid

    columns = math.ceil(math.sqrt(tiles.shape[0]))
    grid = make_grid(tiles, nrow=columns, padding=1, pad_value=1.0)[: tiles.shape[1]].permute(1, 2, 0).numpy()
    rows = math.ceil(tiles.shape[0] / columns)
    inches = max(TILE_PIXELS / 100, 3.0 / columns)  # a few kernels still get a readable picture
    figure = new_figure(figsize=(columns * inches, rows * inches), dpi=100)
    axis = figure.add_axes((0, 0, 1, 1))
    axis.set_axis_off()
    axis.imshow(grid if grid.shape[2] == 3 else grid[:, :, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    _title(axis, title)
    _save(figure, path)


def _plot_matrix(matrix: torch.Tensor, title: list[str], path: Path) -> None:
    """A 1x1 layer's weights: one row per kernel, one column per input channel, 0 in white."""
    kernels, inputs = matrix.shape
    annotate = kernels <= 24 and inputs <= 24
    cell = 0.42 if annotate else min(0.25, 8.0 / max(kernels, inputs))
    figure = new_figure(figsize=(max(inputs * cell, 2.5) + 1.2, max(kernels * cell, 2.0) + 0.6), dpi=100)
    axis = figure.add_subplot()
    bound = float(matrix.abs().max()) or 1.0
    image = axis.imshow(matrix.numpy(), cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="nearest",
                        aspect="equal")
    axis.set_xlabel("input channel")
    axis.set_ylabel("kernel (output channel)")
    axis.xaxis.set_major_locator(integer_ticks())
    axis.yaxis.set_major_locator(integer_ticks())
    if annotate:
        for row in range(kernels):
            for column in range(inputs):
                value = float(matrix[row, column])
                axis.text(column, row, f"{value:.2f}".replace("0.", ".", 1), ha="center", va="center", fontsize=6,
                          color="white" if abs(value) > 0.6 * bound else "black")
    figure.colorbar(image, ax=axis, label="weight", shrink=0.8)
    _title(axis, title)
    _save(figure, path)


def _title(axis, lines: list[str]) -> None:
    name, *rest = lines
    axis.set_title(name + "\n" + "\n".join(rest), fontsize=9, loc="center", pad=6)


def _save(figure, path: Path) -> None:
    try:
        figure.savefig(path, dpi=100, bbox_inches="tight", pad_inches=0.15, facecolor="white")
    except OSError as exc:
        raise ExportError(f"output: cannot write '{path}' ({exc.strerror})", "choose a path you can write to") from None
