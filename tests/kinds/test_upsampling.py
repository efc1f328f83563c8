"""conv_transpose and upsample on random geometry: the checker accepts exactly what torch runs, with torch's
output size, parameters and (for conv_transpose) torch.utils.flop_counter's MACs."""

from __future__ import annotations

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from kind_harness import assert_matches_torch, check_layer, column_of, output_node, single_error, spec_text
from torch.utils.flop_counter import FlopCounterMode

import netspec

RANDOM = settings(max_examples=30, deadline=None, derandomize=True)


def flop_counter_macs(model, input_shape) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.randn(1, *input_shape))
    return counter.get_total_flops() // 2  # the counter counts a multiply-accumulate as 2 FLOPs


@RANDOM
@given(size=st.integers(1, 6), kernel=st.integers(1, 4), stride=st.integers(1, 3), padding=st.integers(0, 2),
       output_padding=st.integers(0, 2), dilation=st.integers(1, 2), groups=st.sampled_from([1, 2]),
       bias=st.booleans())
def test_conv_transpose_matches_torch(size, kernel, stride, padding, output_padding, dilation, groups, bias):
    layer = (f"{{kind: conv_transpose, out_channels: 4, kernel_size: {kernel}, stride: {stride}, padding: {padding}, "
             f"output_padding: {output_padding}, dilation: {dilation}, groups: {groups}, bias: {str(bias).lower()}}}")
    report = check_layer(layer, (2, size, size + 1))
    module = torch.nn.ConvTranspose2d(2, 4, kernel, stride, padding, output_padding, groups, bias, dilation)
    try:
        expected = tuple(module(torch.zeros(1, 2, size, size + 1)).shape[1:])
    except RuntimeError:
        expected = None
    if expected is None or 0 in expected:  # torch refuses, or returns an empty map: the checker refuses both
        assert single_error(report).code == "shape.conv_transpose"
        return
    model = assert_matches_torch(report, (2, size, size + 1), expected)
    assert output_node(report).macs == flop_counter_macs(model, (2, size, size + 1))


def test_conv_transpose_macs_follow_the_documented_formula():
    # U-Net's up-convolution: 2x2, stride 2; in_C * out_C * kH * kW MACs for each of the 16 x 16 input pixels
    node = output_node(check_layer("{kind: conv_transpose, out_channels: 64, kernel_size: 2, stride: 2}",
                                   (128, 16, 16)))
    assert (node.out_shape, node.params, node.macs) == ((64, 32, 32), 128 * 64 * 4 + 64, 128 * 64 * 4 * 16 * 16)


@RANDOM
@given(height=st.integers(1, 7), width=st.integers(1, 7), data=st.data())
def test_upsample_by_a_factor_matches_torch(height, width, data):
    factor = data.draw(st.sampled_from([1, 2, 3, 0.5, 1.5, 2.25, [2, 3], [1.5, 0.75]]))
    mode = data.draw(st.sampled_from(["nearest", "bilinear"]))
    corners = ", align_corners: true" if mode == "bilinear" and data.draw(st.booleans()) else ""
    layer = f"{{kind: upsample, scale_factor: {factor}, mode: {mode}{corners}}}"
    report = check_layer(layer, (3, height, width))
    reference = torch.nn.Upsample(scale_factor=tuple(factor) if isinstance(factor, list) else factor, mode=mode,
                                  align_corners=True if corners else None)
    x = torch.randn(2, 3, height, width)
    try:
        expected = reference(x)
    except RuntimeError:
        assert single_error(report).code == "shape.upsample"
        return
    model = assert_matches_torch(report, (3, height, width), tuple(expected.shape[1:]))
    assert torch.equal(model(x), expected)
    assert output_node(report).macs == 0


def test_upsample_to_a_size_and_the_short_form():
    assert output_node(check_layer("{kind: upsample, size: [7, 9], mode: bilinear}", (3, 4, 5))).out_shape == (3, 7, 9)
    assert output_node(check_layer("{upsample: 2}", (3, 4, 5))).out_shape == (3, 8, 10)
    model = netspec.build(check_layer("{kind: upsample, size: 6}", (1, 3, 3)))
    x = torch.randn(1, 1, 3, 3)
    assert torch.equal(model(x), torch.nn.functional.interpolate(x, size=(6, 6)))


@pytest.mark.parametrize("layer, input_shape, spot, message, hint", [
    ("{kind: conv_transpose, out_channels: 4, kernel_size: 3, stride: 2, output_padding: 2}", (3, 4, 4),
     "output_padding: 2", "output_padding: expected less than stride (2) or dilation (1); got 2",
     "PyTorch refuses it: lower output_padding or raise stride"),
    ("{kind: conv_transpose, out_channels: 4, kernel_size: 1, padding: 1}", (3, 1, 1), "padding: 1",
     "H collapses: expected a positive output; got (1 - 1)*1 - 2*1 + 1*(1 - 1) + 0 + 1 = -1",
     "lower padding or raise kernel_size or stride"),
    ("{kind: conv_transpose, out_channels: 4, kernel_size: 2, in_channels: 5}", (3, 4, 4), "in_channels: 5",
     "in_channels: expected 3 (the previous layer's output); got 5", "remove in_channels (it is inferred) or set it to 3"),
    ("{kind: upsample}", (3, 4, 4), "{", "upsample: expected exactly one of `scale_factor` or `size`",
     "e.g. `{upsample: 2}` doubles H and W; `size: [32, 32]` sets them"),
    ("{kind: upsample, scale_factor: 2, align_corners: true}", (3, 4, 4), "align_corners: true",
     "align_corners: expected it only with mode bilinear (PyTorch refuses it for nearest)",
     "remove align_corners or set `mode: bilinear`"),
    ("{upsample: 0.1}", (3, 4, 4), "0.1", "scale_factor: expected an output of at least 1 x 1; got 0 x 0",
     "raise scale_factor"),
    ("{kind: upsample, scale_factor: 2, mode: bicubic}", (3, 4, 4), "mode: bicubic",
     "mode: expected 'nearest' or 'bilinear'; got 'bicubic'", None),
])
def test_errors_are_pinned_and_located(layer, input_shape, spot, message, hint):
    error = single_error(check_layer(layer, input_shape))
    assert (error.message, error.hint) == (message, hint)
    assert error.column == column_of(spec_text([layer], input_shape), 4, spot)


def test_torch_refuses_what_the_checker_refuses():
    with pytest.raises(RuntimeError):
        torch.nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=2)(torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.functional.interpolate(torch.zeros(1, 3, 4, 4), scale_factor=2, mode="nearest", align_corners=True)
