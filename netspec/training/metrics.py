"""What a run reports: metrics.jsonl, the curves PNG, and the per-class evaluation.

Torch-free; matplotlib is imported only to draw, with the Agg backend (no display).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .checkpoint import write_atomically

METRICS_FILE = "metrics.jsonl"
CURVES_FILE = "curves.png"
EVALUATION_FILE = "evaluation.json"


@dataclass(frozen=True)
class Evaluation:
    """Test loss and the confusion matrix (rows: true class, columns: predicted class)."""

    loss: float
    confusion: list[list[int]]
    classes: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(map(sum, self.confusion))

    @property
    def accuracy(self) -> float:
        return sum(row[i] for i, row in enumerate(self.confusion)) / max(self.total, 1)

    @property
    def per_class(self) -> list[float | None]:
        """Accuracy of each true class; None for a class absent from the test images."""
        return [row[i] / sum(row) if sum(row) else None for i, row in enumerate(self.confusion)]

    def to_dict(self) -> dict:
        return {"test_loss": self.loss, "test_acc": self.accuracy, "images": self.total,
                "per_class": dict(zip(self.classes, self.per_class)), "classes": list(self.classes),
                "confusion": self.confusion}

    def render(self) -> str:
        """Per-class accuracy and the confusion matrix as aligned text."""
        classes = self.classes
        width = max(max(map(len, classes)), 5)
        lines = [f"test accuracy {self.accuracy:.2%} on {self.total:,} images, test loss {self.loss:.4f}",
                 "", "per-class accuracy:"]
        for name, value in zip(classes, self.per_class):
            lines.append(f"  {name:<{width}}  " + ("   n/a" if value is None else f"{value:7.2%}"))
        cell = max(5, len(str(max(map(max, self.confusion), default=0))) + 1)
        lines += ["", "confusion matrix (rows: true class, columns: predicted):",
                  " " * (width + 2) + "".join(f"{i:>{cell}}" for i in range(len(classes)))]
        for index, (name, row) in enumerate(zip(classes, self.confusion)):
            lines.append(f"  {name:<{width}}" + "".join(f"{count:>{cell}}" for count in row) + f"   ({index})")
        return "\n".join(lines)


def write_metrics(out: Path, history: list[dict]) -> None:
    """metrics.jsonl: one JSON object per finished epoch (rewritten whole, so a resumed run stays consistent)."""
    text = "".join(json.dumps(row) + "\n" for row in history)
    write_atomically(out / METRICS_FILE, text.encode())


def write_evaluation(out: Path, evaluation: Evaluation) -> None:
    write_atomically(out / EVALUATION_FILE, json.dumps(evaluation.to_dict(), indent=2).encode())


def plot_curves(out: Path, history: list[dict], title: str) -> None:
    """curves.png: train/test loss and accuracy per epoch, as seeds 001 and 003 plot them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in history]
    figure, (loss_axis, acc_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for axis, key, label in ((loss_axis, "loss", "loss"), (acc_axis, "acc", "accuracy")):
        axis.plot(epochs, [row[f"train_{key}"] for row in history], "o-", label=f"train {label}")
        axis.plot(epochs, [row[f"test_{key}"] for row in history], "s-", label=f"test {label}")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    try:
        write_atomically(out / CURVES_FILE, lambda file: figure.savefig(file, dpi=100, format="png"))
    finally:
        plt.close(figure)
