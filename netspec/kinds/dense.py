"""flatten, linear and dropout: the classifier head."""

from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import Field, StrictBool

from .base import Cost, LayerKind, LayerSchema, Notes, PositiveInt, ShapeError, require_rank


class Flatten(LayerSchema):
    """(C, H, W) -> (C*H*W,), like x.view(N, -1)."""

    kind: Literal["flatten"] = "flatten"


class Linear(LayerSchema):
    """Fully connected layer; in_features is inferred (and checked when given)."""

    kind: Literal["linear"] = "linear"
    out_features: PositiveInt
    bias: StrictBool = True
    in_features: Optional[PositiveInt] = Field(None, description="Optional; checked against the inferred input.")


class Dropout(LayerSchema):
    """Zeroes elements with probability p while training."""

    kind: Literal["dropout"] = "dropout"
    p: float = Field(0.5, ge=0.0, le=1.0, strict=True)


def _infer_flatten(layer, in_shapes, notes: Notes):
    return (math.prod(in_shapes[0]),)


def _infer_linear(layer: Linear, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    require_rank(in_shape, 1, "linear")
    if layer.in_features is not None and layer.in_features != in_shape[0]:
        raise ShapeError(f"in_features: expected {in_shape[0]} (the flattened input); got {layer.in_features}",
                         hint=f"remove in_features (it is inferred) or set it to {in_shape[0]}",
                         field="in_features")
    return (layer.out_features,)


def _count_linear(layer: Linear, in_shapes, out_shape) -> Cost:
    weights = in_shapes[0][0] * layer.out_features
    return Cost(params=weights + (layer.out_features if layer.bias else 0), macs=weights)


def _same_shape(layer, in_shapes, notes: Notes):
    return in_shapes[0]


def _no_cost(layer, in_shapes, out_shape) -> Cost:
    return Cost()


def _build_flatten(layer, in_shapes, out_shape):
    import torch.nn as nn

    return nn.Flatten()


def _build_linear(layer: Linear, in_shapes, out_shape):
    import torch.nn as nn

    return nn.Linear(in_shapes[0][0], layer.out_features, bias=layer.bias)


def _build_dropout(layer: Dropout, in_shapes, out_shape):
    import torch.nn as nn

    return nn.Dropout(layer.p)


KINDS = [
    LayerKind("flatten", Flatten, _infer_flatten, _no_cost, _build_flatten, summary="flatten to (features,) (nn.Flatten)"),
    LayerKind("linear", Linear, _infer_linear, _count_linear, _build_linear,
              summary="fully connected layer (nn.Linear)", shorthand="out_features"),
    LayerKind("dropout", Dropout, _same_shape, _no_cost, _build_dropout, summary="dropout (nn.Dropout)",
              shorthand="p"),
]
