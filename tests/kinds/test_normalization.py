"""batchnorm and lrn against torch: shapes, parameter counts (running statistics are buffers) and errors."""

from __future__ import annotations

import pytest
from kind_harness import assert_matches_torch, check_layer, column_of, output_node, single_error, spec_text

SHAPES = [
    pytest.param("batchnorm", (4, 5, 5), 2 * 4, "BatchNorm2d", id="batchnorm-2d"),
    pytest.param("{kind: batchnorm, num_features: 4, eps: 0.001, momentum: 0.01}", (4, 5, 5), 8, "BatchNorm2d",
                 id="batchnorm-fields"),
    pytest.param("{kind: batchnorm, affine: false}", (4, 5, 5), 0, "BatchNorm2d", id="batchnorm-no-affine"),
    pytest.param("batchnorm", (6,), 2 * 6, "BatchNorm1d", id="batchnorm-1d"),
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
    ("{kind: batchnorm, momentum: fast}", (3, 8, 8), "momentum: fast",
     "momentum: expected a valid integer or a valid number; got 'fast'", None),
])
def test_errors_are_pinned_and_located(layer, input_shape, spot, message, hint):
    error = single_error(check_layer(layer, input_shape))
    assert (error.message, error.hint) == (message, hint)
    assert (error.line, error.path) == (4, "layers[0]")
    assert error.column == column_of(spec_text([layer], input_shape), 4, spot)
