"""The torch modules netspec adds where torch.nn has none.

Merges take a list of branch outputs (not *args) so the built network stays scriptable by TorchScript.
Every module here is TorchScript- and ONNX-exportable, keeps its constructor arguments as same-named
attributes and uses only torch, nn and F, so the Python exporter can copy its source into a
standalone file.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Concat(nn.Module):
    """torch.cat of the branch outputs along channels; the branches are this module's children."""

    def forward(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(inputs, dim=1)


class Add(nn.Module):
    """Element-wise sum of the branch outputs; the branches are this module's children."""

    def forward(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        total = inputs[0]
        for tensor in inputs[1:]:
            total = total + tensor
        return total


class Mul(nn.Module):
    """Element-wise product of the branch outputs, size-1 dimensions broadcast (a (C, 1, 1) gate)."""

    def forward(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        product = inputs[0]
        for tensor in inputs[1:]:
            product = product * tensor
        return product


class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth, drawing the same random numbers: while training, zero each sample
    ("row") or the whole batch ("batch") with probability p and scale the rest by 1 / (1 - p)."""

    def __init__(self, p: float, mode: str):
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival_rate = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival_rate)
        if survival_rate > 0.0:
            noise.div_(survival_rate)
        return x * noise

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"


class LayerScale(nn.Module):
    """A learnable per-channel scale, stored as torchvision's ConvNeXt stores it: `layer_scale` of shape
    (C, 1, 1) for a (C, H, W) map, (C,) for a flat input."""

    def __init__(self, channels: int, init_value: float, spatial: bool):
        super().__init__()
        self.channels = channels
        self.init_value = init_value
        self.spatial = spatial
        self.layer_scale = nn.Parameter(torch.full((channels, 1, 1) if spatial else (channels,), init_value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_scale * x


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of each pixel of a (N, C, H, W) map, exactly as torchvision's ConvNeXt
    does it (channels last, F.layer_norm, channels first again); weight and bias are (C,)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class ChannelSlice(nn.Module):
    """Channels start to stop (exclusive) of the input: one half of ShuffleNetV2's channel split."""

    def __init__(self, start: int, stop: int):
        super().__init__()
        self.start = start
        self.stop = stop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start:self.stop]


class ChannelShuffle(nn.Module):
    """torchvision's ShuffleNetV2 channel_shuffle: interleave the channels of `groups` groups. Written with
    view and transpose (not nn.ChannelShuffle) so ONNX exports it."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.size()
        x = x.view(batch, self.groups, channels // self.groups, height, width)
        x = torch.transpose(x, 1, 2).contiguous()
        return x.view(batch, channels, height, width)
