"""`netspec check` and `netspec schema` through click's CliRunner: tables, JSON, exit codes 0/1/2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import netspec
from netspec.cli import cli

ROOT = Path(__file__).resolve().parent.parent
RESNET = str(ROOT / "specs" / "resnet_mini.yaml")
GOOGLENET = str(ROOT / "specs" / "googlenet_mini.yaml")

# what issue 2 item 4 promises for `--json` on one spec
TOP_KEYS = ["name", "input", "output", "params", "trainable_params", "macs", "layers", "diagnostics"]
ROW_KEYS = ["path", "kind", "out", "params", "macs"]
DIAGNOSTIC_KEYS = ["severity", "message", "file", "line", "column", "path", "hint"]


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_valid_spec_prints_a_table_with_totals_and_exits_0():
    result = run("check", GOOGLENET)
    assert result.exit_code == 0, result.output
    report = netspec.check(GOOGLENET)
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["layer", "kind", "output"]
    rules = [index for index, line in enumerate(lines) if set(line) == {"-"}]
    assert rules[1] - rules[0] - 1 == len(report.graph.layers)  # one row per layer, merge and block
    assert f"params: {report.params:,} total" in result.stdout
    assert f"MACs per sample: {report.macs:,}" in result.stdout
    assert "googlenet_mini: input (1, 28, 28) -> output (10,)" in result.stdout
    assert result.stderr == ""


def test_warnings_alone_exit_0_and_go_to_stderr(write_spec):
    path = write_spec("name: t\ninput: [1, 12, 12]\nlayers: [{kind: conv, out_channels: 2, kernel_size: 5, "
                      "stride: 2}]\n")
    result = run("check", path)
    assert result.exit_code == 0
    assert "warning: H and W do not divide evenly" in result.stderr
    assert "params:" in result.stdout


def test_spec_errors_exit_1_with_position_caret_hint_and_no_traceback(write_spec):
    path = write_spec("name: t\ninput: [1, 28, 28]\nlayers:\n  - {kind: cnov, out_channels: 4, kernel_size: 3}\n"
                      "  - {kind: linear, out_features: 10, bias: no}\n")
    result = run("check", path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:4:12: error: unknown layer kind 'cnov'",
        "  in layers[0]",
        "    4 |   - {kind: cnov, out_channels: 4, kernel_size: 3}",
        " " * len("    4 |   - {kind: ") + "^",
        "  hint: did you mean 'conv'?",
        f"{path}:5:44: error: bias: expected a valid boolean; got 'no'",
        "  in layers[1]",
        "    5 |   - {kind: linear, out_features: 10, bias: no}",
        " " * len("    5 |   - {kind: linear, out_features: 10, bias: ") + "^",
        "  hint: YAML 1.1 would read 'no' as a boolean; netspec does not guess: write true or false",
        f"{path}: 2 errors",
    ]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00", b"layers: [" + b"[" * 10_000,
                                     b"a: !!python/name:os.system\n"])
def test_hostile_files_exit_1_without_traceback(tmp_path, content):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    result = run("check", str(path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # click's exit, not a crash


def test_missing_file_is_a_spec_error_exit_1(tmp_path):
    result = run("check", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 1
    assert "cannot read spec: No such file or directory" in result.stderr


@pytest.mark.parametrize("args, message", [
    ([], "Missing argument 'SPECS...'"),
    (["--input", "3,x", RESNET], "Invalid value for '--input': expected C,H,W such as 3,32,32; got '3,x'"),
    (["--input", "0,28,28", RESNET], "expected C,H,W of positive integers (at most 1e+15) such as 3,32,32; got '0,28,28'"),
    (["--input", "1,28", RESNET], "expected C,H,W of positive integers (at most 1e+15) such as 3,32,32; got '1,28'"),
    (["--batch", "0", RESNET], "Invalid value for '--batch': 0 is not in the range 1<=x<=1000000000000000."),
    (["--batch", "many", RESNET], "Invalid value for '--batch': 'many' is not a valid integer"),
    (["--frobnicate", RESNET], "No such option"),
])
def test_usage_errors_exit_2(args, message):
    result = run("check", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_json_object_has_the_promised_keys_and_values():
    result = run("check", "--json", RESNET)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    report = netspec.check(RESNET)
    assert list(data)[:6] == TOP_KEYS[:6] and set(TOP_KEYS) <= set(data)
    assert (data["name"], data["input"], data["output"]) == ("resnet_mini", [1, 28, 28], [10])
    assert (data["params"], data["trainable_params"], data["macs"]) == (report.params, report.trainable_params,
                                                                         report.macs)
    assert data["diagnostics"] == []
    # every layer, branch layer, merge and block output has a row, in graph order
    assert [row["path"] for row in data["layers"]] == [node.path for node in report.graph.layers]
    kinds = {row["kind"] for row in data["layers"]}
    assert {"conv", "add", "block", "relu", "maxpool", "flatten", "linear"} <= kinds
    for row, node in zip(data["layers"], report.graph.layers):
        assert list(row)[:5] == ROW_KEYS
        assert (row["kind"], row["out"], row["params"], row["macs"]) == (node.kind, list(node.out_shape),
                                                                         node.params, node.macs)
    assert sum(row["params"] for row in data["layers"]) == data["params"]


def test_json_diagnostics_have_the_promised_keys(write_spec):
    path = write_spec("name: t\ninput: [1, 4, 4]\nlayers: [{kind: conv, out_channels: 2, kernel_size: 5}]\n")
    result = run("check", "--json", path)
    assert result.exit_code == 1
    (diagnostic,) = json.loads(result.stdout)["diagnostics"]
    assert set(DIAGNOSTIC_KEYS) <= set(diagnostic)
    assert {key: diagnostic[key] for key in DIAGNOSTIC_KEYS} == {
        "severity": "error", "file": path, "line": 3, "column": 53, "path": "layers[0]",
        "message": "H and W collapse: expected the window (5) to fit the padded input (4 + 2*0 = 4); "
                   "got (4 - 5 + 2*0)/1 + 1 = 0",
        "hint": "reduce kernel_size or add padding (padding=1 fits), or remove an earlier downsampling layer"}


def test_json_for_several_specs_is_a_list():
    result = run("check", "--json", RESNET, GOOGLENET)
    assert result.exit_code == 0
    assert [item["name"] for item in json.loads(result.stdout)] == ["resnet_mini", "googlenet_mini"]


def test_one_bad_spec_among_several_exits_1(write_spec):
    bad = write_spec("name: t\ninput: [1, 4, 4]\nlayers: [{kind: relu, inplace: true}]\n")
    result = run("check", RESNET, bad)
    assert result.exit_code == 1
    assert "resnet_mini: input (1, 28, 28)" in result.stdout
    assert f"{bad}: 1 error" in result.stderr


def test_input_changes_every_shape(write_spec):
    path = write_spec("name: t\ninput: [3, 32, 32]\nlayers: [{kind: conv, out_channels: 4, kernel_size: 3}, "
                      "flatten, {linear: 10}]\n")
    data = json.loads(run("check", "--json", "--input", "3,64,64", path).stdout)
    assert data["input"] == [3, 64, 64]
    assert [row["out"] for row in data["layers"]] == [[4, 62, 62], [4 * 62 * 62], [10]]
    assert json.loads(run("check", "--json", "--input", "3x16x16", path).stdout)["layers"][0]["out"] == [4, 14, 14]


def test_batch_scales_the_training_memory_estimate():
    one = run("check", RESNET)
    many = run("check", "--batch", "256", RESNET)
    assert "training memory estimate at batch 1:" in one.stdout
    assert "training memory estimate at batch 256:" in many.stdout
    report = netspec.check(RESNET, batch_size=256)
    data = json.loads(run("check", "--json", "--batch", "256", RESNET).stdout)
    assert data["training_memory_bytes"] == report.training_memory_bytes()


def test_limits_are_options(write_spec):
    path = write_spec("name: t\ninput: [100]\nlayers: [{linear: 100}]\n")
    result = run("check", "--max-params", "1000", path)
    assert result.exit_code == 1
    assert "expected at most 1,000 parameters; got 10,100" in result.stderr
    assert run("check", "--max-layers", "1", RESNET).exit_code == 1


def test_schema_prints_valid_json_schema():
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema == netspec.json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"required": ["name", "input", "layers"]} in schema["anyOf"]  # or a file of blocks for imports:


def test_help_teaches_by_example():
    result = run("check", "--help")
    assert result.exit_code == 0
    assert "netspec check specs/lenet_cifar.yaml --input 3,64,64 --batch 256" in result.stdout
    assert "Exit status: 0 valid (warnings allowed), 1 errors in a spec, 2 usage errors." in result.stdout


def test_unexpected_failure_is_a_message_with_exit_70(monkeypatch, capsys):
    import sys

    from netspec import cli as cli_module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_module, "check_spec", broken)
    monkeypatch.setattr(sys, "argv", ["netspec", "check", RESNET])
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main()
    assert exit_info.value.code == 70
    err = capsys.readouterr().err
    assert err.startswith("netspec: internal error: RuntimeError: boom\n") and "Traceback" not in err


def test_console_script_works_from_any_directory(tmp_path):
    import subprocess
    import sys

    script = Path(sys.executable).parent / "netspec"
    result = subprocess.run([str(script), "check", GOOGLENET], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "googlenet_mini: input (1, 28, 28) -> output (10,)" in result.stdout
