"""The two torch modules netspec adds: merges that take a list of branch outputs.

They take a list (not *args) so the built network stays scriptable by TorchScript.
"""

from __future__ import annotations

import torch
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
