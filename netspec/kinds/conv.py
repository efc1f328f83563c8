"""conv: torch.nn.Conv2d."""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field, StrictBool

from .base import (Cost, LayerKind, LayerSchema, NonNegativePair, Notes, PositiveInt, PositivePair,
                   ShapeError, Window, pair, require_rank, sliding_output_2d)


class Conv(LayerSchema):
    """2-D convolution; in_channels is inferred (and checked when given)."""

    kind: Literal["conv"] = "conv"
    out_channels: PositiveInt
    kernel_size: PositivePair
    stride: PositivePair = 1
    padding: Union[NonNegativePair, Literal["same", "valid"]] = 0
    dilation: PositivePair = 1
    groups: PositiveInt = 1
    bias: StrictBool = True
    in_channels: Optional[PositiveInt] = Field(None, description="Optional; checked against the inferred input.")


def _padding(layer: Conv) -> tuple[int, int]:
    if layer.padding == "valid":
        return (0, 0)
    if layer.padding == "same":
        dil, ker = pair(layer.dilation), pair(layer.kernel_size)
        return tuple(d * (k - 1) // 2 for d, k in zip(dil, ker))
    return pair(layer.padding)


def infer_output_shape(layer: Conv, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    require_rank(in_shape, 3, "conv")
    channels = in_shape[0]
    if layer.in_channels is not None and layer.in_channels != channels:
        raise ShapeError(f"in_channels: expected {channels} (the previous layer's output); got {layer.in_channels}",
                         hint=f"remove in_channels (it is inferred) or set it to {channels}", field="in_channels")
    for what, value in (("in_channels", channels), ("out_channels", layer.out_channels)):
        if value % layer.groups:
            fits = [g for g in range(1, channels + 1) if channels % g == 0 and layer.out_channels % g == 0]
            raise ShapeError(f"groups: expected a divisor of {what} ({value}); got {layer.groups}",
                             hint=f"groups must divide in_channels ({channels}) and out_channels "
                                  f"({layer.out_channels}): one of {', '.join(map(str, fits))}", field="groups")
    if layer.padding == "same":
        if pair(layer.stride) != (1, 1):
            raise ShapeError("padding 'same': expected stride 1 (PyTorch refuses 'same' for strided convs); "
                             f"got stride {layer.stride}", hint="give padding as a number instead", field="padding")
        return (layer.out_channels, in_shape[1], in_shape[2])
    kernel, stride, dilation, padding = (pair(layer.kernel_size), pair(layer.stride),
                                         pair(layer.dilation), _padding(layer))
    height, width = sliding_output_2d(in_shape[1:], kernel, stride, padding, dilation, notes=notes)
    return (layer.out_channels, height, width)


def count(layer: Conv, in_shapes, out_shape) -> Cost:
    kh, kw = pair(layer.kernel_size)
    per_output = in_shapes[0][0] // layer.groups * kh * kw
    weights = layer.out_channels * per_output
    bias = layer.out_channels if layer.bias else 0
    return Cost(params=weights + bias, macs=out_shape[0] * out_shape[1] * out_shape[2] * per_output)


def window(layer: Conv) -> Window:
    return Window(pair(layer.kernel_size)[0], pair(layer.stride)[0], pair(layer.dilation)[0])


def build(layer: Conv, in_shapes, out_shape):
    import torch.nn as nn

    padding = layer.padding if isinstance(layer.padding, str) else pair(layer.padding)
    return nn.Conv2d(in_shapes[0][0], layer.out_channels, pair(layer.kernel_size), stride=pair(layer.stride),
                     padding=padding, dilation=pair(layer.dilation), groups=layer.groups, bias=layer.bias)


KIND = LayerKind("conv", Conv, infer_output_shape, count, build, summary="2-D convolution (nn.Conv2d)",
                 window=window)
