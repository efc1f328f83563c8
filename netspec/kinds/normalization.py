"""batchnorm, layernorm, groupnorm and lrn (local response normalisation, as in AlexNet)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, StrictBool

from .base import (Cost, LayerKind, LayerSchema, Number, Notes, PositiveInt, ShapeError, divisors, fmt_shape,
                   no_cost, require_map_or_flat)


class BatchNorm(LayerSchema):
    """BatchNorm2d on (C, H, W) inputs, BatchNorm1d on (features,) inputs."""

    kind: Literal["batchnorm"] = "batchnorm"
    eps: Number = 1e-5
    momentum: Optional[Number] = 0.1
    affine: StrictBool = True
    num_features: Optional[PositiveInt] = Field(None, description="Optional; checked against the inferred input.")


class LRN(LayerSchema):
    """Local response normalisation across `size` neighbouring channels (AlexNet: 5, 1e-4, 0.75, 2)."""

    kind: Literal["lrn"] = "lrn"
    size: PositiveInt
    alpha: Number = 1e-4
    beta: Number = 0.75
    k: Number = 1.0


class LayerNorm(LayerSchema):
    """Normalise over the channels of each pixel of a (C, H, W) map (ConvNeXt's LayerNorm2d), or over the
    features of a flat input (nn.LayerNorm); weight and bias are (C,)."""

    kind: Literal["layernorm"] = "layernorm"
    eps: Number = Field(1e-5, description="Added to the variance; ConvNeXt uses 1e-6.")
    elementwise_affine: StrictBool = Field(True, description="Learn a per-channel weight (and bias).")
    bias: StrictBool = Field(True, description="Learn the bias too (with elementwise_affine).")


class GroupNorm(LayerSchema):
    """Normalise over groups of channels (nn.GroupNorm); num_groups must divide the channels."""

    kind: Literal["groupnorm"] = "groupnorm"
    num_groups: PositiveInt = Field(description="Number of channel groups; 1 normalises over all channels.")
    eps: Number = 1e-5
    affine: StrictBool = True
    num_channels: Optional[PositiveInt] = Field(None, description="Optional; checked against the inferred input.")


def _infer_batchnorm(layer: BatchNorm, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    require_map_or_flat(in_shape, "batchnorm")
    if layer.num_features is not None and layer.num_features != in_shape[0]:
        raise ShapeError(f"num_features: expected {in_shape[0]} (the input's channels); got {layer.num_features}",
                         hint="remove num_features (it is inferred)", field="num_features")
    return in_shape


def _count_batchnorm(layer: BatchNorm, in_shapes, out_shape) -> Cost:
    return Cost(params=2 * in_shapes[0][0] if layer.affine else 0)


def _build_batchnorm(layer: BatchNorm, in_shapes, out_shape):
    import torch.nn as nn

    module = nn.BatchNorm2d if len(in_shapes[0]) == 3 else nn.BatchNorm1d
    momentum = None if layer.momentum is None else float(layer.momentum)  # floats: TorchScript refuses ints here
    return module(in_shapes[0][0], eps=float(layer.eps), momentum=momentum, affine=layer.affine)


def _infer_lrn(layer: LRN, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    if len(in_shape) != 3:
        raise ShapeError(f"lrn expects a (C, H, W) feature map; got {fmt_shape(in_shape)}")
    if layer.size > in_shape[0]:
        notes.warn(f"size: expected at most the number of channels ({in_shape[0]}); got {layer.size}",
                   hint="AlexNet normalises over 5 neighbouring channels: size 5", field="size")
    return in_shape


def _infer_layernorm(layer: LayerNorm, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    require_map_or_flat(in_shape, "layernorm")
    return in_shape


def _count_layernorm(layer: LayerNorm, in_shapes, out_shape) -> Cost:
    per_channel = (1 + layer.bias) if layer.elementwise_affine else 0
    return Cost(params=per_channel * in_shapes[0][0])


def _build_layernorm(layer: LayerNorm, in_shapes, out_shape):
    import torch.nn as nn

    from ..modules import LayerNorm2d

    module = LayerNorm2d if len(in_shapes[0]) == 3 else nn.LayerNorm
    return module(in_shapes[0][0], eps=float(layer.eps), elementwise_affine=layer.elementwise_affine,
                  bias=layer.bias)


def _infer_groupnorm(layer: GroupNorm, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    require_map_or_flat(in_shape, "groupnorm")
    channels = in_shape[0]
    if layer.num_channels is not None and layer.num_channels != channels:
        raise ShapeError(f"num_channels: expected {channels} (the input's channels); got {layer.num_channels}",
                         hint="remove num_channels (it is inferred)", field="num_channels")
    if channels % layer.num_groups:
        raise ShapeError(f"num_groups: expected a divisor of the input's {channels} channels; got {layer.num_groups}",
                         hint=f"one of {divisors(channels)}", field="num_groups")
    return in_shape


def _count_groupnorm(layer: GroupNorm, in_shapes, out_shape) -> Cost:
    return Cost(params=2 * in_shapes[0][0] if layer.affine else 0)


def _build_groupnorm(layer: GroupNorm, in_shapes, out_shape):
    import torch.nn as nn

    return nn.GroupNorm(layer.num_groups, in_shapes[0][0], eps=float(layer.eps), affine=layer.affine)


def _build_lrn(layer: LRN, in_shapes, out_shape):
    import torch.nn as nn

    # floats even when the spec writes `k: 2`: TorchScript refuses an int for these
    return nn.LocalResponseNorm(layer.size, alpha=float(layer.alpha), beta=float(layer.beta), k=float(layer.k))


KINDS = [
    LayerKind("batchnorm", BatchNorm, _infer_batchnorm, _count_batchnorm, _build_batchnorm,
              summary="batch normalisation (nn.BatchNorm2d / nn.BatchNorm1d)"),
    LayerKind("layernorm", LayerNorm, _infer_layernorm, _count_layernorm, _build_layernorm,
              summary="layer normalisation over channels or features (LayerNorm2d / nn.LayerNorm)"),
    LayerKind("groupnorm", GroupNorm, _infer_groupnorm, _count_groupnorm, _build_groupnorm,
              summary="group normalisation (nn.GroupNorm)", shorthand="num_groups"),
    LayerKind("lrn", LRN, _infer_lrn, no_cost, _build_lrn,
              summary="local response normalisation (nn.LocalResponseNorm)", shorthand="size"),
]
