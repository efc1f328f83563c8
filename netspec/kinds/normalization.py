"""batchnorm and lrn (local response normalisation, as in AlexNet)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, StrictBool

from .base import Cost, LayerKind, LayerSchema, Number, Notes, PositiveInt, ShapeError, fmt_shape


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


def _infer_batchnorm(layer: BatchNorm, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    if len(in_shape) not in (1, 3):
        raise ShapeError(f"batchnorm expects (C, H, W) or (features,); got {fmt_shape(in_shape)}")
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


def _no_cost(layer, in_shapes, out_shape) -> Cost:
    return Cost()


def _build_lrn(layer: LRN, in_shapes, out_shape):
    import torch.nn as nn

    # floats even when the spec writes `k: 2`: TorchScript refuses an int for these
    return nn.LocalResponseNorm(layer.size, alpha=float(layer.alpha), beta=float(layer.beta), k=float(layer.k))


KINDS = [
    LayerKind("batchnorm", BatchNorm, _infer_batchnorm, _count_batchnorm, _build_batchnorm,
              summary="batch normalisation (nn.BatchNorm2d / nn.BatchNorm1d)"),
    LayerKind("lrn", LRN, _infer_lrn, _no_cost, _build_lrn,
              summary="local response normalisation (nn.LocalResponseNorm)", shorthand="size"),
]
