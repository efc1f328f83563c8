"""Reading a spec's top level: name, input, params, blocks, train; every problem located, all in one run."""

from __future__ import annotations

import textwrap

import pytest

import netspec
from netspec.diagnostics import DiagnosticSink
from netspec.spec import REQUIRED, read_spec


def read(text: str):
    sink = DiagnosticSink("net.yaml")
    spec = read_spec("net.yaml", sink, text=textwrap.dedent(text).lstrip("\n"))
    return spec, sink.items


def errors_of(text: str) -> list[tuple]:
    """(message, line, column, hint) of every error."""
    _, diagnostics = read(text)
    return [(d.message, d.line, d.column, d.hint) for d in diagnostics if d.is_error]


def test_a_full_spec_is_read():
    spec, diagnostics = read("""
        name: lenet
        description: seed 002's CIFAR net
        params: {num_classes: 10, width: 6, wide: 2 * width, half: width / 4}
        input: [3, 32, 32]
        blocks:
          stage:
            description: conv, relu, pool
            params: {channels: 2 * width, kernel: 5}
            layers:
              - {kind: conv, out_channels: channels, kernel_size: kernel}
          head:
            params: [classes]
            layers: [flatten, {linear: classes}]
        layers:
          - {block: stage}
          - {block: head, classes: num_classes}
        train: {optimizer: adam, lr: 0.001, epochs: 2, schedule: {kind: step, step_size: 1}}
        """)
    assert diagnostics == []
    assert (spec.name, spec.description, spec.input_shape) == ("lenet", "seed 002's CIFAR net", (3, 32, 32))
    assert spec.params == {"num_classes": 10, "width": 6, "wide": 12, "half": 1.5}
    assert spec.blocks["stage"].params == {"channels": 12, "kernel": 5}  # defaults evaluated over params
    assert spec.blocks["head"].params == {"classes": REQUIRED}
    assert [len(spec.layers.items), spec.train.optimizer, spec.train.lr, spec.train.schedule.step_size] == \
           [2, "adam", 0.001, 1]


def test_load_raises_spec_error_with_every_diagnostic():
    with pytest.raises(netspec.SpecError) as caught:
        netspec.load("net.yaml", text="name: t\ninput: [3, 32]\nlayer: []\n")
    error = caught.value
    assert str(error) == "net.yaml:3:1: error: unknown top-level key 'layer' (and 2 more)"
    assert [d.code for d in error.diagnostics] == ["spec.unknown_key", "spec.input", "spec.missing_key"]
    assert "    2 | input: [3, 32]" in error.render()


def test_load_of_a_missing_file_raises_spec_error():
    with pytest.raises(netspec.SpecError, match="cannot read spec: No such file or directory"):
        netspec.load("no/such/spec.yaml")


@pytest.mark.parametrize("text, expected", [
    ("name: t\ninput: [3, 8, 8]\nlayres: [relu]\n", [
        ("unknown top-level key 'layres'", 3, 1, "did you mean 'layers'?"),
        ("missing top-level key 'layers'", 1, 1,
         "add `layers:` with a list of layers, e.g. `- {kind: conv, out_channels: 6, kernel_size: 5}`")]),
    ("input: [3, 8, 8]\nlayers: [relu]\nmodel: x\n", [
        ("unknown top-level key 'model'", 3, 1, "top-level keys: name, description, imports, input, params, "
                                                "scales, defaults, blocks, layers, train, plugins"),
        ("missing top-level key 'name'", 1, 1, "add `name: my_net`")]),
    ("name: t\nlayers: [relu]\n", [
        ("missing top-level key 'input'", 1, 1,
         "add the input shape as [channels, height, width], e.g. `input: [1, 28, 28]`")]),
    ("- relu\n", [
        ("expected a mapping with name, input and layers at the top of the spec; got a list", 1, 1,
         "start the file with `name: my_net`")]),
    ("hello\n", [
        ("expected a mapping with name, input and layers at the top of the spec; got the single value 'hello'", 1, 1,
         "start the file with `name: my_net`")]),
    ("name: [a]\ninput: [1, 2, 2]\nlayers: [relu]\ndescription: 5\n", [
        ("name: expected a string; got ['a']", 1, 7, None),
        ("description: expected a string; got 5", 4, 14, None)]),
    ("name: t\ninput: [1, 2, 2]\nlayers: []\n", [("layers: expected a non-empty list of layers", 3, 9, None)]),
    ("name: t\ninput: [1, 2, 2]\nlayers: relu\n", [("layers: expected a non-empty list of layers", 3, 9, None)]),
])
def test_top_level_errors(text, expected):
    assert errors_of(text) == expected


@pytest.mark.parametrize("value, shape", [
    ("[3, 32, 32]", (3, 32, 32)),
    ("[784]", (784,)),
    ("[c, 2 * size, size]", (3, 32, 16)),
])
def test_input_shapes(value, shape):
    spec, diagnostics = read(f"name: t\nparams: {{c: 3, size: 16}}\ninput: {value}\nlayers: [relu]\n")
    assert diagnostics == [] and spec.input_shape == shape


@pytest.mark.parametrize("value, got", [
    ("[3, 32]", [3, 32]), ("[0, 5, 5]", [0, 5, 5]), ("3x32x32", "3x32x32"), ("[3, 32, 32.0]", [3, 32, 32.0]),
    ("[3, 32, yes]", [3, 32, "yes"]), ("[]", []), ("[1, 2, 3, 4]", [1, 2, 3, 4]), ("{c: 3}", {"c": 3}),
])
def test_invalid_inputs(value, got):
    spec, diagnostics = read(f"name: t\ninput: {value}\nlayers: [relu]\n")
    assert spec.input_shape == ()
    assert [(d.message, d.line, d.column, d.hint) for d in diagnostics] == [
        (f"input: expected [channels, height, width] of positive integers; got {got!r}", 2, 8,
         "e.g. `input: [3, 32, 32]`")]


def test_input_with_a_failed_expression_reports_only_the_expression():
    assert errors_of("name: t\nparams: {size: 8}\ninput: [3, 2 * sise, size]\nlayers: [relu]\n") == [
        ("unknown parameter 'sise' in '2 * sise'", 3, 12, "did you mean 'size'?")]


def test_params_errors_are_located_and_do_not_cascade():
    assert errors_of("""
        name: t
        params: {1a: 3, b: [1, 2], c: 2 * widht, width: 3, e: true, f: null}
        input: [3, 5, 5]
        layers: [relu]
        """) == [
        ("params: '1a' is not a valid parameter name", 2, 10, None),
        ("params.b: expected a number or true/false; got [1, 2]", 2, 20, None),
        ("unknown parameter 'widht' in '2 * widht'", 2, 31, "parameters come from `params:` or the block's params"),
        ("params.f: expected a number or true/false; got None", 2, 64, None),
    ]


def test_params_see_only_earlier_params():
    assert errors_of("name: t\nparams: {a: 2 * b, b: 3}\ninput: [1, 2, 2]\nlayers: [relu]\n") == [
        ("unknown parameter 'b' in '2 * b'", 2, 13, "parameters come from `params:` or the block's params")]


def test_misspelled_param_gets_did_you_mean():
    assert errors_of("name: t\nparams: {width: 4, w2: 2 * widht}\ninput: [1, 2, 2]\nlayers: [relu]\n") == [
        ("unknown parameter 'widht' in '2 * widht'", 2, 24, "did you mean 'width'?")]


def test_block_definition_errors_all_reported():
    assert errors_of("""
        name: t
        input: [3, 5, 5]
        blocks:
          conv: {layers: [relu]}
          bad-name: {layers: [relu]}
          numbered: {layers: [relu], params: 5}
          nolayers: {params: [a]}
          extra: {layers: [relu], paramz: [a]}
          dflt: {params: {c: 2 * w}, layers: [relu]}
        layers: [relu]
        """) == [
        ("blocks: 'conv' cannot name a block (it is a layer kind or not a name)", 4, 3, "choose another name, e.g. "
                                                                                       "'my_conv'"),
        ("blocks: 'bad-name' cannot name a block (it is a layer kind or not a name)", 5, 3,
         "choose another name, e.g. 'my_bad-name'"),
        ("blocks.numbered.params: expected a list of names or a mapping of name: default", 6, 38,
         "e.g. `params: [channels]` or `params: {channels: 16}`"),
        ("blocks.nolayers: expected a mapping with `layers:` (and optional `params:`)", 7, 3, None),
        ("blocks.extra: unknown key 'paramz'", 8, 27, "a block has `params:`, `layers:` and an optional "
                                                      "`description:`"),
        ("unknown parameter 'w' in '2 * w'", 9, 22, "parameters come from `params:` or the block's params"),
    ]


def test_blocks_must_be_a_mapping():
    assert errors_of("name: t\ninput: [1, 2, 2]\nblocks: [a]\nlayers: [relu]\n") == [
        ("blocks: expected a mapping of block name to {params, layers}", 3, 9, None)]


def test_train_section_errors_are_located_field_by_field():
    assert errors_of("""
        name: t
        input: [3, 12, 12]
        layers: [relu]
        train: {optimizer: adma, lr: fast, nesterov: yes, epochs: 0, schedule: {kind: steps}, extra: 1}
        """) == [
        ("optimizer: expected 'sgd', 'adam' or 'adamw'; got 'adma'", 4, 20, "did you mean 'adam'?"),
        ("lr: expected a valid integer or a valid number; got 'fast'", 4, 30, None),
        ("nesterov: expected a valid boolean; got 'yes'", 4, 46,
         "YAML 1.1 would read 'yes' as a boolean; netspec does not guess: write true or false"),
        ("epochs: expected greater than or equal to 1; got 0", 4, 59, None),
        ("schedule.kind: expected 'none', 'step', 'multistep', 'cosine', 'onecycle' or 'plateau'; got 'steps'",
         4, 79, "did you mean 'step'?"),
        ("train: unknown field 'extra'", 4, 87, "known fields: optimizer, lr, momentum, nesterov, weight_decay, "
                                                "epochs, batch_size, schedule, label_smoothing, augment, resize, "
                                                "normalize"),
    ]


def test_train_nested_unknown_field_names_its_section():
    assert errors_of("name: t\ninput: [1, 2, 2]\nlayers: [relu]\ntrain: {schedule: {kind: step, setp_size: 2}}\n") \
        == [("train.schedule: unknown field 'setp_size'", 4, 32, "did you mean 'step_size'?")]


def test_train_must_be_a_mapping():
    assert errors_of("name: t\ninput: [1, 2, 2]\nlayers: [relu]\ntrain: sgd\n") == [
        ("train: expected a mapping of training settings", 4, 8, None)]


def test_errors_from_every_section_come_in_one_run():
    codes = [d.code for d in read("""
        name: 5
        input: [3, 12]
        params: {a: b}
        blocks: {relu: {layers: [relu]}}
        layers: [relu]
        train: {epochs: -1}
        oops: 1
        """)[1]]
    assert codes == ["spec.unknown_key", "spec.type", "spec.type", "spec.input", "spec.block_name", "schema.type"]
