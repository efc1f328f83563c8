"""netspec.check: totals, the memory estimate, budgets, and hostile input that must end in diagnostics,
quickly, within bounded memory, never in an exception."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import netspec

ROOT = Path(__file__).resolve().parent.parent


# -- totals and the report ---------------------------------------------------------------------------------

LENET = """\
    name: lenet
    input: [3, 32, 32]
    layers:
      - {kind: conv, name: conv1, out_channels: 6, kernel_size: 5}
      - relu
      - {maxpool: 2}
      - {kind: conv, name: conv2, out_channels: 16, kernel_size: 5, trainable: false}
      - relu
      - {maxpool: 2}
      - flatten
      - {kind: linear, name: fc1, out_features: 120}
      - {kind: batchnorm, name: bn}
      - {kind: linear, name: fc2, out_features: 10}
    """
CONV1 = 6 * 3 * 25 + 6
CONV2 = 16 * 6 * 25 + 16
FC1 = 400 * 120 + 120
BN = 2 * 120
FC2 = 120 * 10 + 10


def test_totals_follow_the_documented_counts(check_text):
    report = check_text(LENET)
    assert report.ok and report.graph.output_shape == (10,)
    assert report.params == CONV1 + CONV2 + FC1 + BN + FC2
    assert report.trainable_params == report.params - CONV2
    assert report.macs == 6 * 28 * 28 * 3 * 25 + 16 * 10 * 10 * 6 * 25 + 400 * 120 + 120 * 10
    assert report.param_bytes == 4 * report.params
    activations = 6 * 28 * 28 * 2 + 6 * 14 * 14 + 16 * 10 * 10 * 2 + 16 * 5 * 5 + 400 + 120 * 2 + 10
    assert report.activation_bytes == 4 * (3 * 32 * 32 + activations)


@pytest.mark.parametrize("optimizer, state", [("sgd", 1), ("adam", 2), ("adamw", 2)])
def test_training_memory_estimate_is_weights_grads_state_and_activations(check_text, optimizer, state):
    report = check_text(LENET)
    expected = report.params * 4 * (2 + state) + report.activation_bytes * 64
    assert report.training_memory_bytes(64, optimizer) == expected


def test_batch_size_is_the_default_for_the_estimate(check_text):
    report = check_text(LENET, batch_size=32)
    assert report.training_memory_bytes() == report.training_memory_bytes(32, "sgd")
    assert report.to_dict()["batch_size"] == 32


def test_input_shape_override_recomputes_every_shape(check_text):
    report = check_text(LENET, input_shape=(3, 64, 64))
    fc1 = next(node for node in report.graph.layers if node.module_name == "fc1")
    assert fc1.in_shapes == ((16 * 13 * 13,),)


def test_to_dict_has_a_row_per_layer_merge_and_block(check_text):
    report = check_text("""\
        name: t
        input: [1, 8, 8]
        blocks:
          res: {layers: [{kind: add, branches: [[{kind: conv, out_channels: 1, kernel_size: 3, padding: 1}], []]}]}
        layers: [res]
        """)
    rows = report.to_dict()["layers"]
    assert [(row["path"], row["kind"], row["out"]) for row in rows] == [
        ("layers[0].res[0].branches[0][0]", "conv", [1, 8, 8]),
        ("layers[0].res[0]", "add", [1, 8, 8]),
        ("layers[0]", "block", [1, 8, 8]),
    ]
    json.dumps(report.to_dict())


def test_check_accepts_a_loaded_spec_and_a_path():
    spec = netspec.load(str(ROOT / "specs" / "resnet_mini.yaml"))
    assert netspec.check(spec).params == netspec.check(ROOT / "specs" / "resnet_mini.yaml").params > 0


def test_raise_for_errors(check_text):
    report = check_text("name: t\ninput: [1, 4, 4]\nlayers: [{kind: conv, out_channels: 2, kernel_size: 5}]\n")
    with pytest.raises(netspec.SpecError, match=r"net\.yaml:3:53: error: H and W collapse"):
        report.raise_for_errors()
    assert check_text(LENET).raise_for_errors().ok


def test_parameter_and_memory_budgets_refuse_before_allocation(check_text):
    report = check_text("name: t\ninput: [3, 20000, 20000]\nlayers: [{kind: conv, out_channels: 64, kernel_size: 3}]\n",
                        batch_size=8)
    (error,) = report.errors
    params = 64 * 3 * 9 + 64
    activations = 3 * 20000 * 20000 + 64 * 19998 * 19998
    estimate = (params * 4 * 3 + activations * 4 * 8) / 2**30
    assert (error.code, error.message, error.hint, error.line, error.column) == (
        "budget.memory", f"expected training memory at most 64.0 GiB; the estimate at batch 8 is {estimate:.1f} GiB "
                         f"(layers[0] alone outputs {64 * 19998 * 19998:,} values per image)",
        "lower --batch, or raise --max-memory (Limits.max_memory_bytes)", 3, 10)  # located, like the params one
    (error,) = check_text(LENET, limits=netspec.Limits(max_params=100)).errors
    assert (error.code, error.path, error.line) == ("budget.params", "layers[7]", 11)
    assert error.message == f"expected at most 100 parameters; got {check_text(LENET).params:,} " \
                            f"(layers[7] alone has {FC1:,})"


# -- hostile input -------------------------------------------------------------------------------------------

MEMORY_LIMIT = 1536 * 2**20  # address space for the checking process: far below "eats the machine"
CPU_SECONDS_PER_SPEC = 3  # CPU time, so other processes on the shared machine do not make it flaky

LAUGHS = "\n".join(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]" for prev, name in zip("abcdefgh", "bcdefghi"))
HOSTILE = {
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40, "file.encoding"),
    "not-utf8": (bytes(range(128, 256)) * 100, "file.encoding"),
    "tabs": (b"name: t\ninput: [1, 8, 8]\nlayers:\n\t- relu\n", "yaml.syntax"),
    "deep-flow": (b"name: t\ninput: [1, 8, 8]\nlayers: " + b"[" * 100_000 + b"]" * 100_000, "yaml.budget"),
    "deep-block": (b"name: t\ninput: [1, 8, 8]\nlayers:\n" + b"".join(b" " * i + b"- \n" for i in range(1, 1000)),
                   "yaml.budget"),
    "alias-bomb": (('name: t\ninput: [1, 8, 8]\nlayers: [relu]\ntrain: {a: &a ["lol", "lol", "lol", "lol", "lol", '
                    '"lol", "lol", "lol", "lol"]}\n' + LAUGHS + "\n").encode(), "yaml.budget"),
    "recursive-alias": (b"name: t\ninput: [1, 8, 8]\nlayers: &l\n  - relu\n  - *l\n", "yaml.recursive"),
    "huge-repeat": (b"name: t\ninput: [1, 8, 8]\nlayers: [{repeat: 100000000, layers: [relu]}]\n", "repeat.count"),
    "nested-repeats": (b"name: t\ninput: [1, 8, 8]\nblocks:\n  a: {layers: [{repeat: 1000, layers: [relu]}]}\n"
                       b"  b: {layers: [{repeat: 1000, layers: [a]}]}\nlayers: [{repeat: 1000, layers: [b]}]\n",
                       "budget.nodes"),
    "tera-linear": (b"name: t\ninput: [1000000]\nlayers: [{kind: linear, out_features: 1000000}]\n", "budget.params"),
    "giga-conv": (b"name: t\ninput: [1, 8, 8]\nlayers: [{kind: conv, out_channels: 1000000000, kernel_size: 3}]\n",
                  "budget.params"),
    "huge-input": (b"name: t\ninput: [3, 100000, 100000]\nlayers: [relu]\n", "budget.memory"),
    "python-tag": (b"name: t\ninput: [1, 8, 8]\nlayers:\n  - !!python/object/apply:os.system ['touch PWNED']\n",
                   "yaml.tag"),
    "power-tower": (b"name: t\ninput: [1, 8, 8]\nparams: {a: 9 ** 9 ** 9 ** 9, b: 10 ** 10 ** 10}\nlayers: [relu]\n",
                    "spec.expression"),
    "long-expression": (b"name: t\ninput: [1, 8, 8]\nparams: {a: " + b"1+" * 100_000 + b"1}\nlayers: [relu]\n",
                        "spec.expression"),
    "huge-line": (b"name: t\ninput: [1, 8, 8]\nlayers: [{kind: conv, out_channels: 2, kernel_size: 3, padding: "
                  + b"x" * 200_000 + b"}]\n", "schema.type"),
    "too-big": (b"#" * 6_000_000, "yaml.too_large"),
    "too-big-binary": (bytes(range(256)) * 40_000, "yaml.too_large"),  # the size is judged before decoding
    "two-thousand-bad-layers": (b"name: t\ninput: [1, 8, 8]\nlayers:\n" + b"  - {kind: cnov}\n" * 2_000,
                                 "layer.unknown_kind"),
    "a-hundred-thousand-layers": (b"name: t\ninput: [1, 8, 8]\nlayers:\n" + b"  - relu\n" * 100_000, "budget.nodes"),
    "empty": (b"", "spec.empty"),
}
RUNNER = """
import json, sys, time, netspec
results = {}
for path in sys.argv[1:]:
    start = time.process_time()
    report = netspec.check(path)
    text = netspec.diagnostics.render_text(report.diagnostics, report.spec.source if report.spec else None)
    results[path] = {"seconds": time.process_time() - start, "ok": report.ok,
                     "codes": sorted({d.code for d in report.errors}), "rendered": len(text),
                     "diagnostics": len(report.diagnostics)}
print(json.dumps(results))
"""


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@pytest.fixture(scope="module")
def hostile_results(tmp_path_factory):
    """Check every hostile file in one process with capped memory; one result per case."""
    folder = tmp_path_factory.mktemp("hostile")
    paths = {}
    for name, (data, _) in HOSTILE.items():
        paths[name] = folder / f"{name}.yaml"
        paths[name].write_bytes(data)
    result = subprocess.run([sys.executable, "-c", RUNNER, *map(str, paths.values())], cwd=folder,
                            capture_output=True, text=True, timeout=120, preexec_fn=_limit_memory)
    assert result.returncode == 0, result.stderr[-3000:]
    by_path = json.loads(result.stdout)
    return {name: by_path[str(path)] for name, path in paths.items()}, folder


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_gives_diagnostics_quickly(hostile_results, case):
    results, _ = hostile_results
    outcome = results[case]
    expected_code = HOSTILE[case][1]
    assert outcome["seconds"] < CPU_SECONDS_PER_SPEC
    assert not outcome["ok"]
    if expected_code is not None:
        assert expected_code in outcome["codes"]
    # long lines and values are shown as windows, never echoed whole
    assert outcome["rendered"] < 1000 * outcome["diagnostics"]


def test_python_tags_run_nothing(hostile_results):
    _, folder = hostile_results
    assert not (folder / "PWNED").exists()
