"""Diagnostics found while writing torchvision's models as specs (issue 10, item 4): each a regression test."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import netspec
from netspec.kinds.base import Notes, sliding_output


def messages(report) -> list[tuple]:
    return [(d.message, d.line, d.column, d.hint) for d in report.errors]


def torch_unused_pixels(size: int, kernel: int, stride: int, padding: int) -> tuple[int, int]:
    """As torch sees them: the input pixels after the last window (no output depends on them), and the
    longest run of unused pixels between used ones (the gap a stride longer than the window leaves)."""
    import torch

    x = torch.ones(1, 1, 1, size, requires_grad=True)
    torch.nn.functional.conv2d(x, torch.ones(1, 1, 1, kernel), stride=(1, stride),
                               padding=(0, padding)).sum().backward()
    used = x.grad[0, 0, 0].nonzero().flatten().tolist()
    gaps = [after - before - 1 for before, after in zip(used, used[1:])]
    return size - 1 - used[-1], max(gaps, default=max(0, stride - kernel))  # one window: the gap a next would leave


@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 4), st.integers(0, 3))
@settings(max_examples=80, deadline=None)
def test_the_uneven_division_warning_fires_exactly_when_torch_drops_input_pixels(size, kernel, stride, padding):
    if kernel > size + 2 * padding or padding > kernel // 2:
        return  # the window does not fit (an error, tested elsewhere) or torch refuses the padding
    notes = Notes()
    sliding_output(size, kernel, stride, padding, notes=notes)
    dropped, regular_gap = torch_unused_pixels(size, kernel, stride, padding)
    assert len(notes.warnings) == (dropped > regular_gap)
    if dropped > regular_gap:
        assert f"drops the last {dropped} pixel(s) of the input" in notes.warnings[0][0]


def test_resnets_strided_stem_pool_and_convs_on_an_even_input_give_no_warning(check_text):
    report = check_text("""\
        name: t
        input: [3, 224, 224]
        layers:
          - {kind: conv, out_channels: 8, kernel_size: 7, stride: 2, padding: 3}
          - {kind: maxpool, kernel_size: 3, stride: 2, padding: 1}
          - {kind: conv, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}
          - {kind: conv, out_channels: 8, kernel_size: 1, stride: 2}
        """)
    assert report.diagnostics == [] and report.graph.output_shape == (8, 14, 14)
