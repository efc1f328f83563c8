"""Export a spec's network: ONNX, TorchScript, or a standalone PyTorch source file.

Importing this package does not import torch; `export` does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..check import Report, check, check_as_trained
from .errors import ExportError

if TYPE_CHECKING:
    from ..spec import Spec

FORMATS = {"onnx": ".onnx", "torchscript": ".pt", "python": ".py"}  # format -> usual file suffix


def export(spec: "Spec | Report | str | Path", format: str, path: str | Path, checkpoint: str | Path | None = None,
           *, input_shape: tuple[int, ...] | None = None, overrides=None, scale: str | None = None) -> Path:
    """Write the spec's network to `path` as `format` ("onnx", "torchscript" or "python"); return the path.

    With `checkpoint` (a `netspec train` checkpoint or a saved state dict) the
    exported network carries those weights; without it, freshly initialised ones.
    `overrides` and `scale` pick the network as in `netspec.load`; a `netspec train`
    checkpoint's own ones apply without repeating them.
    Raises SpecError when the spec has errors, ExportError for problems with the
    format, the checkpoint, the output path or a missing optional package.

    >>> netspec.export("specs/lenet_cifar.yaml", "onnx", "lenet.onnx", checkpoint="runs/lenet/checkpoint.pt")
    PosixPath('lenet.onnx')
    >>> netspec.export("specs/resnet_mini.yaml", "python", "resnet_mini.py")  # plain PyTorch, no netspec
    PosixPath('resnet_mini.py')
    """
    if format not in FORMATS:
        raise ExportError(f"format: expected one of {', '.join(FORMATS)}; got '{format}'",
                          "e.g. --format onnx for Netron and ONNX Runtime")
    path = Path(path)
    writable_target(path)
    report = checked(spec, checkpoint, input_shape=input_shape, overrides=overrides, scale=scale)
    model = _model(report, checkpoint)
    if format == "python":
        from .python_source import python_source

        _write(path, python_source(report.graph, model))
    elif format == "torchscript":
        from .torchscript import export_torchscript

        export_torchscript(model, path)
    else:
        from .onnx import export_onnx

        export_onnx(model, report.graph.input_shape, path)
    return path


def checked(spec, checkpoint, **variant) -> Report:
    """The spec checked (SpecError when it has errors) at the variant a `netspec train` checkpoint recorded."""
    if isinstance(spec, Report):
        return spec.raise_for_errors()
    if checkpoint is None:
        return check(spec, **variant).raise_for_errors()
    from ..weights import recorded_variant

    return check_as_trained(spec, recorded_variant(checkpoint), checkpoint, **variant).raise_for_errors()


def _model(report: Report, checkpoint):
    from ..builder import build_graph
    from ..weights import load_weights

    model = build_graph(report.graph)
    if checkpoint is not None:
        load_weights(model, checkpoint)
    return model.eval()


def writable_target(path: Path) -> None:
    """Refuse an output path that cannot be written, before any slow work."""
    if path.is_dir():
        raise ExportError(f"output: expected a file name; got the folder '{path}'", f"e.g. -o {path / 'model'}")
    if not path.parent.is_dir():
        raise ExportError(f"output: expected an existing folder for '{path}'; '{path.parent}' does not exist",
                          f"create it first: mkdir -p {path.parent}")
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise ExportError(f"output: cannot write '{path}' (permission denied)", "choose a path you can write to")


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"output: cannot write '{path}' ({exc.strerror})", "choose a path you can write to") from None
