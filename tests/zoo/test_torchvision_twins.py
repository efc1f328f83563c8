"""Every zoo spec against its torchvision twin (torchvision.models.NAME(weights=None): offline, random weights).

Per model: the checker's parameter count is torchvision's exactly; its MACs are
torch.utils.flop_counter's count (conv and linear: FLOPs / 2, per sample); with
torchvision's weights copied in by netspec.weights.load_by_structure (every tensor: the
built network is made on the meta device, without weights of its own) the outputs
agree in eval mode and in train mode, BatchNorm running statistics included (train
mode: the same RNG seed before each forward, so dropout and stochastic depth draw the
same masks). Every constant-initialised tensor of the twin (BatchNorm's ones and
zeros, zero biases, layer scales) is perturbed first, so a tensor paired with the
wrong one cannot go unnoticed. The U-Net's twin is hand-written (tests/zoo/unet_reference.py). Inputs are the smallest each network allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import pytest
import torch
import torchvision
from torch.utils.flop_counter import FlopCounterMode

import netspec
from netspec.weights import load_by_structure

from .unet_reference import UNet

BATCH = 2


@dataclass(frozen=True)
class Twin:
    size: int = 32  # input H = W: small where the network allows it
    options: dict = field(default_factory=lambda: {"weights": None})  # torchvision's constructor arguments
    factory: Callable[..., torch.nn.Module] | None = None  # the twin when torchvision has none
    zoo_name: str | None = None  # the zoo spec, where the case is a variant of it ...
    params: dict = field(default_factory=dict)  # ... with these values of its `params:`

    def report(self, name: str) -> netspec.Report:
        spec = netspec.load(f"zoo:{self.zoo_name or name}")
        text = spec.source
        for key, value in self.params.items():  # the spec's own line `  key: value`, rewritten
            text, count = re.subn(rf"^  {key}: \S+", f"  {key}: {value}", text, count=1, flags=re.M)
            assert count == 1, f"no parameter {key} in zoo:{self.zoo_name}"
        spec = netspec.load(spec.file, text=text)
        return netspec.check(spec, input_shape=(3, self.size, self.size))

    def reference(self, name: str) -> torch.nn.Module:
        return (self.factory or getattr(torchvision.models, self.zoo_name or name))(**self.options)


TWINS = {
    "resnet18": Twin(), "resnet34": Twin(), "resnet50": Twin(),
    "vgg16": Twin(), "vgg16_bn": Twin(),
    "densenet121": Twin(), "squeezenet1_0": Twin(),
    "googlenet": Twin(options={"aux_logits": False, "init_weights": True, "weights": None}),
    "inception_v3": Twin(size=75, options={"aux_logits": False, "init_weights": True, "weights": None}),
    "mnasnet1_0": Twin(), "regnet_x_400mf": Twin(),
    "mobilenet_v2": Twin(),
    "mobilenet_v2 width 0.35": Twin(zoo_name="mobilenet_v2", params={"width": 0.35},
                                    options={"weights": None, "width_mult": 0.35}),  # _make_divisible's 10% rule
    "efficientnet_b0": Twin(),
    "mobilenet_v3_small": Twin(), "mobilenet_v3_large": Twin(),
    "shufflenet_v2_x1_0": Twin(),
    "convnext_tiny": Twin(),
    "unet": Twin(options={}, factory=UNet),  # torchvision has no U-Net: tests/zoo/unet_reference.py
}


def perturb_constants(model: torch.nn.Module) -> None:
    """Give every constant-valued floating tensor (ones, zeros, 1e-6) distinct values near its own."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point() and (tensor.numel() == 1 or bool((tensor == tensor.flatten()[0]).all())):
                scale = tensor.abs().clamp(min=0.1)
                tensor.add_((torch.rand(tensor.shape, generator=generator) - 0.5) * 0.2 * scale)


def counted_macs(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """The output and torch's FLOP counter's MACs per sample (it counts conv and matmul FLOPs as 2 per MAC)."""
    with FlopCounterMode(display=False) as counter:
        out = model(x)
    return out, counter.get_total_flops() // 2 // x.shape[0]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: on a busy machine, threads waiting for each other make these forwards 50x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module", params=sorted(TWINS))
def pair(request):
    name, twin = request.param, TWINS[request.param]
    report = twin.report(name)
    assert report.ok, [d.message for d in report.errors]
    torch.manual_seed(0)
    reference = twin.reference(name)
    perturb_constants(reference)
    with torch.device("meta"):  # no initialisation of its own: every tensor comes from the twin
        built = netspec.build(report)
    built = built.to_empty(device="cpu")
    pairing = load_by_structure(built, reference.state_dict())
    return name, report, built, reference, pairing


def test_parameter_count_is_torchvisions(pair):
    name, report, built, reference, _ = pair
    assert report.params == sum(p.numel() for p in reference.parameters()) == \
        sum(p.numel() for p in built.parameters())


def test_eval_outputs_shapes_and_macs_agree(pair):
    name, report, built, reference, _ = pair
    torch.manual_seed(2)
    x = torch.randn(BATCH, *report.spec.input_shape)
    with torch.no_grad():
        expected, macs = counted_macs(reference.eval(), x)
        got = built.eval()(x)
    assert macs == report.macs
    assert tuple(got.shape) == tuple(expected.shape) == (BATCH, *report.graph.output_shape)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_train_outputs_and_running_statistics_agree(pair):
    name, report, built, reference, pairing = pair
    torch.manual_seed(3)
    x = torch.randn(BATCH, *report.spec.input_shape)
    outputs = []
    for model in (built.train(), reference.train()):
        torch.manual_seed(4)  # the same dropout / stochastic-depth masks
        with torch.no_grad():
            outputs.append(model(x))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-4, atol=1e-5)
    ours, theirs = dict(built.named_buffers()), reference.state_dict()  # parameters are unchanged by a forward
    for key, source_key in ((key, pairing[key]) for key in ours):
        torch.testing.assert_close(ours[key], theirs[source_key].reshape(ours[key].shape), rtol=1e-4, atol=1e-5,
                                   msg=lambda m: f"{key} vs {source_key}: {m}")
