"""Property tests of the compiler as a whole (issue 2, item 5).

- `test_valid_specs_build_exactly_what_the_checker_says`, 150 examples: random valid specs
  (spec_strategies: chains of every kind, concat/add branches, residuals with an identity `[]` or a
  strided 1x1 projection, parameterised blocks reused with other arguments, repeats, `from:` and
  `inputs:` references, short forms, parameter expressions, heads). For each, the checker reports no
  error and the output shape of the generator's own shape model; the built module, run on a random
  batch, runs every submodule exactly once (blocks, merges and branches are called by their parent)
  and gives every layer the checker's input and output shapes (forward hooks on the IR's submodules); its parameters are named after the IR's module names, listed in spec order, and add up,
  per layer, in total and trainable, to the checker's counts; torch's FLOP counter measures 2 x batch x the checker's MACs.
- `test_broken_specs_get_located_diagnostics`, 304 examples (16 for each of the 19 mutations in
  spec_mutations): a valid spec with one mistake. check() never raises, reports ok == False with the
  expected error on the line that holds the mistake, with a hint (a "did you mean" for misspellings)
  wherever a fix can be proposed, and the diagnostics render as text and JSON.
- `test_garbage_never_raises`, 150 examples: truncated or garbled specs, random text and bytes.
  check() never raises, every diagnostic is well-formed, and an input that stays valid builds.

Hypothesis is derandomized, so every run checks the same examples; the file takes about 20 s on an
idle 2-core machine (75 s when five others share it). Counterexamples the properties found are kept at the end
as plain regression tests (and in test_names.py, test_expand.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from torch.utils.flop_counter import FlopCounterMode

import netspec
from netspec.builder import module_tree
from netspec.diagnostics import render_text
from netspec.ir import BLOCK, INPUT
from spec_mutations import MUTATIONS, broken_specs, garbage
from spec_strategies import valid_specs

BATCH = 2
VALID_EXAMPLES, BROKEN_EXAMPLES, GARBAGE_EXAMPLES = 150, 304, 150
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
    """Run `model` on `x`; return its output, every submodule's calls as (input shapes, output shape), and FLOPs."""
    seen: dict[str, list] = {}

    def hook(name):
        def record(module, args, output):
            given = args[0] if isinstance(args[0], list) else args
            seen.setdefault(name, []).append(([tuple(t.shape) for t in given], tuple(output.shape)))
        return record

    handles = [module.register_forward_hook(hook(name)) for name, module in model.named_modules()]
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
    called_once = {name: len(seen.get(name, [])) for name, _ in model.named_modules()}
    assert called_once == dict.fromkeys(called_once, 1), "every submodule runs once per forward, from its parent"
    parts = _parts(module_tree(graph))
    for node in graph.nodes:
        if node.kind == INPUT:
            continue
        if node.kind == BLOCK:
            assert node.out_shape == graph.nodes[node.inputs[0]].out_shape, node.path
            continue
        batched = lambda shape: (BATCH, *shape)  # noqa: E731
        part = parts[node.module_name]  # a merge with branches takes what its branches read
        in_shapes = [graph.nodes[i].out_shape for i in part.inputs] if part.children else node.in_shapes
        assert seen.get(node.module_name) == [([batched(s) for s in in_shapes], batched(node.out_shape))], \
            f"{node.path} ({node.module_name})"
    owners = {node.module_name: node for node in graph.nodes if node.module_name}
    counted = dict.fromkeys(owners, 0)
    for name, parameter in model.named_parameters():
        owner = name.rpartition(".")[0]
        assert owner in owners, f"parameter {name} is not named after a layer of the spec"
        counted[owner] += parameter.numel()
        assert parameter.requires_grad == owners[owner].trainable, name
    assert counted == {name: node.params for name, node in owners.items()}
    in_spec_order = [node.module_name for node in graph.nodes if node.params]
    assert list(dict.fromkeys(name.rpartition(".")[0] for name, _ in model.named_parameters())) == in_spec_order
    assert sum(p.numel() for p in model.parameters()) == report.params
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == report.trainable_params
    assert flops == 2 * BATCH * report.macs


def _parts(part, prefix: str = "") -> dict:
    """The module tree's parts by dotted module name."""
    found = {}
    for key, child in part.children.items():
        name = prefix + key
        found[name] = child
        found.update(_parts(child, name + "."))
    return found


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@settings(PROPERTY, max_examples=VALID_EXAMPLES)
@given(spec=valid_specs())
def test_valid_specs_build_exactly_what_the_checker_says(spec, workdir):
    text = spec.text()
    report = check_file(text, workdir)
    assert report.errors == [], render_text(report.diagnostics, text)
    assert report.graph.output_shape == spec.output_shape()
    rows = json.loads(json.dumps(report.to_dict()))["layers"]  # one row per layer, merge and block output
    assert [(row["path"], row["out"]) for row in rows] == [(n.path, list(n.out_shape)) for n in report.graph.layers]
    assert_matches_checker(report)


def assert_well_formed(report: netspec.Report, text: str | bytes) -> None:
    """Every diagnostic is complete data, and renders as text and JSON without raising."""
    line_count = (text.decode(errors="replace") if isinstance(text, bytes) else text).count("\n") + 2
    for diagnostic in report.diagnostics:
        assert diagnostic.severity in ("error", "warning") and diagnostic.message.strip()
        assert diagnostic.line is not None and diagnostic.column is not None, diagnostic  # every one is located
        if diagnostic.line is not None:
            assert 1 <= diagnostic.line <= line_count and diagnostic.column >= 1
    source = text if isinstance(text, str) else None
    render_text(report.diagnostics, source)
    json.dumps(report.to_dict())


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_broken_specs_get_located_diagnostics(mutation, workdir):
    @settings(PROPERTY, max_examples=BROKEN_EXAMPLES // len(MUTATIONS))
    @given(broken=broken_specs(mutation))
    def property_holds(broken):
        assert_diagnosed(broken, workdir)

    property_holds()


def assert_diagnosed(broken, workdir) -> None:
    report = check_file(broken.text, workdir)
    assert_well_formed(report, broken.text)
    assert not report.ok, f"{broken.what}: no error for\n{broken.text}"
    lines = broken.text.splitlines()
    located = [d for d in report.errors if d.code.startswith(broken.codes) and d.line is not None
               and (broken.token is None or broken.token in lines[d.line - 1])
               and (broken.hint is None or broken.hint in (d.hint or "") and d.hint)]
    assert located, (f"{broken.what}: expected {broken.codes} on a line with {broken.token!r} and a hint "
                     f"with {broken.hint!r}; got\n"
                     + render_text(report.diagnostics, broken.text))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@settings(PROPERTY, max_examples=GARBAGE_EXAMPLES)
@given(text=garbage())
def test_garbage_never_raises(text, workdir):
    report = check_file(text, workdir)
    assert_well_formed(report, text)
    if report.ok and report.graph is not None and report.params < 10**6 and report.activation_bytes < 10**7:
        assert_matches_checker(report)  # an edit that left a valid spec must still build what was checked


# -- regressions: the properties' shrunk counterexamples, kept as plain tests -------------------

DILATED_POOL = "name: net\ninput: [1, 8, 8]\nlayers:\n- {kind: maxpool, kernel_size: 3, padding: 2, dilation: 2}\n"


def test_dilated_pool_padding_is_limited_by_kernel_size_like_torch(workdir):
    """The checker allowed padding up to half the dilated window; torch allows half the kernel_size."""
    (error,) = check_file(DILATED_POOL, workdir).errors
    assert (error.code, error.line) == ("shape.maxpool", 4)
    assert error.message == "padding: expected at most half the kernel (3 // 2 = 1); got 2"
    with pytest.raises(RuntimeError, match="pad should be"):
        torch.nn.MaxPool2d(3, padding=2, dilation=2)(torch.zeros(1, 1, 8, 8))
