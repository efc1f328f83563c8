"""`scales:` presets (`--scale`, `spec.yaml@s`) and `imports:` of block libraries."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import netspec
from netspec.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FAMILY = str(EXAMPLES / "resnet_family.yaml")
SCALES = {"n": (8, 1), "s": (16, 1), "m": (32, 2), "l": (48, 3)}  # resnet_family.yaml's (width, depth)


def run(*args: str):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def errors(report):
    return [(d.file, d.line, d.column, d.message) for d in report.errors]


@pytest.mark.parametrize("scale", SCALES)
def test_the_family_checks_at_every_scale_and_each_is_the_network_its_params_give(scale):
    width, depth = SCALES[scale]
    scaled = netspec.check(f"{FAMILY}@{scale}")
    assert scaled.ok and scaled.spec.scale == scale and scaled.spec.params["width"] == width
    same = netspec.check(FAMILY, overrides={"width": width, "depth": depth})
    assert (scaled.params, scaled.macs) == (same.params, same.macs)
    assert netspec.check(FAMILY, scale=scale).params == scaled.params
    convs = [node for node in scaled.graph.layers if node.kind == "conv"]
    assert len(convs) == 2 + 2 * 2 * depth and convs[0].out_shape[0] == width


def test_an_unknown_scale_is_shown_with_a_caret():
    assert run("check", FAMILY, "--scale", "xl").stderr.splitlines()[:3] == [
        "<--scale xl>:1:9: error: unknown scale 'xl' (its scales: n, s, m, l)", "    1 | --scale xl", "" + " " * 16 + "^"]


def test_check_prints_the_scale_it_used():
    assert "scale: m of n, s, m, l" in run("check", f"{FAMILY}@m").stdout
    assert "scale: none (the params' own values) of n, s, m, l" in run("check", FAMILY).stdout
    assert "scale: s of n, s, m, l; overrides: num_classes=3" in run("check", FAMILY, "--scale", "s", "--set",
                                                                      "num_classes=3").stdout


def test_an_override_wins_over_the_scale():
    assert netspec.check(FAMILY, scale="n", overrides=["width=12"]).spec.params["width"] == 12


def test_an_unknown_scale_is_one_error_with_a_guess(write_spec):
    report = netspec.check(FAMILY, scale="xl")
    assert [(d.file, d.message, d.hint) for d in report.errors] == [
        ("<--scale xl>", "unknown scale 'xl' (its scales: n, s, m, l)", "did you mean 'l'?")]
    assert errors(netspec.check(f"{FAMILY}@q")) == [(f"<{FAMILY}@q>", 1, len(FAMILY) + 2, "unknown scale 'q' (its scales: n, s, m, "
                                                                           "l)")]


def test_a_scale_naming_no_param_is_reported_at_its_line(write_spec):
    path = write_spec("""
        name: t
        input: [1, 8, 8]
        params: {width: 4}
        scales:
          small: {widht: 2}
        layers: [{kind: conv, out_channels: width, kernel_size: 3}]
    """)
    report = netspec.check(path)
    assert [(d.line, d.column, d.message, d.hint) for d in report.errors] == [
        (5, 11, "scales.small: 'widht' is not one of the spec's params", "did you mean 'width'?")]


def blocks_file(write_spec):
    return write_spec("""
        blocks:
          double:
            params: [channels]
            layers:
              - {kind: conv, out_channels: channels, kernel_size: 3, padding: 1}
              - {kind: conv, out_channels: 2 * channels, kernel_size: 3, padding: 1}
    """, "lib.yaml")


def test_one_blocks_file_serves_two_specs(write_spec):
    blocks_file(write_spec)
    first = write_spec("name: a\ninput: [1, 8, 8]\nimports: [lib.yaml]\nlayers: [{block: double, channels: 4}]\n",
                       "a.yaml")
    second = write_spec("name: b\ninput: [3, 16, 16]\nimports: [lib.yaml]\nlayers: [{block: double, channels: 2}, "
                        "flatten]\n", "b.yaml")
    assert netspec.check(first).graph.output_shape == (8, 8, 8)
    assert netspec.check(second).graph.output_shape == (4 * 16 * 16,)
    for path in (EXAMPLES / "resnet_family.yaml", EXAMPLES / "resnet_cifar.yaml"):  # the shipped pair
        report = netspec.check(path)
        assert report.ok and "residual" in report.spec.blocks
        assert report.spec.blocks["residual"].mark.file == str(EXAMPLES / "blocks" / "resnet.yaml")


def test_an_error_inside_an_imported_block_is_reported_in_its_own_file(write_spec):
    lib = write_spec("blocks:\n  bad:\n    layers:\n      - {kind: conv, out_channels: 4, kernel_size: 9}\n",
                     "lib.yaml")
    spec = write_spec("name: a\ninput: [1, 8, 8]\nimports: [lib.yaml]\nlayers: [bad]\n", "a.yaml")
    report = netspec.check(spec)
    assert [(d.file, d.line, d.column) for d in report.errors] == [(lib, 4, 52)]  # at kernel_size: 9
    result = run("check", spec)
    assert f"{lib}:4:52: error:" in result.stderr and "    4 |       - {kind: conv, out_channels: 4, " in result.stderr


def test_an_import_cycle_is_one_error_naming_both_places(write_spec):
    a = write_spec("name: a\ninput: [1, 8, 8]\nimports: [b.yaml]\nlayers: [relu]\n", "a.yaml")
    b = write_spec("imports: [a.yaml]\nblocks: {}\n", "b.yaml")
    report = netspec.check(a)
    assert errors(report) == [(b, 1, 11, f"import cycle: {a} -> {b} -> {a} (the cycle starts at {a}:3:11)")]


def test_a_block_defined_in_two_files_is_one_error_naming_both(write_spec):
    lib = blocks_file(write_spec)
    spec = write_spec("name: a\ninput: [1, 8, 8]\nimports: [lib.yaml]\nblocks:\n  double:\n    layers: [relu]\n"
                      "layers: [double]\n", "a.yaml")
    assert errors(netspec.check(spec)) == [
        (spec, 5, 3, f"block 'double' is defined twice: at {lib}:2:3 and here")]


def test_a_missing_import_is_located_at_its_entry(write_spec):
    spec = write_spec("name: a\ninput: [1, 8, 8]\nimports: [nowhere.yaml]\nlayers: [relu]\n", "a.yaml")
    (error,) = netspec.check(spec).errors
    assert (error.line, error.column, error.hint) == (3, 11, "paths are relative to the importing file")
    assert error.message.startswith("imports: no spec file 'nowhere.yaml'")


def test_the_byte_budget_counts_the_imports_too(write_spec, monkeypatch):
    from netspec.yamlsrc import YamlBudget

    lib = blocks_file(write_spec)
    spec = write_spec("name: a\ninput: [1, 8, 8]\nimports: [lib.yaml]\nlayers: [{block: double, channels: 1}]\n")
    limit = max(len(Path(spec).read_bytes()), len(Path(lib).read_bytes())) + 10  # each file fits, not both
    monkeypatch.setattr(YamlBudget, "bytes", property(lambda budget: limit))
    (error,) = netspec.check(spec).errors
    assert error.code == "imports.budget" and error.line == 3
    assert error.message.startswith(f"expected the spec and its imports to be at most {limit:,} bytes")


def test_an_import_too_large_by_itself_is_one_error_in_its_file(write_spec, monkeypatch):
    from netspec.yamlsrc import YamlBudget

    lib = blocks_file(write_spec)
    spec = write_spec("name: a\ninput: [1, 8, 8]\nimports: [lib.yaml]\nlayers: [{block: double, channels: 1}]\n")
    monkeypatch.setattr(YamlBudget, "bytes", property(lambda budget: len(Path(spec).read_bytes()) + 1))
    (error,) = netspec.check(spec).errors  # and no second one for the block it would have defined
    assert error.code == "yaml.too_large" and error.file == lib


def test_a_diamond_of_imports_reads_the_shared_file_once(write_spec):
    blocks_file(write_spec)
    write_spec("imports: [lib.yaml]\nblocks: {one: {layers: [relu]}}\n", "left.yaml")
    write_spec("imports: [lib.yaml]\nblocks: {two: {layers: [relu]}}\n", "right.yaml")
    spec = write_spec("name: a\ninput: [1, 8, 8]\nimports: [left.yaml, right.yaml]\n"
                      "layers: [one, two, {block: double, channels: 1}]\n")
    report = netspec.check(spec)
    assert report.ok and set(report.spec.blocks) == {"double", "one", "two"}
