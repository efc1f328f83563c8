"""The JSON Schema covers the kinds of MobileNet, EfficientNet, ConvNeXt, ShuffleNet and U-Net, and `plugins:`:
yaml-language-server accepts a spec using all of them and flags their misspelt fields and values."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_yaml_language_server import HEAD, diagnostics_of, server  # noqa: F401  (server is a fixture)
from .test_yaml_language_server import pytestmark  # noqa: F401  (skips where the server is not installed)


MODERN = (Path(__file__).resolve().parents[1] / "data" / "modern_kinds.yaml").read_text()


def test_a_spec_using_every_new_kind_gets_no_diagnostic(server):  # noqa: F811
    assert diagnostics_of(server, "modern.yaml", MODERN.replace("layers:", "plugins: [my_kinds]\nlayers:", 1)) == []


@pytest.mark.parametrize("line", [
    "  - {kind: upsample, scale_factor: 2, mode: bicubic}\n",
    "  - {channel_slice: [0, 1, 2]}\n",
    "  - {stochastic_depth: 1.5}\n",
    "  - {kind: layernorm, epsilon: 0.001}\n",
    "  - {kind: conv_transpose, out_channels: 4, kernel_size: 2, outputpadding: 1}\n",
    "  - {kind: mul, branches: [[], []], input: [a]}\n",
])
def test_a_mistake_in_a_new_kind_gets_a_diagnostic_on_its_line(server, line):  # noqa: F811
    found = diagnostics_of(server, f"mistake_{abs(hash(line))}.yaml", HEAD + line)
    assert {d["range"]["start"]["line"] for d in found} == {3}, line
