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

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from .diagnostics import Diagnostic, DiagnosticSink, SpecError
from .expand import Limits, expand
from .ir import Graph
from .spec import Spec, derive, read_spec, sink_for
from .blame import blame_overrides
from .variants import reconcile, split_scale, variant_for
from .yamlsrc import YMap

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

    def __str__(self) -> str:
        """The per-layer table (what `netspec check` prints), then any diagnostics."""
        from .diagnostics import render_text
        from .table import render_table

        parts = [render_table(self)] if self.graph is not None and self.ok else []
        if self.diagnostics:
            parts.append(render_text(self.diagnostics, self.spec.source if self.spec else None))
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        """The table in a notebook (Jupyter calls this to show a Report)."""
        import html

        from .diagnostics import render_text
        from .table import render_html

        table = render_html(self) if self.graph is not None and self.ok else ""
        if not self.diagnostics:
            return table
        return table + f"<pre>{html.escape(render_text(self.diagnostics, self.spec.source if self.spec else None))}</pre>"

    def raise_for_errors(self) -> "Report":
        if not self.ok:
            raise SpecError(self.diagnostics, self.sources)
        return self

    @property
    def sources(self) -> dict[str, str] | None:
        """File -> text of everything the diagnostics may point into (the spec, its imports, overrides)."""
        return (self.spec.sources or {self.spec.file: self.spec.source}) if self.spec else None

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
            "scale": self.spec.scale if self.spec else None,
            "overrides": dict(self.spec.overrides) if self.spec else {},
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
          limits: Limits | None = None, overrides=None, scale: str | None = None,
          text: str | None = None) -> Report:
    """Check a spec statically (no torch): shapes, costs and every problem found.

    `spec` is a path (`net.yaml@s` picks a scale), or a `Spec` from `netspec.load`.
    `overrides` and `scale` are those of `netspec.load` (given with a `Spec`, they replace
    the ones it was loaded with). With `text`, the path only names that text (an editor's
    unsaved buffer) and is not read. Never raises for problems in
    the spec: they are in `report.diagnostics` (call `report.raise_for_errors()`).

    >>> report = netspec.check("specs/googlenet_mini.yaml")
    >>> report.ok, report.graph.output_shape, report.params
    (True, (10,), 97298)
    """
    if isinstance(spec, Spec) and (overrides or scale) and spec.document is not None:
        sink = sink_for(spec.document)  # derived again at the variant asked for, which replaces the Spec's own
        spec = derive(spec.document, variant_for(sink, spec.file, scale, overrides), sink)
    elif isinstance(spec, Spec):
        sink = DiagnosticSink(spec.file)
    else:
        sink = DiagnosticSink(str(spec))
        spec = read_spec(str(spec), sink, text=text, overrides=overrides, scale=scale,
                         budget=(limits or Limits()).reading)
        if spec is None:
            return Report(None, None, sink.items, batch_size)
    return check_spec(spec, sink, input_shape, batch_size, limits)


def check_spec(spec: Spec, sink: DiagnosticSink, input_shape: tuple[int, ...] | None, batch_size: int,
               limits: Limits | None) -> Report:
    """`check` of a spec already read, adding to `sink`, which holds what reading it found."""
    limits = limits or Limits()
    if input_shape is not None:
        spec = replace(spec, input_shape=tuple(input_shape))
    if not spec.layers.items:
        return Report(spec, None, sink.items, batch_size)
    with collector_paused():
        graph = expand(spec, sink, limits)
    report = Report(spec, graph, sink.items, batch_size)
    _enforce_budgets(report, sink, limits)
    root = spec.document.root if spec.document is not None else None
    report.diagnostics = blame_overrides(_without_import_echoes(sink.items, spec), spec, root) if isinstance(root, YMap) \
        else sink.items
    return report


def _without_import_echoes(diagnostics: list[Diagnostic], spec: Spec) -> list[Diagnostic]:
    """While an import could not be read, a block it would have defined is unknown: that is no second error."""
    if spec.document is None or spec.document.imports_complete:
        return diagnostics
    return [d for d in diagnostics if d.code not in ("block.unknown", "layer.unknown_kind")]


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector while a graph or module tree is made.

    Everything allocated then stays alive, yet each collector pass would rescan every object made
    so far: a 20,000-layer build cost 1.8x more per layer than a 1,000-layer one. Paused, the cost
    per layer is flat (bench/build_cost.py); cycles made meanwhile are collected afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _enforce_budgets(report: Report, sink: DiagnosticSink, limits: Limits) -> None:
    graph = report.graph
    biggest = max(graph.layers, key=lambda node: node.params, default=None)
    if report.params > limits.max_params and biggest is not None:
        sink.error("budget.params", f"expected at most {limits.max_params:,} parameters; got {report.params:,} "
                   f"({biggest.path} alone has {biggest.params:,})", biggest.mark, biggest.path,
                   "shrink the layer (fewer channels, or pool before flatten), or raise --max-params "
                   "(Limits.max_params)")
    if limits.max_macs is not None and report.macs > limits.max_macs:
        costliest = max(graph.layers, key=lambda node: node.macs)
        sink.error("budget.macs", f"expected at most {limits.max_macs:,} MACs per sample; got {report.macs:,} "
                   f"({costliest.path} alone has {costliest.macs:,})", costliest.mark, costliest.path,
                   "narrow or downsample earlier, or raise --max-macs (Limits.max_macs)")
    memory = report.training_memory_bytes()
    if memory > limits.max_memory_bytes:
        widest = max(graph.layers, key=lambda node: node.activation_elements)
        sink.error("budget.memory", f"expected training memory at most {limits.max_memory_bytes / 2**30:.1f} GiB; "
                   f"the estimate at batch {report.batch_size} is {memory / 2**30:.1f} GiB "
                   f"({widest.path} alone outputs {widest.activation_elements:,} values per image)",
                   widest.mark, widest.path, "lower --batch, or raise --max-memory (Limits.max_memory_bytes)")


def check_as_trained(spec: Spec | str | Path, recorded: dict | None, checkpoint: str | Path, *, overrides=None,
                     scale: str | None = None, input_shape: tuple[int, ...] | None = None) -> Report:
    """`check` at the scale and overrides a checkpoint recorded (its "variant"), which need no repeating.

    `overrides` and `scale` given here may only repeat the recorded ones: a contradicting
    one raises SpecError naming it. Without a record they apply as in `check`.
    """
    name = spec.file if isinstance(spec, Spec) else str(spec)
    sink = DiagnosticSink(name)
    if isinstance(spec, Spec) and not (overrides or scale):
        overrides, scale = spec.overrides, spec.scale
    given = variant_for(sink, name, scale, overrides)
    if sink.has_errors:
        raise SpecError(sink.items, given.sources)
    trained_scale, trained_overrides = reconcile(given, recorded, str(checkpoint))
    if trained_overrides is not None:
        overrides, scale = trained_overrides, trained_scale
        spec = split_scale(name)[0] if not isinstance(spec, Spec) else spec
    return check(spec, input_shape=input_shape, overrides=overrides, scale=scale)
