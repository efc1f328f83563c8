"""netspec: a declarative network-spec compiler for PyTorch.

    spec = netspec.load("specs/resnet_mini.yaml")   # parse + validate (no torch)
    report = netspec.check(spec)                     # shapes, params, MACs, diagnostics (no torch)
    model = netspec.build(spec)                      # the nn.Module the checker described
    netspec.train("specs/resnet_mini.yaml", dataset="mnist")

`check` and `load` never import torch; `build`, `train` and `export` import it
when called.
"""

from __future__ import annotations

from .check import Report, check
from .diagnostics import Diagnostic, SpecError
from .expand import Limits
from .schema import json_schema
from .spec import Spec, load

__version__ = "0.1.0"

__all__ = ["Diagnostic", "Limits", "Report", "Spec", "SpecError", "build", "check", "json_schema", "load"]


def __getattr__(name: str):
    # torch-backed parts are imported on first use so `check` stays torch-free
    if name == "build":
        from .build import build

        return build
    raise AttributeError(f"module 'netspec' has no attribute {name!r}")
