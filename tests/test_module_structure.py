"""The built module's tree is its call tree (issue 13, item 1), seen by the tools people point at it.

torchinfo counts exactly the checker's parameters and MACs, a forward hook on every block
instance and merge fires once per forward, and torchvision's feature extraction taps a block by
the name the spec gives it. State dict names are the IR's module names (test_properties.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torchinfo
from torch import nn
from torchvision.models.feature_extraction import create_feature_extractor

import netspec
from netspec.ir import BLOCK
from netspec.kinds import REGISTRY

REPO = Path(__file__).resolve().parents[1]
SPECS = sorted((REPO / "specs").glob("*.yaml"))
ZOO = sorted((REPO / "netspec" / "zoo").glob("*.yaml"))


def containers(graph) -> list[str]:
    """Module names of every block instance and every merge that runs its own branches."""
    return [node.module_name for node in graph.layers
            if node.kind == BLOCK or (REGISTRY[node.kind].merges and node.layer.branches is not None)]


def count_calls(model, names: list[str]) -> dict[str, int]:
    """Forward hooks on the named submodules; the returned dict counts their calls."""
    calls = dict.fromkeys(names, 0)

    def count(name):
        def hook(module, args, output):
            calls[name] += 1
        return hook

    for name in names:
        model.get_submodule(name).register_forward_hook(count(name))
    return calls


@pytest.mark.parametrize("path", SPECS + ZOO, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_torchinfo_counts_what_check_counts(path):
    report = netspec.check(path)
    model = netspec.build(report).eval()
    calls = count_calls(model, containers(report.graph))
    summary = torchinfo.summary(model, input_size=(1, *report.graph.input_shape), verbose=0)
    assert calls == dict.fromkeys(calls, 1)  # torchinfo's one forward pass runs every block and merge once
    assert (summary.total_params, summary.trainable_params) == (report.params, report.trainable_params)
    # conv and linear layers: torchinfo adds their biases (one per output element) to the checker's MACs
    counted = [layer for layer in summary.summary_list if isinstance(layer.module, (nn.Conv2d, nn.Linear))]
    biases = sum(layer.module.bias.numel() * (math.prod(layer.output_size) // layer.output_size[1])
                 for layer in counted if layer.module.bias is not None)
    checked = sum(node.macs for node in report.graph.layers if node.module_name and node.kind != BLOCK
                  and isinstance(model.get_submodule(node.module_name), (nn.Conv2d, nn.Linear)))
    assert sum(layer.macs for layer in counted) == checked + biases


@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.stem)
def test_a_hook_on_every_block_and_merge_fires_once_per_forward(path):
    report = netspec.check(path)
    model = netspec.build(report).eval()
    names = containers(report.graph)
    calls = count_calls(model, names)
    with torch.no_grad():
        for _ in range(2):
            model(torch.zeros(1, *report.graph.input_shape))
    assert calls == dict.fromkeys(names, 2)


def test_feature_extraction_taps_a_block_by_its_spec_name():
    report = netspec.check("specs/resnet_mini.yaml")
    model = netspec.build(report).eval()
    taps = {"rblock2": "block", "rblock1.0.body.conv2": "inner", "fc": "logits"}
    extractor = create_feature_extractor(model, taps)
    x = torch.randn(2, 1, 28, 28)
    seen = {}
    model.rblock2.register_forward_hook(lambda module, args, output: seen.update(block=output))
    with torch.no_grad():
        features, logits = extractor(x), model(x)
    assert features["block"].shape == (2, 32, 4, 4)
    assert torch.equal(features["block"], seen["block"])
    assert features["inner"].shape == (2, 16, 12, 12)
    assert torch.equal(features["logits"], logits)


REFERENCES = """
name: refs
input: [3, 8, 8]
blocks:
  mixed:
    params: [width]
    layers:
      - {kind: conv, name: stem, out_channels: width, kernel_size: 1}
      - relu
      - kind: concat
        branches:
          here: [{kind: conv, out_channels: 2, kernel_size: 3, padding: 1}]
          back: [{kind: conv, from: stem, out_channels: 2, kernel_size: 1, trainable: false}]
layers:
  - {kind: conv, name: conv1, out_channels: 4, kernel_size: 3, padding: 1}
  - {block: mixed, name: first, width: 4}
  - {block: mixed, name: second, width: 6, from: conv1}
  - {kind: add, inputs: [first, second]}
  - {repeat: 2, name: tail, layers: [{kind: conv, out_channels: 4, kernel_size: 1}, relu]}
  - flatten
  - {kind: linear, name: fc, out_features: 3}
"""


@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")  # torch.jit.script's lectures
def test_references_across_blocks_and_branches_become_arguments(check_text):
    report = check_text(REFERENCES)
    assert report.errors == []
    model = netspec.build(report).eval()
    summary = torchinfo.summary(model, input_size=(1, 3, 8, 8), verbose=0)
    assert (summary.total_params, summary.trainable_params) == (report.params, report.trainable_params)
    # the `back` branch reads the block's `stem`, outside its merge: the merge takes it as a second input
    inputs = []
    handle = model.second.get_submodule("2").register_forward_hook(
        lambda module, args, output: inputs.append([tuple(a.shape) for a in args]) and None)
    model(torch.zeros(1, 3, 8, 8))
    handle.remove()
    assert inputs == [[(1, 6, 8, 8), (1, 6, 8, 8)]]
    assert [name for name, _ in model.tail.named_children()] == ["0", "1"]
    scripted = torch.jit.script(model)
    x = torch.randn(2, 3, 8, 8)
    assert torch.allclose(scripted(x), model(x))
