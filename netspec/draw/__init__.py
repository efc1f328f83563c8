"""Pictures of a network: its graph (DOT, Mermaid, SVG, PNG) and its first layer's filters.

Importing this package does not import torch; `draw_filters` does.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from ..check import Report
from ..exporters import checked, writable_target
from ..exporters.errors import ExportError
from .graph import RANKDIRS, dot_source, mermaid_source

if TYPE_CHECKING:
    from ..spec import Spec

GRAPH_FORMATS = ("svg", "png", "dot", "mmd", "html")
GRAPHVIZ_HINT = ("install Graphviz (Debian/Ubuntu: sudo apt install graphviz; macOS: brew install graphviz; "
                 "conda: conda install graphviz), or write .html, .dot or .mmd, which need nothing")
DOT_TIMEOUT_S = 120


def draw_graph(spec: "Spec | Report | str | Path", path: str | Path, format: str | None = None, *,
               depth: int | None = None, rankdir: str = "TB", overrides=None, scale: str | None = None) -> Path:
    """Draw the network to `path`: .dot (Graphviz) and .mmd (Mermaid) text, .svg and .png via Graphviz's `dot`,
    .html an interactive viewer (one self-contained file: pan, zoom, blocks fold on click, a click shows a layer).

    Every edge carries the shape flowing along it; branches fork and join at their
    merge, in spec order; each block instance is a framed cluster, or one box when it is
    nested deeper than `depth` (0: every block folded). `rankdir` is TB or LR.
    `format` defaults to the suffix; `overrides` and `scale` pick the network as in `netspec.load`.

    >>> netspec.draw_graph("specs/googlenet_mini.yaml", "googlenet.svg")
    PosixPath('googlenet.svg')
    >>> netspec.draw_graph("specs/resnet_mini.yaml", "resnet.html")
    PosixPath('resnet.html')
    """
    path = Path(path)
    format = (format or path.suffix.lstrip(".")).lower()
    if format not in GRAPH_FORMATS:
        raise ExportError(f"graph: expected a file ending in {', '.join('.' + f for f in GRAPH_FORMATS)}; "
                          f"got '{path.name}'", f"e.g. -o {path.stem or 'network'}.svg")
    if rankdir not in RANKDIRS:
        raise ExportError(f"graph: rankdir: expected one of {', '.join(RANKDIRS)}; got '{rankdir}'", "TB or LR")
    dot = shutil.which("dot") if format in ("svg", "png") else None
    if format in ("svg", "png") and dot is None:
        raise ExportError(f"graph: .{format} needs Graphviz's `dot` program, which is not installed", GRAPHVIZ_HINT)
    writable_target(path)
    report = checked(spec, None, overrides=overrides, scale=scale)
    if format == "html":
        from .viewer import viewer_html

        _write_text(path, viewer_html(report, depth=depth, rankdir=rankdir))
    elif format == "mmd":
        _write_text(path, mermaid_source(report.graph, depth=depth, rankdir=rankdir))
    elif format == "dot":
        _write_text(path, dot_source(report.graph, depth=depth, rankdir=rankdir))
    else:
        _render(dot, dot_source(report.graph, depth=depth, rankdir=rankdir), format, path)
    return path


def draw_filters(spec: "Spec | Report | str | Path", checkpoint: str | Path, path: str | Path,
                 layer: str | None = None, *, overrides=None, scale: str | None = None) -> Path:
    """Save the first conv layer's kernels (or the conv named `layer`) as an image grid, as seed 004 shows AlexNet's.

    >>> netspec.draw_filters("specs/resnet_mini.yaml", "runs/resnet_mini/checkpoint.pt", "filters.png")
    PosixPath('filters.png')
    """
    from .filters import save_filter_grid

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ExportError(f"filters: expected a .png file; got '{path.name}'", f"e.g. -o {path.stem or 'filters'}.png")
    writable_target(path)
    report = checked(spec, checkpoint, overrides=overrides, scale=scale)  # at the checkpoint's own variant
    save_filter_grid(report.graph, checkpoint, path, layer)
    return path


def _render(dot: str, source: str, format: str, path: Path) -> None:
    try:
        result = subprocess.run([dot, f"-T{format}", "-o", str(path)], input=source.encode(), capture_output=True,
                                timeout=DOT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ExportError(f"graph: Graphviz took longer than {DOT_TIMEOUT_S} s", "write .dot and render it yourself") \
            from None
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise ExportError(f"graph: Graphviz failed ({message[0] if message else f'exit {result.returncode}'})",
                          "write .dot instead and report this as a netspec bug")


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"output: cannot write '{path}' ({exc.strerror})", "choose a path you can write to") from None
