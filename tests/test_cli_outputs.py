"""`netspec export`, `graph` and `filters` through click's CliRunner: outputs, exit codes, messages."""

from __future__ import annotations

import shutil

import pytest
import torch
from click.testing import CliRunner

import netspec
from netspec.cli import cli

BROKEN = """
name: broken
input: [1, 8, 8]
layers:
  - {kind: conv, out_channels: 4, kernel_size: 20}
"""

# torch marks torch.jit.load deprecated; loading TorchScript is what these tests check
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")


@pytest.fixture
def run():
    def invoke(*args):
        return CliRunner().invoke(cli, [str(arg) for arg in args])

    return invoke


def test_export_python_infers_the_format_from_the_suffix(run, tmp_path):
    result = run("export", "specs/resnet_mini.yaml", "-o", tmp_path / "resnet.py")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "class ResnetMini(nn.Module):" in (tmp_path / "resnet.py").read_text()


def test_export_with_a_checkpoint(run, tmp_path):
    model = netspec.build("specs/lenet_cifar.yaml").eval()
    torch.save({"model": model.state_dict()}, tmp_path / "ckpt.pt")
    result = run("export", "specs/lenet_cifar.yaml", "--checkpoint", tmp_path / "ckpt.pt", "--format",
                 "torchscript", "-o", tmp_path / "lenet.ts")
    assert result.exit_code == 0, result.output
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(torch.jit.load(str(tmp_path / "lenet.ts"))(x), model(x))


def test_unknown_format_is_a_usage_error(run, tmp_path):
    result = run("export", "specs/resnet_mini.yaml", "--format", "tflite", "-o", tmp_path / "r.tflite")
    assert result.exit_code == 2 and "'tflite' is not one of 'onnx', 'torchscript', 'python'" in result.output
    result = run("export", "specs/resnet_mini.yaml", "-o", tmp_path / "r.bin")
    assert result.exit_code == 2 and "pass --format" in result.output


@pytest.mark.parametrize("command", ["export", "graph"])
def test_unwritable_output_exits_1_with_a_hint(run, tmp_path, command):
    name = "r.py" if command == "export" else "r.dot"
    result = run(command, "specs/resnet_mini.yaml", "-o", tmp_path / "missing" / name)
    assert result.exit_code == 1 and "does not exist" in result.output and "mkdir -p" in result.output
    result = run(command, "specs/resnet_mini.yaml", "-o", tmp_path, "--format", "python") if command == "export" \
        else run(command, "specs/resnet_mini.yaml", "-o", tmp_path)
    assert result.exit_code in (1, 2) and "Traceback" not in result.output


@pytest.mark.parametrize("command", ["export", "graph", "filters"])
def test_a_spec_with_errors_exits_1_with_the_diagnostics(run, tmp_path, command):
    spec = tmp_path / "broken.yaml"
    spec.write_text(BROKEN)
    torch.save({}, tmp_path / "empty.pt")
    extra = [tmp_path / "empty.pt"] if command == "filters" else []
    output = tmp_path / ("out.png" if command == "filters" else "out.py" if command == "export" else "out.dot")
    result = run(command, spec, *extra, "-o", output)
    assert result.exit_code == 1, result.output
    assert "broken.yaml:5:" in result.output and "collapse" in result.output and "nothing written" in result.output
    assert "Traceback" not in result.output and not output.exists()


def test_graph_writes_dot_and_mermaid(run, tmp_path):
    for name in ("g.dot", "g.mmd"):
        result = run("graph", "specs/googlenet_mini.yaml", "-o", tmp_path / name)
        assert result.exit_code == 0, result.output
    assert (tmp_path / "g.dot").read_text().startswith('digraph "googlenet_mini"')
    assert "incep2: inception_a" in (tmp_path / "g.mmd").read_text()


def test_graph_png_without_graphviz_exits_1_saying_how_to_install(run, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = run("graph", "specs/googlenet_mini.yaml", "-o", tmp_path / "g.png")
    assert result.exit_code == 1 and "apt install graphviz" in result.output


def test_filters_from_a_checkpoint_and_a_bad_checkpoint(run, tmp_path):
    torch.save(netspec.build("specs/googlenet_mini.yaml").state_dict(), tmp_path / "g.pt")
    result = run("filters", "specs/googlenet_mini.yaml", tmp_path / "g.pt", "-o", tmp_path / "f.png")
    assert result.exit_code == 0, result.output
    result = run("filters", "specs/googlenet_mini.yaml", tmp_path / "nope.pt", "-o", tmp_path / "f2.png")
    assert result.exit_code == 1 and "no such file" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", ["export", "graph", "filters"])
def test_help_teaches_by_example(run, command):
    result = run(command, "--help")
    assert result.exit_code == 0 and "Examples:" in result.output
    assert f"netspec {command} specs/" in result.output and "Exit status" in result.output
