"""netspec: a declarative network-spec compiler for PyTorch.

    spec = netspec.load("specs/resnet_mini.yaml")   # parse + validate (no torch)
    report = netspec.check(spec)                     # shapes, params, MACs, diagnostics (no torch)
    netspec.load("specs/resnet_mini.yaml", overrides={"num_classes": 100})   # a variant
    netspec.sweep("examples/resnet_family.yaml", ["width=8,16", "depth=1,2"])  # a row per grid point
    model = netspec.build(spec)                      # the nn.Module the checker described
    netspec.train("specs/resnet_mini.yaml", dataset="mnist")
    netspec.export(spec, "onnx", "resnet_mini.onnx")
    netspec.draw_graph(spec, "resnet_mini.svg")

`check`, `load`, `sweep` and `draw_graph` never import torch; `build`, `train`, `export`
and `draw_filters` import it when called.
"""

from __future__ import annotations

from .check import Report, check
from .diagnostics import Diagnostic, SpecError
from .expand import Limits
from .spec import Spec, load

__version__ = "0.1.0"

# name -> the submodule defining it, imported on first use: torch-backed parts keep `check` torch-free, the
# others (pictures, exports, the JSON Schema) keep `netspec check`'s start-up to what checking needs
_LAZY = {"build": ".builder", "export": ".exporters", "ExportError": ".exporters.errors", "train": ".training",
         "evaluate": ".training", "predict": ".training", "sweep": ".sweeps", "draw_graph": ".draw",
         "draw_filters": ".draw", "json_schema": ".schema"}

__all__ = ["Diagnostic", "ExportError", "Limits", "Report", "Spec", "SpecError", "build", "check", "draw_filters",
           "draw_graph", "evaluate", "export", "json_schema", "load", "predict", "sweep", "train"]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'netspec' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value
