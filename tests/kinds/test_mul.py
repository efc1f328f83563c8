"""mul: broadcasting products against torch, torchvision's squeeze-excitation with copied weights, and
errors that name the input that fails to broadcast."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from kind_harness import assert_matches_torch, output_node, run_in_torch, single_error
from test_merge import check_spec

import netspec

SE_BLOCK = """\
- kind: mul
  branches:
    input: []
    gate: [{adaptive_avgpool: 1}, {kind: conv, name: fc1, out_channels: 2, kernel_size: 1}, relu,
           {kind: conv, name: fc2, out_channels: 8, kernel_size: 1}, hardsigmoid]
"""


def test_squeeze_excitation_equals_torchvisions_with_the_same_weights():
    from torchvision.ops import SqueezeExcitation

    report = check_spec(SE_BLOCK, (8, 6, 5))
    model = assert_matches_torch(report, (8, 6, 5), (8, 6, 5))
    assert (output_node(report).params, output_node(report).macs) == (0, 0)
    reference = SqueezeExcitation(8, 2, scale_activation=torch.nn.Hardsigmoid)
    ours = model.get_submodule("0.gate")
    for name in ("fc1", "fc2"):
        getattr(reference, name).load_state_dict(getattr(ours, name).state_dict())
    x = torch.randn(3, 8, 6, 5)
    assert torch.equal(model(x), reference(x))
    assert report.params == sum(p.numel() for p in reference.parameters())


def test_inputs_by_name_multiply_a_spatial_attention_map():
    gated = check_spec("""\
        - {kind: conv, name: features, out_channels: 4, kernel_size: 3, padding: 1}
        - {kind: conv, out_channels: 1, kernel_size: 1}
        - {kind: sigmoid, name: attention}
        - {kind: mul, inputs: [features, attention]}
        """, (3, 5, 5))
    model = assert_matches_torch(gated, (3, 5, 5), (4, 5, 5))
    x = torch.randn(2, 3, 5, 5)
    features = model.get_submodule("features")(x)
    attention = torch.sigmoid(model.get_submodule("1")(features))
    assert torch.equal(model(x), features * attention)


@pytest.mark.parametrize("body, input_shape, message, hint", [
    pytest.param(SE_BLOCK.replace("out_channels: 8", "out_channels: 4"), (8, 6, 6),
                 "mul: expected every input to broadcast to (8, 6, 6) (each size equal or 1); branch 'gate' outputs "
                 "(4, 1, 1), whose C is 4", "end branch 'gate' with 8 channels (a gate's last 1x1 conv: "
                 "out_channels 8)", id="gate-channels"),
    pytest.param(SE_BLOCK.replace("{adaptive_avgpool: 1}", "{adaptive_avgpool: 2}"), (8, 6, 6),
                 "mul: expected every input to broadcast to (8, 6, 6) (each size equal or 1); branch 'gate' outputs "
                 "(8, 2, 2), whose H is 2", "pool branch 'gate' to 1 x 1 (`adaptive_avgpool: 1`) or give it the "
                 "same H x W as the other inputs", id="gate-not-pooled"),
    pytest.param("- {kind: mul, branches: [[], [global_avgpool]]}\n", (8, 6, 6),
                 "mul: expected inputs of one rank; got (8, 6, 6), (8,)",
                 "a gate for a (C, H, W) map is (C, 1, 1): pool it with `adaptive_avgpool: 1`, not global_avgpool",
                 id="gate-flattened"),
    pytest.param("- {kind: mul, branches: [[flatten, {linear: 3}], [flatten, {linear: 5}]]}\n", (2, 2, 2),
                 "mul: expected every input to broadcast to (5,) (each size equal or 1); branch 0 outputs (3,), "
                 "whose features is 3", "end branch 0 with 5 channels (a gate's last 1x1 conv: out_channels 5)",
                 id="flat"),
])
def test_an_input_that_fails_to_broadcast_is_named(body, input_shape, message, hint):
    error = single_error(check_spec(body, input_shape))
    assert (error.code, error.message, error.hint) == ("shape.mul", message, hint)
    assert (error.line, error.path) == (4, "layers[0]")


SIZES = st.integers(1, 4)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(map_shape=st.tuples(SIZES, SIZES, SIZES), gate_shape=st.tuples(SIZES, SIZES, SIZES))
def test_the_checker_accepts_exactly_what_torch_broadcasts(map_shape, gate_shape):
    c, h, w = gate_shape
    report = check_spec(f"""\
        - kind: mul
          branches:
            - [{{kind: conv, out_channels: {map_shape[0]}, kernel_size: 1}}]
            - [{{kind: adaptive_avgpool, output_size: [{h}, {w}]}}, {{kind: conv, out_channels: {c}, kernel_size: 1}}]
        """, (2, *map_shape[1:]))
    try:
        expected = tuple(torch.broadcast_shapes(map_shape, gate_shape))
    except RuntimeError:
        assert single_error(report).code == "shape.mul"
        return
    assert_matches_torch(report, (2, *map_shape[1:]), expected)
    _, real_shape, _ = run_in_torch(report, (2, *map_shape[1:]))
    assert real_shape == expected


def test_a_frozen_mul_freezes_its_gate():
    report = check_spec(SE_BLOCK.replace("kind: mul", "kind: mul\n  trainable: false"), (8, 4, 4))
    assert not any(p.requires_grad for p in netspec.build(report).parameters())
