"""maxpool, avgpool, adaptive_avgpool, global_avgpool, global_maxpool: torch.nn's 2-D pools."""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field, StrictBool

from .base import (Cost, LayerKind, LayerSchema, NonNegativePair, Notes, PositiveInt, PositivePair,
                   ShapeError, Window, pair, require_rank, sliding_output_2d)


class MaxPool(LayerSchema):
    """Max pooling; stride defaults to kernel_size as in torch."""

    kind: Literal["maxpool"] = "maxpool"
    kernel_size: PositivePair
    stride: Optional[PositivePair] = None
    padding: NonNegativePair = 0
    dilation: PositivePair = 1
    ceil_mode: StrictBool = False


class AvgPool(LayerSchema):
    """Average pooling; stride defaults to kernel_size as in torch."""

    kind: Literal["avgpool"] = "avgpool"
    kernel_size: PositivePair
    stride: Optional[PositivePair] = None
    padding: NonNegativePair = 0
    ceil_mode: StrictBool = False
    count_include_pad: StrictBool = True


class AdaptiveAvgPool(LayerSchema):
    """Average pooling to a fixed output size, whatever the input size."""

    kind: Literal["adaptive_avgpool"] = "adaptive_avgpool"
    output_size: PositivePair


class GlobalAvgPool(LayerSchema):
    """Average over all of H x W: (C, H, W) -> (C,), ready for a linear layer."""

    kind: Literal["global_avgpool"] = "global_avgpool"


class GlobalMaxPool(LayerSchema):
    """Maximum over all of H x W: (C, H, W) -> (C,)."""

    kind: Literal["global_maxpool"] = "global_maxpool"


def _geometry(layer):
    kernel = pair(layer.kernel_size)
    stride = pair(layer.stride) if layer.stride is not None else kernel
    dilation = pair(getattr(layer, "dilation", 1))
    return kernel, stride, pair(layer.padding), dilation


def _infer_window_pool(layer, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    require_rank(in_shape, 3, layer.kind)
    kernel, stride, padding, dilation = _geometry(layer)
    for i in range(2):
        if padding[i] > kernel[i] // 2:  # PyTorch's rule uses kernel_size, not the dilated window
            raise ShapeError(f"padding: expected at most half the kernel ({kernel[i]} // 2 = {kernel[i] // 2}); "
                             f"got {padding[i]}", hint="PyTorch refuses larger pool padding", field="padding")
    height, width = sliding_output_2d(in_shape[1:], kernel, stride, padding, dilation, layer.ceil_mode, notes)
    return (in_shape[0], height, width)


def _window(layer, in_shapes, out_shape) -> Window:
    kernel, stride, padding, dilation = _geometry(layer)
    return Window(kernel[0], stride[0], dilation[0], padding[0])


def _no_cost(layer, in_shapes, out_shape) -> Cost:
    return Cost()


def _build_maxpool(layer: MaxPool, in_shapes, out_shape):
    import torch.nn as nn

    kernel, stride, padding, dilation = _geometry(layer)
    return nn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=layer.ceil_mode)


def _build_avgpool(layer: AvgPool, in_shapes, out_shape):
    import torch.nn as nn

    kernel, stride, padding, _ = _geometry(layer)
    return nn.AvgPool2d(kernel, stride, padding, ceil_mode=layer.ceil_mode,
                        count_include_pad=layer.count_include_pad)


def _infer_adaptive(layer: AdaptiveAvgPool, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    require_rank(in_shape, 3, "adaptive_avgpool")
    return (in_shape[0], *pair(layer.output_size))


def _build_adaptive(layer: AdaptiveAvgPool, in_shapes, out_shape):
    import torch.nn as nn

    return nn.AdaptiveAvgPool2d(pair(layer.output_size))


def _infer_global(layer, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    require_rank(in_shape, 3, layer.kind)
    return (in_shape[0],)


def _build_global(layer, in_shapes, out_shape):
    import torch.nn as nn

    pool = nn.AdaptiveAvgPool2d(1) if layer.kind == "global_avgpool" else nn.AdaptiveMaxPool2d(1)
    return nn.Sequential(pool, nn.Flatten())


KINDS = [
    LayerKind("maxpool", MaxPool, _infer_window_pool, _no_cost, _build_maxpool,
              summary="2-D max pooling (nn.MaxPool2d)", shorthand="kernel_size", window=_window),
    LayerKind("avgpool", AvgPool, _infer_window_pool, _no_cost, _build_avgpool,
              summary="2-D average pooling (nn.AvgPool2d)", shorthand="kernel_size", window=_window),
    LayerKind("adaptive_avgpool", AdaptiveAvgPool, _infer_adaptive, _no_cost, _build_adaptive,
              summary="adaptive average pooling to output_size (nn.AdaptiveAvgPool2d)", shorthand="output_size"),
    LayerKind("global_avgpool", GlobalAvgPool, _infer_global, _no_cost, _build_global,
              summary="global average pooling to (C,) (AdaptiveAvgPool2d(1) + Flatten)"),
    LayerKind("global_maxpool", GlobalMaxPool, _infer_global, _no_cost, _build_global,
              summary="global max pooling to (C,) (AdaptiveMaxPool2d(1) + Flatten)"),
]
