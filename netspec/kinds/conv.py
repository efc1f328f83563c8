"""conv and conv_transpose: torch.nn.Conv2d and nn.ConvTranspose2d."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Optional, Union

from pydantic import Field, StrictBool

from .base import (Cost, LayerKind, LayerSchema, NonNegativePair, Notes, PositiveInt, PositivePair, Reach,
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


class ConvTranspose(LayerSchema):
    """2-D transposed convolution (learned upsampling, U-Net's up-convolution); in_channels is inferred."""

    kind: Literal["conv_transpose"] = "conv_transpose"
    out_channels: PositiveInt
    kernel_size: PositivePair
    stride: PositivePair = 1
    padding: NonNegativePair = 0
    output_padding: NonNegativePair = Field(0, description="Added to one side of the output; below stride or "
                                                           "dilation, as PyTorch requires.")
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


def _check_channels(layer: Conv | ConvTranspose, in_shape) -> None:
    require_rank(in_shape, 3, layer.kind)
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


def infer_output_shape(layer: Conv, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    _check_channels(layer, in_shape)
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


def window(layer: Conv, in_shapes, out_shape) -> Window:
    return Window(pair(layer.kernel_size)[0], pair(layer.stride)[0], pair(layer.dilation)[0], _padding(layer)[0])


def build(layer: Conv, in_shapes, out_shape):
    import torch.nn as nn

    padding = layer.padding if isinstance(layer.padding, str) else pair(layer.padding)
    return nn.Conv2d(in_shapes[0][0], layer.out_channels, pair(layer.kernel_size), stride=pair(layer.stride),
                     padding=padding, dilation=pair(layer.dilation), groups=layer.groups, bias=layer.bias)


def _infer_transpose(layer: ConvTranspose, in_shapes, notes: Notes):
    """PyTorch's (H - 1)*S - 2P + D*(K - 1) + output_padding + 1 along each axis."""
    (in_shape,) = in_shapes
    _check_channels(layer, in_shape)
    geometry = zip(in_shape[1:], pair(layer.kernel_size), pair(layer.stride), pair(layer.padding),
                   pair(layer.output_padding), pair(layer.dilation), "HW")
    size = []
    for length, kernel, stride, padding, extra, dilation, axis in geometry:
        if extra >= max(stride, dilation):
            raise ShapeError(f"output_padding: expected less than stride ({stride}) or dilation ({dilation}); "
                             f"got {extra}", hint="PyTorch refuses it: lower output_padding or raise stride",
                             field="output_padding")
        out = (length - 1) * stride - 2 * padding + dilation * (kernel - 1) + extra + 1
        if out < 1:
            raise ShapeError(f"{axis} collapses: expected a positive output; got ({length} - 1)*{stride} - 2*{padding}"
                             f" + {dilation}*({kernel} - 1) + {extra} + 1 = {out}",
                             hint="lower padding or raise kernel_size or stride", field="padding")
        size.append(out)
    return (layer.out_channels, *size)


def _count_transpose(layer: ConvTranspose, in_shapes, out_shape) -> Cost:
    """Each input pixel scatters a kernel: in_C * out_C/groups * kH * kW MACs per input pixel, as
    torch.utils.flop_counter counts it."""
    kh, kw = pair(layer.kernel_size)
    in_channels, height, width = in_shapes[0]
    weights = in_channels * layer.out_channels // layer.groups * kh * kw
    return Cost(params=weights + (layer.out_channels if layer.bias else 0), macs=weights * height * width)


@dataclass(frozen=True)
class TransposedWindow(Reach):
    """A transposed conv's reach: input row i adds its kernel to output rows i*stride - padding + t*dilation,
    so output row o reads the rows (o + padding - t*dilation) / stride that divide evenly, t = 0 .. kernel-1.

    That is at most ceil(kernel / stride) rows (dilation 1), and none at all where gcd(stride, dilation) does
    not divide o + padding (those rows get only the bias). output_padding only adds rows at the end, read by
    the same rule, so it does not change what a row reads. The pattern repeats every `stride` output rows,
    one input row further on.
    """

    kernel: int
    stride: int
    dilation: int
    padding: int

    @property
    def period(self) -> int:
        return self.stride

    def reads(self, row: int) -> range:
        landing = (t for t in range(self.kernel) if (row + self.padding - t * self.dilation) % self.stride == 0)
        first_tap = next(landing, None)
        if first_tap is None:
            return range(0)
        common = math.gcd(self.stride, self.dilation)  # taps that land are stride/common apart in the kernel,
        taps = range(first_tap, self.kernel, self.stride // common)
        step = self.dilation // common  # so dilation/common rows apart in the input
        last = (row + self.padding - first_tap * self.dilation) // self.stride
        return range(last - (len(taps) - 1) * step, last + 1, step)


def _window_transpose(layer: ConvTranspose, in_shapes, out_shape) -> TransposedWindow:
    return TransposedWindow(pair(layer.kernel_size)[0], pair(layer.stride)[0], pair(layer.dilation)[0],
                            pair(layer.padding)[0])


def _build_transpose(layer: ConvTranspose, in_shapes, out_shape):
    import torch.nn as nn

    return nn.ConvTranspose2d(in_shapes[0][0], layer.out_channels, pair(layer.kernel_size), stride=pair(layer.stride),
                              padding=pair(layer.padding), output_padding=pair(layer.output_padding),
                              groups=layer.groups, bias=layer.bias, dilation=pair(layer.dilation))


KIND = LayerKind("conv", Conv, infer_output_shape, count, build, summary="2-D convolution (nn.Conv2d)",
                 window=window)
KINDS = [KIND, LayerKind("conv_transpose", ConvTranspose, _infer_transpose, _count_transpose, _build_transpose,
                         summary="2-D transposed convolution (nn.ConvTranspose2d)", window=_window_transpose)]
