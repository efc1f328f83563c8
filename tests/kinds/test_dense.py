"""flatten, linear and dropout against torch: shapes, params, MACs (= in_features * out_features) and errors."""

from __future__ import annotations

import pytest
from kind_harness import assert_matches_torch, check_layer, check_layers, column_of, output_node, spec_text

import netspec

SHAPES = [
    pytest.param(["flatten"], (3, 4, 5), (60,), 0, 0, id="flatten"),
    pytest.param(["flatten"], (7,), (7,), 0, 0, id="flatten-flat"),
    pytest.param(["flatten", "{kind: linear, out_features: 10}"], (3, 4, 5), (10,), 60 * 10 + 10, 600,
                 id="flatten-linear"),
    pytest.param(["{linear: 10}"], (60,), (10,), 610, 600, id="linear-short-form"),
    pytest.param(["{kind: linear, out_features: 10, bias: false}"], (60,), (10,), 600, 600, id="linear-no-bias"),
    pytest.param(["{kind: linear, out_features: 4096, in_features: 9216}"], (9216,), (4096,), 9216 * 4096 + 4096,
                 9216 * 4096, id="alexnet-fc6"),
    pytest.param(["{kind: dropout, p: 0.3}"], (3, 4, 5), (3, 4, 5), 0, 0, id="dropout"),
    pytest.param(["{dropout: 0}", "{dropout: 1}"], (12,), (12,), 0, 0, id="dropout-bounds"),
    pytest.param(["dropout"], (12,), (12,), 0, 0, id="dropout-default"),
]


@pytest.mark.parametrize("layers, input_shape, expected, params, macs", SHAPES)
def test_shapes_params_and_macs_match_torch(layers, input_shape, expected, params, macs):
    report = check_layers(layers, input_shape)
    model = assert_matches_torch(report, input_shape, expected)
    assert (report.params, report.macs) == (params, macs)
    linears = [m for m in model.modules() if type(m).__name__ == "Linear"]
    assert report.macs == sum(m.weight.numel() for m in linears)  # documented: in_features * out_features


def test_linear_in_features_follow_the_input_size():
    # seed 001 hard-codes Linear(6400, ...): here the flatten size follows the input
    for size, features in ((5, 3 * 5 * 5), (8, 3 * 8 * 8)):
        report = check_layers(["flatten", "{linear: 2}"], (3, size, size))
        assert output_node(report).in_shapes == ((features,),)


@pytest.mark.parametrize("layers, input_shape, spot, message, hint", [
    pytest.param(["{kind: linear, out_features: 10}"], (16, 4, 4), "{",
                 "linear expects a flat (features,) input; got (16, 4, 4)", "insert `flatten` before this layer",
                 id="linear-on-feature-map"),
    pytest.param(["{kind: linear, out_features: 10, in_features: 50}"], (60,), "in_features: 50",
                 "in_features: expected 60 (the flattened input); got 50",
                 "remove in_features (it is inferred) or set it to 60", id="in-features"),
    pytest.param(["{kind: dropout, p: 1.5}"], (60,), "p: 1.5", "p: expected less than or equal to 1; got 1.5", None,
                 id="dropout-p-over-1"),
    pytest.param(["{kind: linear, out_features: 0}"], (60,), "out_features: 0",
                 "out_features: expected greater than or equal to 1; got 0", None, id="out-features-zero"),
    pytest.param(["{kind: linear, out_features: 10.0}"], (60,), "out_features: 10.0",
                 "out_features: expected a valid integer; got 10.0", "write 10 without a decimal point",
                 id="out-features-float"),
    pytest.param(["{kind: linear, out_feature: 10}"], (60,), "out_feature: 10",
                 "linear: unknown field 'out_feature'", "did you mean 'out_features'?", id="misspelled-field"),
])
def test_errors_are_pinned_and_located(layers, input_shape, spot, message, hint):
    report = check_layers(layers, input_shape)
    errors = [e for e in report.errors if e.code != "schema.missing_field"]
    assert len(errors) == 1, [e.message for e in report.errors]
    error = errors[0]
    assert (error.message, error.hint) == (message, hint)
    assert (error.file, error.line, error.path) == ("probe.yaml", 4, "layers[0]")
    expected_column = column_of(spec_text(layers, input_shape), 4, spot)
    if error.code == "schema.unknown_field":
        expected_column = column_of(spec_text(layers, input_shape), 4, spot.split(":")[0])  # the key itself
    assert error.column == expected_column


def test_misspelled_required_field_is_one_error_with_did_you_mean():
    report = check_layer("{kind: linear, out_feature: 10}", (60,))
    assert [(e.message, e.hint) for e in report.errors] == [("linear: unknown field 'out_feature'",
                                                             "did you mean 'out_features'?")]


def test_ten_to_the_twelve_parameter_linear_is_refused_before_any_allocation():
    report = check_layer("{kind: linear, out_features: 1000000}", (1000000,))
    budget = [e for e in report.errors if e.code == "budget.params"]
    assert [e.message for e in budget] == [
        "expected at most 2,000,000,000 parameters; got 1,000,001,000,000 (layers[0] alone has 1,000,001,000,000)"]
    assert budget[0].path == "layers[0]"
    with pytest.raises(netspec.SpecError):
        netspec.build(report)
