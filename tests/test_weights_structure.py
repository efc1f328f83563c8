"""netspec.weights.match_by_structure: pairing a foreign state dict with a spec's by order and shape."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import torch
from torch import nn

from netspec.weights import StructureMismatch, load_by_structure, match_by_structure


def spec_like() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8, 4))


class ForeignNames(nn.Module):
    """The same network under other names, as torchvision writes it."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
        self.classifier = nn.Linear(8, 4)


class ScaleFirst(nn.Module):
    """Like ConvNeXt's CNBlock: a parameter of the container, registered before its children's."""

    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 1))
        self.layer_scale = nn.Parameter(torch.rand(4, 1, 1))


class ScaleLast(nn.Module):
    """The same block as a spec writes it: the scale is a layer after the convolutions."""

    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(4, 4, 3, padding=1)
        self.pw = nn.Linear(4, 4)  # a Linear where the other has a 1x1 conv: (4, 4) against (4, 4, 1, 1)
        self.scale = nn.Parameter(torch.rand(4))


def test_same_structure_pairs_in_order_whatever_the_names():
    target, source = spec_like().state_dict(), ForeignNames().state_dict()
    pairs = match_by_structure(target, source)
    assert pairs == dict(zip(target, source))
    assert pairs["1.running_var"] == "features.1.running_var" and pairs["4.bias"] == "classifier.bias"


def test_load_copies_every_tensor_and_reshapes_size_one_dimensions():
    target, source = ScaleLast(), ScaleFirst()
    pairs = load_by_structure(target, source.state_dict())
    assert pairs == {"dw.weight": "block.0.weight", "dw.bias": "block.0.bias", "pw.weight": "block.1.weight",
                     "pw.bias": "block.1.bias", "scale": "layer_scale"}
    assert torch.equal(target.pw.weight, source.block[1].weight.reshape(4, 4))
    assert torch.equal(target.scale, source.layer_scale.flatten())


def test_unpaired_tensors_are_listed_or_left_out():
    target = spec_like()
    source = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8, 1000))
    with pytest.raises(StructureMismatch) as caught:
        match_by_structure(target.state_dict(), source.state_dict())
    assert caught.value.unpaired_target == ["4.weight (4, 8)", "4.bias (4,)"]
    assert caught.value.unpaired_source == ["4.weight (1000, 8)", "4.bias (1000,)"]
    assert "2 of the spec's tensors unpaired (4.weight (4, 8), 4.bias (4,))" in str(caught.value)
    pairs = match_by_structure(target.state_dict(), source.state_dict(), strict=False)
    assert set(pairs) == set(target.state_dict()) - {"4.weight", "4.bias"}


def test_an_extra_source_tensor_is_reported():
    target = nn.Sequential(nn.Conv2d(3, 8, 3))
    source = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(8, 8, 3))
    with pytest.raises(StructureMismatch) as caught:
        match_by_structure(target.state_dict(), source.state_dict())
    assert caught.value.unpaired_target == []
    assert caught.value.unpaired_source == ["1.weight (8, 8, 3, 3)", "1.bias (8,)"]


class ScaledBlocks(nn.Module):
    """Two ScaleFirst blocks in a row: by order alone, block 1's scale would pair with block 0's."""

    def __init__(self):
        super().__init__()
        self.stage = nn.Sequential(ScaleFirst(), ScaleFirst())


def test_a_container_parameter_registered_first_pairs_with_its_own_block():
    target = nn.Sequential(ScaleLast(), ScaleLast())
    pairs = match_by_structure(target.state_dict(), ScaledBlocks().state_dict())
    assert pairs["0.scale"] == "stage.0.layer_scale" and pairs["1.scale"] == "stage.1.layer_scale"
    assert pairs["1.dw.weight"] == "stage.1.block.0.weight"
    # netspec's layer_scale kind names its tensor as torchvision does
    same_role = {key.replace("scale", "layer_scale"): value for key, value in target.state_dict().items()}
    pairs = match_by_structure(same_role, ScaledBlocks().state_dict())
    assert pairs["0.layer_scale"] == "stage.0.layer_scale" and pairs["1.layer_scale"] == "stage.1.layer_scale"


LAYERS = st.sampled_from(["conv", "bn", "relu"])


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(LAYERS, st.integers(1, 4)), min_size=1, max_size=6), st.integers(0, 3))
def test_any_regrouping_of_the_same_layers_pairs_whole_and_computes_the_same(layers, group):
    """A network and the same layers nested in other containers under other names: all tensors pair, outputs agree."""
    modules, channels = [], 3
    for kind, width in layers:
        if kind == "conv":
            modules.append(nn.Conv2d(channels, width, 3, padding=1))
            channels = width
        else:
            modules.append(nn.BatchNorm2d(channels) if kind == "bn" else nn.ReLU())
    flat = nn.Sequential(*modules)
    cut = min(group, len(modules))
    nested = nn.Sequential()
    nested.add_module("features", nn.Sequential(*[type(m)(*_args(m)) for m in modules[:cut]]))
    nested.add_module("head", nn.Sequential(*[type(m)(*_args(m)) for m in modules[cut:]]))
    for module in flat.modules():  # distinct running statistics, so a wrong pairing shows
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    pairs = load_by_structure(nested, flat.state_dict())
    assert len(pairs) == len(nested.state_dict()) == len(flat.state_dict())
    x = torch.randn(2, 3, 5, 5)
    assert torch.equal(nested.eval()(x), flat.eval()(x))


def _args(module: nn.Module) -> tuple:
    if isinstance(module, nn.Conv2d):
        return module.in_channels, module.out_channels, module.kernel_size, 1, module.padding
    return (module.num_features,) if isinstance(module, nn.BatchNorm2d) else ()
