"""Element-wise kinds: shape preserved, no parameters, no MACs, each checked against torch."""

from __future__ import annotations

import pytest
from kind_harness import assert_matches_torch, check_layer, column_of, output_node, single_error, spec_text

import netspec
from netspec.kinds import REGISTRY
from netspec.kinds.activations import KINDS

LAYERS = [
    "relu",
    "relu6",
    "hardswish",
    "hardsigmoid",
    "mish",
    "{kind: leaky_relu, negative_slope: 0.2}",
    "{leaky_relu: 0.1}",
    "tanh",
    "sigmoid",
    "gelu",
    "{kind: gelu, approximate: tanh}",
    "silu",
    "softmax",
    "{softmax: -1}",
    "log_softmax",
    "{kind: log_softmax, dim: 1}",
    "identity",
]


@pytest.mark.parametrize("input_shape", [(3, 5, 7), (10,)], ids=["feature-map", "flat"])
@pytest.mark.parametrize("layer", LAYERS)
def test_shape_is_preserved_with_no_params_or_macs(layer, input_shape):
    report = check_layer(layer, input_shape)
    assert_matches_torch(report, input_shape, input_shape)
    node = output_node(report)
    assert (node.params, node.macs, node.receptive_field) == (0, 0, 1)


def test_every_activation_kind_is_in_the_table():
    covered = {output_node(check_layer(layer, (10,))).kind for layer in LAYERS}
    assert covered == {kind.name for kind in KINDS}


def test_fields_reach_the_torch_module():
    import torch

    report = check_layer("{kind: leaky_relu, negative_slope: 0.2}", (4,))
    model = netspec.build(report)
    assert model(torch.tensor([[-10.0, 0.0, 1.0, 2.0]])).tolist() == [[-2.0, 0.0, 1.0, 2.0]]


@pytest.mark.parametrize("layer, input_shape, spot, message", [
    ("{kind: softmax, dim: 4}", (3, 5, 7), "dim: 4",
     "dim: expected a dimension of the batched input (N, *(3, 5, 7)); got 4"),
    ("{kind: log_softmax, dim: 2}", (10,), "dim: 2",
     "dim: expected a dimension of the batched input (N, *(10,)); got 2"),
    ("{softmax: -3}", (10,), "-3", "dim: expected a dimension of the batched input (N, *(10,)); got -3"),
])
def test_softmax_dim_out_of_range(layer, input_shape, spot, message):
    error = single_error(check_layer(layer, input_shape))
    assert (error.message, error.hint) == (message, "dim 1 is the channel/feature dimension")
    assert (error.line, error.column) == (4, column_of(spec_text([layer], input_shape), 4, spot))


@pytest.mark.parametrize("layer, message, hint", [
    ("{kind: leaky_relu, negative_slope: off}", "negative_slope: expected a valid integer or a valid number; got 'off'",
     None),
    ("{kind: gelu, approximate: off}", "approximate: expected 'none' or 'tanh'; got 'off'", None),
    ("{kind: relu, inplace: true}", "relu: unknown field 'inplace'", "known fields: name, from, trainable, kind"),
    ("{kind: tanh, nmae: t}", "tanh: unknown field 'nmae'", "did you mean 'name'?"),
])
def test_field_errors(layer, message, hint):
    error = single_error(check_layer(layer, (4,)))
    assert (error.message, error.hint) == (message, hint)


def test_shorthand_is_declared_only_where_it_fills_a_field():
    for kind in KINDS:
        if kind.shorthand is not None:
            assert kind.shorthand in REGISTRY[kind.name].schema.model_fields
