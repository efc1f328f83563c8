"""Safe, located YAML: YAML 1.2 scalar typing, duplicate keys, tags, aliases, budgets and unreadable files."""

from __future__ import annotations

import math
import time

import pytest

import netspec

from netspec.diagnostics import DiagnosticSink
from netspec.expr import UNRESOLVED
from netspec.yamlsrc import (BUDGET_HINT, MAX_DEPTH, YamlBudget, YMap, YScalar, YSeq, parse_yaml, read_source,
                             to_plain)

MAX_NODES, MAX_BYTES = YamlBudget().nodes, YamlBudget().bytes  # at the default --max-layers


def parse(text: str):
    sink = DiagnosticSink("f.yaml")
    return parse_yaml(text, sink), sink.items


def value_of(scalar_text: str):
    node, diagnostics = parse(f"key: {scalar_text}\n")
    assert diagnostics == []
    return node.items["key"].value


@pytest.mark.parametrize("text, value", [
    ("5", 5), ("-3", -3), ("+7", 7), ("0", 0), ("1_000", 1000),
    ("0.5", 0.5), (".5", 0.5), ("1e-4", 0.0001), ("1E3", 1000.0), ("-2.5e2", -250.0),
    ("true", True), ("false", False), ("True", True), ("FALSE", False),
    ("null", None), ("~", None), ("", None),
    # YAML 1.1 booleans stay strings: the schema decides, nothing becomes False behind the user's back
    ("no", "no"), ("off", "off"), ("yes", "yes"), ("on", "on"), ("y", "y"), ("n", "n"), ("NO", "NO"),
    ("same", "same"), ("2 * width", "2 * width"), ("2024-01-01", "2024-01-01"), ("3x3", "3x3"),
    ("'010'", "010"), ('"true"', "true"), ("'5'", "5"),
])
def test_scalars_are_typed_by_yaml_1_2(text, value):
    result = value_of(text)
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize("text, value", [("!!str 5", "5"), ("!!str no", "no"), ("!!str 010", "010"), ("!!int 5", 5),
                                         ("!!bool true", True)])
def test_standard_scalar_tags_are_respected(text, value):
    result = value_of(text)
    assert result == value and type(result) is type(value)


def test_special_floats():
    assert value_of(".inf") == math.inf and value_of("-.inf") == -math.inf
    assert math.isnan(value_of(".nan"))


@pytest.mark.parametrize("text, hint", [
    ("010", "write 10 without the leading zero, or quote it if you mean a string"),
    ("-007", "write -7 without the leading zero, or quote it if you mean a string"),
    ("0o17", "write it in decimal (15), or quote it if you mean a string"),
    ("0x1F", "write it in decimal (31), or quote it if you mean a string"),
])
def test_octal_and_hex_looking_numbers_are_refused_not_read_as_8(text, hint):
    node, diagnostics = parse(f"kernel_size: {text}\n")
    (error,) = diagnostics
    assert (error.code, error.line, error.column) == ("yaml.ambiguous_int", 1, 14)
    assert error.message == (f"ambiguous number '{text}': expected a plain decimal number "
                             "(YAML 1.1 reads a leading 0 as octal: 010 is 8)")
    assert error.hint == hint
    assert node.items["kernel_size"].value is UNRESOLVED  # reported once; never 8, never a second error


def test_ambiguous_number_in_a_layer_is_one_error(check_text):
    report = check_text("name: t\ninput: [1, 8, 8]\nlayers: [{kind: conv, out_channels: 2, kernel_size: 010}]\n")
    assert [(d.code, d.line, d.column) for d in report.errors] == [("yaml.ambiguous_int", 3, 53)]


def test_marks_are_one_based_for_keys_and_values():
    node, _ = parse("name: net\nlayers:\n  - relu\n  - {kind: conv, out_channels: 4}\n")
    assert isinstance(node, YMap)
    assert node.key_mark("layers") == node.key_marks["layers"]
    assert (node.key_marks["layers"].line, node.key_marks["layers"].column) == (2, 1)
    layers = node.items["layers"]
    assert isinstance(layers, YSeq)
    assert (layers.items[0].mark.line, layers.items[0].mark.column) == (3, 5)
    conv = layers.items[1]
    assert (conv.key_marks["out_channels"].line, conv.key_marks["out_channels"].column) == (4, 18)
    assert (conv.items["out_channels"].mark.line, conv.items["out_channels"].mark.column) == (4, 32)
    assert isinstance(conv.items["out_channels"], YScalar) and conv.items["out_channels"].raw == "4"


def test_to_plain_strips_marks():
    node, _ = parse("a: [1, {b: no}]\nc: ~\n")
    assert to_plain(node) == {"a": [1, {"b": "no"}], "c": None}


def test_duplicate_keys_name_both_lines():
    text = "kind: conv\nout_channels: 4\nkernel_size: 3\nout_channels: 5\n"
    node, diagnostics = parse(text)
    (error,) = diagnostics
    assert (error.code, error.line, error.column) == ("yaml.duplicate_key", 4, 1)
    assert error.message == "duplicate key 'out_channels' (first defined on line 2)"
    assert error.hint == "remove one of the two 'out_channels' entries (lines 2 and 4)"
    assert node.items["out_channels"].value == 4  # the first stays, nothing is silently overwritten


def test_duplicate_keys_in_a_flow_mapping():
    _, diagnostics = parse("layers:\n  - {kind: conv, kind: relu}\n")
    assert [(d.message, d.line, d.column) for d in diagnostics] == [
        ("duplicate key 'kind' (first defined on line 2)", 2, 18)]


@pytest.mark.parametrize("text, message, column", [
    ("a: !!python/object/apply:os.system ['echo hi']\n",
     "YAML tags are not allowed; found 'tag:yaml.org,2002:python/object/apply:os.system'", 4),
    ("a: !!python/name:os.system\n", "YAML tags are not allowed; found 'tag:yaml.org,2002:python/name:os.system'", 4),
    ("a: !custom 5\n", "YAML tags are not allowed; found '!custom'", 4),
    ("a: !!binary aGk=\n", "YAML tags are not allowed; found 'tag:yaml.org,2002:binary'", 4),
])
def test_tags_that_build_objects_are_refused(text, message, column):
    node, diagnostics = parse(text)
    (error,) = diagnostics
    assert (error.code, error.message, error.line, error.column) == ("yaml.tag", message, 1, column)
    assert error.hint == "netspec reads plain YAML only: remove the '!' tag"
    assert node.items["a"].value is None


def test_merge_keys_and_complex_keys_are_refused():
    _, diagnostics = parse("a: &base {x: 1}\nb:\n  <<: *base\n  y: 2\n? [k]\n: 1\n")
    assert [(d.code, d.message, d.line) for d in diagnostics] == [
        ("yaml.merge_key", "YAML merge keys ('<<') are not supported", 3),
        ("yaml.key", "expected a plain name as a mapping key; got a sequence", 5),
    ]


def test_plain_aliases_are_expanded():
    node, diagnostics = parse("a: &conv {kind: conv, out_channels: 4}\nb: *conv\n")
    assert diagnostics == []
    assert to_plain(node)["b"] == {"kind": "conv", "out_channels": 4}


def test_recursive_alias_is_reported_not_followed():
    node, diagnostics = parse("layers: &l\n  - relu\n  - *l\n")
    (error,) = diagnostics
    assert (error.code, error.message, error.line, error.column) == ("yaml.recursive", "recursive YAML alias", 1, 9)
    assert to_plain(node) == {"layers": ["relu", None]}


BILLION_LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n" for prev, name in zip("abcdefgh", "bcdefghi")
)


def test_alias_bomb_stops_at_the_node_budget_quickly():
    start = time.process_time()
    node, diagnostics = parse('a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
                              + BILLION_LAUGHS)
    assert time.process_time() - start < 3  # CPU seconds: immune to load from other processes
    budget = [d for d in diagnostics if d.code == "yaml.budget"]
    assert [d.message for d in budget] == [f"the spec has more than {MAX_NODES:,} YAML nodes after alias expansion "
                                           "(32 nodes per layer of --max-layers 10,000)"]
    assert budget[0].hint == BUDGET_HINT and "--max-layers" in BUDGET_HINT


def test_the_node_budget_follows_the_layer_budget():
    # 1 KB that expands to 20,000 nodes: within the byte budget, not the node one
    text = "a: &a [" + ",".join(["0"] * 100) + "]\nlayers: [" + ",".join(["*a"] * 200) + "]\n"
    sink = DiagnosticSink("f.yaml")
    parse_yaml(text, sink, YamlBudget(max_layers=10))
    assert [(d.code, d.message, d.hint) for d in sink.items] == [
        ("yaml.budget", "the spec has more than 10,320 YAML nodes after alias expansion "
                        "(32 nodes per layer of --max-layers 10)", BUDGET_HINT)]
    assert parse(text)[1] == []  # the default --max-layers reads it


# the caret is on the first node past the budget: the root mapping is level 1, a key sits one level below its mapping
@pytest.mark.parametrize("text, line, column", [
    ("layers: " + "[" * 10_000 + "]" * 10_000 + "\n", 1, len("layers: ") + MAX_DEPTH),
    ("layers: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n", 1, len("layers: ") + 4 * (MAX_DEPTH - 2) + 2),
    ("layers:\n" + "".join(" " * depth + "-\n" for depth in range(1, 1000)), MAX_DEPTH + 1, MAX_DEPTH + 1),
])
def test_deep_nesting_stops_at_the_depth_budget_with_a_position(text, line, column):
    start = time.process_time()
    node, diagnostics = parse(text)
    assert time.process_time() - start < 2
    assert node is None
    (error,) = diagnostics
    assert (error.code, error.message) == ("yaml.budget", f"expected nesting at most {MAX_DEPTH} levels deep "
                                                          "(a fixed limit); got deeper")
    assert (error.line, error.column) == (line, column)


def test_nesting_up_to_the_budget_is_read():
    node, diagnostics = parse("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n")
    assert diagnostics == [] and node is not None


@pytest.mark.parametrize("text, message, line, column, hint", [
    ("name: t\nlayers:\n\t- relu\n", "invalid YAML: found character '\\t' that cannot start any token", 3, 1,
     "YAML does not allow tab characters for indentation: use spaces"),
    ("layers:\n  - {kind: conv, out_channels: 4\n  - relu\n",
     "invalid YAML: expected ',' or '}', but got '<stream end>' "
     "(while parsing a flow mapping, which starts on line 2, column 5)", 4, 1, None),
    ("a: b: c\n", "invalid YAML: mapping values are not allowed here", 1, 5, None),
    ("name: 'abc\n", "invalid YAML: found unexpected end of stream "
                     "(while scanning a quoted scalar, which starts on line 1, column 7)", 2, 1, None),
])
def test_bad_yaml_is_one_located_error(text, message, line, column, hint):
    node, diagnostics = parse(text)
    assert node is None
    assert [(d.code, d.message, d.line, d.column, d.hint) for d in diagnostics] == [
        ("yaml.syntax", message, line, column, hint)]


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n"])
def test_empty_spec(text):
    node, diagnostics = parse(text)
    assert node is None
    assert [(d.code, d.message, d.hint) for d in diagnostics] == [
        ("spec.empty", "the spec is empty", "a spec needs at least `name`, `input` and `layers`")]


def test_oversized_text_is_refused_before_parsing():
    node, diagnostics = parse("#" * (MAX_BYTES + 1))
    assert node is None
    assert [(d.message, d.line, d.column, d.hint) for d in diagnostics] == [
        (f"expected a spec of at most {MAX_BYTES:,} bytes (200 bytes per layer of --max-layers 10,000); "
         f"got {MAX_BYTES + 1:,} bytes or more", 1, 1, BUDGET_HINT)]


def test_the_size_budget_counts_bytes_not_characters(tmp_path):
    """Multi-byte characters cannot stretch the budget: a file is refused, never silently cut."""
    path = tmp_path / "wide.yaml"
    path.write_text("# " + "é" * MAX_BYTES + "\nname: t\n", encoding="utf-8")  # fewer characters than bytes
    text, diagnostics = read(path)
    assert text is None
    assert [d.code for d in diagnostics] == ["yaml.too_large"]
    node, diagnostics = parse("# " + "é" * (MAX_BYTES // 2 + 1) + "\n")  # text given directly: bytes too
    assert node is None and [d.code for d in diagnostics] == ["yaml.too_large"]


@pytest.mark.parametrize("digits", [17, 401, 5_001])
def test_integers_are_bounded_where_they_are_read(digits):
    node, diagnostics = parse(f"layers:\n  - {{kind: linear, out_features: {'9' * digits}}}\n")
    assert [(d.code, d.line, d.column) for d in diagnostics] == [("yaml.number", 2, 34)]
    assert diagnostics[0].message == f"expected a number of magnitude at most 1e+15; got a {digits:,}-digit integer"
    assert node.items["layers"].items[0].items["out_features"].value is UNRESOLVED
    assert value_of("-1_000_000_000_000_000") == -10**15


@pytest.mark.parametrize("text, column", [
    ("- {!!python/name:os.system kind: relu}\n", 4),
    ("- !!python/object/apply:os.system [echo]: relu\n", 3),
    ("a:\n  !custom b: 1\n", 3),
])
def test_a_tag_on_a_key_is_refused_like_one_on_a_value(text, column):
    node, diagnostics = parse(text)
    assert [d.code for d in diagnostics] == ["yaml.tag"]
    assert diagnostics[0].column == column


@pytest.mark.parametrize("text, line, column", [("name: t\nlayers: [re\x01lu]\n", 2, 12),
                                                 ("name: t\x7f\n", 1, 8)])
def test_control_characters_are_located(text, line, column):
    _, diagnostics = parse(text)
    assert [(d.code, d.line, d.column) for d in diagnostics] == [("file.encoding", line, column)]


def read(path) -> tuple[str | None, list]:
    sink = DiagnosticSink(str(path))
    return read_source(str(path), sink), sink.items


def test_read_source_reads_utf8(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("name: réseau\n", encoding="utf-8")
    assert read(path) == ("name: réseau\n", [])


@pytest.mark.parametrize("data, message, line, column", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "spec is not UTF-8 text (byte 0 is 0x89)", 1, 1),
    (b"name: t\n\x00\x00\x00", "spec contains NUL bytes; it looks like a binary file", 2, 1),
    (b"name: caf\xe9\n", "spec is not UTF-8 text (byte 9 is 0xe9)", 1, 10),
    (b"# \xc3\xa9t\xc3\xa9\nname: \xff\n", "spec is not UTF-8 text (byte 14 is 0xff)", 2, 7),
])
def test_binary_files_are_refused(tmp_path, data, message, line, column):
    path = tmp_path / "net.yaml"
    path.write_bytes(data)
    text, diagnostics = read(path)
    assert text is None
    assert [(d.code, d.message, d.line, d.column, d.hint) for d in diagnostics] == [
        ("file.encoding", message, line, column, "specs are YAML text files; is this the right file?")]


def test_missing_file_and_directory(tmp_path):
    for path, reason in ((tmp_path / "missing.yaml", "No such file or directory"), (tmp_path, "Is a directory")):
        text, diagnostics = read(path)
        assert text is None
        assert [(d.code, d.message, d.hint) for d in diagnostics] == [
            ("file.unreadable", f"cannot read spec: {reason}", "check the path and the file's permissions")]


def test_a_lone_surrogate_in_text_given_through_the_api_is_a_located_error():
    report = netspec.check("api.yaml", text="name: a\ninput: [1, 2, 2]\nlayers: [relu]\n# \udc80\n")
    (error,) = report.errors
    assert (error.code, error.line, error.column) == ("file.encoding", 4, 3)
    assert "U+DC80" in error.message
