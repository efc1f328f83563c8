"""netspec: a declarative network-spec compiler for PyTorch.

    spec = netspec.load("specs/resnet_mini.yaml")   # parse + validate (no torch)
    report = netspec.check(spec)                     # shapes, params, MACs, diagnostics (no torch)
    model = netspec.build(spec)                      # the nn.Module the checker described
    netspec.train("specs/resnet_mini.yaml", dataset="mnist")
    netspec.export(spec, "onnx", "resnet_mini.onnx")
    netspec.draw_graph(spec, "resnet_mini.svg")

`check`, `load` and `draw_graph` never import torch; `build`, `train`, `export`
and `draw_filters` import it when called.
"""

from __future__ import annotations

import sys
import types

_LAZY = {"build": ".build", "export": ".export", "train": ".training", "evaluate": ".training",
         "predict": ".training"}  # attribute -> the submodule defining a function of that name


class _Package(types.ModuleType):
    """Keeps `netspec.build` the function after `import netspec.build` binds the submodule here."""

    def __setattr__(self, name: str, value) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

from .check import Report, check  # noqa: E402  (after the class swap: submodule imports below bind through it)
from .diagnostics import Diagnostic, SpecError  # noqa: E402
from .draw import draw_filters, draw_graph  # noqa: E402
from .expand import Limits  # noqa: E402
from .export.errors import ExportError  # noqa: E402
from .schema import json_schema  # noqa: E402
from .spec import Spec, load  # noqa: E402

__version__ = "0.1.0"

__all__ = ["Diagnostic", "ExportError", "Limits", "Report", "Spec", "SpecError", "build", "check", "draw_filters",
           "draw_graph", "evaluate", "export", "json_schema", "load", "predict", "train"]


def __getattr__(name: str):
    # torch-backed parts are imported on first use so `check` stays torch-free
    if name not in _LAZY:
        raise AttributeError(f"module 'netspec' has no attribute {name!r}")
    import importlib

    function = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = function
    return function
