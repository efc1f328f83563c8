"""What a run reports: metrics.jsonl and the per-class evaluation (pictures.py draws them). Torch-free."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .checkpoint import write_atomically

METRICS_FILE = "metrics.jsonl"
EVALUATION_FILE = "evaluation.json"
PRINTED_CLASSES = 20  # up to this many, render() prints every class and the whole matrix; beyond, a digest
DIGEST_ROWS = 10  # the lowest accuracies and the largest confusions a digest shows


@dataclass(frozen=True)
class Evaluation:
    """Loss and the confusion matrix (rows: true class, columns: predicted class) on one split."""

    loss: float
    confusion: list[list[int]]
    classes: tuple[str, ...]
    split: str = "test"  # "val" when a dataset without a test split is judged on its validation split

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
        return {"split": self.split, f"{self.split}_loss": self.loss, f"{self.split}_acc": self.accuracy,
                "images": self.total,
                "per_class": dict(zip(self.classes, self.per_class)), "classes": list(self.classes),
                "confusion": self.confusion}

    def render(self) -> str:
        """Per-class accuracy and the confusion matrix as aligned text (a digest of both for many classes)."""
        summary = (f"{self.split} accuracy {self.accuracy:.2%} on {self.total:,} images, "
                   f"{self.split} loss {self.loss:.4f}")
        return "\n".join([summary, *(self._table() if len(self.classes) <= PRINTED_CLASSES else self._digest())])

    def _table(self) -> list[str]:
        classes = self.classes
        width = max(max(map(len, classes)), 5)
        lines = ["", "per-class accuracy:"]
        for name, value in zip(classes, self.per_class):
            lines.append(f"  {name:<{width}}  " + ("   n/a" if value is None else f"{value:7.2%}"))
        cell = max(5, len(str(max(map(max, self.confusion), default=0))) + 1)
        lines += ["", "confusion matrix (rows: true class, columns: predicted):",
                  " " * (width + 2) + "".join(f"{i:>{cell}}" for i in range(len(classes)))]
        for index, (name, row) in enumerate(zip(classes, self.confusion)):
            lines.append(f"  {name:<{width}}" + "".join(f"{count:>{cell}}" for count in row) + f"   ({index})")
        return lines

    def _digest(self) -> list[str]:
        """The classes it gets wrong most and the pairs it mixes up most: a table of 1,000 would not be read."""
        count = len(self.classes)
        scored = sorted((value, name) for name, value in zip(self.classes, self.per_class) if value is not None)
        lines = ["", f"per-class accuracy, the {min(DIGEST_ROWS, len(scored))} lowest of {count} classes:"]
        width = max((len(name) for _, name in scored[:DIGEST_ROWS]), default=0)
        lines += [f"  {name:<{width}}  {value:7.2%}" for value, name in scored[:DIGEST_ROWS]]
        confused = sorted(((cell, true, predicted) for true, row in enumerate(self.confusion)
                           for predicted, cell in enumerate(row) if cell and true != predicted),
                          key=lambda mixed: (-mixed[0], mixed[1], mixed[2]))[:DIGEST_ROWS]
        pairs = [(f"{self.classes[true]} -> {self.classes[predicted]}", cell) for cell, true, predicted in confused]
        width = max((len(pair) for pair, _ in pairs), default=0)
        lines += ["", "most confused (true -> predicted: images):"]
        lines += [f"  {pair:<{width}}  {cell:,}" for pair, cell in pairs] or ["  none"]
        lines += ["", f"the whole {count} x {count} confusion matrix: `netspec eval --json`, or a run's {EVALUATION_FILE}"]
        return lines


def write_metrics(out: Path, history: list[dict]) -> None:
    """metrics.jsonl: one JSON object per finished epoch (rewritten whole, so a resumed run stays consistent)."""
    text = "".join(json.dumps(row) + "\n" for row in history)
    write_atomically(out / METRICS_FILE, text.encode())


def write_evaluation(out: Path, evaluation: Evaluation) -> None:
    write_atomically(out / EVALUATION_FILE, json.dumps(evaluation.to_dict(), indent=2).encode())
