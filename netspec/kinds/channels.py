"""channel_slice and channel_shuffle: ShuffleNetV2's channel split and shuffle."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import (LayerKind, LayerSchema, NonNegativeInt, Notes, PositiveInt, ShapeError, divisors, no_cost,
                   require_rank)


class ChannelSlice(LayerSchema):
    """Channels [start, stop) of the input, as x[:, start:stop]; two of them split a map in halves."""

    kind: Literal["channel_slice"] = "channel_slice"
    channels: Annotated[list[NonNegativeInt], Field(min_length=2, max_length=2)] = Field(
        description="[start, stop]: the first channel kept and the one after the last (Python's slice).")


class ChannelShuffle(LayerSchema):
    """Interleave the channels of `groups` groups (ShuffleNet's channel_shuffle)."""

    kind: Literal["channel_shuffle"] = "channel_shuffle"
    groups: PositiveInt = Field(description="Number of groups; must divide the channels.")


def _infer_slice(layer: ChannelSlice, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    start, stop = layer.channels
    if not start < stop <= in_shape[0]:
        raise ShapeError(f"channels: expected [start, stop] with start < stop <= {in_shape[0]} (the input's "
                         f"channels); got [{start}, {stop}]",
                         hint=f"e.g. [0, {max(1, in_shape[0] // 2)}] for the first half", field="channels")
    return (stop - start, *in_shape[1:])


def _build_slice(layer: ChannelSlice, in_shapes, out_shape):
    from ..modules import ChannelSlice

    return ChannelSlice(*layer.channels)


def _infer_shuffle(layer: ChannelShuffle, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    require_rank(in_shape, 3, "channel_shuffle")
    channels = in_shape[0]
    if channels % layer.groups:
        raise ShapeError(f"groups: expected a divisor of the input's {channels} channels; got {layer.groups}",
                         hint=f"one of {divisors(channels)}", field="groups")
    return in_shape


def _build_shuffle(layer: ChannelShuffle, in_shapes, out_shape):
    from ..modules import ChannelShuffle

    return ChannelShuffle(layer.groups)


KINDS = [
    LayerKind("channel_slice", ChannelSlice, _infer_slice, no_cost, _build_slice,
              summary="channels [start, stop) of the input (x[:, start:stop])", shorthand="channels"),
    LayerKind("channel_shuffle", ChannelShuffle, _infer_shuffle, no_cost, _build_shuffle,
              summary="interleave channel groups (ShuffleNet's channel_shuffle)", shorthand="groups"),
]
