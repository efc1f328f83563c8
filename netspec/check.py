"""The static checker: spec -> IR -> a report of shapes, costs and diagnostics.

Pure Python: importing or running this module never imports torch.

What is counted:
- params: learnable parameters (weights and biases; batchnorm's affine weight and
  bias, not its running statistics, which are buffers).
- MACs: multiply-accumulates of one forward pass for one sample, in conv, conv_transpose
  and linear layers only: conv = out_C * out_H * out_W * (in_C / groups) * kH * kW,
  conv_transpose = in_C * in_H * in_W * (out_C / groups) * kH * kW (torch.utils.flop_counter's
  count), linear = in_features * out_features. Biases, pooling, upsampling, normalisation,
  activations and merges count 0 (they are memory-bound and small next to conv and linear).
- activation memory: float32 elements of every layer's output, per sample.
- training memory estimate: float32 weights + gradients + optimizer state
  (SGD with momentum: 1 buffer per weight, Adam/AdamW: 2) + every layer's
  output kept for the backward pass, times the batch size. An estimate, not a
  measurement: real use adds the framework's workspace and allocator slack.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from .diagnostics import Diagnostic, DiagnosticSink, SpecError
from .expand import Limits, expand
from .ir import Graph
from .spec import Spec, read_spec

BYTES_PER_ELEMENT = 4  # float32
OPTIMIZER_STATE = {"sgd": 1, "adam": 2, "adamw": 2}


@dataclass
class Report:
    """The checker's verdict on one spec: the IR, totals and every diagnostic."""

    spec: Spec | None
    graph: Graph | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    batch_size: int = 1

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def params(self) -> int:
        return self.graph.params if self.graph else 0

    @property
    def trainable_params(self) -> int:
        return self.graph.trainable_params if self.graph else 0

    @property
    def macs(self) -> int:
        return self.graph.macs if self.graph else 0

    @property
    def param_bytes(self) -> int:
        return self.params * BYTES_PER_ELEMENT

    @property
    def activation_bytes(self) -> int:
        """Output memory of every layer for one sample."""
        return sum(n.activation_elements for n in self.graph.nodes) * BYTES_PER_ELEMENT if self.graph else 0

    def training_memory_bytes(self, batch_size: int | None = None, optimizer: str = "sgd") -> int:
        batch = batch_size or self.batch_size
        state = OPTIMIZER_STATE.get(optimizer, 2)
        weights = self.params * BYTES_PER_ELEMENT * (1 + 1 + state)  # weights, gradients, state
        return weights + self.activation_bytes * batch

    def raise_for_errors(self) -> "Report":
        if not self.ok:
            raise SpecError(self.diagnostics, self.spec.source if self.spec else None)
        return self

    def to_dict(self) -> dict:
        graph = self.graph
        return {
            "name": graph.name if graph else None,
            "input": list(graph.input_shape) if graph else None,
            "output": list(graph.output_shape) if graph and graph.output_shape else None,
            "params": self.params,
            "trainable_params": self.trainable_params,
            "macs": self.macs,
            "param_bytes": self.param_bytes,
            "activation_bytes_per_sample": self.activation_bytes,
            "batch_size": self.batch_size,
            "training_memory_bytes": self.training_memory_bytes(),
            "layers": [_row(node) for node in graph.layers] if graph else [],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def _row(node) -> dict:
    row = {"path": node.path, "kind": node.kind, "out": list(node.out_shape) if node.out_shape else None,
           "params": node.params, "macs": node.macs, "receptive_field": node.receptive_field}
    if node.module_name:
        row["module"] = node.module_name
    if node.label:
        row["block"] = node.label
    return row


def check(spec: Spec | str | Path, *, input_shape: tuple[int, ...] | None = None, batch_size: int = 1,
          limits: Limits | None = None) -> Report:
    """Check a spec statically (no torch): shapes, costs and every problem found.

    `spec` is a path, or a `Spec` from `netspec.load`. Never raises for problems in
    the spec: they are in `report.diagnostics` (call `report.raise_for_errors()`).

    >>> report = netspec.check("specs/googlenet_mini.yaml")
    >>> report.ok, report.graph.output_shape, report.params
    (True, (10,), 97298)
    """
    limits = limits or Limits()
    if isinstance(spec, Spec):
        sink = DiagnosticSink(spec.file)
    else:
        sink = DiagnosticSink(str(spec))
        spec = read_spec(str(spec), sink)
        if spec is None:
            return Report(None, None, sink.items, batch_size)
    if input_shape is not None:
        spec = replace(spec, input_shape=tuple(input_shape))
    if not spec.layers.items:
        return Report(spec, None, sink.items, batch_size)
    graph = expand(spec, sink, limits)
    report = Report(spec, graph, sink.items, batch_size)
    _enforce_budgets(report, sink, limits)
    report.diagnostics = sink.items
    return report


def _enforce_budgets(report: Report, sink: DiagnosticSink, limits: Limits) -> None:
    graph = report.graph
    biggest = max(graph.layers, key=lambda node: node.params, default=None)
    if report.params > limits.max_params and biggest is not None:
        sink.error("budget.params", f"expected at most {limits.max_params:,} parameters; got {report.params:,} "
                   f"({biggest.path} alone has {biggest.params:,})", biggest.mark, biggest.path,
                   "shrink the layer (fewer channels, or pool before flatten), or raise --max-params")
    memory = report.training_memory_bytes()
    if memory > limits.max_memory_bytes:
        sink.error("budget.memory", f"expected training memory at most {limits.max_memory_bytes / 2**30:.1f} GiB; "
                   f"the estimate at batch {report.batch_size} is {memory / 2**30:.1f} GiB",
                   hint="lower --batch, or raise --max-memory")
