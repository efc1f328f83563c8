"""conv: output shape by floor((W + 2P - D*(K-1) - 1)/S) + 1, params, MACs and errors, against nn.Conv2d."""

from __future__ import annotations

import math
import warnings

import pytest
from kind_harness import assert_matches_torch, check_layer, column_of, output_node, single_error, spec_text

# (layer as written in a spec, input (C, H, W), output worked out by hand)
SHAPES = [
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3}", (3, 12, 12), (4, 10, 10), id="k3"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 1}", (3, 12, 12), (4, 12, 12), id="1x1"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 12}", (3, 12, 12), (4, 1, 1), id="kernel-equals-input"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3, stride: 2}", (3, 13, 13), (4, 6, 6),
                 id="stride2-exact"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 5, stride: 2}", (3, 12, 12), (4, 4, 4),
                 id="stride2-floored"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3, stride: 2, padding: 1}", (3, 12, 12), (4, 6, 6),
                 id="stride2-pad1"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 1, padding: 2}", (3, 5, 5), (4, 9, 9),
                 id="padding-wider-than-kernel"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3, dilation: 2}", (3, 12, 12), (4, 8, 8),
                 id="dilation2"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3, dilation: 3, padding: 3}", (3, 12, 12), (4, 12, 12),
                 id="dilation3-pad3"),
    pytest.param("{kind: conv, out_channels: 8, kernel_size: 3, groups: 2}", (4, 8, 8), (8, 6, 6), id="groups2"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3, groups: 4, padding: 1}", (4, 8, 8), (4, 8, 8),
                 id="depthwise"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3, padding: same}", (3, 12, 12), (4, 12, 12),
                 id="same-odd"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 4, padding: same}", (3, 12, 11), (4, 12, 11),
                 id="same-even-kernel"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3, dilation: 2, padding: same}", (3, 9, 9), (4, 9, 9),
                 id="same-dilated"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3, padding: valid}", (3, 12, 12), (4, 10, 10),
                 id="valid"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: [3, 1], stride: [2, 1], padding: [1, 0]}",
                 (3, 12, 10), (4, 6, 10), id="non-square-kernel-stride-padding"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3, stride: 2}", (3, 9, 16), (4, 4, 7),
                 id="non-square-input"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: [1, 3], dilation: [1, 2]}", (3, 7, 7), (4, 7, 3),
                 id="non-square-dilation"),
    pytest.param("{kind: conv, out_channels: 6, kernel_size: 5, bias: false}", (3, 32, 32), (6, 28, 28),
                 id="no-bias"),
    pytest.param("{kind: conv, out_channels: 6, kernel_size: 5, in_channels: 3}", (3, 32, 32), (6, 28, 28),
                 id="in-channels-given"),
    pytest.param("{kind: conv, out_channels: 96, kernel_size: 11, stride: 4}", (3, 227, 227), (96, 55, 55),
                 id="alexnet-conv1"),
]


@pytest.mark.parametrize("layer, input_shape, expected", SHAPES)
def test_output_shape_params_and_macs_match_torch(layer, input_shape, expected):
    report = check_layer(layer, input_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that even 'same' kernels pad asymmetrically
        model = assert_matches_torch(report, input_shape, expected)
    (conv,) = [m for m in model.modules() if type(m).__name__ == "Conv2d"]
    # documented: MACs = out_C * out_H * out_W * (in_C / groups) * kH * kW; weight has out_C*(in_C/groups)*kH*kW
    assert output_node(report).macs == expected[1] * expected[2] * conv.weight.numel()


@pytest.mark.parametrize("layer, input_shape, params, macs", [
    ("{kind: conv, out_channels: 4, kernel_size: 3}", (3, 12, 12), 4 * 3 * 9 + 4, 4 * 10 * 10 * 3 * 9),
    ("{kind: conv, out_channels: 6, kernel_size: 5, bias: false}", (3, 32, 32), 6 * 3 * 25, 6 * 28 * 28 * 3 * 25),
    ("{kind: conv, out_channels: 8, kernel_size: 3, groups: 2}", (4, 8, 8), 8 * 2 * 9 + 8, 8 * 6 * 6 * 2 * 9),
    ("{kind: conv, out_channels: 96, kernel_size: 11, stride: 4}", (3, 227, 227), 34944, 105415200),
])
def test_params_and_macs_follow_the_documented_formula(layer, input_shape, params, macs):
    node = output_node(check_layer(layer, input_shape))
    assert (node.params, node.macs) == (params, macs)


def test_receptive_field_grows_by_dilated_kernel_times_jump():
    report = check_layer("{kind: conv, out_channels: 4, kernel_size: 3, dilation: 2}", (3, 12, 12))
    assert output_node(report).receptive_field == 1 + 2 * (3 - 1)


def test_inexact_division_is_a_warning_with_the_arithmetic():
    report = check_layer("{kind: conv, out_channels: 4, kernel_size: 5, stride: 2}", (3, 12, 12))
    assert report.ok
    assert [(d.severity, d.message) for d in report.diagnostics] == [
        ("warning", "H and W do not divide evenly: (12 - 5 + 2*0)/2 + 1 = 4.5 -> 4; "
                    "PyTorch drops the last 1 pixel(s) of the input")]
    assert report.diagnostics[0].path == "layers[0]"


def test_non_square_geometry_warns_per_axis():
    report = check_layer("{kind: conv, out_channels: 4, kernel_size: [5, 4], stride: 2}", (3, 12, 12))
    assert [d.message for d in report.diagnostics] == [
        "H does not divide evenly: (12 - 5 + 2*0)/2 + 1 = 4.5 -> 4; PyTorch drops the last 1 pixel(s) of the input"]


def test_exact_division_gives_no_diagnostics():
    assert check_layer("{kind: conv, out_channels: 4, kernel_size: 3, stride: 2}", (3, 13, 13)).diagnostics == []


ERRORS = [
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 5}", (3, 4, 4), "kernel_size: 5",
                 "H and W collapse: expected the window (5) to fit the padded input (4 + 2*0 = 4); "
                 "got (4 - 5 + 2*0)/1 + 1 = 0",
                 "reduce kernel_size or add padding (padding=1 fits), or remove an earlier downsampling layer",
                 id="collapse"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 5, stride: 2}", (3, 4, 4), "kernel_size: 5",
                 "H and W collapse: expected the window (5) to fit the padded input (4 + 2*0 = 4); "
                 "got (4 - 5 + 2*0)/2 + 1 = 0.5 -> 0",
                 "reduce kernel_size or add padding (padding=1 fits), or remove an earlier downsampling layer",
                 id="collapse-strided"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: [3, 5]}", (3, 12, 2), "kernel_size: [3, 5]",
                 "W collapses: expected the window (5) to fit the padded input (2 + 2*0 = 2); "
                 "got (2 - 5 + 2*0)/1 + 1 = -2",
                 "reduce kernel_size or add padding (padding=2 fits), or remove an earlier downsampling layer",
                 id="collapse-width-only"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3, dilation: 3}", (3, 6, 6), "kernel_size: 3",
                 "H and W collapse: expected the window (7) to fit the padded input (6 + 2*0 = 6); "
                 "got (6 - 7 + 2*0)/1 + 1 = 0",
                 "reduce kernel_size or add padding (padding=1 fits), or remove an earlier downsampling layer",
                 id="collapse-dilated"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3, in_channels: 7}", (3, 8, 8), "in_channels: 7",
                 "in_channels: expected 3 (the previous layer's output); got 7",
                 "remove in_channels (it is inferred) or set it to 3", id="in-channels"),
    pytest.param("{kind: conv, out_channels: 6, kernel_size: 3, groups: 4}", (6, 8, 8), "groups: 4",
                 "groups: expected a divisor of in_channels (6); got 4",
                 "groups must divide in_channels (6) and out_channels (6): one of 1, 2, 3, 6", id="groups-in"),
    pytest.param("{kind: conv, out_channels: 6, kernel_size: 3, groups: 4}", (8, 8, 8), "groups: 4",
                 "groups: expected a divisor of out_channels (6); got 4",
                 "groups must divide in_channels (8) and out_channels (6): one of 1, 2", id="groups-out"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3, padding: same, stride: 2}", (3, 8, 8),
                 "padding: same",
                 "padding 'same': expected stride 1 (PyTorch refuses 'same' for strided convs); got stride 2",
                 "give padding as a number instead", id="same-with-stride"),
    pytest.param("{kind: conv, out_channels: 4, kernel_size: 3}", (10,), "{",
                 "conv expects a (C, H, W) feature map; got (10,)", "move this layer before `flatten`",
                 id="flat-input"),
]


@pytest.mark.parametrize("layer, input_shape, spot, message, hint", ERRORS)
def test_errors_are_pinned_and_located(layer, input_shape, spot, message, hint):
    report = check_layer(layer, input_shape)
    error = single_error(report)
    assert (error.message, error.hint) == (message, hint)
    assert (error.file, error.line, error.path) == ("probe.yaml", 4, "layers[0]")
    assert error.column == column_of(spec_text([layer], input_shape), 4, spot)


def test_torch_agrees_that_the_collapsing_conv_is_impossible():
    import torch

    with pytest.raises(RuntimeError):
        torch.nn.Conv2d(3, 4, 5)(torch.zeros(1, 3, 4, 4))


@pytest.mark.parametrize("field, value, expected", [
    ("kernel_size", "0", "kernel_size: expected greater than or equal to 1 or a valid list; got 0"),
    ("kernel_size", "[3, 3, 3]", "kernel_size: expected a valid integer or a list with at most 2 items; "
                                 "got [3, 3, 3]"),
    ("stride", "1.5", "stride: expected a valid integer or a valid list; got 1.5"),
    ("padding", "full", "padding: expected a valid integer or a valid list or 'same' or 'valid'; got 'full'"),
    ("bias", "no", "bias: expected a valid boolean; got 'no'"),
    ("out_channels", "-1", "out_channels: expected greater than or equal to 1; got -1"),
])
def test_field_type_errors(field, value, expected):
    fields = {"out_channels": "4", "kernel_size": "3", field: value}
    layer = "{kind: conv, " + ", ".join(f"{k}: {v}" for k, v in fields.items()) + "}"
    error = single_error(check_layer(layer, (3, 8, 8)))
    assert error.message == expected
    assert error.column == column_of(spec_text([layer], (3, 8, 8)), 4, f"{field}: {value}")


def test_padding_same_needs_no_arithmetic_and_keeps_any_size():
    for size in (1, 2, 7):
        node = output_node(check_layer("{kind: conv, out_channels: 2, kernel_size: 5, padding: same}", (1, size, 3)))
        assert node.out_shape == (2, size, 3)


def test_non_square_pairs_are_read_as_height_then_width():
    node = output_node(check_layer("{kind: conv, out_channels: 2, kernel_size: [5, 1]}", (1, 9, 9)))
    assert node.out_shape == (2, 5, 9)
    assert math.prod(node.out_shape) == 90
