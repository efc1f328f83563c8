"""concat and add: merged shapes against torch, and the hints when branches do not line up."""

from __future__ import annotations

import textwrap

import pytest
from kind_harness import assert_matches_torch, output_node, single_error

import netspec


def check_spec(body: str, input_shape=(3, 8, 8)) -> netspec.Report:
    """Check a spec whose `layers:` list is `body` (YAML block text, dedented)."""
    text = f"name: probe\ninput: {list(input_shape)}\nlayers:\n" + textwrap.indent(textwrap.dedent(body), "  ")
    return netspec.check(netspec.load("probe.yaml", text=text))


SHAPES = [
    pytest.param("""\
        - kind: concat
          branches:
            - [{kind: conv, out_channels: 2, kernel_size: 1}]
            - [{kind: conv, out_channels: 4, kernel_size: 3, padding: 1}]
        """, (3, 8, 8), (6, 8, 8), id="concat-list"),
    pytest.param("""\
        - kind: concat
          branches:
            conv1x1: [{kind: conv, out_channels: 2, kernel_size: 1}]
            pool: [{kind: maxpool, kernel_size: 3, stride: 1, padding: 1}]
            skip: []
        """, (3, 8, 8), (2 + 3 + 3, 8, 8), id="concat-named-with-identity"),
    pytest.param("""\
        - {kind: conv, name: a, out_channels: 2, kernel_size: 3, padding: 1}
        - {kind: conv, name: b, out_channels: 5, kernel_size: 1}
        - {kind: concat, inputs: [a, b, input]}
        """, (3, 8, 8), (2 + 5 + 3, 8, 8), id="concat-inputs-by-name"),
    pytest.param("""\
        - kind: concat
          branches:
            - [flatten, {linear: 4}]
            - [global_avgpool]
        """, (3, 8, 8), (4 + 3,), id="concat-flat"),
    pytest.param("""\
        - kind: add
          branches:
            body: [{kind: conv, out_channels: 3, kernel_size: 3, padding: 1}, relu]
            shortcut: []
        """, (3, 8, 8), (3, 8, 8), id="add-identity"),
    pytest.param("""\
        - kind: add
          branches:
            body: [{kind: conv, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}]
            downsample: [{kind: conv, out_channels: 8, kernel_size: 1, stride: 2}]
        """, (3, 8, 8), (8, 4, 4), id="add-projection"),
    pytest.param("""\
        - kind: add
          branches:
            - [identity]
            - [{kind: conv, out_channels: 3, kernel_size: 1}]
            - []
        """, (3, 8, 8), (3, 8, 8), id="add-three-way"),
    pytest.param("""\
        - {kind: conv, name: stem, out_channels: 4, kernel_size: 3, padding: 1}
        - {kind: conv, name: body, out_channels: 4, kernel_size: 3, padding: 1}
        - {kind: add, inputs: [stem, body]}
        """, (3, 8, 8), (4, 8, 8), id="add-inputs-by-name"),
]


@pytest.mark.parametrize("body, input_shape, expected", SHAPES)
def test_merged_shape_and_params_match_torch(body, input_shape, expected):
    report = check_spec(body, input_shape)
    assert_matches_torch(report, input_shape, expected)
    merge = output_node(report)
    assert merge.kind in ("concat", "add")
    assert (merge.params, merge.macs) == (0, 0)


def test_each_branch_layer_is_a_node_named_after_its_branch():
    report = check_spec(SHAPES[1].values[0])
    paths = [(node.path, node.module_name) for node in report.graph.layers]
    assert paths == [("layers[0].branches.conv1x1[0]", "0.conv1x1.0"),
                     ("layers[0].branches.pool[0]", "0.pool.0"),
                     ("layers[0]", "0")]


CONCAT_MISMATCH = """\
    - kind: concat
      branches:
        - [{kind: conv, out_channels: 2, kernel_size: 3}]
        - [{kind: conv, out_channels: 3, kernel_size: 1}]
    """

ERRORS = [
    pytest.param(CONCAT_MISMATCH, (3, 12, 12),
                 "concat: expected every input to have the same H x W; got (2, 10, 10), (3, 12, 12)",
                 "branch 0 outputs 10x10, the others 12x12: keep the size with padding (k-1)/2 and stride 1 on a "
                 "k x k conv, or a 3x3 pool with stride 1 padding 1", id="concat-hw"),
    pytest.param("""\
        - kind: concat
          branches:
            wide: [{kind: conv, out_channels: 2, kernel_size: 1}]
            narrow: [{kind: conv, out_channels: 2, kernel_size: 5}]
            pooled: [{kind: maxpool, kernel_size: 2}]
        """, (3, 12, 12), "concat: expected every input to have the same H x W; got (2, 12, 12), (2, 8, 8), "
                          "(3, 6, 6)",
                 "branch 'narrow' outputs 8x8, branch 'pooled' outputs 6x6, the others 12x12: keep the size with "
                 "padding (k-1)/2 and stride 1 on a k x k conv, or a 3x3 pool with stride 1 padding 1",
                 id="concat-hw-named-branches"),
    pytest.param("""\
        - kind: concat
          branches:
            - [flatten]
            - []
        """, (3, 2, 2), "concat: expected inputs of one rank; got (12,), (3, 2, 2)",
                 "flatten all inputs or none of them", id="concat-rank"),
    pytest.param("""\
        - kind: add
          branches:
            body: [{kind: conv, out_channels: 8, kernel_size: 3, padding: 1}]
            shortcut: []
        """, (3, 8, 8), "add: expected every input to have shape (8, 8, 8); got (8, 8, 8), (3, 8, 8)",
                 "give branch 'shortcut', which outputs (3, 8, 8), a 1x1 conv with out_channels 8 (ResNet's "
                 "downsample) so it outputs (8, 8, 8)", id="add-channels"),
    pytest.param("""\
        - kind: add
          branches:
            shortcut: []
            body: [{kind: conv, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}]
        """, (3, 8, 8), "add: expected every input to have shape (3, 8, 8); got (3, 8, 8), (8, 4, 4)",
                 "give branch 'shortcut', which outputs (3, 8, 8), a 1x1 conv with out_channels 8 and stride 2 "
                 "(ResNet's downsample) so it outputs (8, 4, 4)", id="add-channels-and-stride"),
    pytest.param("""\
        - kind: add
          branches:
            - [{kind: conv, out_channels: 3, kernel_size: 3}]
            - [{kind: conv, out_channels: 3, kernel_size: 2}]
        """, (3, 8, 8), "add: expected every input to have shape (3, 6, 6); got (3, 6, 6), (3, 7, 7)",
                 "the spatial sizes 7x7 and 6x6 differ by no common stride: adjust padding or stride so they match",
                 id="add-no-stride-fits"),
    pytest.param("""\
        - kind: add
          branches:
            - [flatten, {linear: 10}]
            - [flatten, {linear: 12}]
        """, (3, 2, 2), "add: expected every input to have shape (10,); got (10,), (12,)",
                 "give the input of 12 features a linear layer with out_features 10", id="add-flat"),
]


@pytest.mark.parametrize("body, input_shape, message, hint", ERRORS)
def test_mismatch_errors_are_pinned_with_a_fix(body, input_shape, message, hint):
    error = single_error(check_spec(body, input_shape))
    assert (error.code, error.message, error.hint) == (f"shape.{message.split(':')[0]}", message, hint)
    assert (error.file, error.line, error.column, error.path) == ("probe.yaml", 4, 5, "layers[0]")


def test_concat_hint_names_the_inputs_given_by_name():
    report = check_spec("- {kind: conv, name: a, out_channels: 2, kernel_size: 3}\n"
                        "- {kind: concat, inputs: [input, a]}\n", (3, 12, 12))
    error = single_error(report)
    assert (error.line, error.path) == (5, "layers[1]")
    assert error.hint == ("'a' outputs 10x10, the others 12x12: keep the size with padding (k-1)/2 and stride 1 on a "
                          "k x k conv, or a 3x3 pool with stride 1 padding 1")


def test_torch_refuses_the_concat_the_checker_refuses():
    import torch

    with pytest.raises(RuntimeError):
        torch.cat([torch.zeros(1, 2, 10, 10), torch.zeros(1, 3, 12, 12)], dim=1)


@pytest.mark.parametrize("body, message, spot", [
    pytest.param("- {kind: concat, branches: [[], []], inputs: [input, input]}",
                 "concat: expected exactly one of `branches` or `inputs`", "{", id="both"),
    pytest.param("- {kind: concat}", "concat: expected exactly one of `branches` or `inputs`", "{", id="neither"),
    pytest.param("- {kind: add, branches: [[relu]]}", "add: expected at least 2 branches; got 1", "[[",
                 id="one-branch"),
    pytest.param("- {kind: add, inputs: [input]}", "add: expected at least 2 inputs; got 1", "[", id="one-input"),
    pytest.param("- {kind: add, inputs: [input, stme]}", "inputs: no earlier layer is named 'stme'", "stme",
                 id="unknown-input"),
])
def test_merge_form_errors(body, message, spot):
    error = single_error(check_spec(body + "\n"))
    assert (error.message, error.line, error.path) == (message, 4, "layers[0]")
    assert error.column == len("  ") + body.index(spot) + 1
