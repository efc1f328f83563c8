"""concat, add and mul: the merges that join parallel branches (Inception, ResNet, squeeze-excitation).

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


class Mul(LayerSchema):
    """Element-wise product of branch outputs; a size-1 dimension broadcasts, so a (C, 1, 1) gate scales a
    (C, H, W) map (squeeze-excitation, attention gates)."""

    kind: Literal["mul"] = "mul"
    branches: Branches = Field(None, description="Parallel layer lists; [] passes the input itself, to be gated.")
    inputs: Optional[list[str]] = Field(None, description="Names of earlier layers to multiply instead of branches.")


def _infer_concat(layer: Concat, in_shapes, notes: Notes):
    ranks = {len(shape) for shape in in_shapes}
    if len(ranks) > 1:
        raise ShapeError("concat: expected inputs of one rank; got " + ", ".join(map(fmt_shape, in_shapes)),
                         hint="flatten all inputs or none of them")
    spatial = [shape[1:] for shape in in_shapes]
    if len(set(spatial)) > 1:
        biggest = max(spatial)
        names = _input_names(layer, len(in_shapes))
        off = ", ".join(f"{name} outputs {'x'.join(map(str, size))}"
                        for name, size in zip(names, spatial) if size != biggest)
        raise ShapeError("concat: expected every input to have the same H x W; got "
                         + ", ".join(map(fmt_shape, in_shapes)),
                         hint=f"{off}, the others {'x'.join(map(str, biggest))}: keep the size with padding (k-1)/2 "
                              f"and stride 1 on a k x k conv, or a 3x3 pool with stride 1 padding 1")
    return (sum(shape[0] for shape in in_shapes), *in_shapes[0][1:])


def _input_names(layer, count: int) -> list[str]:
    """How the user calls each input: a branch's label or index, or the layer named in `inputs`."""
    if isinstance(layer.branches, dict) and len(layer.branches) == count:
        return [f"branch '{label}'" for label in layer.branches]
    if layer.inputs and len(layer.inputs) == count:
        return [f"'{name}'" for name in layer.inputs]
    return [f"branch {index}" for index in range(count)]


def _infer_add(layer: Add, in_shapes, notes: Notes):
    first = in_shapes[0]
    for shape in in_shapes[1:]:
        if shape != first:
            raise ShapeError(f"add: expected every input to have shape {fmt_shape(first)}; got "
                             + ", ".join(map(fmt_shape, in_shapes)),
                             hint=_projection_hint(in_shapes, _input_names(layer, len(in_shapes))))
    return first


def _infer_mul(layer: Mul, in_shapes, notes: Notes):
    if len({len(shape) for shape in in_shapes}) > 1:
        raise ShapeError("mul: expected inputs of one rank; got " + ", ".join(map(fmt_shape, in_shapes)),
                         hint="a gate for a (C, H, W) map is (C, 1, 1): pool it with `adaptive_avgpool: 1`, "
                              "not global_avgpool")
    target = tuple(max(sizes) for sizes in zip(*in_shapes))
    axes = ("C", "H", "W") if len(target) == 3 else ("features",)
    for name, shape in zip(_input_names(layer, len(in_shapes)), in_shapes):
        for axis, size, wanted in zip(axes, shape, target):
            if size not in (1, wanted):
                raise ShapeError(f"mul: expected every input to broadcast to {fmt_shape(target)} (each size equal "
                                 f"or 1); {name} outputs {fmt_shape(shape)}, whose {axis} is {size}",
                                 hint=_broadcast_hint(name, axis, wanted))
    return target


def _broadcast_hint(name: str, axis: str, wanted: int) -> str:
    if axis in ("C", "features"):
        return f"end {name} with {wanted} channels (a gate's last 1x1 conv: out_channels {wanted})"
    return f"pool {name} to 1 x 1 (`adaptive_avgpool: 1`) or give it the same H x W as the other inputs"


def _projection_hint(in_shapes, names: list[str]) -> str:
    """Propose the 1x1 projection (ResNet's downsample) that makes the inputs fit.

    The input with the larger H x W (or, at equal H x W, fewer channels) gets the
    projection: a 1x1 conv with stride s turns H into ceil(H / s).
    """
    first = in_shapes[0]
    other = next(shape for shape in in_shapes if shape != first)
    if len(first) != len(other):
        return "flatten all inputs, or none of them"
    if len(first) == 1:
        return f"give the input of {other[0]} features a linear layer with out_features {first[0]}"
    gate = next((shape for shape in (first, other) if shape[1:] == (1, 1)), None)
    if gate is not None and first[0] == other[0]:  # squeeze-excitation: a (C, 1, 1) gate scales a (C, H, W) map
        return (f"to scale the {fmt_shape(max(first, other, key=lambda shape: shape[1]))} map by the "
                f"{fmt_shape(gate)} gate (squeeze-excitation), use `kind: mul`, which broadcasts it")
    source = max(first, other, key=lambda shape: (shape[1], shape[2], -shape[0]))
    target = other if source is first else first
    stride = -(-source[1] // target[1])  # the smallest s with ceil(H / s) <= target H
    if -(-source[1] // stride) != target[1] or -(-source[2] // stride) != target[2]:
        return (f"the spatial sizes {source[1]}x{source[2]} and {target[1]}x{target[2]} differ by no common stride: "
                f"adjust padding or stride so they match")
    fix = f"out_channels {target[0]}" + (f" and stride {stride}" if stride > 1 else "")
    name = names[in_shapes.index(source)]
    return (f"give {name}, which outputs {fmt_shape(source)}, a 1x1 conv with {fix} (ResNet's downsample) "
            f"so it outputs {fmt_shape(target)}")


def _no_cost(layer, in_shapes, out_shape) -> Cost:
    return Cost()


def _build_concat(layer, in_shapes, out_shape):
    from ..modules import Concat

    return Concat()


def _build_add(layer, in_shapes, out_shape):
    from ..modules import Add

    return Add()


def _build_mul(layer, in_shapes, out_shape):
    from ..modules import Mul

    return Mul()


KINDS = [
    LayerKind("concat", Concat, _infer_concat, _no_cost, _build_concat,
              summary="concatenate branches along channels (torch.cat dim 1)", merges=True),
    LayerKind("add", Add, _infer_add, _no_cost, _build_add, summary="sum branches (residual connection)",
              merges=True),
    LayerKind("mul", Mul, _infer_mul, _no_cost, _build_mul,
              summary="multiply branches element-wise, broadcasting size-1 dimensions (gates)", merges=True),
]
