"""`--set NAME=VALUE` and `overrides=`: params and train settings, read as YAML, errors at the override."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import netspec
from netspec.cli import cli

ROOT = Path(__file__).resolve().parents[2]
RESNET = str(ROOT / "specs" / "resnet_mini.yaml")
FAMILY = str(ROOT / "examples" / "resnet_family.yaml")


def run(*args: str):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def errors(report):
    return [(d.file, d.line, d.column, d.message, d.hint) for d in report.errors]


def test_set_num_classes_changes_the_output_and_the_report_says_so():
    result = run("check", RESNET, "--set", "num_classes=100")
    assert result.exit_code == 0, result.output
    assert "resnet_mini: input (1, 28, 28) -> output (100,)" in result.stdout
    assert "overrides: num_classes=100" in result.stdout
    data = json.loads(run("check", RESNET, "--set", "num_classes=100", "--json").stdout)
    assert data["output"] == [100] and data["overrides"] == {"num_classes": 100}
    assert data["params"] == netspec.check(RESNET).params + 90 * (512 + 1)  # fc: 90 more outputs of 512 + bias


def test_the_api_takes_a_mapping_and_the_spec_keeps_it():
    spec = netspec.load(RESNET, overrides={"num_classes": 3, "train.lr": 0.2, "train.schedule.kind": "cosine"})
    assert spec.params == {"num_classes": 3} and spec.overrides["train.lr"] == 0.2
    assert spec.train.lr == 0.2 and spec.train.schedule.kind == "cosine" and spec.train.nesterov  # rest kept
    assert netspec.check(spec).graph.output_shape == (3,)
    assert netspec.build(netspec.check(RESNET, overrides={"num_classes": 7})).fc.out_features == 7
    assert netspec.build(FAMILY, scale="n", overrides={"num_classes": 4}).fc.out_features == 4


def test_later_params_see_an_overridden_one(write_spec):
    path = write_spec("""
        name: t
        input: [1, 8, 8]
        params: {width: 4, wide: 2 * width}
        layers: [{kind: conv, out_channels: wide, kernel_size: 3}]
    """)
    assert netspec.check(path, overrides=["width=5"]).graph.output_shape == (10, 6, 6)
    assert netspec.check(path, overrides=["width=2 * 3"]).graph.output_shape == (12, 6, 6)  # an expression


@pytest.mark.parametrize("given, where, message, hint", [
    ("num_clases=100", 7, "'num_clases' is not one of the spec's params", "did you mean 'num_classes'?"),
    ("lr=0.1", 7, "'lr' is not one of the spec's params", "did you mean 'train.lr'? (training settings are set "
                                                           "as train.KEY)"),
    ("num_classes=abc", 19, "params.num_classes: expected a number or true/false; got 'abc'", None),
    ("num_classes=010", 19, "ambiguous number '010': expected a plain decimal number (YAML 1.1 reads a leading 0 "
                            "as octal: 010 is 8)", "write 10 without the leading zero, or quote it if you mean a "
                                                   "string"),
    ("train.lrr=0.1", 7, "train: unknown field 'lrr'", "did you mean 'lr'?"),
    ("train.epochs=0", 20, "epochs: expected greater than or equal to 1; got 0", None),
    ("num_classes", 7, "--set: expected NAME=VALUE; got 'num_classes'", "e.g. --set width=0.5 or --set train.lr=0.1"),
])
def test_a_bad_override_is_one_error_located_at_the_override(given, where, message, hint):
    report = netspec.check(RESNET, overrides=[given])
    assert errors(report) == [(f"<--set {given}>", 1, where, message, hint)]


def test_a_value_that_the_file_then_refuses_is_blamed_on_the_override():
    report = netspec.check(RESNET, overrides=["num_classes=1.5"])
    ((file, line, column, message, _),) = errors(report)
    assert (file, line, column) == ("<--set num_classes=1.5>", 1, 19)
    assert message == (f"out_features: expected a valid integer; got 1.5 (at {RESNET}:32:44, `num_classes` "
                       "with --set num_classes=1.5)")


def test_the_cli_shows_the_override_with_a_caret_and_exits_1():
    result = run("check", RESNET, "--set", "num_clases=100")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines()[:4] == [
        "<--set num_clases=100>:1:7: error: 'num_clases' is not one of the spec's params",
        "    1 | --set num_clases=100",
        "              ^",
        "  hint: did you mean 'num_classes'?"]


def test_setting_one_name_twice_is_an_error():
    report = netspec.check(RESNET, overrides=["num_classes=3", "num_classes=4"])
    assert [d.message for d in report.errors] == ["'num_classes' is set twice (--set num_classes=3 and --set "
                                                  "num_classes=4)"]


def test_every_command_that_reads_a_spec_has_set_and_scale():
    for command in ("check", "train", "eval", "predict", "export", "graph", "filters"):
        options = {option for param in cli.get_command(None, command).params for option in param.opts}
        assert {"--set", "--scale"} <= options, command


def test_graph_and_export_build_the_variant(tmp_path):
    assert run("graph", FAMILY, "--set", "num_classes=7", "-o", tmp_path / "g.dot").exit_code == 0
    assert "output [label=\"output 7\"" in (tmp_path / "g.dot").read_text()
    result = run("export", FAMILY, "--scale", "n", "--format", "python", "-o", tmp_path / "n.py")
    assert result.exit_code == 0, result.output
    assert "x = self.conv1(x)  # (8, 24, 24)" in (tmp_path / "n.py").read_text()  # scale n: width 8
    bad = run("graph", FAMILY, "--set", "widht=3", "-o", tmp_path / "x.dot")
    assert bad.exit_code == 1 and "<--set widht=3>:1:7: error: 'widht' is not one of the spec's params" in bad.stderr
