"""`netspec lsp` under hostile input: junk bytes, a huge paste, specs over the budgets, positions outside
the document, a broken message. Each gets diagnostics or an empty answer, and the server lives on."""

from __future__ import annotations

import pytest

from netspec.yamlsrc import YamlBudget

from .client import REPO, NetspecLspClient

GOOGLENET = (REPO / "specs" / "googlenet_mini.yaml").read_text()
JUNK = {
    "binary": bytes(range(256)).decode("latin-1") * 4,
    "png": "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "lone surrogate": "name: net\udc80\ninput: [1, 28, 28]\nlayers: [relu]\n",
    "half-typed": "name: net\ninput: [1, 28\nlayers:\n  - {kind: conv, out_",
    "alias bomb": "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefg", "bcdefgh")) + "name: x\ninput: [1, 8, 8]\nlayers: *h\n",
}
OVER_BUDGET = {
    # 1 KB expanding past the YAML node budget (32 nodes per layer of --max-layers; 30,000 layers written out
    # are within it now, and get budget.nodes)
    "yaml.budget": ("name: big\ninput: [1, 8, 8]\nlayers: [relu]\ntrain: {a: &a [" + ", ".join(["0"] * 1000)
                    + "], b: [" + ", ".join(["*a"] * 400) + "]}\n"),
    "budget.nodes": ("name: big\ninput: [1, 8, 8]\nblocks:\n  twenty:\n    layers: [" + ", ".join(["relu"] * 20)
                     + "]\nlayers:\n  - {repeat: 1000, layers: [twenty]}\n"),
    "budget.params": "name: big\ninput: [4096]\nlayers:\n  - {kind: linear, out_features: 1000000}\n",
}


def still_serving(server) -> None:
    """The server still checks and answers: a fresh document gets its shapes."""
    uri = "file:///tmp/netspec-lsp-tests/alive.yaml"
    assert server.open(uri, GOOGLENET) == []
    line = next(n for n, text in enumerate(GOOGLENET.split("\n")) if "name: incep1" in text)
    assert "(88, 12, 12)" in server.at("textDocument/hover", uri, line, 10)["contents"]["value"]
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


@pytest.mark.parametrize("label", sorted(JUNK))
def test_junk_gets_a_diagnostic_and_empty_answers(server, label):
    uri = f"file:///tmp/netspec-lsp-tests/junk-{label.replace(' ', '-')}.yaml"
    diagnostics = server.open(uri, JUNK[label])
    assert diagnostics and all(d["severity"] == 1 and d["message"] for d in diagnostics)
    for method in ("textDocument/hover", "textDocument/completion", "textDocument/definition"):
        server.at(method, uri, 0, 1)  # any answer, as long as there is one
    still_serving(server)


def test_a_huge_paste_is_refused_by_size(server):
    uri = "file:///tmp/netspec-lsp-tests/paste.yaml"
    server.open(uri, GOOGLENET)
    end = {"line": 0, "character": 0}
    diagnostics = server.change(uri, 2, "# " + "x" * (3 * YamlBudget().bytes) + "\n", {"start": end, "end": end})
    assert [d["code"] for d in diagnostics] == ["yaml.too_large"]
    assert server.at("textDocument/completion", uri, 0, 5) == []
    still_serving(server)


@pytest.mark.parametrize("code", sorted(OVER_BUDGET))
def test_a_spec_over_a_budget_gets_that_budgets_diagnostic(server, code):
    uri = f"file:///tmp/netspec-lsp-tests/{code}.yaml"
    diagnostics = server.open(uri, OVER_BUDGET[code])
    assert code in [d["code"] for d in diagnostics]
    still_serving(server)


def test_positions_outside_the_document_get_empty_answers(server):
    uri = "file:///tmp/netspec-lsp-tests/outside.yaml"
    server.open(uri, GOOGLENET)
    lines = GOOGLENET.split("\n")
    for line, character in ((len(lines), 0), (10**6, 10**6), (0, len(lines[0]) + 1), (12, 10**6)):
        assert server.at("textDocument/hover", uri, line, character) is None
        assert server.at("textDocument/definition", uri, line, character) is None
        assert server.at("textDocument/completion", uri, line, character) in (None, [])
    far = {"start": {"line": 10**6, "character": 0}, "end": {"line": 10**6 + 5, "character": 0}}
    assert server.request("textDocument/inlayHint", {"textDocument": {"uri": uri}, "range": far}) == []
    assert server.at("textDocument/hover", "file:///never/opened.yaml", 0, 0) is None
    still_serving(server)


def test_a_malformed_message_does_not_stop_the_server(server):
    server.send_bytes(b"Content-Length: 9\r\n\r\n{not json")
    server.send_bytes(b"Content-Length: 2\r\n\r\n[]")
    still_serving(server)


def relus(count: int) -> str:
    return f"name: chain\ninput: [1, 8, 8]\nlayers: [{', '.join(['relu'] * count)}]\n"


def test_the_budget_flags_are_the_servers_budgets():
    """`netspec lsp --max-layers/--max-params` as `netspec check` has them: an editor can raise (or lower) them."""
    server = NetspecLspClient("--max-layers", "8", "--max-params", "100")
    try:
        over = server.open("file:///tmp/netspec-lsp-tests/nine.yaml", relus(9))
        assert [d["code"] for d in over] == ["budget.nodes"]
        assert over[0]["message"].startswith("the spec expands to more than 8 layers")
        assert "--max-layers" in over[0]["data"]["hint"]
        uri = "file:///tmp/netspec-lsp-tests/five.yaml"
        assert server.open(uri, relus(5)) == []
        assert "(1, 8, 8)" in server.at("textDocument/hover", uri, 2, 10)["contents"]["value"]
        linear = "name: wide\ninput: [16]\nlayers: [{kind: linear, out_features: 16}]\n"  # 272 parameters
        assert [d["code"] for d in server.open("file:///tmp/netspec-lsp-tests/wide.yaml", linear)] == ["budget.params"]
    finally:
        assert server.shut_down() == 0, server.log()
