"""What every layer kind provides, and the shared pieces of its schema.

A kind bundles, in one file: its pydantic schema (tagged by `kind`), its pure
shape rule, its parameter/MAC count and its builder. `netspec.kinds` registers
them and checks that every kind has every part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

Shape = tuple[int, ...]  # per-sample shape, no batch dimension: (C, H, W) or (features,)

PositiveInt = Annotated[StrictInt, Field(ge=1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
Number = Union[StrictInt, Annotated[float, Field(strict=True, allow_inf_nan=False)]]
PositivePair = Union[PositiveInt, Annotated[list[PositiveInt], Field(min_length=2, max_length=2)]]
NonNegativePair = Union[NonNegativeInt, Annotated[list[NonNegativeInt], Field(min_length=2, max_length=2)]]


class LayerSchema(BaseModel):
    """Fields every layer accepts besides its own."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, defer_build=True)

    name: Optional[str] = Field(None, description="Name used to refer to this layer and in parameter names.")
    from_: Optional[str] = Field(None, alias="from", description="Take input from this named layer instead of the previous one.")
    trainable: StrictBool = Field(True, description="False freezes this layer's parameters.")


class ShapeError(ValueError):
    """A shape rule's refusal: message says expected then received; hint proposes a fix."""

    def __init__(self, message: str, hint: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message, self.hint, self.field = message, hint, field


@dataclass
class Notes:
    """Warnings a shape rule raises without failing, each tied to a field."""

    warnings: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def warn(self, message: str, hint: str | None = None, field: str | None = None) -> None:
        self.warnings.append((message, hint, field))


@dataclass(frozen=True)
class Cost:
    params: int = 0
    macs: int = 0


class Reach:
    """Which input rows each output row reads, for receptive-field tracking (along H, the first axis).

    `reads(row)` is the input rows output `row` depends on (a range, empty when it depends on none); the
    pattern repeats: reads(row + period) is reads(row) moved down `shift` rows. Rows count on the unbounded
    line, padding included (a row may be negative), so the receptive field is the window's, not the
    border's. netspec.receptive chains these rules from the network input.
    """

    period: int = 1
    shift: int = 1

    def reads(self, row: int) -> range:
        raise NotImplementedError


@dataclass(frozen=True)
class Window(Reach):
    """A sliding window's geometry (conv, pools): output row o reads o*stride - padding + t*dilation."""

    kernel: int
    stride: int
    dilation: int = 1
    padding: int = 0  # the rows in front: which rows a window starts on, and so its phase after an upsampling

    @property
    def shift(self) -> int:
        return self.stride

    def reads(self, row: int) -> range:
        start = row * self.stride - self.padding
        return range(start, start + self.dilation * (self.kernel - 1) + 1, self.dilation)


@dataclass(frozen=True)
class LayerKind:
    name: str
    schema: type[LayerSchema]
    infer_output_shape: Callable[[Any, tuple[Shape, ...], Notes], Shape]
    count: Callable[[Any, tuple[Shape, ...], Shape], Cost]
    build: Callable[[Any, tuple[Shape, ...], Shape], Any]  # returns an nn.Module
    summary: str
    shorthand: str | None = None  # the field `{kind: value}` fills, e.g. maxpool: 2 -> kernel_size
    # which input rows each output row reads (a Reach), given (layer, in_shapes, out_shape); None: the same row
    window: Callable[[Any, tuple[Shape, ...], Shape], Reach | None] = lambda layer, in_shapes, out_shape: None
    merges: bool = False  # takes several inputs (concat, add)


def no_cost(layer, in_shapes, out_shape) -> Cost:
    """No parameters and no MACs (see the MACs convention in netspec.check)."""
    return Cost()


def divisors(number: int) -> str:
    """"1, 2, 4, 8": the values a groups-like field may take for `number` channels."""
    return ", ".join(str(d) for d in range(1, number + 1) if number % d == 0)


def pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def require_rank(in_shape: Shape, rank: int, kind: str) -> None:
    if len(in_shape) != rank:
        if rank == 3:
            raise ShapeError(f"{kind} expects a (C, H, W) feature map; got {fmt_shape(in_shape)}",
                             hint="move this layer before `flatten`")
        raise ShapeError(f"{kind} expects a flat (features,) input; got {fmt_shape(in_shape)}",
                         hint="insert `flatten` before this layer")


def require_map_or_flat(in_shape: Shape, kind: str) -> None:
    """Per-channel layers (norms, layer_scale) take a (C, H, W) map or a flat (features,) input."""
    if len(in_shape) not in (1, 3):
        raise ShapeError(f"{kind} expects (C, H, W) or (features,); got {fmt_shape(in_shape)}")


def fmt_shape(shape: Shape | None) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def sliding_output_2d(size: Shape, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int],
                      dilation: tuple[int, int], ceil_mode: bool = False, notes: Notes | None = None) -> tuple[int, int]:
    """Output (H, W); a square input under a square window is worked out, and reported, once as "H and W"."""
    if size[0] == size[1] and all(value[0] == value[1] for value in (kernel, stride, padding, dilation)):
        out = sliding_output(size[0], kernel[0], stride[0], padding[0], dilation[0], ceil_mode, "H and W", notes)
        return out, out
    height, width = (sliding_output(size[i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode, "HW"[i], notes)
                     for i in range(2))
    return height, width


def sliding_output(size: int, kernel: int, stride: int, padding: int, dilation: int = 1,
                   ceil_mode: bool = False, axis: str = "W", notes: Notes | None = None,
                   field_name: str = "stride") -> int:
    """PyTorch's output length along one axis, with the arithmetic shown on failure.

    floor((W + 2P - D*(K-1) - 1)/S) + 1, or ceil(...) for ceil_mode pools with
    PyTorch's rule that the last window must start inside the input or left padding.
    """
    effective = dilation * (kernel - 1) + 1
    span = size + 2 * padding - effective
    text = f"({size} - {effective} + 2*{padding})/{stride} + 1"
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    plural = " and " in axis
    if out < 1:
        exact = span / stride + 1
        raise ShapeError(
            f"{axis} {'collapse' if plural else 'collapses'}: expected the window ({effective}) to fit the padded input "
            f"({size} + 2*{padding} = {size + 2 * padding}); got {text} = {exact:g}"
            + ("" if exact == out else f" -> {out}"),
            hint=f"reduce kernel_size or add padding (padding={math.ceil(-span / 2)} fits), "
                 f"or remove an earlier downsampling layer", field="kernel_size")
    # Warn when real input pixels after the last window are lost, not zero padding (3x3/2/1 on an even input), and
    # not the gap every window leaves when the stride outruns the window (ResNet's 1x1/2 shortcut skips every other)
    dropped = padding + size - ((out - 1) * stride + effective)
    if dropped > max(0, stride - effective) and not ceil_mode and notes is not None:
        notes.warn(f"{axis} {'do' if plural else 'does'} not divide evenly: {text} = {span / stride + 1:g} -> {out}; "
                   f"PyTorch drops the last {dropped} pixel(s) of the input",
                   hint="adjust padding or stride so the division is exact, or set ceil_mode for pools",
                   field=field_name)
    return out

