"""Plugins add kinds without forking: an installed package (entry points, read lazily) or a module named in
the spec. Checking stays torch-free; a missing or broken plugin is a located error, never a traceback.

Plugins register into the process's registry, so every test that loads a working one runs in a subprocess
(the registry of this test process stays netspec's own).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import netspec
from netspec.kinds import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
BLOCK_TORCH = "import sys; sys.modules['torch'] = None\n"  # makes `import torch` raise ImportError

AFFINE_SPEC = """\
name: affine net
input: [3, 8, 8]
layers:
  - {kind: conv, out_channels: 4, kernel_size: 3, padding: 1}
  - {kind: channel_affine, name: affine, init_scale: 0.5}
  - relu
  - global_avgpool
  - {linear: 2}
"""

LOCAL_PLUGIN = '''\
"""A plugin file beside the spec: kinds with a broken shape rule and a broken builder."""
from typing import Literal

from netspec.kinds import Cost, LayerKind, LayerSchema


class Broken(LayerSchema):
    kind: Literal["broken_rule"] = "broken_rule"


class Unbuildable(LayerSchema):
    kind: Literal["unbuildable"] = "unbuildable"


def divide_by_zero(layer, in_shapes, notes):
    return (in_shapes[0][0] // 0,)


def same(layer, in_shapes, notes):
    return in_shapes[0]


def no_cost(layer, in_shapes, out_shape):
    return Cost()


def refuse(layer, in_shapes, out_shape):
    raise RuntimeError("cannot build this")


KINDS = [LayerKind("broken_rule", Broken, divide_by_zero, no_cost, refuse, summary="fails"),
         LayerKind("unbuildable", Unbuildable, same, no_cost, refuse, summary="fails to build")]
'''


@pytest.fixture(scope="module")
def installed(install_plugin_package) -> Path:
    """The example plugin package, pip-installed into a temporary folder (never into the venv)."""
    work = install_plugin_package()
    (work / "affine.yaml").write_text(AFFINE_SPEC)
    return work


def run_python(code: str, installed: Path, *, torch: bool = True) -> subprocess.CompletedProcess:
    env_path = f"{ROOT}:{installed / 'site'}"
    result = subprocess.run([sys.executable, "-c", ("" if torch else BLOCK_TORCH) + textwrap.dedent(code)],
                            cwd=installed, capture_output=True, text=True, timeout=300,
                            env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    return result


def test_an_installed_plugin_is_checked_without_torch_and_entry_points_are_read_only_when_needed(installed):
    result = run_python("""
        import json, sys, netspec
        from netspec import plugins
        plain = netspec.check('plain.yaml')
        scanned_for_builtin_kinds = plugins._entry_points.cache_info().currsize
        report = netspec.check('affine.yaml')
        node = report.graph.nodes[2]
        print(json.dumps({"plain": plain.ok, "scanned": scanned_for_builtin_kinds, "ok": report.ok,
                          "kind": node.kind, "shape": node.out_shape, "params": node.params,
                          "torch": sorted(name for name, module in sys.modules.items()
                                    if name.split('.')[0] == 'torch' and module is not None)}))
    """.replace("plain.yaml", str(ROOT / "specs" / "resnet_mini.yaml")), installed, torch=False)
    assert json.loads(result.stdout) == {"plain": True, "scanned": 0, "ok": True, "kind": "channel_affine",
                                         "shape": [4, 8, 8], "params": 2 * 4, "torch": []}


def test_defaults_apply_to_an_installed_plugins_kind_and_its_fields_are_checked(installed):
    defaults = "defaults:\n  channel_affine: {init_scale: 0.25}\n"
    (installed / "defaults.yaml").write_text(AFFINE_SPEC.replace("layers:", defaults + "layers:").replace(
        ", init_scale: 0.5}", "}\n  - channel_affine"))
    (installed / "misspelt.yaml").write_text(AFFINE_SPEC.replace("layers:", defaults.replace("scale", "scal")
                                                                 + "layers:"))
    result = run_python("""
        import json, netspec
        model = netspec.build('defaults.yaml')
        report = netspec.check('misspelt.yaml')
        print(json.dumps({"scales": [float(model.affine.weight.detach().flatten()[0]),
                                     float(model.get_submodule('2').weight.detach().flatten()[0])],
                          "errors": [[d.line, d.column, d.message, d.hint] for d in report.errors]}))
    """, installed)
    assert json.loads(result.stdout) == {
        "scales": [0.25, 0.25],  # the named layer and the bare one both take the default
        "errors": [[4, 20, "defaults.channel_affine: unknown field 'init_scal'", "did you mean 'init_scale'?"]]}


@pytest.mark.slow  # a subprocess that imports torch and exports to ONNX
def test_an_installed_plugin_builds_and_exports_to_torchscript_python_and_onnx(installed):
    result = run_python("""
        import importlib.util, torch, netspec
        model = netspec.build('affine.yaml').eval()
        affine = model.get_submodule('affine')
        assert torch.equal(affine.weight, torch.full((4, 1, 1), 0.5))
        x = torch.randn(2, 3, 8, 8)
        with torch.no_grad():
            affine.bias.normal_()
            features = model.get_submodule('0')(x)
            assert torch.equal(affine(features), features * affine.weight + affine.bias)
            expected = model(x)
        assert len(list(model.parameters())) == 6
        for format, name in [('torchscript', 'net.pt'), ('python', 'net.py'), ('onnx', 'net.onnx')]:
            torch.manual_seed(0)
            netspec.export('affine.yaml', format, name)
        torch.manual_seed(0)
        reference = netspec.build('affine.yaml').eval()
        with torch.no_grad():
            expected = reference(x)
            assert torch.allclose(torch.jit.load('net.pt')(x), expected, atol=1e-6)
            spec = importlib.util.spec_from_file_location('net', 'net.py')
            generated = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(generated)
            copy = generated.AffineNet().eval()
            copy.load_state_dict(reference.state_dict(), strict=True)
            assert torch.equal(copy(x), expected)
        import onnxruntime
        session = onnxruntime.InferenceSession('net.onnx', providers=['CPUExecutionProvider'])
        (out,) = session.run(None, {'input': x.numpy()})
        assert torch.allclose(torch.from_numpy(out), expected, atol=1e-5)
        print(open('net.py').read())
    """, installed)
    assert "from netspec_channel_affine.modules import ChannelAffineModule" in result.stdout


def _cli(args: list[str], installed: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netspec", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={"PYTHONPATH": f"{ROOT}:{installed / 'site'}", "PATH": "/usr/bin:/bin"})


def test_broken_plugins_are_located_errors_from_the_cli(installed, tmp_path):
    (tmp_path / "local_kinds.py").write_text(LOCAL_PLUGIN)
    (tmp_path / "net.yaml").write_text("name: broken\ninput: [3, 4, 4]\nplugins: [local_kinds]\nlayers:\n"
                                       "  - broken_rule\n  - broken_kind\n  - unbuildable\n")
    checked = _cli(["check", "net.yaml"], installed, tmp_path)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert "net.yaml:5:5: error: broken_rule: plugin 'local_kinds' failed (ZeroDivisionError: integer division " \
           "or modulo by zero)" in checked.stdout + checked.stderr
    assert ("net.yaml:6:5: error: plugin 'netspec_channel_affine.broken' (entry point 'broken_kind'): import "
            "failed (ModuleNotFoundError: No module named 'a_package_that_is_not_installed')"
            in checked.stdout + checked.stderr)
    (tmp_path / "net.yaml").write_text("name: broken\ninput: [3, 4, 4]\nplugins: [local_kinds]\nlayers:\n"
                                       "  - {kind: unbuildable, name: stage}\n")
    exported = _cli(["export", "net.yaml", "--format", "torchscript", "-o", "net.pt", "--random-weights"], installed,
                    tmp_path)
    assert exported.returncode == 1 and "Traceback" not in exported.stderr
    assert ("unbuildable: plugin 'local_kinds''s builder for layer 'stage' failed (RuntimeError: cannot build "
            "this)") in exported.stderr


def check_text(text: str, tmp_path: Path) -> netspec.Report:
    (tmp_path / "net.yaml").write_text(text)
    return netspec.check(tmp_path / "net.yaml")


@pytest.mark.parametrize("plugin_source, message", [
    (None, "plugins: no module named 'my_kinds' on Python's path or as my_kinds.py beside the spec"),
    ("raise ValueError('bad config')", "plugin 'my_kinds': import failed (ValueError: bad config)"),
    ("import not_installed_dependency", "plugin 'my_kinds': import failed (ModuleNotFoundError: No module named "
                                        "'not_installed_dependency')"),
    ("VALUE = 1", "plugin 'my_kinds': expected a non-empty list `KINDS` of netspec.kinds.LayerKind; got no KINDS"),
    ("KINDS = ['relu']", "plugin 'my_kinds': expected netspec.kinds.LayerKind items in KINDS; got str"),
    ("from netspec.kinds import REGISTRY\nKINDS = [REGISTRY['relu']]",
     "plugin 'my_kinds': expected a kind name of its own; got 'relu', which netspec already defines"),
    ("from dataclasses import replace\nfrom netspec.kinds import REGISTRY\n"
     "KINDS = [replace(REGISTRY['relu'], name='my_relu')]",
     "plugin 'my_kinds': expected kind 'my_relu''s schema to have `kind: Literal[\"my_relu\"] = \"my_relu\"`"),
])
def test_a_missing_or_broken_plugin_is_an_error_at_its_line(plugin_source, message, tmp_path):
    if plugin_source is not None:
        (tmp_path / "my_kinds.py").write_text(plugin_source + "\n")
    sys.modules.pop("my_kinds", None)
    try:
        report = check_text("name: p\ninput: [4]\nplugins: [my_kinds]\nlayers: [relu]\n", tmp_path)
    finally:
        sys.modules.pop("my_kinds", None)
    (error,) = report.errors
    assert error.message.startswith(message), error.message
    assert (error.code, error.line, error.column, error.path) == ("plugin.load", 3, 11, "plugins")
    assert error.hint
    assert "my_relu" not in REGISTRY


def test_plugins_must_be_a_list_of_names(tmp_path):
    (error,) = check_text("name: p\ninput: [4]\nplugins: my_kinds\nlayers: [relu]\n", tmp_path).errors
    assert (error.message, error.line) == ("plugins: expected a list of module names; got 'my_kinds'", 3)


def test_the_json_schema_takes_plugins():
    assert netspec.json_schema()["properties"]["plugins"]["items"] == {"type": "string"}


WINDOWED_PLUGIN = '''\
from typing import Literal
from netspec.kinds import LayerKind, LayerSchema, Window, REGISTRY

relu = REGISTRY["relu"]


class Blur(LayerSchema):
    kind: Literal["blur3"] = "blur3"


class Smudge(LayerSchema):
    kind: Literal["smudge"] = "smudge"


KINDS = [LayerKind("blur3", Blur, relu.infer_output_shape, relu.count, relu.build, summary="3-row window",
                   window=lambda layer, in_shapes, out_shape: Window(3, 1, padding=1)),
         LayerKind("smudge", Smudge, relu.infer_output_shape, relu.count, relu.build, summary="bad window",
                   window=lambda layer, in_shapes, out_shape: (3, 1))]
'''


def test_a_plugin_kind_declares_its_window_and_a_bad_one_is_a_located_error(tmp_path):
    """In a subprocess: registering kinds here would add them to this process's registry for later tests."""
    (tmp_path / "windowed_kinds.py").write_text(WINDOWED_PLUGIN)
    (tmp_path / "net.yaml").write_text("name: p\ninput: [1, 8, 8]\nplugins: [windowed_kinds]\n"
                                       "layers: [blur3, blur3, smudge]\n")
    result = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import json, netspec
        report = netspec.check('net.yaml')
        print(json.dumps({"rf": [node.receptive_field for node in report.graph.nodes[1:3]],
                          "errors": [(d.line, d.message) for d in report.errors]}))
    """)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"rf": [3, 5], "errors": [[4, (
        "smudge: expected plugin 'windowed_kinds''s window to return a netspec.kinds.Reach (a Window) or None; "
        "got (3, 1)")]]}


def test_netspec_schema_describes_installed_plugins_and_those_named_with_plugin(install_plugin_package, tmp_path):
    working = install_plugin_package(without=("broken_kind",))
    (tmp_path / "local_kinds.py").write_text(LOCAL_PLUGIN)
    result = _cli(["schema", "--plugin", "local_kinds.py"], working, tmp_path)
    assert result.returncode == 0, result.stderr
    defs = json.loads(result.stdout)["$defs"]
    affine = defs["layer_channel_affine"]
    assert affine["properties"]["kind"] == {"const": "channel_affine",
                                            "description": "learnable per-channel scale and shift"}
    assert affine["properties"]["init_scale"]["anyOf"][0] == {
        "default": 1.0, "description": "Initial value of every channel's weight.", "type": "number"}
    assert affine["additionalProperties"] is False
    plugin_kinds = {"channel_affine", "broken_rule", "unbuildable"}
    assert plugin_kinds <= set(defs["KindLayer"]["properties"]["kind"]["enum"])
    assert plugin_kinds <= set(defs["block_body_KindLayer"]["properties"]["kind"]["anyOf"][0]["enum"])
    assert plugin_kinds <= set(defs["ShortForm"]["properties"])
    assert {f"layer_{name}" for name in plugin_kinds} <= set(defs)


def test_netspec_schema_names_each_plugin_that_cannot_load_without_a_traceback(installed, tmp_path):
    (tmp_path / "undescribable.py").write_text(LOCAL_PLUGIN.split("class Broken")[0] + textwrap.dedent('''
        from typing import Callable

        class Undescribable(LayerSchema):
            kind: Literal["undescribable"] = "undescribable"
            rule: Callable = print

        KINDS = [LayerKind("undescribable", Undescribable, lambda layer, shapes, notes: shapes[0],
                           lambda layer, shapes, out: Cost(), lambda layer, shapes, out: None, summary="a rule")]
        '''))
    result = _cli(["schema", "--plugin", "no_such_kinds", "--plugin", "gone/kinds.py", "--plugin", "undescribable"],
                  installed, tmp_path)
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    for expected in [
            "<--plugin no_such_kinds>: error: plugins: no module named 'no_such_kinds' on Python's path or as "
            f"no_such_kinds.py in the current folder ({tmp_path})",
            "<--plugin gone/kinds.py>: error: expected a plugin file NAME.py; got gone/kinds.py, which does not exist",
            "<installed plugin broken_kind>: error: plugin 'netspec_channel_affine.broken' (entry point "
            "'broken_kind'): import failed (ModuleNotFoundError: No module named 'a_package_that_is_not_installed')",
            "<plugin undescribable>: error: plugin 'undescribable': expected kind 'undescribable''s fields to have a "
            "JSON Schema (PydanticInvalidForJsonSchema: "]:
        assert expected in result.stderr, result.stderr
    assert result.stderr.count(": error: ") == 4 and result.stderr.count("hint: ") == 4
