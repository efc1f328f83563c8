"""The pictures a run leaves in --out: curves.png (loss per step, accuracy per epoch) and confusion.png.

Torch-free; matplotlib is imported only to draw (netspec/figures.py: no pyplot, no display).
"""

from __future__ import annotations

from pathlib import Path

from ..figures import integer_ticks, new_figure
from .checkpoint import write_atomically
from .metrics import Evaluation

CURVES_FILE = "curves.png"
CONFUSION_FILE = "confusion.png"
ANNOTATED_CLASSES = 20  # up to this many classes, every cell of the confusion matrix shows its count
NAMED_CLASSES = 50  # up to this many, every row and column is labelled with its class name; beyond, by index


def _save(figure, path: Path) -> None:
    write_atomically(path, lambda file: figure.savefig(file, dpi=100, format="png"))


def plot_curves(out: Path, history: list[dict], step_losses: list[tuple[float, float]], title: str) -> None:
    """curves.png: the training loss of every step (x in epochs) with each epoch's train and validation
    figures, so even a one-epoch run draws a curve; the epoch axis has integer ticks."""
    epochs = [row["epoch"] for row in history]
    figure = new_figure(figsize=(10, 4), layout="tight")
    loss_axis, acc_axis = figure.subplots(1, 2)
    if step_losses:
        loss_axis.plot(*zip(*step_losses), "-", color="tab:blue", alpha=0.35, linewidth=0.8, label="train loss (step)")
    for axis, key, label in ((loss_axis, "loss", "loss"), (acc_axis, "acc", "accuracy")):
        axis.plot(epochs, [row[f"train_{key}"] for row in history], "o-", color="tab:blue",
                  label=f"train {label} (epoch)")
        validated = [(row["epoch"], row[f"val_{key}"]) for row in history if f"val_{key}" in row]
        if validated:
            axis.plot(*zip(*validated), "s-", color="tab:orange", label=f"validation {label}")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.xaxis.set_major_locator(integer_ticks())
        axis.set_xlim(left=0 if step_losses else None)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    _save(figure, out / CURVES_FILE)


def plot_confusion(out: Path, evaluation: Evaluation, title: str) -> None:
    """confusion.png: the confusion matrix (rows: true class, columns: predicted), as counts per cell."""
    _save(confusion_figure(evaluation, title), out / CONFUSION_FILE)


def confusion_figure(evaluation: Evaluation, title: str):
    count = len(evaluation.classes)
    side = min(4 + 0.45 * count, 24)
    figure = new_figure(figsize=(side + 1.5, side), layout="tight")
    axis = figure.subplots()
    image = axis.imshow(evaluation.confusion, cmap="Blues")
    figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04)
    if count <= NAMED_CLASSES:
        names = [name if len(name) <= 14 else name[:13] + "…" for name in evaluation.classes]
        axis.set_xticks(range(count), names, rotation=90 if count > 5 else 0)
        axis.set_yticks(range(count), names)
        axis.set_xlabel("predicted class")
        axis.set_ylabel("true class")
    else:  # a thousand names would be an unreadable smear (and take seconds to lay out)
        axis.xaxis.set_major_locator(integer_ticks())
        axis.yaxis.set_major_locator(integer_ticks())
        axis.set_xlabel("predicted class (index into evaluation.json's classes)")
        axis.set_ylabel("true class (index)")
    if count <= ANNOTATED_CLASSES:
        peak = max(map(max, evaluation.confusion), default=0)
        for row, cells in enumerate(evaluation.confusion):
            for column, cell in enumerate(cells):
                axis.text(column, row, str(cell), ha="center", va="center", fontsize=8,
                          color="white" if cell > peak / 2 else "black")
    axis.set_title(f"{title}\n{evaluation.split} accuracy {evaluation.accuracy:.2%} on {evaluation.total:,} images")
    return figure
