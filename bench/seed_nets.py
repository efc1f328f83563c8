"""The seeds' networks written by hand, as their authors wrote them, for side-by-side benchmarks.

Each class copies its seed's code (attribute names, layer order, forward) so that a
benchmark compares netspec's built module with what a user would otherwise write.
`HAND_NETS` maps a spec's file stem (specs/<stem>.yaml) to its hand-written twin, and
`load_built_weights(hand, built, example)` copies a built module's weights into the twin so
that both compute the same function (the benchmarks check that they do, and
tests/specs/test_seed_builds.py does for every spec). Where a seed leaves out layers that
the paper has (seed 004's shape demo), the twin has them and the seed's verbatim code
stands beside it under its own name.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


# --- seed 003: GoogLeNet-style InceptionA net and small ResNet for MNIST ("完整代码1" and "完整代码2")

class InceptionA(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.branch_pool = nn.Conv2d(in_channels, 24, kernel_size=1)
        self.branch1x1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch5x5_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch5x5_2 = nn.Conv2d(16, 24, kernel_size=5, padding=2)
        self.branch3x3_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch3x3_2 = nn.Conv2d(16, 24, kernel_size=3, padding=1)
        self.branch3x3_3 = nn.Conv2d(24, 24, kernel_size=3, padding=1)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3 = self.branch3x3_3(self.branch3x3_2(self.branch3x3_1(x)))
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
        branch_pool = self.branch_pool(branch_pool)
        outputs = [branch1x1, branch3x3, branch5x5, branch_pool]  # the seed's concatenation order
        return torch.cat(outputs, dim=1)

    # (attribute, branch name in the spec, index of the conv inside that branch)
    SPEC_NAMES = [("branch1x1", "branch1x1", 0), ("branch5x5_1", "branch5x5", 0), ("branch5x5_2", "branch5x5", 1),
                  ("branch3x3_1", "branch3x3", 0), ("branch3x3_2", "branch3x3", 1), ("branch3x3_3", "branch3x3", 2),
                  ("branch_pool", "branch_pool", 1)]
    CAT_ORDER = [("branch1x1", 16), ("branch3x3", 24), ("branch5x5", 24), ("branch_pool", 24)]


class GoogLeNetMini(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(88, 20, kernel_size=5)
        self.incep1 = InceptionA(in_channels=10)
        self.incep2 = InceptionA(in_channels=20)
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(1408, 10)

    def forward(self, x):
        in_size = x.size(0)
        x = F.relu(self.mp(self.conv1(x)))
        x = self.incep1(x)
        x = F.relu(self.mp(self.conv2(x)))
        x = self.incep2(x)
        x = x.view(in_size, -1)
        x = self.fc(x)
        return x


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x):
        y = F.relu(self.conv1(x))
        y = self.conv2(y)
        return F.relu(x + y)


class ResNetMini(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=5)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=5)
        self.mp = nn.MaxPool2d(2)
        self.rblock1 = ResidualBlock(16)
        self.rblock2 = ResidualBlock(32)
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        in_size = x.size(0)
        x = F.relu(self.mp(self.conv1(x)))
        x = self.rblock1(x)
        x = F.relu(self.mp(self.conv2(x)))
        x = self.rblock2(x)
        x = x.view(in_size, -1)
        x = self.fc(x)
        return x


# --- seed 001: d2l's AlexNet for Fashion-MNIST resized to 224, and its 28x28 variant

def _d2l_alexnet_body() -> list[nn.Module]:
    """Seed 001's layers after the first pool, shared by its 224 and 28 networks."""
    return [
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten(),
        nn.Linear(6400, 4096), nn.ReLU(),
        nn.Dropout(p=0.5),
        nn.Linear(4096, 4096), nn.ReLU(),
        nn.Dropout(p=0.5),
        nn.Linear(4096, 10),
    ]


def alexnet_fashion() -> nn.Sequential:
    """Seed 001's d2l AlexNet for Fashion-MNIST resized to 224."""
    return nn.Sequential(nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
                         nn.MaxPool2d(kernel_size=3, stride=2), *_d2l_alexnet_body())


def alexnet_28() -> nn.Sequential:
    """Seed 001's variant for 28x28 input: only the first conv and pool differ."""
    return nn.Sequential(nn.Conv2d(1, 96, kernel_size=5, padding=2), nn.ReLU(),
                         nn.MaxPool2d(kernel_size=3, stride=1), *_d2l_alexnet_body())


# --- seed 002: the PyTorch tutorial's LeNet for CIFAR-10

class LeNetCifar(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


# --- seed 004: AlexNet at 3x227x227 (its shape demo and the paper's layers) and ZFNet

def alexnet_seed_demo() -> nn.Sequential:
    """Seed 004's shape demo, verbatim: no ReLU after the FC layers, no dropout, no LRN.

    Same parameters as specs/alexnet.yaml but not the same function, so it is no twin:
    the tests count it; `alexnet_paper` is the twin."""
    return nn.Sequential(
        nn.Conv2d(kernel_size=11, in_channels=3, out_channels=96, stride=4, padding=0),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(kernel_size=5, in_channels=96, out_channels=256, stride=1, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(kernel_size=3, in_channels=256, out_channels=384, stride=1, padding=1),
        nn.ReLU(),
        nn.Conv2d(kernel_size=3, in_channels=384, out_channels=384, stride=1, padding=1),
        nn.ReLU(),
        nn.Conv2d(kernel_size=3, in_channels=384, out_channels=256, stride=1, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten(),
        nn.Linear(9216, 4096),
        nn.Linear(4096, 4096),
        nn.Linear(4096, 1000),
    )


def _paper_lrn() -> nn.LocalResponseNorm:
    # The paper's n=5, k=2, alpha=1e-4 (on the plain sum; torch divides alpha by n).
    return nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)


def alexnet_paper() -> nn.Sequential:
    """Seed 004's network with the layers its demo leaves out, where the paper puts them:
    LRN after conv1's and conv2's ReLU (before the pool), ReLU and dropout after fc1 and fc2."""
    return nn.Sequential(
        nn.Conv2d(3, 96, kernel_size=11, stride=4), nn.ReLU(), _paper_lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(), _paper_lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 1000),
    )


def zfnet() -> nn.Sequential:
    """Seed 004's AlexNet with the ZFNet changes as the paper's Fig. 3 and Table 2 (b) have them:
    conv1 7x7/2, conv2 stride 2, conv3-5 512/1024/512 maps, Caffe-style (ceil) pools."""
    return nn.Sequential(
        nn.Conv2d(3, 96, kernel_size=7, stride=2, padding=1), nn.ReLU(),
        nn.MaxPool2d(3, 2, ceil_mode=True), _paper_lrn(),
        nn.Conv2d(96, 256, kernel_size=5, stride=2), nn.ReLU(),
        nn.MaxPool2d(3, 2, ceil_mode=True), _paper_lrn(),
        nn.Conv2d(256, 512, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(512, 1024, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(1024, 512, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Flatten(),
        nn.Linear(512 * 6 * 6, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 1000),
    )


HAND_NETS: dict[str, Callable[[], nn.Module]] = {
    "resnet_mini": ResNetMini,
    "googlenet_mini": GoogLeNetMini,
    "alexnet_fashion": alexnet_fashion,
    "alexnet_28": alexnet_28,
    "lenet_cifar": LeNetCifar,
    "alexnet": alexnet_paper,
    "zfnet": zfnet,
}


# --- weight transfer: built module -> hand-written twin

def load_built_weights(hand: nn.Module, built: nn.Module, example: torch.Tensor) -> None:
    """Copy `built`'s weights into `hand` so that both compute the same function."""
    if isinstance(hand, GoogLeNetMini):
        _load_googlenet(hand, built)
    elif isinstance(hand, ResNetMini):
        names = {f"rblock{i}.{conv}": f"rblock{i}.0.body.{conv}" for i in (1, 2) for conv in ("conv1", "conv2")}
        _copy_by_name(hand, built, lambda name: names.get(name, name))
    else:  # chains: the parameterised layers pair up in the order they run
        _copy_by_call_order(hand, built, example)


def _copy_by_name(hand: nn.Module, built: nn.Module, built_name: Callable[[str], str]) -> None:
    built_modules = dict(built.named_modules())
    for name, module in hand.named_modules():
        if not list(module.parameters(recurse=False)):
            continue
        source = built_modules[built_name(name)]
        with torch.no_grad():
            for key, tensor in module.named_parameters(recurse=False):
                tensor.copy_(getattr(source, key))


def _load_googlenet(hand: GoogLeNetMini, built: nn.Module) -> None:
    names = {f"incep{i}.{attr}": f"incep{i}.0.{branch}.{index}"
             for i in (1, 2) for attr, branch, index in InceptionA.SPEC_NAMES}
    _copy_by_name(hand, built, lambda name: names.get(name, name))
    # The spec may concatenate the branches in another order than the seed: reorder the consumers' inputs.
    spec_order = [name for name, _ in built.get_submodule("incep1.0").named_children()]
    permutation = _concat_permutation(spec_order)
    with torch.no_grad():
        hand.conv2.weight.copy_(built.get_submodule("conv2").weight[:, permutation])
        fc = built.get_submodule("fc").weight.view(10, 88, 16)
        hand.fc.weight.copy_(fc[:, permutation].reshape(10, 1408))


def _concat_permutation(spec_order: list[str]) -> torch.Tensor:
    """For each channel of the seed's concatenation, its index in the spec's concatenation."""
    widths = dict(InceptionA.CAT_ORDER)
    start, offsets = 0, {}
    for name in spec_order:
        offsets[name] = start
        start += widths[name]
    return torch.cat([torch.arange(offsets[name], offsets[name] + width) for name, width in InceptionA.CAT_ORDER])


def _copy_by_call_order(hand: nn.Module, built: nn.Module, example: torch.Tensor) -> None:
    hand_layers, built_layers = _layers_in_call_order(hand, example), _layers_in_call_order(built, example)
    if len(hand_layers) != len(built_layers):
        raise ValueError(f"expected the same number of parameterised layers; got {len(hand_layers)} by hand "
                         f"and {len(built_layers)} built")
    with torch.no_grad():
        for target, source in zip(hand_layers, built_layers):
            for key, tensor in target.named_parameters(recurse=False):
                tensor.copy_(getattr(source, key))


def _layers_in_call_order(model: nn.Module, example: torch.Tensor) -> list[nn.Module]:
    called: list[nn.Module] = []
    hooks = [module.register_forward_hook(lambda module, args, out: called.append(module))
             for module in model.modules() if list(module.parameters(recurse=False))]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for hook in hooks:
            hook.remove()
    return called
