"""The features in-process, on one small spec with a parameterised block: completion in each context,
hover and definition of block parameters, the outline of half-typed text."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import netspec
from netspec.cli import cli
from netspec.adapt import SHAPE_NAMES
from netspec.kinds import REGISTRY
from netspec.lsp.analysis import analyse
from netspec.lsp.completion import completion_items, outline_for_completion
from netspec.lsp.hover import hover_text
from netspec.lsp.navigation import definition, inlay_hints
from netspec.lsp.outline import read_outline, split_lines, start
from netspec.spec import TOP_LEVEL_KEYS
from netspec.train_config import TrainConfig

from .client import REPO

GOOGLENET = (REPO / "specs" / "googlenet_mini.yaml").read_text()

SPEC = textwrap.dedent("""\
    name: small
    input: [3, 8, 8]
    params: {width: 8, classes: 10}
    blocks:
      unit:
        params: {channels: 16}
        layers:
          - {kind: conv, out_channels: channels, kernel_size: 3, padding: 1}
          - relu
    layers:
      - {kind: conv, name: stem, out_channels: width, kernel_size: 3}
      - {block: unit, name: u1, channels: 32}
      - {unit: {name: u2, channels: 32}}
      - {kind: add, name: both, inputs: [u1, u2]}
      - flatten
      - {kind: linear, out_features: classes}
    train: {optimizer: sgd, schedule: {kind: cosine}}
    """)


def complete(text: str, needle: str, after: str = "") -> set[str]:
    """Labels offered with the cursor just after `needle` + `after` (the first line holding `needle`)."""
    lines = split_lines(text)
    number = next(n for n, line in enumerate(lines) if needle in line)
    column = lines[number].index(needle) + len(needle) + len(after)
    outline = outline_for_completion(text, lines, (number, column), None)
    return {item.label for item in completion_items(lines, outline, (number, column))}


def edited(old: str, new: str) -> str:
    assert old in SPEC
    return SPEC.replace(old, new, 1)


def test_the_spec_checks_clean():
    assert netspec.check("small.yaml", text=SPEC).ok


def test_fields_of_the_kind_not_yet_given():
    offered = complete(edited("width, kernel_size: 3}", "width, kernel_size: 3, }"), "width, kernel_size: 3, ")
    schema = REGISTRY["conv"].schema.model_fields
    expected = {info.alias or name for name, info in schema.items()} - {"kind", "name", "out_channels", "kernel_size"}
    expected.add("if")
    assert offered == expected


def test_enumerated_values_then_parameters():
    assert complete(edited("width, kernel_size: 3}", "width, kernel_size: 3, padding: }"), "width, kernel_size: 3, padding: ") == {
        "same", "valid", "width", "classes", *SHAPE_NAMES}
    assert {"true", "false"} <= complete(edited("width, kernel_size: 3}", "width, kernel_size: 3, bias: }"), "bias: ")
    assert complete(edited("optimizer: sgd", "optimizer: "), "optimizer: ") == {"sgd", "adam", "adamw"}
    schedule = TrainConfig.model_fields["schedule"].annotation.model_fields["kind"].annotation
    assert complete(SPEC, "schedule: {kind: ") == set(schedule.__args__)


def test_parameters_in_expressions_include_the_blocks_own():
    assert complete(SPEC, "out_features: ") == {"width", "classes", *SHAPE_NAMES}
    assert complete(SPEC, "out_channels: ", "channels") == {"channels", "width", "classes", *SHAPE_NAMES}
    repeated = edited("  - flatten", "  - {repeat: 2, index: i, layers: [{kind: dropout, p: }]}\n  - flatten")
    assert "i" in complete(repeated, "p: ")


def test_blocks_names_and_top_level_keys():
    assert complete(edited("block: unit", "block: "), "block: ") == {"unit"}
    assert complete(SPEC, "inputs: [u1, ") == {"input", "stem", "u2"}  # u1 is listed; `both` is this layer
    lines = edited("  - flatten", "  - flatten\n  - ").split("\n")
    new_entry = (lines.index("  - flatten") + 1, 4)
    offered = {item.label for item in completion_items(lines, read_outline("\n".join(lines)), new_entry)}
    assert offered == set(REGISTRY) | {"unit"}
    lines = edited("train:", "\ntrain:").split("\n")
    blank = (lines.index(""), 0)
    offered = {item.label for item in completion_items(lines, read_outline("\n".join(lines)), blank)}
    assert offered == set(TOP_LEVEL_KEYS) - {"name", "input", "params", "blocks", "layers", "train"}


@pytest.mark.parametrize("typed", ["layers: [relu, ", "layers: [{kind: add, branches: [[], ["])
def test_a_new_item_of_a_flow_layer_list_is_a_layer(typed):
    text = edited("      - relu", "      - relu\n" + " " * 6 + f"- {{repeat: 2, {typed}")
    assert complete(text, typed) == set(REGISTRY) | {"unit"}


def test_defaults_complete_kinds_then_their_fields():
    lines = edited("blocks:", "defaults:\n  \nblocks:").split("\n")
    at = (lines.index("defaults:") + 1, 2)
    assert {i.label for i in completion_items(lines, read_outline("\n".join(lines)), at)} == set(REGISTRY)
    text = edited("blocks:", "defaults:\n  conv: {bias: false, }\nblocks:")
    offered = complete(text, "conv: {bias: false, ")
    assert "padding" in offered and not {"bias", "name", "kind", "if"} & offered
    assert complete(edited("blocks:", "defaults:\n  conv: {padding: }\nblocks:"), "conv: {padding: ") >= {"same"}


def test_half_typed_flow_mapping_still_knows_the_names_in_scope():
    text = edited("  - flatten", "  - {kind: relu, from: ")
    assert read_outline(text) is None  # not YAML any more
    assert complete(text, "from: ") == {"input", "stem", "u1", "u2", "both"}


@pytest.fixture(scope="module")
def analysis():
    return analyse(SPEC, "small.yaml")


def position(needle: str, offset: int = 0) -> tuple[int, int]:
    lines = SPEC.split("\n")
    number = next(n for n, line in enumerate(lines) if needle in line)
    return number, lines[number].index(needle) + offset


def test_hover_on_a_block_parameter_gives_its_default_and_each_uses_value(analysis):
    text = hover_text(analysis, position("out_channels: channels", len("out_channels: ch")))
    assert "`channels` of block `unit`: 16 (default)" in text
    assert "`u1` on line 12: 32" in text and "`u2` on line 13: 32" in text


def test_hover_on_a_short_form_block_use_and_on_the_network(analysis):
    text = hover_text(analysis, position("name: u2", 7))
    assert "output (32, 6, 6)" in text and "`channels` = 32" in text
    report = netspec.check("small.yaml", text=SPEC)
    assert f"params {report.params:,}" in hover_text(analysis, position("name: small", 7))


def test_hover_on_a_shape_name_and_on_a_layer_an_if_removes():
    text = edited("kind: linear, out_features: classes", "kind: linear, out_features: in_features // 4")
    text = text.replace("  - flatten", "  - flatten\n  - {kind: dropout, if: width > 100}")
    current = analyse(text, "small.yaml")
    lines = text.split("\n")
    number = next(n for n, line in enumerate(lines) if "in_features // 4" in line)
    assert hover_text(current, (number, lines[number].index("in_features") + 2)).startswith("`in_features` = 1152")
    number = next(n for n, line in enumerate(lines) if "dropout" in line)
    assert "its `if:` is false" in hover_text(current, (number, 8))


def test_definitions_of_parameters_and_names(analysis):
    outline = analysis.outline
    target = definition(outline, position("out_channels: channels", len("out_channels: ch")))
    assert start(target) == position("channels: 16")
    assert start(definition(outline, position("out_features: classes", len("out_features: c")))) == position(
        "classes: 10")
    assert start(definition(outline, position("inputs: [u1, u2]", len("inputs: [u1, u")))) == position("u2, chan")
    assert start(definition(outline, position("{unit: {", 2))) == position("unit:")


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_the_cli_imports_the_server_only_for_the_lsp_command():
    loaded = run_python("import sys, netspec.cli; print(sorted(m for m in sys.modules if 'pygls' in m or 'lsp' in m))")
    assert loaded.stdout.strip() == "[]", loaded.stderr
    help_text = CliRunner().invoke(cli, ["lsp", "--help"]).output
    assert "vim.lsp.start" in help_text and "Exit status" in help_text


def test_without_pygls_the_command_says_what_to_install():
    finished = run_python("import sys; sys.modules['pygls'] = None; sys.argv = ['netspec', 'lsp']\n"
                          "from netspec.cli import main; main()")
    assert finished.returncode == 1 and "pip install 'netspec[lsp]'" in finished.stderr


def test_check_of_text_equals_check_of_the_file_holding_it(write_spec):
    path = write_spec(SPEC)
    assert netspec.check("unsaved.yaml", text=SPEC).to_dict() == netspec.check(path).to_dict()


def test_columns_are_utf16_for_the_client_and_code_points_inside():
    from lsprotocol import types
    from pygls.workspace.position_codec import PositionCodec

    from netspec.lsp.protocol import Positions

    lines = ['  - {kind: relu, name: r}  # 😀 é', '  - {kind: conv, name: "😀x", out_channels: 8}']
    positions = Positions(lines, PositionCodec())
    column = lines[1].index("out_channels")  # code points; one more UTF-16 unit after the emoji
    assert positions.position((1, column)) == types.Position(1, column + 1)
    assert positions.pos(types.Position(1, column + 1)) == (1, column)
    assert positions.pos(types.Position(0, len(lines[0]) + 2)) is None  # past the end: outside


@settings(max_examples=80, deadline=None, derandomize=True)
@given(cut=st.integers(0, len(GOOGLENET)), junk=st.text(max_size=8), line=st.integers(0, 10**4),
       column=st.integers(0, 10**4))
def test_every_feature_answers_on_half_typed_text(cut, junk, line, column):
    """googlenet_mini typed up to `cut`, then `junk` typed: every feature answers, none raises."""
    text = GOOGLENET[:cut] + junk + GOOGLENET[cut:cut + 40]
    current = analyse(text, "typing.yaml")
    lines = current.lines
    line %= len(lines)  # positions outside the text never reach the features: the server answers them
    column %= len(lines[line]) + 1
    outline = outline_for_completion(text, lines, (line, column), None)
    completion_items(lines, outline, (line, column))
    if current.outline is not None:
        hover_text(current, (line, column))
        definition(current.outline, (line, column))
        inlay_hints(current, 0, len(lines))
