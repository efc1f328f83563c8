"""concat and add: the merges that join parallel branches (Inception, ResNet).

A merge either runs its own `branches` on the current input (a list, or a
mapping whose keys name the branches) or joins earlier layers named in `inputs`.
An empty branch `[]` is the identity: ResNet's plain skip connection.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import Field

from .base import Cost, LayerKind, LayerSchema, Notes, ShapeError, fmt_shape

Branches = Optional[Union[list[Any], dict[str, Any]]]


class Concat(LayerSchema):
    """Concatenate branch outputs along channels (dim 1), as Inception does."""

    kind: Literal["concat"] = "concat"
    branches: Branches = Field(None, description="Parallel layer lists run on the current input.")
    inputs: Optional[list[str]] = Field(None, description="Names of earlier layers to join instead of branches.")


class Add(LayerSchema):
    """Element-wise sum of branch outputs, as a residual connection does."""

    kind: Literal["add"] = "add"
    branches: Branches = Field(None, description="Parallel layer lists; [] is the identity shortcut.")
    inputs: Optional[list[str]] = Field(None, description="Names of earlier layers to sum instead of branches.")


def _infer_concat(layer: Concat, in_shapes, notes: Notes):
    ranks = {len(shape) for shape in in_shapes}
    if len(ranks) > 1:
        raise ShapeError("concat: expected inputs of one rank; got " + ", ".join(map(fmt_shape, in_shapes)),
                         hint="flatten all inputs or none of them")
    spatial = [shape[1:] for shape in in_shapes]
    if len(set(spatial)) > 1:
        biggest = max(spatial)
        raise ShapeError("concat: expected every input to have the same H x W; got "
                         + ", ".join(map(fmt_shape, in_shapes)),
                         hint=f"make each branch keep {'x'.join(map(str, biggest))}: give a k x k conv "
                              f"padding (k-1)/2 and stride 1, or a 3x3 pool stride 1 padding 1")
    return (sum(shape[0] for shape in in_shapes), *in_shapes[0][1:])


def _infer_add(layer: Add, in_shapes, notes: Notes):
    first = in_shapes[0]
    for shape in in_shapes[1:]:
        if shape != first:
            raise ShapeError(f"add: expected every input to have shape {fmt_shape(first)}; got "
                             + ", ".join(map(fmt_shape, in_shapes)), hint=_projection_hint(in_shapes))
    return first


def _projection_hint(in_shapes) -> str:
    """Propose the 1x1 projection (ResNet's downsample) that makes the shortcut fit."""
    main, other = in_shapes[0], in_shapes[-1]
    if len(main) != 3 or len(other) != 3:
        return "flatten both inputs, or neither"
    fix = [f"out_channels {main[0]}"]
    if other[1] != main[1] and main[1] and other[1] % main[1] == 0:
        fix.append(f"stride {other[1] // main[1]}")
    elif other[1] != main[1]:
        return f"the spatial sizes {other[1]}x{other[2]} and {main[1]}x{main[2]} differ: adjust padding or stride"
    return f"give the shortcut branch a 1x1 conv with {' and '.join(fix)} (ResNet's downsample)"


def _no_cost(layer, in_shapes, out_shape) -> Cost:
    return Cost()


def _build_concat(layer, in_shapes, out_shape):
    from ..modules import Concat

    return Concat()


def _build_add(layer, in_shapes, out_shape):
    from ..modules import Add

    return Add()


KINDS = [
    LayerKind("concat", Concat, _infer_concat, _no_cost, _build_concat,
              summary="concatenate branches along channels (torch.cat dim 1)", merges=True),
    LayerKind("add", Add, _infer_add, _no_cost, _build_add, summary="sum branches (residual connection)",
              merges=True),
]
