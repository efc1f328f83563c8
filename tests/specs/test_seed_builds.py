"""Each spec's built module against the seed's own PyTorch code (bench/seed_nets.py's HAND_NETS).

Same parameter count, same output shape, and, with the built module's weights copied
into the seed's module, the same outputs on random input (eval mode: dropout off).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import netspec

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "specs"
sys.path.insert(0, str(REPO / "bench"))

from seed_nets import HAND_NETS, alexnet_seed_demo, load_built_weights  # noqa: E402

# Seed 004's demo lacks LRN, dropout and the fc ReLUs: counts against it, outputs against
# HAND_NETS["alexnet"], the same network with those layers where the paper has them.
SEED_AS_WRITTEN = {"alexnet": alexnet_seed_demo}


def test_every_spec_has_a_seed_network():
    assert {path.stem for path in SPECS.glob("*.yaml")} == set(HAND_NETS)


def numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", sorted(HAND_NETS))
def test_built_module_matches_the_seeds_code(name):
    report = netspec.check(SPECS / f"{name}.yaml")
    out_shape = (1, *report.graph.output_shape)
    torch.manual_seed(0)
    built = netspec.build(report).eval()
    # The seed's modules need no initialisation of their own: counting needs no real tensors,
    # and the twin gets every weight from `built`. (No forward on meta: its first call imports
    # torch's Python meta kernels, seconds of work.) Seed 004's demo's shapes are its printed
    # table, checked in test_seed_tables.py.
    with torch.device("meta"):
        as_written, twin = SEED_AS_WRITTEN.get(name, HAND_NETS[name])(), HAND_NETS[name]()
    assert numel(built) == numel(as_written) == numel(twin) == report.params
    twin = twin.to_empty(device="cpu").eval()
    with torch.no_grad():
        for parameter in twin.parameters():
            parameter.fill_(float("nan"))  # a weight the loader misses stays NaN
    x = torch.randn(1, *report.graph.input_shape)
    load_built_weights(twin, built, x)
    missed = [key for key, parameter in twin.named_parameters() if not torch.isfinite(parameter).all()]
    assert not missed, f"expected every weight copied from the built module; not copied: {missed}"
    with torch.no_grad():
        got, expected = built(x), twin(x)
    assert got.shape == expected.shape == out_shape
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-6), f"max difference {(got - expected).abs().max()}"
