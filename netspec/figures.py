"""matplotlib figures for the pictures netspec writes (training curves, confusion matrix, filters, sweeps).

Figures come from matplotlib's object API with its Agg canvas, never from pyplot: pyplot adds about 0.4 s of
imports (the backend registry, the interactive state) to every command that draws, and keeps each figure
alive until it is closed. A Figure made here is an ordinary object, freed like any other.
"""

from __future__ import annotations


def new_figure(**options):
    """A matplotlib Figure (`figsize`, `dpi`, `layout`, ... as `matplotlib.figure.Figure` takes them)."""
    from matplotlib.figure import Figure

    return Figure(**options)


def integer_ticks():
    """A tick locator that puts ticks on whole numbers only (epochs, channels)."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)
