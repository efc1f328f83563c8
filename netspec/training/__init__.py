"""Training, evaluation and prediction for any spec (`netspec train`, `eval`, `predict`).

    result = netspec.train("specs/resnet_mini.yaml", dataset="mnist", epochs=1, out="runs/resnet_mini")
    print(netspec.evaluate("specs/resnet_mini.yaml", result.checkpoint).render())
    netspec.predict("specs/resnet_mini.yaml", result.checkpoint, ["docs/examples/digit7.png"])

Importing this package does not import torch (the CLI registers its commands
without loading it); the functions import it when first used.
"""

from __future__ import annotations

from .errors import CheckpointError, DataNotFound, Diverged, OutOfMemory, TrainError

__all__ = ["CheckpointError", "DataNotFound", "Diverged", "OutOfMemory", "TrainError", "evaluate", "predict",
           "train"]

_LAZY = {"train": "run", "TrainResult": "run", "evaluate": "inference", "predict": "inference",
         "Prediction": "inference"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
