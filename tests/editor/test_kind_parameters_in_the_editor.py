"""A block parameter may name a layer kind (`params: {act: relu}`, then `{kind: act}` in the body):
yaml-language-server accepts such a layer inside a block body, wherever in the body it stands, and
still flags a misspelt kind where the schema can tell it from a parameter (outside blocks)."""

from __future__ import annotations

import pytest

import netspec
from netspec.kinds import REGISTRY

from .test_yaml_language_server import HEAD, diagnostics_of, server  # noqa: F401  (server is a fixture)
from .test_yaml_language_server import pytestmark  # noqa: F401  (skips where the server is not installed)

KIND_PARAMETERS = """\
name: kind parameters
input: [3, 16, 16]
blocks:
  unit:
    params: {act: relu, gate: sigmoid, out: 8}
    layers:
      - {kind: conv, out_channels: out, kernel_size: 3, padding: 1}
      - {kind: act}
      - kind: mul
        branches:
          - []
          - [{kind: adaptive_avgpool, output_size: 1}, {kind: conv, out_channels: out, kernel_size: 1}, {kind: gate}]
      - {repeat: 2, layers: [{kind: act, name: again}]}
      - gate
layers:
  - unit
  - {block: unit, act: hardswish, gate: hardsigmoid}
  - {block: unit, act: silu, out: 4}
  - global_avgpool
  - {linear: 10}
"""


def test_a_spec_with_kind_valued_block_parameters_is_valid_and_gets_no_diagnostic(server, write_spec):  # noqa: F811
    report = netspec.check(write_spec(KIND_PARAMETERS))
    assert report.ok, [d.message for d in report.diagnostics]
    assert {"hardswish", "hardsigmoid", "silu"} <= {node.kind for node in report.graph.nodes}
    assert diagnostics_of(server, "kind_parameters.yaml", KIND_PARAMETERS) == []


@pytest.mark.parametrize("line", [
    "  - {kind: act}\n",  # a network's layers have no block parameters: a word that is no kind is a mistake
    "  - {kind: add, branches: [[{kind: rleu}], []]}\n",
    "  - {repeat: 2, layers: [{kind: cnv, out_channels: 4, kernel_size: 3}]}\n",
])
def test_a_misspelt_kind_outside_blocks_gets_a_diagnostic_on_its_line(server, line):  # noqa: F811
    found = diagnostics_of(server, f"misspelt_{abs(hash(line))}.yaml", HEAD + line)
    assert found and {d["range"]["start"]["line"] for d in found} == {3}, found
    assert all(d["message"].startswith("Value is not accepted. Valid values: \"conv\"") for d in found), found


BLOCK_HEAD = "name: probe\ninput: [3, 32, 32]\nblocks:\n  unit:\n    params: {act: relu}\n    layers:\n"


@pytest.mark.parametrize("line", [
    "      - {kind: 'act 2'}\n",  # a kind or a parameter name is an identifier
    "      - {kind: conv, out_channels: 8, kernal_size: 3}\n",  # a known kind's fields are still checked
    "      - {kind: add, branches: [[{kind: dropout, p: 1.5}], []]}\n",
])
def test_a_mistake_inside_a_block_body_still_gets_a_diagnostic(server, line):  # noqa: F811
    found = diagnostics_of(server, f"block_mistake_{abs(hash(line))}.yaml", BLOCK_HEAD + line + "layers: [unit]\n")
    assert found and {d["range"]["start"]["line"] for d in found} == {6}, found


def test_completion_after_kind_in_a_block_body_offers_every_kind(server):  # noqa: F811
    diagnostics_of(server, "complete_block.yaml", BLOCK_HEAD + "      - kind: \nlayers: [unit]\n")
    uri = (server.folder / "complete_block.yaml").as_uri()
    assert set(server.completion(uri, 6, 14)) >= set(REGISTRY)
