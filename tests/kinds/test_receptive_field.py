"""The RF column against torch: the receptive field measured by backpropagating from single output pixels.

What "receptive field" means here, and in netspec's column: the most input rows, first to last (gaps
included), that one output pixel depends on, along H. An output pixel near the border depends on fewer
real rows (the rest of its window is padding, or a resize clamps to the edge), so the oracle measures
only output pixels whose rows stay off the input's first and last row; a border can only shrink a span,
so those pixels show the full window. Which rows a pixel reads can differ from one output row to the next
(after an upsampling, a pixel between two copies reads more), so the oracle takes the largest span over
every output row off the border, as netspec does over one period of the pattern.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from kind_harness import check_layers, output_node

import netspec
from netspec import receptive
from netspec.kinds.upsample import Resampling

WIDTH = 24  # W only has to survive the layers; the measurement is along H
ROWS_PER_PASS = 64  # output rows measured by one batched backward pass


def measured_receptive_field(report: netspec.Report, input_shape: tuple[int, ...]) -> tuple[int, int]:
    """(the largest span of input rows any output row off the border depends on, how many such rows).

    Weights and biases are ones and the input is ones, so every path is positive and no gradient cancels;
    bilinear weights are positive too. A max pool sends its gradient to the winner of its window only,
    which depends on the input, not on the window: it is measured as the average pool of the same window.
    """
    import torch

    model = _pools_averaged(netspec.build(report)).double().eval()
    for parameter in model.parameters():
        parameter.data.fill_(1.0)
    spans = []  # per output row off the border: its span, 0 when it reads no row (only the bias)
    for rows in torch.arange(output_node(report).out_shape[1]).split(ROWS_PER_PASS):
        for weights in _input_rows_reached(model, input_shape, rows):
            # float rounding leaves ~1e-16 where a bilinear weight is exactly 0 (a position landing on a row)
            hit = (weights > 1e-9 * weights.max()).nonzero().flatten().tolist()
            if not hit or (hit[0] > 0 and hit[-1] < input_shape[1] - 1):
                spans.append(hit[-1] - hit[0] + 1 if hit else 0)
    return max(spans, default=0), len(spans)


def _input_rows_reached(model, input_shape, rows):
    """(output row, input row): how much each of `rows` depends on each input row, one backward pass."""
    import torch

    x = torch.ones(len(rows), *input_shape, dtype=torch.float64, requires_grad=True)
    out = model(x)
    seed = torch.zeros_like(out)
    # sample b asks about output row rows[b]: every pixel of it, as what a pixel reads along H does not depend
    # on its column (and some columns read nothing: a transposed conv with gcd(stride, dilation) > 1)
    seed[torch.arange(len(rows)), :, rows, :] = 1.0
    out.backward(seed)
    return x.grad.abs().sum(dim=(1, 3))


def _pools_averaged(model):
    import torch.nn as nn

    for name, child in model.named_children():
        if isinstance(child, nn.MaxPool2d):
            assert child.dilation in (1, (1, 1)), "AvgPool2d has no dilation: keep measured max pools undilated"
            setattr(model, name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding, child.ceil_mode))
        else:
            _pools_averaged(child)
    return model


def assert_rf_matches_torch(layers: list[str], height: int, period: int = 1) -> int:
    """netspec's RF of the last layer equals torch's, measured over at least two periods of output rows."""
    report = check_layers(layers, (1, height, WIDTH))
    assert report.ok, [d.message for d in report.errors]
    return _compare(report, height, period)


def _compare(report: netspec.Report, height: int, period: int) -> int:
    measured, rows = measured_receptive_field(report, (1, height, WIDTH))
    assert rows >= 2 * period, f"only {rows} output rows away from the border: raise the input height"
    assert output_node(report).receptive_field == measured
    return measured


def conv(kernel, stride=1, padding=0, dilation=1):
    return f"{{kind: conv, out_channels: 1, kernel_size: {kernel}, stride: {stride}, padding: {padding}, " \
           f"dilation: {dilation}}}"


def conv_transpose(kernel, stride=1, padding=0, dilation=1, output_padding=0):
    return f"{{kind: conv_transpose, out_channels: 1, kernel_size: {kernel}, stride: {stride}, padding: {padding}, " \
           f"dilation: {dilation}, output_padding: {output_padding}}}"


def upsample(factor, mode="nearest", align_corners=None):
    corners = "" if align_corners is None else f", align_corners: {str(align_corners).lower()}"
    return f"{{kind: upsample, scale_factor: {factor}, mode: {mode}{corners}}}"


@pytest.mark.parametrize("layer, expected", [
    (conv(3), 3), (conv(3, stride=2, padding=1), 3), (conv(3, dilation=2), 5),
    (conv_transpose(2, stride=2), 1),  # U-Net's up-convolution: each output pixel is one input pixel's
    (conv_transpose(3, stride=2), 2),  # ceil(3/2) input rows for the even output rows, 1 for the odd
    (conv_transpose(4, stride=2, padding=1), 2),
    (conv_transpose(5, stride=2, padding=2, output_padding=1), 3),
    (conv_transpose(3, stride=1, dilation=2), 5),  # stride 1: a conv over the same rows
    (conv_transpose(3, stride=2, dilation=2), 3),  # odd output rows read no input row, even ones 3 in a row
    (conv_transpose(3, stride=3, dilation=2), 1),
    (upsample(2), 1), (upsample(3), 1),
    (upsample(2, "bilinear"), 2), (upsample(2, "bilinear", True), 2), (upsample(4, "bilinear", False), 2),
    # to a size: PyTorch's ratio is 40/100 rows (align_corners: 39/99), a pattern 5 (33) output rows long
    ("{kind: upsample, size: 100}", 1), ("{kind: upsample, size: 100, mode: bilinear}", 2),
    ("{kind: upsample, size: 100, mode: bilinear, align_corners: true}", 2),
])
def test_one_layer_matches_torch(layer, expected):
    assert assert_rf_matches_torch([layer], height=40, period=4) == expected


def test_a_fractional_jump_is_followed_phase_by_phase():
    # two stride-2 convs: RF 7, jump 4; the 2x upsampling makes the jump 2, so RF + (kernel-1)*jump says
    # 7 + 2 = 9, but a 2-row conv straddling two copies reads two rows of the stride-4 map: 7 + 4 = 11
    layers = [conv(3, stride=2), conv(3, stride=2), upsample(2), conv(2)]
    assert assert_rf_matches_torch(layers, height=64, period=2) == 11


def test_a_merge_depends_on_what_each_branch_depends_on():
    branches = f"[[{conv(3, padding=1)}], [{upsample(2)}, {conv(3, stride=2, padding=1)}]]"
    assert_rf_matches_torch([conv(3, stride=2, padding=1), f"{{kind: add, branches: {branches}}}", conv(3)],
                            height=48, period=2)


def test_a_merge_of_inputs_with_different_jumps_matches_torch():
    """Resized to 64 rows from 31 (jump 2 * 31/64), one branch drifts against the other (jump 1) along the
    rows, so no pattern repeats: netspec lists the map's rows instead."""
    branches = f"[[], [{conv(3, stride=2)}, {{kind: upsample, size: [64, {WIDTH}], mode: bilinear}}]]"
    assert_rf_matches_torch([f"{{kind: concat, branches: {branches}}}", conv(3)], height=64, period=4)


def test_a_small_unet_matches_torch():
    """zoo:unet's shape at two levels: encoder maps joined to transposed-conv upsamplings of the coarser map."""
    double = [conv(3, padding=1), "batchnorm", "relu", conv(3, padding=1)]
    layers = [*double[:3], "{kind: conv, name: enc1, out_channels: 1, kernel_size: 3, padding: 1}",
              "{maxpool: 2}", *double[:3], "{kind: conv, name: enc2, out_channels: 1, kernel_size: 3, padding: 1}",
              "{maxpool: 2}", *double,
              "{kind: conv_transpose, name: up2, out_channels: 1, kernel_size: 2, stride: 2}",
              "{kind: concat, inputs: [enc2, up2]}", *double,
              "{kind: conv_transpose, name: up1, out_channels: 1, kernel_size: 2, stride: 2}",
              "{kind: concat, inputs: [enc1, up1]}", *double, conv(1)]
    for end in range(1, len(layers) + 1):  # every layer's RF, not only the last one's
        if layers[end - 1].startswith("{kind: conv"):
            assert_rf_matches_torch(layers[:end], height=96, period=4)


def test_the_jump_is_an_exact_fraction():
    half = receptive.through(receptive.INPUT, Resampling(Fraction(1, 2), bilinear=False), rows=None)
    assert (half.jump, half.period, half.receptive_field) == (Fraction(1, 2), 2, 1)
    assert receptive.through(half, Resampling(Fraction(1, 3), bilinear=False), rows=None).jump == Fraction(1, 6)


def pool(kind, kernel, stride=1, padding=0):
    return f"{{kind: {kind}, kernel_size: {kernel}, stride: {stride}, padding: {padding}}}"


KERNELS, STRIDES, PADDINGS = st.integers(1, 4), st.integers(1, 2), st.integers(0, 2)
DOWNSAMPLING = st.one_of(  # or keeping the size; pools pad at most half their kernel, as PyTorch requires
    st.builds(conv, KERNELS, STRIDES, PADDINGS, st.integers(1, 2)),
    st.builds(lambda kind, k, s, p: pool(kind, k, s, min(p, k // 2)), st.sampled_from(["avgpool", "maxpool"]),
              KERNELS, STRIDES, PADDINGS),
)
UPSAMPLING = st.one_of(
    st.builds(lambda k, s, p, d, extra: conv_transpose(k, s, p, d, min(extra, max(s, d) - 1)),  # below both
              KERNELS, st.integers(1, 3), PADDINGS, st.integers(1, 2), st.integers(0, 1)),
    st.builds(upsample, st.sampled_from([2, 3, 1.5])),
    st.builds(upsample, st.sampled_from([2, 3, 4]), st.just("bilinear"), st.sampled_from([None, True, False])),
    st.builds("{{kind: upsample, size: {}, mode: {}}}".format, st.sampled_from([50, 90]),
              st.sampled_from(["nearest", "bilinear"])),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(before=st.lists(DOWNSAMPLING, max_size=2), up=st.lists(UPSAMPLING, min_size=1, max_size=2),
       after=st.lists(DOWNSAMPLING, max_size=2))
def test_chains_match_torch(before, up, after):
    """conv/pool -> upsample/conv_transpose -> conv/pool chains, e.g. conv -> pool -> upsample -> conv_transpose
    -> conv. Two upsamplings by at most 3 repeat every 9 output rows at most (align_corners: every out-1 rows,
    but only the rows landing exactly on an input row read less, so any 18 rows show the largest span)."""
    report = check_layers([*before, *up, *after], (1, 64, WIDTH))
    assume(report.ok)  # a chain that collapses H or W is the shape tests' business
    measured, rows = measured_receptive_field(report, (1, 64, WIDTH))
    assume(rows >= 18)
    assert output_node(report).receptive_field == measured
