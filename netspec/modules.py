"""The torch modules netspec adds where torch.nn has none.

Merges take a list of branch outputs (not *args) so the built network stays scriptable by TorchScript.
Every module here is TorchScript- and ONNX-exportable, keeps its constructor arguments as same-named
attributes and uses only torch, nn and F, so the Python exporter can copy its source into a
standalone file.
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


class Mul(nn.Module):
    """Element-wise product of the branch outputs, size-1 dimensions broadcast (a (C, 1, 1) gate)."""

    def forward(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        product = inputs[0]
        for tensor in inputs[1:]:
            product = product * tensor
        return product
