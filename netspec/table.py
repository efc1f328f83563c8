"""Rendering a check report as the per-layer table people print by hand in the seeds."""

from __future__ import annotations

from .check import Report
from .kinds import fmt_shape


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def render_table(report: Report) -> str:
    graph = report.graph
    rows = [("path", "module", "kind", "output", "params", "MACs", "RF")]
    for node in graph.layers:
        kind = f"block {node.label}" if node.label else node.kind
        rows.append((node.path, node.module_name or "", kind, fmt_shape(node.out_shape), f"{node.params:,}", f"{node.macs:,}",
                     str(node.receptive_field or "")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    align = ["<", "<", "<", "<", ">", ">", ">"]
    lines = ["  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(row, align, widths)).rstrip() for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append("-" * len(lines[0]))
    lines += [
        f"{graph.name}: input {fmt_shape(graph.input_shape)} -> output {fmt_shape(graph.output_shape)}",
        f"params: {report.params:,} total, {report.trainable_params:,} trainable ({human_bytes(report.param_bytes)})",
        f"MACs per sample: {report.macs:,} ({report.macs / 1e6:.2f} M)",
        f"activations per sample: {human_bytes(report.activation_bytes)}; training memory estimate at batch "
        f"{report.batch_size}: {human_bytes(report.training_memory_bytes())}",
    ]
    return "\n".join(lines)
