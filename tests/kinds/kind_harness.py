"""Check a one-layer spec statically, then run the same layer in torch.

Every kind test compares three things: the value written in its table (worked
out by hand from PyTorch's formula), the checker's IR and a real forward pass.
"""

from __future__ import annotations

import netspec
from netspec.diagnostics import Diagnostic


def spec_text(layers: list[str], input_shape: tuple[int, ...]) -> str:
    body = "".join(f"  - {layer}\n" for layer in layers)
    return f"name: probe\ninput: {list(input_shape)}\nlayers:\n{body}"


def check_layers(layers: list[str], input_shape: tuple[int, ...]) -> netspec.Report:
    """The report for a spec written as text; each layer is a YAML flow mapping or a kind name."""
    return netspec.check(netspec.load("probe.yaml", text=spec_text(layers, input_shape)))


def check_layer(layer: str, input_shape: tuple[int, ...]) -> netspec.Report:
    return check_layers([layer], input_shape)


def output_node(report: netspec.Report):
    return report.graph.nodes[report.graph.output]


def run_in_torch(report: netspec.Report, input_shape: tuple[int, ...]):
    """The built module, its real output shape (no batch dimension) and its parameter count."""
    import torch

    model = netspec.build(report).eval()
    with torch.no_grad():
        out = model(torch.randn(2, *input_shape))
    return model, tuple(out.shape[1:]), sum(p.numel() for p in model.parameters())


def assert_matches_torch(report: netspec.Report, input_shape: tuple[int, ...], expected: tuple[int, ...]):
    """The checker's output shape and params equal the table's and a real forward pass's; returns the module."""
    assert report.ok, [d.message for d in report.errors]
    node = output_node(report)
    assert node.out_shape == expected
    model, real_shape, real_params = run_in_torch(report, input_shape)
    assert real_shape == expected
    assert report.params == real_params
    return model


def single_error(report: netspec.Report) -> Diagnostic:
    errors = report.errors
    assert len(errors) == 1, [d.message for d in errors]
    return errors[0]


def column_of(text: str, line: int, token: str) -> int:
    """1-based column where the caret belongs for `token` on 1-based `line` of `text`.

    For `key: value` that is the value's column (problems point at the value); for
    any other token, its first character.
    """
    start = text.splitlines()[line - 1].index(token)
    key, colon, _ = token.partition(": ")
    return start + 1 + (len(key) + 2 if colon else 0)
