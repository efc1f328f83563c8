"""channel_affine: y = x * weight + bias with a learnable (C, 1, 1) weight and bias, as a netspec plugin.

The four parts of a kind: a schema, a pure shape rule, a cost and a builder. Nothing here imports torch:
the builder imports it when the network is built, so `netspec check` stays torch-free.
"""

from typing import Literal

from pydantic import Field

from netspec.kinds import Cost, LayerKind, LayerSchema, ShapeError, fmt_shape


class ChannelAffine(LayerSchema):
    """Scale and shift each channel by learned values."""

    kind: Literal["channel_affine"] = "channel_affine"
    init_scale: float = Field(1.0, description="Initial value of every channel's weight.")


def infer_output_shape(layer, in_shapes, notes):
    (shape,) = in_shapes
    if len(shape) != 3:
        raise ShapeError(f"channel_affine expects a (C, H, W) feature map; got {fmt_shape(shape)}",
                         hint="move this layer before `flatten`")
    return shape


def count(layer, in_shapes, out_shape):
    return Cost(params=2 * in_shapes[0][0])


def build(layer, in_shapes, out_shape):
    from .modules import ChannelAffineModule

    return ChannelAffineModule(in_shapes[0][0], float(layer.init_scale))


KINDS = [LayerKind("channel_affine", ChannelAffine, infer_output_shape, count, build,
                   summary="learnable per-channel scale and shift", shorthand="init_scale")]
