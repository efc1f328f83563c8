"""batchnorm, layernorm, groupnorm and lrn against torch: shapes, parameter counts (running statistics are
buffers), outputs with copied weights and errors."""

from __future__ import annotations

import pytest
from kind_harness import assert_matches_torch, check_layer, column_of, output_node, single_error, spec_text

SHAPES = [
    pytest.param("batchnorm", (4, 5, 5), 2 * 4, "BatchNorm2d", id="batchnorm-2d"),
    pytest.param("{kind: batchnorm, num_features: 4, eps: 0.001, momentum: 0.01}", (4, 5, 5), 8, "BatchNorm2d",
                 id="batchnorm-fields"),
    pytest.param("{kind: batchnorm, affine: false}", (4, 5, 5), 0, "BatchNorm2d", id="batchnorm-no-affine"),
    pytest.param("batchnorm", (6,), 2 * 6, "BatchNorm1d", id="batchnorm-1d"),
    pytest.param("layernorm", (6, 4, 5), 2 * 6, "LayerNorm2d", id="layernorm-channels"),
    pytest.param("{kind: layernorm, eps: 0.000001, bias: false}", (6, 4, 5), 6, "LayerNorm2d",
                 id="layernorm-no-bias"),
    pytest.param("{kind: layernorm, elementwise_affine: false}", (6, 4, 5), 0, "LayerNorm2d",
                 id="layernorm-no-affine"),
    pytest.param("layernorm", (10,), 2 * 10, "LayerNorm", id="layernorm-features"),
    pytest.param("{groupnorm: 2}", (6, 4, 4), 2 * 6, "GroupNorm", id="groupnorm"),
    pytest.param("{kind: groupnorm, num_groups: 3, affine: false, num_channels: 6}", (6,), 0, "GroupNorm",
                 id="groupnorm-flat-no-affine"),
    pytest.param("{lrn: 5}", (96, 27, 27), 0, "LocalResponseNorm", id="lrn-alexnet"),
    pytest.param("{kind: lrn, size: 3, alpha: 0.001, beta: 0.5, k: 1}", (8, 6, 4), 0, "LocalResponseNorm",
                 id="lrn-fields"),
]


@pytest.mark.parametrize("layer, input_shape, params, module", SHAPES)
def test_shape_preserved_and_params_count_learnable_weights_only(layer, input_shape, params, module):
    report = check_layer(layer, input_shape)
    model = assert_matches_torch(report, input_shape, input_shape)
    node = output_node(report)
    assert (node.params, node.macs) == (params, 0)
    assert module in {type(m).__name__ for m in model.modules()}


def test_fields_reach_the_torch_module():
    report = check_layer("{kind: lrn, size: 3, alpha: 0.001, beta: 0.5, k: 2}", (8, 6, 4))
    import netspec

    (lrn,) = [m for m in netspec.build(report).modules() if type(m).__name__ == "LocalResponseNorm"]
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.k) == (3, 0.001, 0.5, 2)


def test_lrn_size_larger_than_channels_is_a_warning():
    report = check_layer("{kind: lrn, size: 96}", (3, 8, 8))
    assert report.ok
    (warning,) = report.diagnostics
    assert (warning.severity, warning.message, warning.hint) == (
        "warning", "size: expected at most the number of channels (3); got 96",
        "AlexNet normalises over 5 neighbouring channels: size 5")
    assert warning.column == column_of(spec_text(["{kind: lrn, size: 96}"], (3, 8, 8)), 4, "size: 96")


@pytest.mark.parametrize("layer, input_shape, spot, message, hint", [
    ("{kind: batchnorm, num_features: 4}", (3, 8, 8), "num_features: 4",
     "num_features: expected 3 (the input's channels); got 4", "remove num_features (it is inferred)"),
    ("{lrn: 5}", (10,), "{", "lrn expects a (C, H, W) feature map; got (10,)", None),
    ("{kind: lrn}", (3, 8, 8), "{", "lrn: missing required field 'size'", "add `size: ...` (see `netspec schema`)"),
    ("{kind: groupnorm, num_groups: 4}", (6, 8, 8), "num_groups: 4",
     "num_groups: expected a divisor of the input's 6 channels; got 4", "one of 1, 2, 3, 6"),
    ("{kind: groupnorm, num_groups: 1, num_channels: 8}", (6, 8, 8), "num_channels: 8",
     "num_channels: expected 6 (the input's channels); got 8", "remove num_channels (it is inferred)"),
    ("{kind: layernorm, eps: tiny}", (6, 8, 8), "eps: tiny", "eps: expected a valid integer or a valid number; got 'tiny'",
     None),
    ("{kind: batchnorm, momentum: fast}", (3, 8, 8), "momentum: fast",
     "momentum: expected a valid integer or a valid number; got 'fast'", None),
])
def test_errors_are_pinned_and_located(layer, input_shape, spot, message, hint):
    error = single_error(check_layer(layer, input_shape))
    assert (error.message, error.hint) == (message, hint)
    assert (error.line, error.path) == (4, "layers[0]")
    assert error.column == column_of(spec_text([layer], input_shape), 4, spot)


def _randomised(module):
    import torch

    with torch.no_grad():
        for parameter in module.parameters():
            parameter.normal_()
    return module


def test_layernorm_over_channels_equals_convnexts_layernorm2d_with_copied_weights():
    import torch
    from torchvision.models.convnext import LayerNorm2d

    import netspec

    model = _randomised(netspec.build(check_layer("{kind: layernorm, name: norm, eps: 0.000001}", (6, 4, 5))))
    reference = LayerNorm2d(6, eps=1e-6)
    reference.load_state_dict(model.norm.state_dict())  # same names and shapes: weight (6,), bias (6,)
    x = torch.randn(2, 6, 4, 5) * 3 + 1
    assert torch.equal(model(x), reference(x))


def test_layernorm_on_features_and_groupnorm_equal_torchs():
    import torch
    from torch import nn

    import netspec

    for layer, shape, reference in [("{kind: layernorm, name: norm}", (10,), nn.LayerNorm(10)),
                                    ("{kind: groupnorm, name: norm, num_groups: 3, eps: 0.001}", (6, 4, 4),
                                     nn.GroupNorm(3, 6, eps=1e-3))]:
        model = _randomised(netspec.build(check_layer(layer, shape)))
        reference.load_state_dict(model.norm.state_dict())
        x = torch.randn(2, *shape)
        assert torch.equal(model(x), reference(x)), layer
