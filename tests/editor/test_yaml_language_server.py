"""`netspec schema` in a real editor's language server: Red Hat's yaml-language-server over stdio.

The server is what VS Code's YAML extension, Neovim's yamlls and Helix run; .ci/run installs
it from npm into build/node. These tests ask it what a user would see: completions after
`kind: `, no diagnostic on any valid spec, one for each kind of mistake, a description on hover.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from netspec import json_schema
from netspec.kinds import REGISTRY

from .lsp_client import LspClient

REPO = Path(__file__).resolve().parents[2]
SERVER = next((path for path in (os.environ.get("NETSPEC_YAML_LS"),
                                 REPO / "build" / "node" / "node_modules" / ".bin" / "yaml-language-server",
                                 shutil.which("yaml-language-server")) if path and Path(path).exists()), None)
pytestmark = pytest.mark.skipif(SERVER is None, reason="yaml-language-server not installed (.ci/run installs it: "
                                                       "npm install --prefix build/node yaml-language-server)")
HEAD = "name: probe\ninput: [3, 32, 32]\nlayers:\n"


def start_server(folder: Path, schema_text: str) -> LspClient:
    """yaml-language-server with `schema_text` (what `netspec schema` prints) for every spec in `folder`."""
    schema = folder / "netspec.schema.json"
    schema.write_text(schema_text)
    settings = {"yaml": {"schemas": {schema.as_uri(): "*.yaml"}, "validate": True, "hover": True,
                         "completion": True}}
    client = LspClient([str(SERVER), "--stdio"], settings, folder)
    client.folder = folder
    return client


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    client = start_server(tmp_path_factory.mktemp("editor"), json.dumps(json_schema()))
    yield client
    client.close()


def diagnostics_of(server, name: str, text: str) -> list[dict]:
    uri = (server.folder / name).as_uri()
    server.open(uri, text)
    return server.wait_diagnostics(uri)


def test_completion_after_kind_offers_every_kind(server):
    empty = (server.folder / "complete.yaml").as_uri()
    diagnostics_of(server, "complete.yaml", HEAD + "  - kind: \n")  # once the server has read the document
    assert set(server.completion(empty, 3, 10)) >= set(REGISTRY)
    started = (server.folder / "complete_co.yaml").as_uri()
    diagnostics_of(server, "complete_co.yaml", HEAD + "  - kind: co\n")
    assert {"conv", "concat"} <= set(server.completion(started, 3, 12))


@pytest.mark.parametrize("spec", sorted((REPO / "specs").glob("*.yaml")) + sorted((REPO / "examples").rglob("*.yaml"))
                         + sorted((REPO / "netspec" / "zoo").glob("*.yaml")),
                         ids=lambda path: path.stem)  # examples/: imports, scales, and a file of blocks alone
def test_every_valid_spec_gets_no_diagnostic(server, spec):
    assert diagnostics_of(server, f"valid_{spec.name}", spec.read_text()) == []


MISTAKES = {
    "misspelt field, full form": ("  - {kind: conv, out_channels: 8, kernel_size: 3, stirde: 2}\n", "stirde"),
    "misspelt field, short form": ("  - {maxpool: {kernal_size: 3}}\n", "kernal_size"),
    "misspelt padding word": ("  - {kind: conv, out_channels: 8, kernel_size: 3, padding: smae}\n", "smae"),
    "bad enum value": ("  - {kind: gelu, approximate: tanhh}\n", "tanhh"),
    "unknown kind": ("  - {kind: cnv, out_channels: 8}\n", "cnv"),
    "zero channels": ("  - {kind: conv, out_channels: 0, kernel_size: 3}\n", "0"),
    "dropout p above 1": ("  - {dropout: 1.5}\n", "1.5"),
}


@pytest.mark.parametrize("case", list(MISTAKES))
def test_each_mistake_gets_a_diagnostic_on_its_line(server, case):
    line, word = MISTAKES[case]
    found = diagnostics_of(server, f"mistake_{abs(hash(case))}.yaml", HEAD + line)
    assert found, case
    assert {d["range"]["start"]["line"] for d in found} == {3}
    assert any(line[d["range"]["start"]["character"]:d["range"]["end"]["character"]].startswith(word[:1])
               or word in d["message"] for d in found), found


@pytest.mark.parametrize("train, word", [("{label_smoothing: 1.5}", "maximum"), ("{optimizer: SGD}", "SGD"),
                                         ("{epochs: 0}", "minimum")])
def test_train_section_bounds_and_enums(server, train, word):
    found = diagnostics_of(server, f"train_{abs(hash(train))}.yaml", HEAD + "  - relu\ntrain: " + train + "\n")
    assert len(found) == 1 and found[0]["range"]["start"]["line"] == 4


def test_hover_describes_every_field_of_every_kind(server):
    lines, probes = [], []
    for name, kind in REGISTRY.items():
        for field in kind.schema.model_fields:
            key = kind.schema.model_fields[field].alias or field
            if key == "kind":
                continue
            text = f"  - {{kind: {name}, {key}: 1}}"
            probes.append((len(lines) + 3, text.index(key) + 1, name, key))
            lines.append(text)
    uri = (server.folder / "hover.yaml").as_uri()
    server.open(uri, HEAD + "\n".join(lines) + "\n")
    missing = [(name, key) for line, column, name, key in probes
               if not _described(server.hover(uri, line, column))]
    assert missing == []


def _described(hover: str) -> bool:
    """yaml-language-server shows `#### title`, then the description, then `Source: ...`."""
    body = [part for part in hover.split("\n\n") if part and not part.startswith(("####", "Source:"))]
    return bool(body)
