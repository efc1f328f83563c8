"""Receptive fields: which rows of the network input each output row of a node depends on.

A node's Footprint is a repeating pattern: output row q*period + r depends on input rows
first[r] + q*shift .. last[r] + q*shift. The jump (input rows between neighbouring output rows) is the
exact fraction shift/period: 2 after a stride-2 conv, 1/2 after a 2x upsampling. The receptive field is
the most input rows, first to last, any of the node's output rows spans (rows of padding counted, as the
textbook rule counts them). The rows the map has matter where the pattern is longer than the map: a
bilinear align_corners resize from 128 to 256 rows repeats only every 255 rows.

Why a pattern and not the textbook rule RF += (kernel - 1) * jump: with a fractional jump that rule is
wrong, even rounded up. After two stride-2 convs (RF 7, jump 4) and a 2x nearest upsampling (jump 2), a
2-row conv reads two upsampled rows that are copies of one row (RF 7) or of two neighbouring rows
(RF 7 + 4 = 11), depending on the output row's phase; the rule says 7 + 1*2 = 9. Following each phase
exactly counts whole input rows, so nothing needs rounding. Only H (the first axis) is tracked, as kernels
are read by their first size.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

from .kinds.base import Reach

# Longest pattern followed: non-integer resize factors multiply their periods (a 2.2x upsampling repeats
# every 11 rows), and past this many rows per pattern a node's receptive field is left blank rather than
# paid for in check time
MAX_PERIOD = 4096

Rows = Optional[tuple[int, int]]  # first and last input row; None: depends on no input row


@dataclass(frozen=True)
class Footprint:
    period: int
    shift: int
    spans: tuple[Rows, ...]  # one per output row of the pattern
    rows: int | None = None  # the rows the node's map has; None: as many as the pattern

    @property
    def jump(self) -> Fraction:
        return Fraction(self.shift, self.period)

    @property
    def receptive_field(self) -> int:
        return max((last - first + 1 for first, last in filter(None, self.spans[:self.rows])), default=0)

    def spanned(self, row: int) -> Rows:
        """The input rows output `row` depends on."""
        turns, phase = divmod(row, self.period)
        span = self.spans[phase]
        return None if span is None else (span[0] + turns * self.shift, span[1] + turns * self.shift)


INPUT = Footprint(1, 1, ((0, 0),))  # each input row is itself


def through(footprint: Footprint | None, reach: Reach | None, rows: int | None) -> Footprint | None:
    """The footprint of a layer reading `footprint`'s rows by `reach` into `rows` output rows (reach None: each
    output row reads its own row: the footprint stays)."""
    if footprint is None or reach is None:
        return footprint
    # the pattern repeats once the layer's `turns` periods move its input by whole periods of `footprint`
    turns = footprint.period // math.gcd(footprint.period, reach.shift)
    period = turns * reach.period
    if period > MAX_PERIOD:
        return None
    shift = turns * reach.shift // footprint.period * footprint.shift
    spans = tuple(_union(footprint.spanned(x) for x in reach.reads(row)) for row in range(period))
    return Footprint(period, shift, spans, rows)


def merged(footprints: list[Footprint | None], rows: int | None) -> Footprint | None:
    """A merge's footprint: each output row depends on what that row of every input depends on.

    Inputs whose jumps differ (branches resized differently to one size) drift apart along the rows, so no
    pattern holds: the merge then takes the input with the largest receptive field, as its largest part.
    """
    if any(f is None for f in footprints):
        return None
    first = footprints[0]
    if any(f.shift * first.period != first.shift * f.period for f in footprints):  # jumps differ
        largest = max(footprints, key=lambda f: f.receptive_field)
        return dataclasses.replace(largest, rows=largest.rows if rows is None else rows)
    period = math.lcm(*(f.period for f in footprints))
    if period > MAX_PERIOD:
        return None
    shift = period // first.period * first.shift
    spans = tuple(_union(f.spanned(row) for f in footprints) for row in range(period))
    return Footprint(period, shift, spans, first.rows if rows is None else rows)


def _union(spans) -> Rows:
    reached = [span for span in spans if span is not None]
    if not reached:
        return None
    return min(first for first, _ in reached), max(last for _, last in reached)
