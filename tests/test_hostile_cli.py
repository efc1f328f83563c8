"""Hostile flags: every integer or number a flag takes is bounded (exit 2, a usage error, never exit 70),
and the README lists every exit status of every command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from netspec.cli import cli

ROOT = Path(__file__).resolve().parents[1]
LENET = str(ROOT / "specs" / "lenet_cifar.yaml")
HUGE = "9" * 401


@pytest.mark.parametrize("args", [
    ["check", LENET, "--input", f"1,{HUGE},28"],
    ["check", LENET, "--input", f"1,{'9' * 5_001},28"],
    ["check", LENET, "--batch", HUGE],
    ["check", LENET, "--max-params", HUGE],
    ["check", LENET, "--max-layers", HUGE],
    ["check", LENET, "--max-memory", "1e400"],
    ["export", LENET, "-o", "x.py", "--input", f"3,{HUGE},32"],
    ["train", LENET, "--dataset", "cifar10", "--seed", str(2**70)],
    ["train", LENET, "--dataset", "cifar10", "--epochs", HUGE],
    ["train", LENET, "--dataset", "cifar10", "--lr", "1e400"],
    ["eval", LENET, "c.pt", "--batch-size", HUGE],
    ["predict", LENET, "c.pt", "x.png", "--top", HUGE],
])
def test_numbers_given_as_flags_are_bounded(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Invalid value" in result.output and "Traceback" not in result.output


def test_the_python_api_bounds_integers_too(tmp_path):
    import netspec

    with pytest.raises(netspec.training.TrainError, match="expected seed of magnitude at most 1e\\+15"):
        netspec.train(LENET, "cifar10", seed=2**70, out=tmp_path / "run", download=False)


COMMANDS = sorted(cli.commands)  # every command, those added later too


def test_the_readme_lists_every_exit_status_of_every_command():
    """The table under "Exit status" names each command and, for each, the codes its --help gives, and 70."""
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Exit status"):]
    table = table[:table.index("\n## ", 1)]
    for command in COMMANDS:
        row = next((line for line in table.splitlines() if line.startswith(f"| `netspec {command}`")), None)
        assert row is not None, f"no exit-status row for netspec {command}"
        codes = set(re.findall(r"\b(\d{1,3})\b", row.split("|")[2]))
        help_text = CliRunner().invoke(cli, [command, "--help"]).output
        statuses = re.split(r"\n[\s\x08]*\n", help_text.partition("Exit status")[2])[0]  # that paragraph only
        documented = set(re.findall(r"\b(\d{1,3})\b", statuses))
        assert documented <= codes, (command, documented - codes)
        assert {"0", "2", "70"} <= codes, (command, codes)


def test_a_spec_within_max_layers_checks_written_out_in_full(tmp_path):
    """Issue 14: a written-out spec stopped at ~4,000 conv layers ("more than 20,000 YAML nodes")."""
    import netspec

    path = tmp_path / "deep.yaml"
    path.write_text("name: deep\ninput: [1, 8, 8]\nlayers:\n"
                    + "  - {kind: conv, out_channels: 4, kernel_size: 3, padding: 1}\n" * 5_000)
    report = netspec.check(path)
    assert report.ok and len(report.graph.layers) == 5_000
    (error,) = netspec.check(path, limits=netspec.Limits(max_nodes=3_000)).errors  # the same budget refuses it
    assert error.code == "budget.nodes" and "--max-layers (Limits.max_nodes)" in error.hint


def test_export_out_of_memory_is_exit_4(tmp_path, monkeypatch):
    import torch

    import netspec

    def allocate_too_much(*args, **kwargs):
        torch.empty(2**62, dtype=torch.uint8)  # the CPU allocator's own refusal

    monkeypatch.setattr(netspec, "export", allocate_too_much)
    result = CliRunner().invoke(cli, ["export", LENET, "-o", str(tmp_path / "x.py")])
    assert result.exit_code == 4, result.output
    assert "out of memory building the network" in result.output
