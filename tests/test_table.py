"""The check table (issue 13, item 4): a tree like torchinfo's, --depth folding, 100 columns,
print(report) and notebooks show it, MACs and FLOPs both labelled."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import netspec
from netspec.cli import cli
from netspec.table import render_table, visible_rows

SPECS = sorted((Path(__file__).resolve().parents[1] / "specs").glob("*.yaml"))
GOOGLENET = "specs/googlenet_mini.yaml"


@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.stem)
def test_the_default_table_fits_100_columns(path):
    text = render_table(netspec.check(path))
    assert max(map(len, text.splitlines())) <= 100, text


def test_rows_are_the_module_tree_with_each_container_first():
    report = netspec.check(GOOGLENET)
    shown = [("  " * row.level + row.name, row.node.kind) for row, _ in visible_rows(report)]
    assert shown[3:6] == [("incep1", "block"), ("  0", "concat"), ("    branch1x1.0", "conv")]
    assert len(shown) == len(report.graph.layers)
    lines = render_table(report).splitlines()
    assert lines[0].split() == ["layer", "kind", "output", "params", "MACs", "RF", "line"]
    incep1 = next(line for line in lines if line.startswith("incep1 "))
    assert incep1.split()[-4:-2] == ["--", "--"]  # expanded: its layers carry the counts


def test_depth_folds_a_block_into_one_row_with_its_totals():
    report = netspec.check(GOOGLENET)
    inside = [node for node in report.graph.layers if (node.module_name or "").startswith("incep1.")]
    rows = visible_rows(report, depth=1)
    assert [row.name for row, _ in rows] == ["conv1", "1", "2", "incep1", "conv2", "5", "6", "incep2", "8", "fc"]
    folded = {row.name: row for row, is_folded in rows if is_folded}
    assert set(folded) == {"incep1", "incep2"}
    assert (folded["incep1"].params, folded["incep1"].macs) == (sum(n.params for n in inside),
                                                                sum(n.macs for n in inside))
    line = next(line for line in render_table(report, depth=1).splitlines() if line.startswith("incep1 "))
    assert f"{folded['incep1'].params:,}" in line.split() and f"{folded['incep1'].macs:,}" in line.split()
    two_levels = [("  " * row.level + row.name, folded) for row, folded in visible_rows(netspec.check(
        "specs/resnet_mini.yaml"), depth=2)]
    assert ("  0", True) in two_levels and not any(name.startswith("    ") for name, _ in two_levels)


def test_cli_depth_prints_the_folded_table():
    result = CliRunner().invoke(cli, ["check", GOOGLENET, "--depth", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip("\n") == render_table(netspec.check(GOOGLENET), depth=1)
    assert CliRunner().invoke(cli, ["check", GOOGLENET, "--depth", "0"]).exit_code == 2


def test_totals_label_macs_and_flops():
    report = netspec.check(GOOGLENET)
    assert (f"MACs per sample: {report.macs:,} (6.02 M); FLOPs per sample (2 x MACs): {2 * report.macs:,} "
            f"(12.04 M)") in render_table(report)


def test_print_and_notebooks_show_the_table(check_text):
    report = netspec.check(GOOGLENET)
    assert str(report) == render_table(report)
    page = report._repr_html_()
    assert page.startswith("<table>") and page.count("<tr>") == len(report.graph.layers) + 1
    assert "branch3x3.2" in page and "FLOPs per sample (2 x MACs)" in page
    broken = check_text("name: t\ninput: [1, 8, 8]\nlayers: [{kind: conv, out_channels: 2, kernel_size: 9}]\n")
    assert "error: H and W collapse" in str(broken) and "<table>" not in broken._repr_html_()
    assert "error: H and W collapse" in broken._repr_html_()
