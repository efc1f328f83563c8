"""The torch module channel_affine builds: imported only by the builder."""

import torch
from torch import nn


class ChannelAffineModule(nn.Module):
    def __init__(self, channels: int, init_scale: float):
        super().__init__()
        self.channels = channels
        self.init_scale = init_scale
        self.weight = nn.Parameter(torch.full((channels, 1, 1), init_scale))
        self.bias = nn.Parameter(torch.zeros(channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight + self.bias
