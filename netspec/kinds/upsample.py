"""upsample: nn.Upsample, nearest or bilinear, by a scale factor or to a size (U-Net, FPN)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, Literal, Optional, Union

from pydantic import Field, StrictBool, StrictInt

from .base import LayerKind, LayerSchema, Notes, PositivePair, Reach, ShapeError, no_cost, pair, require_rank

PositiveNumber = Union[Annotated[StrictInt, Field(ge=1)], Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]]
Factor = Union[PositiveNumber, Annotated[list[PositiveNumber], Field(min_length=2, max_length=2)]]


class Upsample(LayerSchema):
    """Resize a (C, H, W) map by scale_factor (H * s, floored as PyTorch does) or to size [H, W]."""

    kind: Literal["upsample"] = "upsample"
    scale_factor: Optional[Factor] = Field(None, description="Multiply H and W by this (or [sh, sw]).")
    size: Optional[PositivePair] = Field(None, description="The output's [H, W] (or one number for both).")
    mode: Literal["nearest", "bilinear"] = Field("nearest", description="nearest copies pixels; bilinear "
                                                                        "interpolates between them.")
    align_corners: Optional[StrictBool] = Field(None, description="bilinear only: align the corner pixels.")


def _infer(layer: Upsample, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    require_rank(in_shape, 3, "upsample")
    if (layer.scale_factor is None) == (layer.size is None):
        raise ShapeError("upsample: expected exactly one of `scale_factor` or `size`",
                         hint="e.g. `{upsample: 2}` doubles H and W; `size: [32, 32]` sets them")
    if layer.align_corners is not None and layer.mode == "nearest":
        raise ShapeError("align_corners: expected it only with mode bilinear (PyTorch refuses it for nearest)",
                         hint="remove align_corners or set `mode: bilinear`", field="align_corners")
    if layer.size is not None:
        return (in_shape[0], *pair(layer.size))
    factors = _factors(layer)
    height, width = (math.floor(float(length) * factor) for length, factor in zip(in_shape[1:], factors))
    if min(height, width) < 1:
        raise ShapeError(f"scale_factor: expected an output of at least 1 x 1; got {height} x {width}",
                         hint="raise scale_factor", field="scale_factor")
    return (in_shape[0], height, width)


def _factors(layer: Upsample) -> tuple[float, float]:
    factor = layer.scale_factor
    return (float(factor), float(factor)) if not isinstance(factor, list) else (float(factor[0]), float(factor[1]))


@dataclass(frozen=True)
class Resampling(Reach):
    """nn.Upsample's reach: output row o samples input position ratio*o (bilinear without align_corners:
    (o + 1/2)*ratio - 1/2, pixel centres); nearest reads the row below that position, bilinear the rows on
    either side, or only the row it lands on exactly (the other one's weight is 0, so its gradient is too).
    The pattern repeats every ratio.denominator output rows, ratio.numerator input rows on.
    """

    ratio: Fraction  # input rows per output row, as PyTorch's kernels work it out
    bilinear: bool
    align_corners: bool = False

    @property
    def period(self) -> int:
        return self.ratio.denominator

    @property
    def shift(self) -> int:
        return self.ratio.numerator

    def reads(self, row: int) -> range:
        if not self.bilinear:
            return range(math.floor(row * self.ratio), math.floor(row * self.ratio) + 1)
        source = row * self.ratio if self.align_corners else (row + Fraction(1, 2)) * self.ratio - Fraction(1, 2)
        below = math.floor(source)
        return range(below, below + (1 if source == below else 2))


def _window(layer: Upsample, in_shapes, out_shape) -> Resampling:
    """PyTorch's ratio along H (ATen's nearest_idx and area_pixel_compute_scale)."""
    in_rows, out_rows = in_shapes[0][1], out_shape[1]
    bilinear = layer.mode == "bilinear"
    if bilinear and layer.align_corners:
        ratio = Fraction(in_rows - 1, out_rows - 1) if out_rows > 1 else Fraction(0)
    elif not bilinear and out_rows in (in_rows, 2 * in_rows):  # nearest's shortcuts: a copy, or row // 2
        ratio = Fraction(in_rows, out_rows)
    elif layer.scale_factor is not None:
        # the factor as written (2.2 is 11/5), not its binary float. PyTorch works 1/factor out in float32,
        # which can move a row by one only where the position lands on a row exactly and the float32 inverse
        # rounds down (1.2)
        ratio = 1 / Fraction(_factors(layer)[0]).limit_denominator(1 << 10)
    else:
        ratio = Fraction(in_rows, out_rows)
    return Resampling(ratio, bilinear, bool(layer.align_corners))


def _build(layer: Upsample, in_shapes, out_shape):
    import torch.nn as nn

    if layer.size is not None:
        return nn.Upsample(size=pair(layer.size), mode=layer.mode, align_corners=layer.align_corners)
    factors = _factors(layer)
    return nn.Upsample(scale_factor=factors[0] if factors[0] == factors[1] else factors, mode=layer.mode,
                       align_corners=layer.align_corners)


KINDS = [LayerKind("upsample", Upsample, _infer, no_cost, _build,
                   summary="resize by scale_factor or to size, nearest or bilinear (nn.Upsample)",
                   shorthand="scale_factor", window=_window)]
