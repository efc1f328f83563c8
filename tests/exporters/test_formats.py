"""Every spec in specs/ exports to ONNX, TorchScript and Python, and each export computes what the built module does.

The ONNX file passes onnx.checker and, run by ONNX Runtime on a batch of a different
size than the exporter's example, matches PyTorch within 1e-5. The TorchScript file
runs under torch.jit.load alone. The Python file imports only torch, takes the built
module's state dict with strict=True and gives bit-identical outputs.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import lru_cache
from pathlib import Path

import pytest
import torch

import netspec
from netspec.builder import _class_name, build_graph

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "specs").glob("*.yaml"))
TOLERANCE = 1e-5
BATCH = 1  # not the exporter's example batch (2): the batch dimension must really be dynamic

# torch marks torch.jit.load deprecated; loading TorchScript is what these tests check
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")


@lru_cache(maxsize=None)
def built(spec: str):
    """The spec's report and its built module in eval mode, seeded so every test sees the same weights."""
    report = netspec.check(ROOT / spec)
    torch.manual_seed(0)
    return report, build_graph(report.graph).eval()


def sample(report) -> torch.Tensor:
    return torch.randn(BATCH, *report.graph.input_shape, generator=torch.Generator().manual_seed(1))


def import_file(path: Path):
    module_spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


@pytest.fixture
def exported(tmp_path):
    def export(spec: str, format: str, name: str):
        report, model = built(spec)
        torch.manual_seed(0)  # the exported network is initialised exactly like `model`
        return netspec.export(report, format, tmp_path / name), report, model

    return export


def test_the_seed_specs_are_all_here():
    assert {"specs/googlenet_mini.yaml", "specs/resnet_mini.yaml"} <= set(SPECS)


@pytest.mark.parametrize("spec", SPECS)
def test_python_export_loads_the_state_dict_strictly_and_matches(spec, exported):
    path, report, model = exported(spec, "python", f"{Path(spec).stem}_net.py")
    source = path.read_text()
    assert "netspec" not in source.split('"""', 2)[2]  # only the docstring may name its maker
    module = import_file(path)
    generated = getattr(module, _class_name(report.graph.name))().eval()
    generated.load_state_dict(model.state_dict(), strict=True)
    x = sample(report)
    with torch.no_grad():
        assert torch.equal(generated(x), model(x))
    assert "netspec" not in {name.split(".")[0] for name in sys.modules if name.startswith(path.stem)}


@pytest.mark.parametrize("spec", SPECS)
def test_torchscript_export_runs_without_netspec_and_matches(spec, exported):
    path, report, model = exported(spec, "torchscript", "net.pt")
    loaded = torch.jit.load(str(path))
    x = sample(report)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("spec", SPECS)
def test_onnx_export_passes_the_checker_and_onnxruntime_matches(spec, exported):
    onnx = pytest.importorskip("onnx", reason="onnx is an optional (test extra) package: pip install onnx")
    pytest.importorskip("onnxscript", reason="torch.onnx needs onnxscript: pip install onnxscript")
    runtime = pytest.importorskip("onnxruntime", reason="onnxruntime is optional: pip install onnxruntime")
    path, report, model = exported(spec, "onnx", "net.onnx")
    onnx.checker.check_model(str(path), full_check=True)
    proto = onnx.load(str(path), load_external_data=False)
    assert max(entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx")) >= 17
    session = runtime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = sample(report)
    (output,) = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(output), model(x), rtol=0, atol=TOLERANCE)


def test_a_checkpoint_is_what_gets_exported(tmp_path):
    report, _ = built("specs/lenet_cifar.yaml")
    trained = build_graph(report.graph).eval()
    with torch.no_grad():
        for parameter in trained.parameters():
            parameter.normal_(0, 0.1)
    torch.save({"model": trained.state_dict(), "epoch": 3}, tmp_path / "checkpoint.pt")
    path = netspec.export("specs/lenet_cifar.yaml", "torchscript", tmp_path / "lenet.pt",
                          checkpoint=tmp_path / "checkpoint.pt")
    x = sample(report)
    with torch.no_grad():
        assert torch.equal(torch.jit.load(str(path))(x), trained(x))
