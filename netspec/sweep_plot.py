"""`--plot FILE.png`: a sweep's points as params against MACs, for people who would rather look than read.

matplotlib is imported only here, when a plot is asked for.
"""

from __future__ import annotations

from pathlib import Path

from .exporters.errors import ExportError
from .expand import Limits
from .figures import new_figure
from .sweeps import Sweep

LABELLED_POINTS = 40  # above this many points, labels would cover the picture
MATPLOTLIB_HINT = "pip install matplotlib (or drop --plot)"


def plot_sweep(result: Sweep, path: str | Path, limits: Limits | None = None) -> Path:
    """Scatter every valid point (log-log), over-budget points marked, budget lines dashed; return the path."""
    try:
        figure = new_figure(figsize=(8, 6), dpi=120, layout="tight")
    except ImportError:
        raise ExportError("--plot needs matplotlib, which is not installed", MATPLOTLIB_HINT) from None
    path = Path(path)
    axes = figure.subplots()
    for status, style in (("ok", dict(marker="o", color="tab:blue")),
                          ("over budget", dict(marker="x", color="tab:red", s=60))):
        rows = [row for row in result.rows if row.status == status]
        if rows:
            axes.scatter([row.report.params for row in rows], [row.report.macs for row in rows],
                         label=f"{status} ({len(rows)})", zorder=3, **style)
    if len(result.rows) <= LABELLED_POINTS:
        for row in result.rows:
            if row.status != "error":
                axes.annotate(_label(row.point), (row.report.params, row.report.macs), fontsize=7,
                              xytext=(4, 4), textcoords="offset points")
    _budget_lines(axes, limits, result)
    invalid = sum(row.status == "error" for row in result.rows)
    axes.set(xscale="log", yscale="log", xlabel="parameters", ylabel="MACs per sample",
             title=f"{_name(result)}: {len(result.rows)} points" + (f" ({invalid} invalid, not shown)" if invalid else ""))
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left")
    try:
        figure.savefig(path)
    except OSError as error:
        raise ExportError(f"--plot: cannot write '{path}' ({error.strerror or error})", "choose a path you can write to")
    return path


def _name(result: Sweep) -> str:
    spec = result.rows[0].report.spec if result.rows else None
    return spec.name if spec is not None else "sweep"


def _label(point: dict) -> str:
    return ", ".join(f"{name}={value}" for name, value in point.items())


def _budget_lines(axes, limits: Limits | None, result: Sweep) -> None:
    shown = [row for row in result.rows if row.status != "error"]
    if limits is None or not shown:
        return
    if limits.max_params < 10 * max(row.report.params for row in shown):
        axes.axvline(limits.max_params, linestyle="--", color="tab:red", alpha=0.6, label="--max-params")
    if limits.max_macs is not None:
        axes.axhline(limits.max_macs, linestyle="--", color="tab:orange", alpha=0.6, label="--max-macs")
