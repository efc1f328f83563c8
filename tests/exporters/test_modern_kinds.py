"""The kinds of MobileNet, EfficientNet, ConvNeXt, ShuffleNet and U-Net export to Python, TorchScript and ONNX,
and every export computes what the built module does (as tests/exporters/test_formats.py checks for the seeds)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import netspec
from netspec.builder import _class_name, build_graph

from .test_formats import TOLERANCE, import_file

MODERN = (Path(__file__).resolve().parents[1] / "data" / "modern_kinds.yaml").read_text()  # every new kind


@pytest.fixture(scope="module")
def modern(tmp_path_factory):
    folder = tmp_path_factory.mktemp("modern")
    (folder / "modern.yaml").write_text(MODERN)
    report = netspec.check(folder / "modern.yaml")
    assert report.ok and not report.diagnostics, [d.message for d in report.diagnostics]
    torch.manual_seed(0)
    model = build_graph(report.graph).eval()
    x = torch.randn(1, *report.graph.input_shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model(x)
    return report, model, x, expected, folder


def export(modern, format: str, name: str):
    report, model, x, expected, folder = modern
    torch.manual_seed(0)  # the exported network is initialised exactly like `model`
    return netspec.export(report, format, folder / name)


def test_python_export_needs_only_torch_and_is_exact(modern):
    report, model, x, expected, _ = modern
    path = export(modern, "python", "modern_net.py")
    assert "netspec" not in path.read_text().split('"""', 2)[2]
    generated = getattr(import_file(path), _class_name(report.graph.name))().eval()
    generated.load_state_dict(model.state_dict(), strict=True)
    with torch.no_grad():
        assert torch.equal(generated(x), expected)
    assert not any(name.startswith("netspec") for name in sys.modules if name.startswith(path.stem))


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_torchscript_export_matches(modern):
    _, _, x, expected, _ = modern
    loaded = torch.jit.load(str(export(modern, "torchscript", "modern.pt")))
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), expected, rtol=0, atol=TOLERANCE)


def test_onnx_export_matches_in_onnxruntime(modern):
    pytest.importorskip("onnxscript", reason="torch.onnx needs onnxscript: pip install onnxscript")
    runtime = pytest.importorskip("onnxruntime", reason="onnxruntime is optional: pip install onnxruntime")
    _, _, x, expected, _ = modern
    session = runtime.InferenceSession(str(export(modern, "onnx", "modern.onnx")),
                                       providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"input": x.numpy()})
    torch.testing.assert_close(torch.from_numpy(output), expected, rtol=0, atol=TOLERANCE)
