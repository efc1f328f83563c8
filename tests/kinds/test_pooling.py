"""maxpool, avgpool, adaptive_avgpool, global_avgpool against torch, including ceil_mode's last-window rule."""

from __future__ import annotations

import pytest
from kind_harness import (assert_matches_torch, check_layer, check_layers, column_of, output_node, single_error,
                          spec_text)

SHAPES = [
    pytest.param("{kind: maxpool, kernel_size: 2}", (3, 12, 12), (3, 6, 6), id="max-stride-defaults-to-kernel"),
    pytest.param("{maxpool: 2}", (3, 12, 12), (3, 6, 6), id="max-short-form"),
    pytest.param("{kind: maxpool, kernel_size: 3, stride: 2}", (3, 12, 12), (3, 5, 5), id="max-floored"),
    pytest.param("{kind: maxpool, kernel_size: 3, stride: 2, ceil_mode: true}", (3, 12, 12), (3, 6, 6),
                 id="max-ceil"),
    # ceil would give 4, but the 4th window would start at 6 >= 5 + 1 (in the right padding): PyTorch drops it
    pytest.param("{kind: maxpool, kernel_size: 2, stride: 2, padding: 1, ceil_mode: true}", (3, 5, 5), (3, 3, 3),
                 id="max-ceil-last-window-dropped"),
    pytest.param("{kind: maxpool, kernel_size: 3, ceil_mode: true}", (3, 7, 7), (3, 3, 3),
                 id="max-ceil-last-window-kept"),
    # a window larger than the input still fits once when ceil_mode rounds up (stride 5)
    pytest.param("{kind: maxpool, kernel_size: 5, ceil_mode: true}", (3, 4, 4), (3, 1, 1),
                 id="max-ceil-window-larger-than-input"),
    pytest.param("{kind: maxpool, kernel_size: 3, stride: 1, padding: 1}", (3, 12, 12), (3, 12, 12),
                 id="max-same-size"),
    pytest.param("{kind: maxpool, kernel_size: 3, dilation: 2}", (3, 12, 12), (3, 3, 3), id="max-dilated"),
    pytest.param("{kind: maxpool, kernel_size: [2, 1]}", (3, 12, 10), (3, 6, 10), id="max-non-square-kernel"),
    pytest.param("{kind: maxpool, kernel_size: 3, stride: [2, 1], padding: [1, 0]}", (3, 9, 9), (3, 5, 7),
                 id="max-non-square-stride-padding"),
    pytest.param("{kind: maxpool, kernel_size: 3, stride: 2}", (96, 55, 55), (96, 27, 27), id="alexnet-pool1"),
    pytest.param("{kind: avgpool, kernel_size: 2}", (3, 12, 12), (3, 6, 6), id="avg"),
    pytest.param("{avgpool: 3}", (3, 10, 10), (3, 3, 3), id="avg-short-form-floored"),
    pytest.param("{kind: avgpool, kernel_size: 3, stride: 1, padding: 1}", (3, 12, 12), (3, 12, 12),
                 id="avg-inception-branch"),
    pytest.param("{kind: avgpool, kernel_size: 2, stride: 2, padding: 1, ceil_mode: true}", (3, 5, 5), (3, 3, 3),
                 id="avg-ceil-last-window-dropped"),
    pytest.param("{kind: avgpool, kernel_size: 3, stride: 2, padding: 1, count_include_pad: false}", (3, 8, 9),
                 (3, 4, 5), id="avg-non-square-input"),
    pytest.param("{kind: adaptive_avgpool, output_size: [2, 3]}", (3, 12, 12), (3, 2, 3), id="adaptive-pair"),
    pytest.param("{adaptive_avgpool: 1}", (3, 7, 5), (3, 1, 1), id="adaptive-short-form"),
    pytest.param("{kind: adaptive_avgpool, output_size: 6}", (256, 13, 13), (256, 6, 6), id="adaptive-alexnet"),
    pytest.param("global_avgpool", (3, 7, 5), (3,), id="global"),
    pytest.param("global_maxpool", (3, 7, 5), (3,), id="global-max"),
]


@pytest.mark.parametrize("layer, input_shape, expected", SHAPES)
def test_output_shape_matches_torch_and_pools_have_no_params_or_macs(layer, input_shape, expected):
    report = check_layer(layer, input_shape)
    assert_matches_torch(report, input_shape, expected)
    node = output_node(report)
    assert (node.params, node.macs) == (0, 0)


def test_floored_pool_warns_and_ceil_mode_does_not():
    floored = check_layer("{kind: maxpool, kernel_size: 3, stride: 2}", (3, 12, 12))
    assert floored.ok
    assert [d.message for d in floored.diagnostics] == [
        "H and W do not divide evenly: (12 - 3 + 2*0)/2 + 1 = 5.5 -> 5; PyTorch drops the last 1 pixel(s) of the input"]
    assert {d.severity for d in floored.diagnostics} == {"warning"}
    ceiled = check_layer("{kind: maxpool, kernel_size: 3, stride: 2, ceil_mode: true}", (3, 12, 12))
    assert ceiled.diagnostics == []


def test_receptive_field_and_jump_through_pool_then_conv():
    report = check_layers(["{maxpool: 2}", "{kind: conv, out_channels: 1, kernel_size: 3}"], (1, 16, 16))
    pool, conv = report.graph.nodes[1:]
    assert pool.receptive_field == 2
    assert conv.receptive_field == 2 + (3 - 1) * 2  # the conv's steps are 2 input pixels apart


ERRORS = [
    pytest.param("{kind: maxpool, kernel_size: 2, padding: 2}", (3, 12, 12), "padding: 2",
                 "padding: expected at most half the kernel (2 // 2 = 1); got 2",
                 "PyTorch refuses larger pool padding", id="max-padding-over-half"),
    pytest.param("{kind: avgpool, kernel_size: 3, padding: [0, 2]}", (3, 12, 12), "padding: [0, 2]",
                 "padding: expected at most half the kernel (3 // 2 = 1); got 2",
                 "PyTorch refuses larger pool padding", id="avg-padding-over-half-width"),
    pytest.param("{kind: maxpool, kernel_size: 3, dilation: 2, padding: 3}", (3, 12, 12), "padding: 3",
                 "padding: expected at most half the kernel (3 // 2 = 1); got 3",
                 "PyTorch refuses larger pool padding", id="max-padding-over-half-dilated"),
    pytest.param("{kind: maxpool, kernel_size: 5, stride: 1, ceil_mode: true}", (3, 4, 4), "kernel_size: 5",
                 "H and W collapse: expected the window (5) to fit the padded input (4 + 2*0 = 4); "
                 "got (4 - 5 + 2*0)/1 + 1 = 0",
                 "reduce kernel_size or add padding (padding=1 fits), or remove an earlier downsampling layer",
                 id="max-collapse-even-with-ceil"),
    pytest.param("{kind: avgpool, kernel_size: 5}", (3, 4, 4), "kernel_size: 5",
                 "H and W collapse: expected the window (5) to fit the padded input (4 + 2*0 = 4); "
                 "got (4 - 5 + 2*0)/5 + 1 = 0.8 -> 0",
                 "reduce kernel_size or add padding (padding=1 fits), or remove an earlier downsampling layer",
                 id="avg-collapse"),
    pytest.param("{maxpool: 2}", (10,), "{",
                 "maxpool expects a (C, H, W) feature map; got (10,)", "move this layer before `flatten`",
                 id="max-flat-input"),
    pytest.param("global_avgpool", (10,), "global_avgpool",
                 "global_avgpool expects a (C, H, W) feature map; got (10,)", "move this layer before `flatten`",
                 id="global-on-flat"),
    pytest.param("global_maxpool", (10,), "global_maxpool",
                 "global_maxpool expects a (C, H, W) feature map; got (10,)", "move this layer before `flatten`",
                 id="global-flat-input"),
]


@pytest.mark.parametrize("layer, input_shape, spot, message, hint", ERRORS)
def test_errors_are_pinned_and_located(layer, input_shape, spot, message, hint):
    error = single_error(check_layer(layer, input_shape))
    assert (error.message, error.hint) == (message, hint)
    assert (error.file, error.line, error.path) == ("probe.yaml", 4, "layers[0]")
    assert error.column == column_of(spec_text([layer], input_shape), 4, spot)


@pytest.mark.parametrize("module, size", [
    ("MaxPool2d(2, padding=2)", 12),
    ("MaxPool2d(3, dilation=2, padding=3)", 12),
    ("MaxPool2d(5, stride=1, ceil_mode=True)", 4),
    ("AvgPool2d(5)", 4),
])
def test_torch_refuses_what_the_checker_refuses(module, size):
    import torch
    from torch import nn

    with pytest.raises(RuntimeError):
        eval(f"nn.{module}", {"nn": nn})(torch.zeros(1, 1, size, size))


def test_ceil_mode_yes_is_not_silently_true():
    error = single_error(check_layer("{kind: maxpool, kernel_size: 2, ceil_mode: yes}", (3, 8, 8)))
    assert error.message == "ceil_mode: expected a valid boolean; got 'yes'"
    assert error.hint == "YAML 1.1 would read 'yes' as a boolean; netspec does not guess: write true or false"


def test_global_maxpool_takes_the_maximum_of_each_channel():
    import torch

    import netspec

    model = netspec.build(check_layer("global_maxpool", (3, 7, 5)))
    x = torch.randn(2, 3, 7, 5)
    assert torch.equal(model(x), x.amax(dim=(2, 3)))
