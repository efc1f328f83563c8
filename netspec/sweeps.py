"""Static sweeps: check every point of a grid of a spec's params, without torch, one row per point.

The spec is read, parsed and its imports read once; each point derives its variant
from that tree and runs the checker, so a point costs one expansion, not a file read.
A row says what the point set, what comes out (output shape, params, MACs, training
memory at the batch size) and whether it is ok, over a budget, or the first error.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from .check import Report, check_spec
from .diagnostics import Diagnostic, DiagnosticSink
from .expand import Limits
from .spec import derive, read_document, sink_for
from .variants import Override, Variant, name_mark, report_unknown_names, split_scale, variant_for
from .yamlsrc import YMap

SCALE_AXIS = "scale"  # `--sweep scale=n,s,m` walks the spec's scales
BUDGET_CODES = ("budget.params", "budget.macs", "budget.memory")


@dataclass(frozen=True)
class Axis:
    """One `--sweep NAME=V1,V2,...`: a param (or train.KEY, or `scale`) and its values."""

    name: str
    values: tuple[Override, ...]


@dataclass
class Row:
    point: dict[str, Any]  # axis name -> value at this point
    report: Report
    batch_size: int

    @property
    def status(self) -> str:
        errors = self.report.errors
        if not errors:
            return "ok"
        return "over budget" if all(e.code in BUDGET_CODES for e in errors) else "error"

    @property
    def message(self) -> str:
        """The first error, located (`<--sweep width=0>:1:15: out_channels: expected ...`), or every budget missed."""
        errors = self.report.errors
        if self.status == "over budget":
            return "; ".join(error.message.split(" (")[0] for error in errors)
        return located(errors[0]) if errors else ""

    def to_dict(self) -> dict:
        report, valid = self.report, self.report.graph is not None and self.status != "error"
        output = report.graph.output_shape if report.graph is not None else None
        return {**self.point, "output": list(output) if valid and output else None,
                "params": report.params if valid else None, "macs": report.macs if valid else None,
                "training_memory_bytes": report.training_memory_bytes() if valid else None,
                "status": self.status, "error": self.message or None}


@dataclass
class Sweep:
    """Every point's row, or the problems that stopped the sweep before its first point."""

    axes: list[Axis]
    rows: list[Row] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    batch_size: int = 1

    @property
    def ok(self) -> bool:
        return not self.problems and all(row.status == "ok" for row in self.rows)


def located(diagnostic: Diagnostic) -> str:
    where = diagnostic.file or "<spec>"
    if diagnostic.line is not None:
        where += f":{diagnostic.line}:{diagnostic.column}"
    return f"{where}: {diagnostic.message}"


def parse_axes(texts, sink: DiagnosticSink, origin: str = "--sweep") -> tuple[list[Axis], dict[str, str]]:
    """`width=0.25,0.5,1` -> Axis('width', (...)), each value read as YAML and located at its `--sweep`;
    and the text of each value's pseudo-file, for rendering diagnostics."""
    axes, sources = [], {}
    for text in texts:
        name, _, values = text.partition("=")
        parts = _split_values(values)
        if not parts:
            sink.error("sweep.form", f"{origin}: expected NAME=V1,V2,...; got '{text}'", name_mark(f"<{origin} {text}>"),
                       hint="e.g. --sweep width=16,32,64 --sweep depth=1,2,3")
            continue
        parsed = variant_for(sink, "", None, [f"{name.strip()}={part}" for part in parts], origin=origin)
        sources.update(parsed.sources)
        if len(parsed.overrides) == len(parts):
            axes.append(Axis(name.strip(), parsed.overrides))
    return axes, sources


def _split_values(text: str) -> list[str]:
    """Split on commas outside brackets: `k=[1,2],[3,4]` has two values."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "[{" and 1 or (-1 if char in "]}" else 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def sweep(spec: str, axes: list[str], *, overrides=None, scale: str | None = None, all_scales: bool = False,
          input_shape: tuple[int, ...] | None = None, batch_size: int = 1, limits: Limits | None = None) -> Sweep:
    """Check `spec` at every point of the grid `axes` (`["width=16,32", "depth=1,2,3"]`: 6 points).

    `overrides` and `scale` apply at every point; `all_scales` adds an axis of the spec's
    scales. Never raises for problems in the spec: each row has its status and first error.

    >>> result = netspec.sweep("examples/resnet_family.yaml", ["width=8,16,32", "depth=1,2,3"])
    >>> [(row.point, row.status, row.report.params) for row in result.rows][:1]
    [({'width': 8, 'depth': 1}, 'ok', 9914)]
    """
    sink = DiagnosticSink(split_scale(spec)[0])
    base = variant_for(sink, spec, scale, overrides)
    grid, sources = parse_axes(axes, sink)
    document = read_document(split_scale(spec)[0], sink)
    names = _scales(document, sink) if document is not None and all_scales else []
    if names:
        grid[:0], _ = parse_axes([f"{SCALE_AXIS}={','.join(names)}"], sink, "--all-scales")
    if isinstance(getattr(document, "root", None), YMap):  # a misspelt axis is one error, not one per point
        report_unknown_names([axis.values[0] for axis in grid if axis.name != SCALE_AXIS], document.root, sink)
    result = Sweep(grid, sources={**base.sources, **sources}, batch_size=batch_size)
    if document is None or sink.has_errors:
        result.problems = sink.items
        if document is not None:
            result.sources[document.file] = document.text
        return result
    for values in product(*(axis.values for axis in grid)):
        point_sink = sink_for(document)
        variant = _point_variant(base, values)
        report = check_spec(derive(document, variant, point_sink), point_sink, input_shape, batch_size, limits)
        point = {o.name: o.value for o in values}
        result.rows.append(Row(point, report, batch_size))
    return result


def _scales(document, sink: DiagnosticSink) -> list[str]:
    scales = document.root.get("scales") if isinstance(document.root, YMap) else None
    if not isinstance(scales, YMap) or not scales.items:
        sink.error("sweep.no_scales", "--all-scales: expected a spec with a `scales:` section; this one has none",
                   hint="add `scales: {n: {...}, s: {...}}`, or sweep its params with --sweep")
        return []
    return list(scales.items)


def _point_variant(base: Variant, values: tuple[Override, ...]) -> Variant:
    scale = next((str(o.value) for o in values if o.name == SCALE_AXIS), base.scale)
    label = next((o.label for o in values if o.name == SCALE_AXIS), base.scale_label)
    rest = tuple(o for o in values if o.name != SCALE_AXIS)
    return Variant(scale, base.overrides + rest, label, base.sources)


def render_table(result: Sweep) -> str:
    """One line per point: its values, output, params, MACs, training memory, then ok or the error."""
    from .table import human_bytes

    names = [axis.name for axis in result.axes]
    header = [*names, "output", "params", "MACs", f"train mem @{result.batch_size}", "status"]
    lines = [header]
    for row in result.rows:
        data = row.to_dict()
        cells = [str(data[name]) for name in names]
        cells += [_shape(data["output"]), _count(data["params"]), _count(data["macs"]),
                  human_bytes(data["training_memory_bytes"]) if data["training_memory_bytes"] is not None else "-",
                  row.status + (f": {row.message}" if row.message else "")]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    numeric = {"params", "MACs", header[-2]}
    text = ["  ".join([*(f"{cell:{'>' if header[i] in numeric else '<'}{widths[i]}}"
                         for i, cell in enumerate(line[:-1])), line[-1]]).rstrip() for line in lines]
    ok = sum(row.status == "ok" for row in result.rows)
    text.append(f"{len(result.rows)} points: {ok} ok, {len(result.rows) - ok} not")
    return "\n".join(text)


def _shape(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")" if shape else "-"


def _count(value) -> str:
    return f"{value:,}" if value is not None else "-"


def render_json(result: Sweep) -> str:
    return json.dumps([row.to_dict() for row in result.rows], indent=2)


def render_csv(result: Sweep) -> str:
    rows = [row.to_dict() for row in result.rows]
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "output": "x".join(map(str, row["output"])) if row["output"] else ""})
    return buffer.getvalue()
