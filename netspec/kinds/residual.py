"""stochastic_depth and layer_scale: what EfficientNet and ConvNeXt wrap around a residual body."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Cost, LayerKind, LayerSchema, Number, Notes, no_cost, require_map_or_flat


class StochasticDepth(LayerSchema):
    """torchvision.ops.StochasticDepth: while training, drop the whole residual body of a sample ("row")
    or of the batch ("batch") with probability p, scaling the rest by 1 / (1 - p); the identity in eval."""

    kind: Literal["stochastic_depth"] = "stochastic_depth"
    p: float = Field(ge=0.0, le=1.0, strict=True, description="Probability of dropping; 0 is the identity.")
    mode: Literal["row", "batch"] = Field("row", description="row: per sample; batch: the whole batch at once.")


class LayerScale(LayerSchema):
    """Multiply each channel by a learnable scale (ConvNeXt's layer_scale), initialised to init_value."""

    kind: Literal["layer_scale"] = "layer_scale"
    init_value: Number = Field(1e-6, description="Initial value of every channel's scale; ConvNeXt uses 1e-6.")


def _same_shape(layer, in_shapes, notes: Notes):
    return in_shapes[0]


def _build_stochastic_depth(layer: StochasticDepth, in_shapes, out_shape):
    from ..modules import StochasticDepth

    return StochasticDepth(float(layer.p), layer.mode)


def _infer_layer_scale(layer: LayerScale, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    require_map_or_flat(in_shape, "layer_scale")
    return in_shape


def _count_layer_scale(layer: LayerScale, in_shapes, out_shape) -> Cost:
    return Cost(params=in_shapes[0][0])


def _build_layer_scale(layer: LayerScale, in_shapes, out_shape):
    from ..modules import LayerScale

    return LayerScale(in_shapes[0][0], float(layer.init_value), spatial=len(in_shapes[0]) == 3)


KINDS = [
    LayerKind("stochastic_depth", StochasticDepth, _same_shape, no_cost, _build_stochastic_depth,
              summary="drop residual bodies at random while training (torchvision.ops.StochasticDepth)",
              shorthand="p"),
    LayerKind("layer_scale", LayerScale, _infer_layer_scale, _count_layer_scale, _build_layer_scale,
              summary="learnable per-channel scale (ConvNeXt's layer_scale)", shorthand="init_value"),
]
