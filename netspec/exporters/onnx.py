"""nn.Module -> ONNX (opset 18) through torch.onnx's torch.export-based exporter, checked by onnx.checker.

The batch dimension is dynamic; every other dimension is the spec's input shape.
Weights are stored inside the file unless they pass ONNX's 2 GiB protobuf limit.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from .errors import ExportError

OPSET = 18
PROTOBUF_LIMIT_BYTES = 2**31 - 2**26  # keep a margin under 2 GiB for the graph itself
INSTALL_HINT = "install the ONNX packages: pip install onnx onnxscript (and onnxruntime to run the model)"


def export_onnx(model: nn.Module, input_shape: tuple[int, ...], path: Path) -> None:
    try:
        import onnx
        import onnxscript  # noqa: F401  (torch.onnx's exporter needs it; fail with a clear message first)
    except ImportError as exc:
        raise ExportError(f"onnx: the '{exc.name}' package is not installed", INSTALL_HINT) from None
    example = torch.randn(2, *input_shape)  # batch 2: a batch of 1 would be baked in as a constant
    weight_bytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's progress chatter; failures still raise
        try:
            program = torch.onnx.export(model, (example,), dynamo=True, opset_version=OPSET, verbose=False,
                                        input_names=["input"], output_names=["output"],
                                        dynamic_shapes={"x": {0: torch.export.Dim("batch")}})
        except Exception as exc:  # the exporter wraps many failure kinds; report the first line
            raise ExportError(f"onnx: torch.onnx.export failed ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0]})", "export to torchscript or python instead") from None
    try:
        program.save(str(path), external_data=weight_bytes > PROTOBUF_LIMIT_BYTES)
    except OSError as exc:
        raise ExportError(f"output: cannot write '{path}' ({exc.strerror})", "choose a path you can write to") from None
    onnx.checker.check_model(str(path))
