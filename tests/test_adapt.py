"""Blocks that adapt: `if:`, `repeat: 0` and `index:`, the input shape in expressions, `defaults:` and
kind-valued block parameters. Torch (torchvision's own blocks where they exist) is the oracle."""

from __future__ import annotations

import json

import pytest

import netspec


def errors(report) -> list[tuple]:
    return [(d.message, d.line, d.column, d.hint) for d in report.errors]


def kinds(report) -> list[str]:
    return [node.kind for node in report.graph.layers]


def copy_weights(source, target) -> None:
    """Same architecture, same state_dict order: copy tensor by tensor (the shapes must agree)."""
    import torch

    mine, theirs = target.state_dict(), source.state_dict()
    assert [v.shape for v in mine.values()] == [v.shape for v in theirs.values()]
    with torch.no_grad():
        for (key, value), other in zip(mine.items(), theirs.values()):
            value.copy_(other)


# torchvision's ResNet BasicBlock, written once: the projection shortcut exists only where it must.
BASIC = """\
name: t
input: [{c}, 8, 8]
blocks:
  basic:
    params: {{out: 8, stride: 1, project: stride != 1 or in_channels != out}}
    layers:
      - kind: add
        branches:
          body:
            - {{kind: conv, out_channels: out, kernel_size: 3, stride: stride, padding: 1, bias: false}}
            - batchnorm
            - relu
            - {{kind: conv, out_channels: out, kernel_size: 3, padding: 1, bias: false}}
            - batchnorm
          shortcut:
            - {{kind: conv, if: project, out_channels: out, kernel_size: 1, stride: stride, bias: false}}
            - {{kind: batchnorm, if: project}}
      - relu
layers:
  - {{block: basic, out: 8, stride: {stride}}}
"""


@pytest.mark.parametrize("channels, stride", [(8, 1), (4, 1), (8, 2), (4, 2)])
def test_one_block_is_torchvisions_basic_block_with_and_without_downsample(check_text, channels, stride):
    import torch
    from torch import nn
    from torchvision.models.resnet import BasicBlock

    report = check_text(BASIC.format(c=channels, stride=stride))
    assert report.ok, errors(report)
    downsample = None
    if stride != 1 or channels != 8:
        downsample = nn.Sequential(nn.Conv2d(channels, 8, 1, stride, bias=False), nn.BatchNorm2d(8))
    theirs = BasicBlock(channels, 8, stride, downsample).train()
    ours = netspec.build(report).train()
    assert report.params == sum(p.numel() for p in theirs.parameters())
    copy_weights(theirs, ours)
    x = torch.randn(2, channels, 8, 8)
    assert torch.allclose(ours(x), theirs(x), atol=1e-6)
    assert report.graph.output_shape == tuple(theirs(x).shape[1:])


def test_an_add_without_its_shortcut_branch_is_its_body(check_text):
    # MobileNetV2's `use_res_connect`: the residual sum only where stride is 1 and the channels stay
    text = """\
        name: t
        input: [4, 8, 8]
        blocks:
          unit:
            params: {out: 4, stride: 1}
            layers:
              - kind: add
                branches:
                  body: [{kind: conv, out_channels: out, kernel_size: 3, stride: stride, padding: 1}]
                  shortcut: {if: stride == 1 and in_channels == out, layers: []}
        layers:
          - {block: unit}
          - {block: unit, out: 6, stride: 2}
        """
    report = check_text(text)
    assert report.ok, errors(report)
    first_add, second_add = (node for node in report.graph.layers if node.kind == "add")
    assert len(first_add.inputs) == 2 and len(second_add.inputs) == 1
    assert report.graph.output_shape == (6, 4, 4)
    import torch

    assert netspec.build(report)(torch.zeros(1, 4, 8, 8)).shape == (1, 6, 4, 4)


def test_a_false_if_removes_a_layer_a_block_use_or_a_repeat(check_text):
    report = check_text("""\
        name: t
        input: [3, 8, 8]
        params: {deep: 0}
        blocks:
          b: {layers: [tanh]}
        layers:
          - {kind: conv, if: deep == 1, out_channels: 4, kernel_size: 3}
          - {block: b, if: deep > 0}
          - {repeat: 2, if: not deep == 1, layers: [relu]}
          - {kind: conv, if: true, out_channels: 2, kernel_size: 1}
        """)
    assert report.ok, errors(report)
    assert kinds(report) == ["relu", "relu", "conv"] and report.graph.output_shape == (2, 8, 8)


def test_a_concat_branch_with_a_false_if_is_dropped(check_text):
    report = check_text("""\
        name: t
        input: [3, 8, 8]
        params: {pool_branch: false}
        layers:
          - kind: concat
            branches:
              a: [{kind: conv, out_channels: 4, kernel_size: 1}]
              b: [{kind: conv, out_channels: 5, kernel_size: 1}]
              pool: {if: pool_branch, layers: [{kind: maxpool, kernel_size: 3, stride: 1, padding: 1}]}
        """)
    assert report.ok, errors(report)
    assert report.graph.output_shape == (9, 8, 8)


@pytest.mark.parametrize("condition, message", [
    ("3", "if: expected a condition (true, false or a comparison); got 3"),
    ("width + 1", "if: expected a condition (true, false or a comparison); got 'width + 1' = 5"),
    ("widht > 2", "unknown parameter 'widht' in 'widht > 2'"),
])
def test_an_if_that_is_not_a_condition_is_refused(check_text, condition, message):
    report = check_text(f"name: t\ninput: [3, 8, 8]\nparams: {{width: 4}}\nlayers:\n"
                        f"  - {{kind: conv, if: {condition}, out_channels: 2, kernel_size: 1}}\n  - relu\n")
    assert [d.message for d in report.errors] == [message]
    assert (report.errors[0].line, report.errors[0].column) == (5, 22)


def test_an_empty_repeat_is_the_identity(check_text):
    import torch

    report = check_text("""\
        name: t
        input: [3, 8, 8]
        params: {blocks: 1}
        layers:
          - {kind: conv, out_channels: 4, kernel_size: 3, padding: 1}
          - {repeat: blocks - 1, name: rest, layers: [{kind: conv, out_channels: 4, kernel_size: 3, padding: 1}]}
          - {kind: add, inputs: [rest, rest]}
        """)
    assert report.ok, errors(report)
    assert kinds(report) == ["conv", "add"]
    assert netspec.build(report)(torch.ones(1, 3, 8, 8)).shape == (1, 4, 8, 8)


def test_the_repeat_index_numbers_the_copies(check_text):
    from torch import nn

    report = check_text("""\
        name: t
        input: [3, 8, 8]
        layers:
          - repeat: 3
            index: i
            layers:
              - {kind: conv, out_channels: 4 + 2 * i, kernel_size: 1}
              - {kind: dropout, p: 0.1 * i}
              - {kind: relu, if: i < 2}
        """)
    assert report.ok, errors(report)
    assert [n.out_shape[0] for n in report.graph.layers if n.kind == "conv"] == [4, 6, 8]
    assert kinds(report) == ["conv", "dropout", "relu", "conv", "dropout", "relu", "conv", "dropout"]
    model = netspec.build(report)
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.0, 0.1, 0.2]


def test_layers_see_their_input_shape(check_text):
    import torch

    # DenseNet's transition halves whatever channel count the dense block left
    report = check_text("""\
        name: t
        input: [6, 8, 9]
        blocks:
          transition:
            layers:
              - {kind: conv, out_channels: in_channels // 2, kernel_size: 1}
              - {kind: avgpool, kernel_size: 2}
        layers:
          - {kind: conv, out_channels: in_channels * in_height, kernel_size: 1}
          - transition
          - {kind: conv, out_channels: 2, kernel_size: [in_height, in_width]}
          - flatten
          - {kind: linear, out_features: in_features + 1}
        """)
    assert report.ok, errors(report)
    assert [n.out_shape for n in report.graph.layers] == [(48, 8, 9), (24, 8, 9), (24, 4, 4), (24, 4, 4),
                                                           (2, 1, 1), (2,), (3,)]
    assert netspec.build(report)(torch.zeros(1, 6, 8, 9)).shape == (1, 3)


def test_a_block_default_may_use_the_blocks_input_and_earlier_parameters(check_text):
    report = check_text("""\
        name: t
        input: [6, 8, 8]
        blocks:
          expand:
            params: {ratio: 4, hidden: in_channels * ratio}
            layers: [{kind: conv, out_channels: hidden, kernel_size: 1}]
        layers: [expand, {block: expand, ratio: 2}]
        """)
    assert report.ok, errors(report)
    assert [n.out_shape[0] for n in report.graph.layers if n.kind == "conv"] == [24, 48]


def test_an_input_shape_left_unknown_by_an_error_gives_no_second_error(check_text):
    report = check_text("name: t\ninput: [3, 8, 8]\nlayers:\n  - {kind: conv, out_channels: 4, kernel_size: 9}\n"
                        "  - {kind: conv, out_channels: in_channels, kernel_size: 1}\n"
                        "  - {kind: relu, if: in_channels > 2}\n")
    assert [d.code for d in report.errors] == ["shape.conv"]


def test_a_parameter_named_like_a_shape_name_wins(check_text):
    report = check_text("name: t\ninput: [3, 8, 8]\nparams: {in_channels: 5}\n"
                        "layers: [{kind: conv, out_channels: in_channels, kernel_size: 1}]\n")
    assert report.ok and report.graph.output_shape == (5, 8, 8)


def test_defaults_per_kind_apply_before_validation_and_a_layer_overrides_them(check_text):
    from torch import nn

    report = check_text("""\
        name: t
        input: [3, 8, 8]
        params: {eps: 0.001}
        defaults:
          batchnorm: {eps: eps, momentum: 0.01}
          conv: {kernel_size: 3, padding: 1, bias: false}
        layers:
          - {kind: conv, out_channels: 4}
          - batchnorm
          - {kind: conv, out_channels: 4, kernel_size: 1, padding: 0}
          - {batchnorm: {momentum: 0.1}}
        """)
    assert report.ok, errors(report)
    norms = [m for m in netspec.build(report).modules() if isinstance(m, nn.BatchNorm2d)]
    assert [(m.eps, m.momentum) for m in norms] == [(0.001, 0.01), (0.001, 0.1)]
    assert report.params == 3 * 4 * 9 + 8 + 4 * 4 + 8


def test_defaults_errors(check_text):
    report = check_text("""\
        name: t
        input: [3, 8, 8]
        defaults:
          batchnrom: {eps: 0.001}
          conv: {kernel: 3, name: c}
          relu: 3
          dropout: {p: 2}
        layers: [dropout, dropout]
        """)
    assert errors(report) == [
        ("defaults: unknown layer kind 'batchnrom'", 4, 3, "did you mean 'batchnorm'?"),
        ("defaults.conv: unknown field 'kernel'", 5, 10, "did you mean 'kernel_size'?"),
        ("defaults.conv: 'name' cannot have a default", 5, 21,
         "fields with defaults: trainable, out_channels, kernel_size, stride, padding, dilation, groups, bias, "
         "in_channels"),
        ("defaults.relu: expected a mapping of field: value", 6, 9, "e.g. `relu: {...}` with fields from "
                                                                     "`netspec schema`"),
        ("p: expected less than or equal to 1; got 2 (in each of 2 uses: layers[0], layers[1])", 7, 16, None),
    ]


def test_a_block_parameter_may_name_a_layer_kind(check_text):
    from torch import nn

    report = check_text("""\
        name: t
        input: [3, 8, 8]
        blocks:
          unit:
            params: {act: relu}
            layers: [{kind: conv, out_channels: 4, kernel_size: 1}, {kind: act}, act]
        layers: [unit, {block: unit, act: silu}]
        """)
    assert report.ok, errors(report)
    assert kinds(report) == ["conv", "relu", "relu", "block", "conv", "silu", "silu", "block"]
    assert sum(isinstance(m, nn.SiLU) for m in netspec.build(report).modules()) == 2


def test_a_kind_parameter_naming_no_kind_says_so(check_text):
    report = check_text("name: t\ninput: [3, 8, 8]\nblocks:\n  unit:\n    params: [act]\n    layers: [{kind: act}]\n"
                        "layers: [{block: unit, act: slu}]\n")
    assert errors(report) == [("unknown layer kind 'slu' (the value of parameter 'act')", 6, 21,
                               "did you mean 'silu'?")]


def test_the_json_schema_knows_the_new_forms():
    schema = netspec.json_schema()
    defs = schema["$defs"]
    assert "if" in defs["layer_conv"]["properties"] and "if" in defs["fields_add"]["properties"]
    repeat = defs["Repeat"]["properties"]
    assert '"minimum": 0' in json.dumps(repeat["repeat"]) and {"index", "if"} <= set(repeat)
    assert "if" in defs["BlockUse"]["properties"]
    assert any(form.get("required") == ["if", "layers"] for form in defs["Branch"]["anyOf"])
    batchnorm = schema["properties"]["defaults"]["properties"]["batchnorm"]
    assert {"eps", "momentum"} <= set(batchnorm["properties"]) and batchnorm["required"] == []
    assert not {"kind", "name", "from", "if"} & set(batchnorm["properties"])


def test_an_empty_repeats_body_is_still_checked_once(check_text):
    report = check_text("name: t\ninput: [3, 8, 8]\nlayers:\n  - relu\n"
                        "  - {repeat: 0, index: i, layers: [{kind: conv, out_channels: 4, kernel_size: 9 + i}]}\n")
    assert [(d.code, d.line) for d in report.errors] == [("shape.conv", 5)]
    assert kinds(report) == ["relu"]


@pytest.mark.parametrize("project, shortcut_kinds", [("true", ["conv"]), ("false", [])])
def test_the_name_of_an_entry_a_false_if_removed_names_its_input(check_text, project, shortcut_kinds):
    report = check_text(f"""\
        name: t
        input: [4, 8, 8]
        layers:
          - {{kind: conv, name: body, out_channels: 4, kernel_size: 3, padding: 1}}
          - {{kind: conv, name: proj, if: {project}, from: input, out_channels: 4, kernel_size: 1}}
          - {{kind: add, inputs: [body, proj]}}
        """)
    assert report.ok, errors(report)
    assert kinds(report) == ["conv", *shortcut_kinds, "add"]
    assert report.graph.nodes[-1].inputs[1] == (2 if shortcut_kinds else 0)


def test_a_block_default_with_an_unknown_name_is_reported_at_the_definition_naming_it(check_text):
    report = check_text("name: t\ninput: [3, 8, 8]\nblocks:\n  b:\n    params: {hidden: in_channels * ratoi}\n"
                        "    layers: [{kind: conv, out_channels: hidden, kernel_size: 1}]\nlayers: [b, b]\n")
    assert errors(report) == [("unknown parameter 'ratoi' in 'in_channels * ratoi'", 5, 22,
                               "parameters come from `params:` or the block's params")]


def test_a_kind_parameter_bound_to_a_number_says_its_value(check_text):
    report = check_text("name: t\ninput: [3, 8, 8]\nblocks:\n  unit: {params: {act: 3}, layers: [{kind: act}]}\n"
                        "layers: [unit]\n")
    assert [d.message for d in report.errors] == ["unknown layer kind '3' (the value of parameter 'act')"]


def test_a_block_whose_layers_are_all_removed_builds_as_the_identity(check_text):
    import torch

    report = check_text("""\
        name: t
        input: [3, 8, 8]
        blocks:
          optional: {params: {on: false}, layers: [{kind: conv, if: on, out_channels: 2, kernel_size: 1}]}
          stage: {params: [n], layers: [{repeat: n, layers: [tanh]}]}
        layers: [optional, {block: stage, n: 0}, {block: optional, on: true}, {block: stage, n: 0}]
        """)
    assert report.ok, errors(report)
    assert kinds(report) == ["block", "block", "conv", "block", "block"]
    model = netspec.build(report)
    assert model(torch.zeros(1, 3, 8, 8)).shape == (1, 2, 8, 8) and report.params == 8
