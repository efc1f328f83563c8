"""Receptive fields: which rows of the network input each output row of a node depends on.

A node's Footprint is usually a repeating pattern: output row q*period + r depends on input rows
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

Where no short pattern holds (resizes whose periods multiply past MAX_PERIOD, a merge of inputs with
different jumps), the footprint lists the map's own rows and MARGIN rows either side instead; rows beyond
those count as reading nothing, which can only shorten the spans of rows at the map's edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Optional

from .kinds.base import Reach

MAX_PERIOD = 4096  # rows of the longest pattern followed (a 2.2x upsampling repeats every 11 rows)
MARGIN = 64  # rows listed beyond each edge of a map without a pattern: the padding the next layers read

Rows = Optional[tuple[int, int]]  # first and last input row; None: depends on no input row


@dataclass(frozen=True)
class Footprint:
    spans: tuple[Rows, ...]  # a pattern's rows (period set), or the rows start, start + 1, ... (period None)
    period: int | None = 1
    shift: int = 1
    start: int = 0
    rows: int | None = None  # the rows the node's map has; None: as many as the pattern

    @property
    def jump(self) -> Fraction | None:
        return None if self.period is None else Fraction(self.shift, self.period)

    @property
    def receptive_field(self) -> int:
        own = self.spans[:self.rows] if self.period is not None else self.spans[-self.start:self.rows - self.start]
        return max((last - first + 1 for first, last in filter(None, own)), default=0)

    def spanned(self, row: int) -> Rows:
        """The input rows output `row` depends on."""
        if self.period is None:
            return self.spans[row - self.start] if 0 <= row - self.start < len(self.spans) else None
        turns, phase = divmod(row, self.period)
        span = self.spans[phase]
        return None if span is None else (span[0] + turns * self.shift, span[1] + turns * self.shift)


INPUT = Footprint(((0, 0),))  # each input row is itself


def through(footprint: Footprint | None, reach: Reach | None, rows: int | None) -> Footprint | None:
    """The footprint of a layer reading `footprint`'s rows by `reach` into `rows` output rows (reach None: each
    output row reads its own row: the footprint stays)."""
    if footprint is None or reach is None:
        return footprint
    if footprint.period is not None:
        # the pattern repeats once the layer's `turns` periods move its input by whole periods of `footprint`
        turns = footprint.period // math.gcd(footprint.period, reach.shift)
        period = turns * reach.period
        if period <= MAX_PERIOD:
            shift = turns * reach.shift // footprint.period * footprint.shift
            return Footprint(_spans(range(period), lambda row: (footprint.spanned(x) for x in reach.reads(row))),
                             period, shift, rows=rows)
    return _listed(rows, lambda row: (footprint.spanned(x) for x in reach.reads(row)))


def merged(footprints: list[Footprint | None], rows: int | None) -> Footprint | None:
    """A merge's footprint: each output row depends on what that row of every input depends on."""
    if any(f is None for f in footprints):
        return None
    first = footprints[0]
    same_jump = all(f.period is not None and f.shift * first.period == first.shift * f.period for f in footprints)
    period = math.lcm(*(f.period for f in footprints)) if same_jump else MAX_PERIOD + 1
    if period > MAX_PERIOD:  # inputs resized differently to one size drift apart along the rows
        return _listed(rows, lambda row: (f.spanned(row) for f in footprints))
    return Footprint(_spans(range(period), lambda row: (f.spanned(row) for f in footprints)),
                     period, period // first.period * first.shift, rows=first.rows if rows is None else rows)


def _listed(rows: int | None, reached) -> Footprint | None:
    """The footprint without a pattern: the map's rows and MARGIN more either side (None for a flat output)."""
    if rows is None:
        return None
    return Footprint(_spans(range(-MARGIN, rows + MARGIN), reached), period=None, start=-MARGIN, rows=rows)


def _spans(rows: range, reached) -> tuple[Rows, ...]:
    """For each of `rows`, the first and last input row of all `reached(row)` gives."""
    return tuple(_union(reached(row)) for row in rows)


def _union(spans: Iterable[Rows]) -> Rows:
    reached = [span for span in spans if span is not None]
    if not reached:
        return None
    return min(first for first, _ in reached), max(last for _, last in reached)
