"""Diagnostics found while writing torchvision's models as specs (issue 10, item 4): each a regression test."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netspec
from netspec.kinds.base import Notes, sliding_output


def messages(report) -> list[tuple]:
    return [(d.message, d.line, d.column, d.hint) for d in report.errors]


def torch_unused_pixels(size: int, kernel: int, stride: int, padding: int) -> tuple[int, int]:
    """As torch sees them: the input pixels after the last window (no output depends on them), and the
    longest run of unused pixels between used ones (the gap a stride longer than the window leaves)."""
    import torch

    x = torch.ones(1, 1, 1, size, requires_grad=True)
    out = torch.nn.functional.conv2d(x, torch.ones(1, 1, 1, kernel), stride=(1, stride), padding=(0, padding))
    out.sum().backward()
    used = x.grad[0, 0, 0].nonzero().flatten().tolist()
    gaps = [after - before - 1 for before, after in zip(used, used[1:])]
    one_window = out.shape[-1] == 1  # shows no gap between windows: the one a second window would leave
    return size - 1 - used[-1], max(0, stride - kernel) if one_window else max(gaps, default=0)


@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 4), st.integers(0, 3))
@settings(max_examples=80, deadline=None)
def test_the_uneven_division_warning_fires_exactly_when_torch_drops_input_pixels(size, kernel, stride, padding):
    if kernel > size + 2 * padding or padding > kernel // 2:
        return  # the window does not fit (an error, tested elsewhere) or torch refuses the padding
    notes = Notes()
    sliding_output(size, kernel, stride, padding, notes=notes)
    dropped, regular_gap = torch_unused_pixels(size, kernel, stride, padding)
    assert len(notes.warnings) == (dropped > regular_gap)
    if dropped > regular_gap:
        assert f"drops the last {dropped} pixel(s) of the input" in notes.warnings[0][0]


def test_resnets_strided_stem_pool_and_convs_on_an_even_input_give_no_warning(check_text):
    report = check_text("""\
        name: t
        input: [3, 224, 224]
        layers:
          - {kind: conv, out_channels: 8, kernel_size: 7, stride: 2, padding: 3}
          - {kind: maxpool, kernel_size: 3, stride: 2, padding: 1}
          - {kind: conv, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}
          - {kind: conv, out_channels: 8, kernel_size: 1, stride: 2}
        """)
    assert report.diagnostics == [] and report.graph.output_shape == (8, 14, 14)


@pytest.mark.parametrize("text, expected", [
    ("name: t\nlayers:\n  - kind: conv\n     out_channels: 3\n",
     ("line 4 is indented deeper than line 3, so YAML reads `out_channels:` as part of line 3's value", 4, 6,
      "indent `out_channels:` to column 5, like `kind:` on line 3")),
    ("name: t\nlayers:\n  - kind: conv\n    out_channels: 3\n   kernel_size: 3\n",
     ("line 5 is indented less than line 4, so YAML cannot tell which list or mapping `kernel_size:` belongs to",
      5, 4, "indent `kernel_size:` to column 5, like `out_channels:` on line 4")),
    ("name: t\nlayers:\n  - relu\n - flatten\n",
     ("line 4 is indented less than line 3, so YAML cannot tell which list or mapping `- flatten` belongs to",
      4, 2, "indent `- flatten` to column 3, like the `-` of `- relu` on line 3")),
    ("name: t\n input: [1, 2, 2]\nlayers: [relu]\n",
     ("line 2 is indented deeper than line 1, so YAML reads `input:` as part of line 1's value", 2, 2,
      "indent `input:` to column 1, like `name:` on line 1")),
])
def test_misindented_yaml_says_which_line_and_the_column_that_fits(check_text, text, expected):
    report = check_text(text)
    assert [(d.code, *messages_row) for d, messages_row in zip(report.errors, messages(report))] == [
        ("yaml.indentation", *expected)]


def test_a_dash_indented_under_the_one_above_is_not_an_unknown_kind(check_text):
    report = check_text("name: t\ninput: [1, 8, 8]\nlayers:\n  - relu\n   - flatten\n")
    assert [(d.code, d.message, d.line, d.column, d.hint) for d in report.errors] == [
        ("yaml.indentation", "`- flatten` on line 5 is indented deeper than `- relu` above it, so YAML reads both "
                             "as the one value 'relu - flatten'", 5, 4,
         "put the `-` of `- flatten` in column 3, under the one above")]


def test_an_expression_yaml_split_at_its_comma_is_said_once_with_the_quoted_fix(check_text):
    report = check_text("""\
        name: t
        input: [8, 4, 4]
        blocks:
          se:
            params: [squeeze]
            layers: [{kind: conv, out_channels: squeeze, kernel_size: 1}]
        layers:
          - {block: se, squeeze: max(1, in_channels // 4)}
          - {kind: conv, out_channels: min(in_channels, 3, 5), kernel_size: 1}
        """)
    assert messages(report) == [
        ("squeeze: YAML split the expression 'max(1, in_channels // 4)' at its comma", 8, 26,
         "quote it: `squeeze: 'max(1, in_channels // 4)'` (in `{...}` a comma separates fields)"),
        ("out_channels: YAML split the expression 'min(in_channels, 3, 5)' at its comma", 9, 32,
         "quote it: `out_channels: 'min(in_channels, 3, 5)'` (in `{...}` a comma separates fields)")]
    assert report.graph.output_shape == (2, 4, 4)  # read as meant, so nothing after it is misreported


def test_an_add_of_a_map_and_its_gate_proposes_mul(check_text):
    report = check_text("""\
        name: t
        input: [8, 16, 16]
        layers:
          - kind: add
            branches:
              map: []
              gate: [{adaptive_avgpool: 1}, {kind: conv, out_channels: 8, kernel_size: 1}, sigmoid]
        """)
    (error,) = report.errors
    assert error.hint == ("to scale the (8, 16, 16) map by the (8, 1, 1) gate (squeeze-excitation), use `kind: mul`, "
                          "which broadcasts it")


def test_a_channels_last_input_is_named_as_such(check_text):
    report = check_text("name: t\ninput: [28, 28, 1]\nlayers:\n"
                        "  - {kind: conv, out_channels: 6, kernel_size: 3}\n")
    (error,) = report.errors
    assert error.hint.startswith("the input [28, 28, 1] looks channels-last: netspec reads [C, H, W], so an image is "
                                 "`input: [1, 28, 28]`; if it is right: ")


def test_uses_of_a_refused_block_definition_are_not_reported_again(check_text):
    report = check_text("""\
        name: t
        input: [3, 8, 8]
        blocks:
          conv: {layers: [relu]}
          bad-name: {layers: [relu]}
          nolayers: {params: [a]}
        layers: [{block: conv}, bad-name, {block: nolayers, a: 1}, {block: bad-name}, {bad-name: {}}]
        """)
    assert [(d.code, d.line) for d in report.errors] == [("spec.block_name", 4), ("spec.block_name", 5),
                                                           ("spec.block", 6)]


def test_mistakes_after_a_shape_error_are_still_reported(check_text):
    report = check_text("""\
        name: t
        input: [1, 8, 8]
        layers:
          - {kind: conv, out_channels: 4, kernel_size: 3, in_channels: 3}
          - {kind: batchnorm, num_features: 5}
          - {kind: linear, out_features: 10}
          - relu
          - {kind: linear, out_features: 5, in_features: 12}
        """)
    assert [(d.code, d.line, d.message) for d in report.errors] == [
        ("shape.conv", 4, "in_channels: expected 1 (the previous layer's output); got 3"),
        ("shape.batchnorm", 5, "num_features: expected 4 (the input's channels); got 5"),
        ("shape.linear", 6, "linear expects a flat (features,) input; got (4, 6, 6)"),
        ("shape.linear", 8, "in_features: expected 10 (the flattened input); got 12"),
    ]


def test_a_shape_left_uncertain_by_an_error_reports_nothing_after_it(check_text):
    report = check_text("name: t\ninput: [1, 8, 8]\nlayers:\n  - {kind: conv, out_channels: 4, kernel_size: 9}\n"
                        "  - {kind: linear, out_features: 10}\n")
    assert [d.code for d in report.errors] == ["shape.conv"]


@pytest.mark.parametrize("train, hint", [
    ("{optimizer: SGD}", "did you mean 'sgd'?"),
    ("{schedule: {kind: cosin}}", "did you mean 'cosine'?"),
])
def test_a_misspelt_choice_gets_did_you_mean(check_text, train, hint):
    report = check_text(f"name: t\ninput: [1, 8, 8]\nlayers: [relu]\ntrain: {train}\n")
    assert [d.hint for d in report.errors] == [hint]


def test_yaml_errors_on_lines_of_any_shape_never_raise(check_text):
    report = check_text("n#a net\ninput: [1, 8, 8]\nlayers: [relu]\n")  # Hypothesis found this one
    assert [d.code for d in report.errors] == ["yaml.syntax"]
