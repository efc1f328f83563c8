"""The expander: `from:` and `inputs:` references, scopes, blocks with parameters, repeats, budgets, layer forms
and reporting every error of a file in one run."""

from __future__ import annotations

import pytest

import netspec
from netspec.kinds import REGISTRY

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


def test_a_frozen_merge_freezes_the_layers_of_its_branches(check_text):
    report = check_text("name: t\ninput: [3, 8, 8]\nlayers:\n"
                        "  - {kind: add, trainable: false, branches: [[{kind: conv, out_channels: 3, kernel_size: 3,"
                        " padding: 1}], []]}\n"
                        "  - {kind: conv, out_channels: 4, kernel_size: 3}\n")
    assert report.errors == []
    assert (report.params, report.trainable_params) == (84 + 112, 112)
    model = netspec.build(report)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 112


# -- named references, scopes, blocks and repeats --------------------------------------------------------

BLOCKS = """\
name: t
input: [3, 8, 8]
params: {width: 4}
blocks:
  stage:
    params: {channels: width, stride: 1}
    layers:
      - {kind: conv, name: conv, out_channels: channels, kernel_size: 3, padding: 1, stride: stride}
      - {kind: conv, name: skip, out_channels: channels, kernel_size: 1, stride: stride, from: input}
      - {kind: add, inputs: [conv, skip]}
  head:
    params: [classes]
    layers: [global_avgpool, {linear: classes}]
layers:
"""


def rows(report) -> list[tuple]:
    return [(node.path, node.kind, node.out_shape, node.module_name) for node in report.graph.layers]


def messages(report) -> list[tuple]:
    return [(d.message, d.line, d.column, d.path, d.hint) for d in report.errors]


def test_block_params_defaults_overrides_and_instance_names(check_text):
    report = check_text(BLOCKS + "  - {block: stage, name: s1}\n  - {block: stage, name: s2, channels: 8, stride: 2}\n"
                                 "  - {head: {classes: 10}}\n")
    assert report.ok, messages(report)
    assert rows(report) == [
        ("layers[0].stage[0]", "conv", (4, 8, 8), "s1.conv"),
        ("layers[0].stage[1]", "conv", (4, 8, 8), "s1.skip"),
        ("layers[0].stage[2]", "add", (4, 8, 8), "s1.2"),
        ("layers[0]", "block", (4, 8, 8), "s1"),
        ("layers[1].stage[0]", "conv", (8, 4, 4), "s2.conv"),
        ("layers[1].stage[1]", "conv", (8, 4, 4), "s2.skip"),
        ("layers[1].stage[2]", "add", (8, 4, 4), "s2.2"),
        ("layers[1]", "block", (8, 4, 4), "s2"),
        ("layers[2].head[0]", "global_avgpool", (8,), "2.0"),
        ("layers[2].head[1]", "linear", (10,), "2.1"),
        ("layers[2]", "block", (10,), "2"),
    ]
    skip = report.graph.nodes[2]
    assert skip.inputs == (0,)  # `from: input` inside a block is the block's own input


def test_block_from_starts_the_block_at_a_named_layer(check_text):
    report = check_text(BLOCKS + "  - {kind: conv, name: stem, out_channels: 2, kernel_size: 1}\n  - relu\n"
                                 "  - {block: stage, from: stem}\n")
    assert report.ok, messages(report)
    first_conv = next(node for node in report.graph.layers if node.path == "layers[2].stage[0]")
    assert first_conv.inputs == (1,) and first_conv.in_shapes == ((2, 8, 8),)


@pytest.mark.parametrize("layer, expected", [
    ("{block: stag}", ("unknown block 'stag'", 15, 13, "layers[0]", "did you mean 'stage'?")),
    ("{block: stage, chanels: 8}", ("block 'stage' has no parameter 'chanels'", 15, 20, "layers[0]",
                                    "did you mean 'channels'?")),
    ("{block: head}", ("block 'head' needs parameter 'classes'", 15, 5, "layers[0]",
                       "add `classes: ...` to this use of the block")),
    ("head", ("block 'head' needs parameter 'classes'", 15, 5, "layers[0]",
              "add `classes: ...` to this use of the block")),
    ("{kind: stage}", ("'stage' is a block, not a layer kind", 15, 12, "layers[0]",
                       "write `block: stage` instead of `kind: stage`")),
    ("{block: stage, channels: 2 * widht}", ("unknown parameter 'widht' in '2 * widht'", 15, 30, "layers[0]",
                                             "did you mean 'width'?")),
])
def test_block_use_errors(check_text, layer, expected):
    assert messages(check_text(BLOCKS + f"  - {layer}\n")) == [expected]


def test_recursive_blocks_are_refused_with_the_chain(check_text):
    report = check_text("""\
        name: t
        input: [3, 8, 8]
        blocks:
          a: {layers: [relu, {block: b}]}
          b: {layers: [a]}
          c: {layers: [c]}
        layers: [a, c]
        """)
    assert messages(report) == [
        ("block 'a' uses itself (a -> b -> a)", 5, 16, "layers[0].a[1].b[0]",
         "a block cannot contain itself; use `repeat:` to stack copies"),
        ("block 'c' uses itself (c -> c)", 6, 16, "layers[1].c[0]",
         "a block cannot contain itself; use `repeat:` to stack copies"),
    ]


def test_an_error_inside_a_block_used_twice_is_reported_once(check_text):
    report = check_text("""\
        name: t
        input: [3, 8, 8]
        blocks:
          bad: {layers: [{kind: conv, out_channels: 4, kernel_sise: 3}]}
        layers: [bad, bad]
        """)
    assert [(d.message, d.line, d.path, d.hint) for d in report.errors] == [
        ("conv: unknown field 'kernel_sise' (in each of 2 uses: layers[0].bad[0], layers[1].bad[0])", 4,
         "layers[0].bad[0]", "did you mean 'kernel_size'?"),
    ]


def test_repeat_paths_and_module_names(check_text):
    report = check_text("""\
        name: t
        input: [3, 8, 8]
        params: {depth: 2}
        layers:
          - {repeat: depth, name: body, layers: [{kind: conv, name: c, out_channels: 3, kernel_size: 1}, relu]}
          - {repeat: 1, layers: [tanh]}
        """)
    assert report.ok, messages(report)
    assert rows(report) == [
        ("layers[0].repeat[0][0]", "conv", (3, 8, 8), "body.0.c"),
        ("layers[0].repeat[0][1]", "relu", (3, 8, 8), "body.0.1"),
        ("layers[0].repeat[1][0]", "conv", (3, 8, 8), "body.1.c"),
        ("layers[0].repeat[1][1]", "relu", (3, 8, 8), "body.1.1"),
        ("layers[1].repeat[0][0]", "tanh", (3, 8, 8), "1.0.0"),
    ]


@pytest.mark.parametrize("layer, expected", [
    ("{repeat: 100000000, layers: [relu]}", ("repeat: expected a whole number from 0 to 1000; got 100000000", 4, 14)),
    ("{repeat: -1, layers: [relu]}", ("repeat: expected a whole number from 0 to 1000; got -1", 4, 14)),
    ("{repeat: 2, index: 2i, layers: [relu]}", ("repeat: index: expected a name for the copy number; got '2i'", 4, 24)),
    ("{repeat: 2.0, layers: [relu]}", ("repeat: expected a whole number from 0 to 1000; got 2.0", 4, 14)),
    ("{repeat: 2}", ("repeat: expected a `layers:` list to repeat; got nothing", 4, 5)),
    ("{repeat: 2, layers: relu}", ("repeat: expected a `layers:` list to repeat; got 'relu'", 4, 25)),
    ("{repeat: 2, layers: [relu], times: 3}", ("repeat: unknown field 'times'", 4, 33)),
])
def test_repeat_errors(check_text, layer, expected):
    report = check_text(f"name: t\ninput: [3, 8, 8]\nlayers:\n  - {layer}\n")
    assert [(d.message, d.line, d.column) for d in report.errors] == [expected]


def test_expansion_budget_stops_huge_specs_quickly(check_text):
    import time

    start = time.process_time()
    report = check_text("""\
        name: t
        input: [3, 8, 8]
        blocks:
          b1: {layers: [{repeat: 1000, layers: [relu]}]}
          b2: {layers: [{repeat: 1000, layers: [b1]}]}
        layers: [{repeat: 1000, layers: [b2]}]
        """)
    assert time.process_time() - start < 3  # CPU seconds: immune to load from other processes
    assert [(d.code, d.message) for d in report.errors] == [
        ("budget.nodes", "the spec expands to more than 10000 layers")]
    assert len(report.graph.nodes) < 10_010  # expansion stopped; only the open blocks' output rows follow


def test_max_layers_limit_is_configurable(check_text):
    report = check_text("name: t\ninput: [3, 8, 8]\nlayers: [{repeat: 5, layers: [relu]}]\n",
                        limits=netspec.Limits(max_nodes=3))
    (error,) = report.errors
    assert (error.code, error.hint) == ("budget.nodes", "lower a `repeat:` count, or raise the limit with --max-layers "
                                                                         "(Limits.max_nodes)")


def test_names_are_local_to_their_branch_block_or_repeat(check_text):
    report = check_text("""\
        name: t
        input: [3, 8, 8]
        layers:
          - kind: concat
            branches:
              left: [{kind: conv, name: inner, out_channels: 2, kernel_size: 1}]
              right: [{kind: conv, out_channels: 2, kernel_size: 1}]
          - {kind: relu, from: inner}
        """)
    assert messages(report) == [("from: no earlier layer is named 'inner'", 8, 24, "layers[1]",
                                 "give the layer `name: ...` before referring to it")]


def test_names_are_unique_within_a_list(check_text):
    report = check_text("name: t\ninput: [3, 8, 8]\nlayers:\n  - {kind: relu, name: a}\n  - {kind: tanh, name: a}\n")
    assert messages(report) == [("duplicate layer name 'a' (first used on line 4)", 5, 18, "layers[1]",
                                 "names must be unique within one layer list")]


def test_misspelled_reference_gets_did_you_mean(check_text):
    report = check_text("name: t\ninput: [3, 8, 8]\nlayers:\n  - {kind: relu, name: stem}\n"
                        "  - {kind: tanh, from: stme}\n")
    assert messages(report) == [("from: no earlier layer is named 'stme'", 5, 24, "layers[1]",
                                 "did you mean 'stem'?")]


@pytest.mark.parametrize("layer, expected", [
    ("maxpol", ("unknown layer kind 'maxpol'", 4, 5, "did you mean 'maxpool'?")),
    ("{kind: cnov, out_channels: 4, kernel_size: 3}", ("unknown layer kind 'cnov'", 4, 12, "did you mean 'conv'?")),
    ("{batchnrom: {}}", ("unknown layer kind 'batchnrom'", 4, 6, "did you mean 'batchnorm'?")),
    ("{kind: [conv]}", ("kind: expected a layer kind name such as conv; got ['conv']", 4, 12,
                        "known kinds: " + ", ".join(sorted(REGISTRY)))),
    ("{relu: 3}", ("relu has no short form `relu: value`", 4, 6,
                   "write `{kind: relu, ...}` with its fields (see `netspec schema`)")),
    ("42", ("expected a layer (a kind name or a mapping); got 42", 4, 5,
            "e.g. `- relu` or `- {kind: conv, out_channels: 16, kernel_size: 3}`")),
    ("{out_channels: 4, kernel_size: 3}", ("expected `kind:` in this layer; got out_channels, kernel_size", 4, 5,
                                           "write the layer as `{kind: conv, ...}`, a block as `{block: name, ...}`")),
    ("{kind: relu, name: 3}", ("name: expected an identifier (letters, digits, _); got 3", 4, 24,
                               "names become attribute names of the built module, e.g. `conv1`")),
])
def test_layer_form_errors(check_text, layer, expected):
    report = check_text(f"name: t\ninput: [3, 8, 8]\nlayers:\n  - {layer}\n")
    assert [(d.message, d.line, d.column, d.hint) for d in report.errors] == [expected]


def test_every_error_of_a_file_in_one_run_without_cascades(check_text):
    report = check_text("""\
        name: t
        input: [1, 28, 28]
        layers:
          - {kind: conv, out_channels: 8, kernel_size: 5, bias: no}
          - {kind: conv, out_channels: 8, kernel_size: 40}
          - {kind: relu, inplace: true}
          - {kind: maxpol, kernel_size: 2}
          - {kind: linear, out_features: 10}
          - {kind: dropout, p: 2}
        """)
    assert [(d.code, d.line, d.path) for d in report.errors] == [
        ("schema.type", 4, "layers[0]"),
        ("schema.unknown_field", 6, "layers[2]"),
        ("layer.unknown_kind", 7, "layers[3]"),
        ("schema.type", 9, "layers[5]"),
    ]
    # layers[1] and the linear follow an invalid layer: their input is unknown, so no second-hand errors


def test_shape_errors_in_independent_branches_are_all_reported(check_text):
    report = check_text("""\
        name: t
        input: [1, 4, 4]
        layers:
          - kind: concat
            branches:
              - [{kind: conv, out_channels: 2, kernel_size: 5}]
              - [{kind: maxpool, kernel_size: 2, padding: 2}]
              - [{kind: linear, out_features: 3}]
        """)
    assert [(d.path, d.message.split(":")[0]) for d in report.errors] == [
        ("layers[0].branches[0][0]", "H and W collapse"),
        ("layers[0].branches[1][0]", "padding"),
        ("layers[0].branches[2][0]", "linear expects a flat (features,) input; got (1, 4, 4)"),
    ]
