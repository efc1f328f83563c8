"""The seeds' own PyTorch networks, rewritten from the seed documents as they stand.

Each function returns the module the seed builds, so the tests can hold
`netspec.build(spec)` against it: same parameter count, same output shape and,
with the seed's weights copied in, the same outputs. Where a seed leaves layers out
that the paper has (seed 004's shape demo), a second function says so by name.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def seed004_alexnet() -> nn.Sequential:
    """Seed 004's shape demo, verbatim: no ReLU after the FC layers, no dropout, no LRN."""
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


def seed004_alexnet_with_paper_layers() -> nn.Sequential:
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


def seed004_zfnet() -> nn.Sequential:
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


def seed001_alexnet_224() -> nn.Sequential:
    """Seed 001's d2l AlexNet for Fashion-MNIST resized to 224."""
    return nn.Sequential(nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
                         nn.MaxPool2d(kernel_size=3, stride=2), *_d2l_alexnet_body())


def seed001_alexnet_28() -> nn.Sequential:
    """Seed 001's variant for 28x28 input: only the first conv and pool differ."""
    return nn.Sequential(nn.Conv2d(1, 96, kernel_size=5, padding=2), nn.ReLU(),
                         nn.MaxPool2d(kernel_size=3, stride=1), *_d2l_alexnet_body())


class Seed002Net(nn.Module):
    """Seed 002's CIFAR-10 `Net` (the PyTorch tutorial's)."""

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
        return self.fc3(x)


class Seed003InceptionA(nn.Module):
    """Seed 003's InceptionA from its complete listing (branch_pool defined first)."""

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
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return torch.cat([branch1x1, branch3x3, branch5x5, branch_pool], dim=1)


class Seed003GoogLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(88, 20, kernel_size=5)
        self.incep1 = Seed003InceptionA(in_channels=10)
        self.incep2 = Seed003InceptionA(in_channels=20)
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(1408, 10)

    def forward(self, x):
        in_size = x.size(0)
        x = F.relu(self.mp(self.conv1(x)))
        x = self.incep1(x)
        x = F.relu(self.mp(self.conv2(x)))
        x = self.incep2(x)
        return self.fc(x.view(in_size, -1))


class Seed003ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x):
        y = F.relu(self.conv1(x))
        y = self.conv2(y)
        return F.relu(x + y)


class Seed003ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=5)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=5)
        self.mp = nn.MaxPool2d(2)
        self.rblock1 = Seed003ResidualBlock(16)
        self.rblock2 = Seed003ResidualBlock(32)
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        in_size = x.size(0)
        x = F.relu(self.mp(self.conv1(x)))
        x = self.rblock1(x)
        x = F.relu(self.mp(self.conv2(x)))
        x = self.rblock2(x)
        return self.fc(x.view(in_size, -1))
