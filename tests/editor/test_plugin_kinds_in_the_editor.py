"""`netspec schema` describes installed plugins' kinds: with the example plugin package installed,
yaml-language-server completes `channel_affine` after `kind: `, accepts its fields and flags a misspelt one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .test_yaml_language_server import HEAD, REPO, diagnostics_of, start_server
from .test_yaml_language_server import pytestmark  # noqa: F401  (skips where the server is not installed)


@pytest.fixture(scope="module")
def plugin_server(install_plugin_package, tmp_path_factory):
    site = install_plugin_package(without=("broken_kind",)) / "site"
    printed = subprocess.run([sys.executable, "-m", "netspec", "schema"], capture_output=True, text=True, timeout=120,
                             env={"PYTHONPATH": f"{REPO}:{site}", "PATH": "/usr/bin:/bin"})
    assert printed.returncode == 0, printed.stderr
    client = start_server(tmp_path_factory.mktemp("plugin_editor"), printed.stdout)
    yield client
    client.close()


def test_completion_after_kind_offers_an_installed_plugins_kind(plugin_server):
    diagnostics_of(plugin_server, "complete.yaml", HEAD + "  - kind: \n")
    assert "channel_affine" in plugin_server.completion((plugin_server.folder / "complete.yaml").as_uri(), 3, 10)


def test_an_installed_plugins_kind_is_valid_in_both_forms(plugin_server):
    text = HEAD + "  - {kind: channel_affine, init_scale: 0.5}\n  - {channel_affine: 2}\n  - {channel_affine: {}}\n"
    assert diagnostics_of(plugin_server, "valid.yaml", text) == []


def test_a_misspelt_field_of_a_plugins_kind_gets_a_diagnostic_on_its_line(plugin_server):
    found = diagnostics_of(plugin_server, "misspelt.yaml", HEAD + "  - relu\n  - {kind: channel_affine, init_scal: 2}\n")
    assert [(d["range"]["start"]["line"], d["message"]) for d in found] == [(4, "Property init_scal is not allowed.")]
