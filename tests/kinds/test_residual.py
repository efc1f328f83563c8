"""stochastic_depth and layer_scale against torchvision: the same random drops, the same layer_scale tensor,
and a ConvNeXt block (CNBlock) with its weights copied in."""

from __future__ import annotations

import pytest
import torch
from kind_harness import assert_matches_torch, check_layer, output_node, single_error
from test_merge import check_spec

import netspec


@pytest.mark.parametrize("layer, input_shape, params", [
    ("{stochastic_depth: 0.2}", (4, 3, 3), 0),
    ("{kind: stochastic_depth, p: 0, mode: batch}", (5,), 0),
    ("layer_scale", (6, 3, 2), 6),
    ("{layer_scale: 0.5}", (7,), 7),
])
def test_shape_is_preserved_and_params_are_one_scale_per_channel(layer, input_shape, params):
    report = check_layer(layer, input_shape)
    assert_matches_torch(report, input_shape, input_shape)
    assert (output_node(report).params, output_node(report).macs) == (params, 0)


@pytest.mark.parametrize("p, mode", [(0.3, "row"), (0.5, "batch"), (1.0, "row"), (0.0, "batch")])
def test_stochastic_depth_drops_exactly_what_torchvision_drops(p, mode):
    from torchvision.ops import StochasticDepth

    model = netspec.build(check_layer(f"{{kind: stochastic_depth, p: {p}, mode: {mode}}}", (3, 4, 4))).train()
    reference = StochasticDepth(p, mode).train()
    x = torch.randn(16, 3, 4, 4)
    torch.manual_seed(7)
    ours = model(x)
    torch.manual_seed(7)
    assert torch.equal(ours, reference(x))
    assert torch.equal(model.eval()(x), x)  # the identity in eval


def test_stochastic_depth_p_must_be_a_probability():
    error = single_error(check_layer("{stochastic_depth: 1.5}", (3, 4, 4)))
    assert error.message == "p: expected less than or equal to 1; got 1.5"


def test_layer_scale_is_stored_like_convnexts_and_initialised_to_init_value():
    from torchvision.models.convnext import CNBlock

    model = netspec.build(check_layer("{kind: layer_scale, name: scale, init_value: 0.25}", (6, 3, 3)))
    assert torch.equal(model.scale.layer_scale, torch.full((6, 1, 1), 0.25))
    reference = CNBlock(6, layer_scale=0.25, stochastic_depth_prob=0.0)
    assert reference.layer_scale.shape == model.scale.layer_scale.shape
    with torch.no_grad():
        model.scale.layer_scale.copy_(torch.randn(6, 1, 1))
    x = torch.randn(2, 6, 3, 3)
    assert torch.equal(model(x), model.scale.layer_scale * x)


CN_BLOCK = """\
- kind: add
  branches:
    block:
      - {kind: conv, out_channels: 8, kernel_size: 7, padding: 3, groups: 8}
      - {kind: layernorm, eps: 0.000001}
      - {kind: conv, out_channels: 32, kernel_size: 1}
      - gelu
      - {kind: conv, out_channels: 8, kernel_size: 1}
      - {layer_scale: 0.000001}
      - {stochastic_depth: 0.1}
    shortcut: []
"""


def test_a_convnext_block_equals_torchvisions_cnblock_with_its_weights():
    from torchvision.models.convnext import CNBlock

    report = check_spec(CN_BLOCK, (8, 6, 6))
    model = netspec.build(report).eval()
    reference = CNBlock(8, layer_scale=1e-6, stochastic_depth_prob=0.1).eval()
    assert report.params == sum(p.numel() for p in reference.parameters())
    theirs = reference.state_dict()
    theirs["layer_scale"] = theirs.pop("layer_scale")  # CNBlock holds it before its body; the spec after
    ours = model.state_dict()
    assert len(ours) == len(theirs)
    for (name, value), source in zip(ours.items(), theirs.values()):  # Linear weights become 1x1 conv weights
        value.copy_(source.reshape(value.shape))
    x = torch.randn(2, 8, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), rtol=1e-5, atol=1e-6)
