"""Expander behaviour not covered by the per-kind tables: `from:` on a merge."""

from __future__ import annotations

import netspec

STEM = "name: t\ninput: [1, 8, 8]\nlayers:\n  - {kind: conv, name: stem, out_channels: 2, kernel_size: 3}\n" \
       "  - {kind: conv, out_channels: 5, kernel_size: 3}\n"


def test_a_merge_with_from_runs_its_branches_on_the_named_layer(check_text):
    import torch

    report = check_text(STEM + "  - {kind: add, from: stem, branches: [[relu], []]}\n")
    assert report.errors == [] and report.graph.output_shape == (2, 6, 6)
    stem = report.graph.nodes[1]
    relu, add = report.graph.nodes[3:]
    assert relu.inputs == (stem.index,) and add.inputs == (relu.index, stem.index)
    assert netspec.build(report)(torch.zeros(1, 1, 8, 8)).shape == (1, 2, 6, 6)


def test_a_merge_with_both_from_and_inputs_is_refused(check_text):
    report = check_text(STEM + "  - {kind: add, from: stem, inputs: [stem, stem]}\n")
    (error,) = report.errors
    assert (error.code, error.line, error.column) == ("merge.form", 6, 17)
    assert error.message == "add: expected `from` or `inputs`, not both"
