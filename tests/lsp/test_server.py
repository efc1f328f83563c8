"""`netspec lsp` driven as an editor drives it: a subprocess spoken to over stdio by a JSON-RPC client.

One server serves the whole module (start-up is the slow part); each test opens its own document.
"""

from __future__ import annotations

import pytest

import netspec
from netspec.kinds import REGISTRY, fmt_shape

from .client import REPO

GOOGLENET = (REPO / "specs" / "googlenet_mini.yaml").read_text()


@pytest.fixture
def document(server, request):
    """A fresh copy of googlenet_mini open in the server: (uri, its lines)."""
    uri = f"file:///tmp/netspec-lsp-tests/{request.node.name}/googlenet_mini.yaml"
    assert server.open(uri, GOOGLENET) == []
    return uri, GOOGLENET.split("\n")


def find(lines: list[str], needle: str, nth: int = 0) -> tuple[int, int]:
    """(line, column) of the `nth` occurrence of `needle` outside comments."""
    hits = [(number, line.index(needle)) for number, line in enumerate(lines)
            if needle in line and not line.lstrip().startswith("#")]
    return hits[nth]


def replace_line(server, uri: str, lines: list[str], number: int, new: str, version: int = 2) -> list[dict]:
    whole_line = {"start": {"line": number, "character": 0}, "end": {"line": number, "character": len(lines[number])}}
    lines[number] = new
    return server.change(uri, version, new, whole_line)


def hover_text(server, uri: str, line: int, character: int) -> str | None:
    answer = server.at("textDocument/hover", uri, line, character)
    return answer["contents"]["value"] if answer else None


def test_hover_on_a_block_use_gives_its_output_shape(server, document):
    uri, lines = document
    line, column = find(lines, "incep1")
    text = hover_text(server, uri, line, column + 2)
    assert "output (88, 12, 12)" in text and "input (10, 12, 12)" in text
    assert "inception_a" in text and "params" in text and "MACs" in text and "receptive field" in text


def test_hover_on_a_layer_reference_and_a_param(server, document):
    uri, lines = document
    conv1 = hover_text(server, uri, *find(lines, "conv1"))
    report = netspec.check(REPO / "specs" / "googlenet_mini.yaml")
    first = report.graph.layers[0]
    assert f"output {fmt_shape(first.out_shape)}" in conv1 and f"params {first.params:,}" in conv1
    line, column = find(lines, "num_classes}")
    assert "`num_classes` = 10" in hover_text(server, uri, line, column + 1)


def test_a_padding_that_breaks_the_concat_is_reported_at_the_concat_with_the_hint(server, document):
    uri, lines = document
    number, _ = find(lines, "kernel_size: 3, padding: 1")
    diagnostics = replace_line(server, uri, lines, number, lines[number].replace("padding: 1", "padding: 0"))
    (concat,) = [d for d in diagnostics if d["code"] == "shape.concat"]
    assert concat["range"]["start"]["line"] == find(lines, "kind: concat")[0]
    assert concat["severity"] == 1 and "same H x W" in concat["message"]
    assert "branch 'branch3x3' outputs 10x10" in concat["data"]["hint"]
    assert concat["data"]["hint"] in concat["message"] and concat["data"]["path"] in concat["message"]
    restored = replace_line(server, uri, lines, number, lines[number].replace("padding: 0", "padding: 1"), 3)
    assert restored == []


def test_completion_after_kind_lists_every_registered_kind(server, document):
    uri, lines = document
    number, _ = find(lines, "- relu")
    replace_line(server, uri, lines, number, "  - {kind: }")
    items = server.at("textDocument/completion", uri, number, len("  - {kind: "))
    labels = [item["label"] for item in (items["items"] if isinstance(items, dict) else items)]
    assert sorted(labels) == sorted(REGISTRY)


def accepted_sources(text: str, marker: str, names: set[str]) -> set[str]:
    """The names the checker accepts in place of `marker` in `text` (no unknown-name error)."""
    accepted = set()
    for name in names:
        report = netspec.check("net.yaml", text=text.replace(marker, f"from: {name},"))
        if not any(d.code == "layer.unknown_name" for d in report.diagnostics):
            accepted.add(name)
    return accepted


@pytest.mark.parametrize("target", ["name: conv2,", "kernel_size: 5, padding: 2"])
def test_completion_after_from_lists_only_the_names_visible_there(server, document, target):
    uri, lines = document
    number, column = find(lines, target)
    insert_at = column + (len(target) if target.endswith(",") else 0)
    new_line = lines[number][:insert_at] + (" from: ," if target.endswith(",") else "from: , ") + lines[number][insert_at:]
    replace_line(server, uri, lines, number, new_line)
    cursor = new_line.index("from: ") + len("from: ")
    items = server.at("textDocument/completion", uri, number, cursor)
    offered = {item["label"] for item in (items["items"] if isinstance(items, dict) else items)}
    text = "\n".join(lines)
    declared = {"input", "conv1", "incep1", "conv2", "incep2", "fc"}
    assert offered == accepted_sources(text, "from: ,", declared)
    assert offered == ({"input", "conv1", "incep1"} if target.startswith("name") else {"input"})


def test_go_to_definition_of_a_block_a_name_and_a_param(server, document):
    uri, lines = document
    line, column = find(lines, "block: inception_a")
    location = server.at("textDocument/definition", uri, line, column + len("block: in"))
    assert location["uri"] == uri
    assert location["range"]["start"] == dict(zip(("line", "character"), find(lines, "inception_a:")))
    number, _ = find(lines, "name: conv2,")
    replace_line(server, uri, lines, number, lines[number].replace("name: conv2,", "name: conv2, from: conv1,"))
    location = server.at("textDocument/definition", uri, number, lines[number].index("from: conv1") + 8)
    assert location["range"]["start"] == dict(zip(("line", "character"), find(lines, "conv1")))
    line, column = find(lines, "num_classes}")
    location = server.at("textDocument/definition", uri, line, column + 3)
    assert location["range"]["start"] == dict(zip(("line", "character"), find(lines, "num_classes:")))


def test_inlay_hints_show_each_layers_output_shape_at_the_end_of_its_line(server, document):
    uri, lines = document
    hints = server.request("textDocument/inlayHint", {"textDocument": {"uri": uri}, "range": {
        "start": {"line": 0, "character": 0}, "end": {"line": len(lines), "character": 0}}})
    by_line = {hint["position"]["line"]: hint for hint in hints}
    report = netspec.check(REPO / "specs" / "googlenet_mini.yaml")
    top_level = [node for node in report.graph.layers if node.path.count("[") == 1 and "." not in node.path]
    assert len(top_level) == 10
    for node in top_level:
        hint = by_line[node.mark.line - 1]
        assert fmt_shape(node.out_shape) in hint["label"]
        assert hint["position"]["character"] == len(lines[node.mark.line - 1].rstrip())


def test_broken_yaml_is_diagnosed_and_keeps_the_last_good_shapes(server, document):
    uri, lines = document
    number, _ = find(lines, "- relu")
    diagnostics = replace_line(server, uri, lines, number, "  - {kind: relu")  # a half-typed flow mapping
    assert [d["code"] for d in diagnostics] == ["yaml.syntax"]
    line, column = find(lines, "incep1")
    text = hover_text(server, uri, line, column + 2)
    assert "output (88, 12, 12)" in text and "last text that parsed" in text
    completion = server.at("textDocument/completion", uri, number, len("  - {kind: "))
    assert sorted(item["label"] for item in completion) == sorted(REGISTRY)
