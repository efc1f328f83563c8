"""nn.Module -> a TorchScript file that `torch.jit.load` runs without netspec."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from .errors import ExportError


def export_torchscript(model: nn.Module, path: Path) -> None:
    with warnings.catch_warnings():
        # torch marks TorchScript deprecated and lectures on annotations; the user asked for it by name
        warnings.simplefilter("ignore")
        try:
            scripted = torch.jit.script(model)
        except Exception as exc:  # TorchScript refuses some Python constructs; say so instead of a traceback
            raise ExportError(f"torchscript: torch.jit.script failed ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0]})", "export to onnx or python instead") from None
        try:
            scripted.save(str(path))
        except (OSError, RuntimeError) as exc:
            raise ExportError(f"output: cannot write '{path}' ({exc})", "choose a path you can write to") from None
