"""channel_slice and channel_shuffle against torch: x[:, a:b], torchvision's channel_shuffle, and a ShuffleNetV2
unit with torchvision's weights copied in."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from kind_harness import assert_matches_torch, check_layer, column_of, output_node, single_error, spec_text
from test_merge import check_spec

import netspec


@settings(max_examples=20, deadline=None, derandomize=True)
@given(channels=st.integers(1, 9), data=st.data())
def test_channel_slice_is_pythons_slice_of_the_channels(channels, data):
    start = data.draw(st.integers(0, channels - 1))
    stop = data.draw(st.integers(start + 1, channels))
    shape = data.draw(st.sampled_from([(channels, 3, 2), (channels,)]))
    report = check_layer(f"{{channel_slice: [{start}, {stop}]}}", shape)
    model = assert_matches_torch(report, shape, (stop - start, *shape[1:]))
    assert (output_node(report).params, output_node(report).macs) == (0, 0)
    x = torch.randn(2, *shape)
    assert torch.equal(model(x), x[:, start:stop])


@pytest.mark.parametrize("groups, channels", [(2, 8), (3, 6), (1, 5), (4, 4)])
def test_channel_shuffle_equals_torchvisions(groups, channels):
    from torchvision.models.shufflenetv2 import channel_shuffle

    report = check_layer(f"{{channel_shuffle: {groups}}}", (channels, 3, 4))
    model = assert_matches_torch(report, (channels, 3, 4), (channels, 3, 4))
    x = torch.randn(2, channels, 3, 4)
    assert torch.equal(model(x), channel_shuffle(x, groups))


SHUFFLE_UNIT = """\
- kind: concat
  branches:
    - [{channel_slice: [0, 4]}]
    - [{channel_slice: [4, 8]},
       {kind: conv, out_channels: 4, kernel_size: 1, bias: false}, batchnorm, relu,
       {kind: conv, out_channels: 4, kernel_size: 3, padding: 1, groups: 4, bias: false}, batchnorm,
       {kind: conv, out_channels: 4, kernel_size: 1, bias: false}, batchnorm, relu]
- {channel_shuffle: 2}
"""


def test_a_shufflenet_v2_unit_equals_torchvisions_with_its_weights():
    from torchvision.models.shufflenetv2 import InvertedResidual

    report = check_spec(SHUFFLE_UNIT, (8, 5, 5))
    model = netspec.build(report).eval()
    reference = InvertedResidual(8, 8, stride=1).eval()
    assert report.params == sum(p.numel() for p in reference.parameters())
    with torch.no_grad():  # weights and BatchNorm statistics away from their initial values
        for value in model.state_dict().values():
            if value.is_floating_point():
                value.copy_(torch.rand_like(value) + 0.5)
    reference.load_state_dict(dict(zip(reference.state_dict(), model.state_dict().values(), strict=True)))
    x = torch.randn(2, 8, 5, 5)
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))


@pytest.mark.parametrize("layer, input_shape, spot, message, hint", [
    ("{channel_slice: [2, 9]}", (8, 4, 4), "[2, 9]",
     "channels: expected [start, stop] with start < stop <= 8 (the input's channels); got [2, 9]",
     "e.g. [0, 4] for the first half"),
    ("{channel_slice: [3, 3]}", (8, 4, 4), "[3, 3]",
     "channels: expected [start, stop] with start < stop <= 8 (the input's channels); got [3, 3]",
     "e.g. [0, 4] for the first half"),
    ("{channel_slice: [0, 1, 2]}", (8, 4, 4), "[0, 1, 2]", "channels: expected a list with at most 2 items; got [0, 1, 2]",
     None),
    ("{channel_shuffle: 3}", (8, 4, 4), "3", "groups: expected a divisor of the input's 8 channels; got 3",
     "one of 1, 2, 4, 8"),
    ("{channel_shuffle: 2}", (8,), "{", "channel_shuffle expects a (C, H, W) feature map; got (8,)",
     "move this layer before `flatten`"),
])
def test_errors_are_pinned_and_located(layer, input_shape, spot, message, hint):
    error = single_error(check_layer(layer, input_shape))
    assert (error.message, error.hint) == (message, hint)
    assert error.column == column_of(spec_text([layer], input_shape), 4, spot)
