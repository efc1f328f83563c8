"""netspec: a declarative network-spec compiler for PyTorch.

    spec = netspec.load("specs/resnet_mini.yaml")   # parse + validate (no torch)
    report = netspec.check(spec)                     # shapes, params, MACs, diagnostics (no torch)
    model = netspec.build(spec)                      # the nn.Module the checker described
    netspec.train("specs/resnet_mini.yaml", dataset="mnist")

`check` and `load` never import torch; `build`, `train` and `export` import it
when called.
"""

from __future__ import annotations

import sys
import types

from .check import Report, check
from .diagnostics import Diagnostic, SpecError
from .expand import Limits
from .schema import json_schema
from .spec import Spec, load

__version__ = "0.1.0"

__all__ = ["Diagnostic", "Limits", "Report", "Spec", "SpecError", "build", "check", "export", "json_schema", "load"]


_LAZY = {"build": ".build", "export": ".export"}  # attribute -> the submodule defining a function of that name


def __getattr__(name: str):
    # torch-backed parts are imported on first use so `check` stays torch-free
    if name not in _LAZY:
        raise AttributeError(f"module 'netspec' has no attribute {name!r}")
    import importlib

    function = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = function
    return function


class _Package(types.ModuleType):
    """Keeps `netspec.build` the function after `import netspec.build` binds the submodule here."""

    def __setattr__(self, name: str, value) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
