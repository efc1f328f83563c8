"""The validation split and what it decides: the plateau schedule, early stopping and best.pt.

The test split is for the end only: every decision during training reads the
validation split, the dataset's own (an image folder's val/) or a fraction of the
training images held out, the same ones for the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from .data import Dataset
from .errors import TrainError

BEST_FILE = "best.pt"


def with_validation(data: Dataset, fraction: float, seed: int) -> Dataset:
    """`data` with a validation split: its own, or `fraction` of the training images chosen by `seed`."""
    if data.val_images is not None or fraction == 0:
        return data
    count = len(data.train_labels)
    held = min(max(1, round(count * fraction)), count - 1)
    if held < 1:
        raise TrainError(f"expected at least 2 training images to hold some out for validation; got {count}",
                         "train on more images, or pass --val-fraction 0")
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    val, train = order[:held].sort().values, order[held:].sort().values
    return replace(data, train_images=data.train_images[train], train_labels=data.train_labels[train],
                   val_images=data.train_images[val], val_labels=data.train_labels[val])


def final_split(data: Dataset) -> tuple[str, object, torch.Tensor]:
    """The split the finished network is judged on once: test, or val when the dataset has no test split."""
    if len(data.test_labels) or data.val_labels is None:
        return "test", data.test_images, data.test_labels
    return "val", data.val_images, data.val_labels


def require_validation(data: Dataset, schedule_kind: str, early_stopping: int | None) -> None:
    """plateau and --early-stopping need a validation split: they must not tune on the test set."""
    if data.val_labels is not None and len(data.val_labels):
        return
    users = [name for name, wanted in (("schedule: plateau", schedule_kind == "plateau"),
                                       ("--early-stopping", early_stopping is not None)) if wanted]
    if users:
        raise TrainError(f"{' and '.join(users)} read the validation split, and this run has none "
                         "(--val-fraction 0)", "pass --val-fraction 0.1 (the default), or give the folder a val/")


@dataclass
class BestSoFar:
    """The best validation accuracy of a run so far, and whether it is time to stop early."""

    patience: int | None
    accuracy: float = -1.0
    epoch: int = 0

    @classmethod
    def from_history(cls, history: list[dict], patience: int | None) -> "BestSoFar":
        best = cls(patience)
        for row in history:
            best.update(row["epoch"], row.get("val_acc"))
        return best

    def update(self, epoch: int, accuracy: float | None) -> bool:
        """Record an epoch's validation accuracy; True when it is the best so far (best.pt is rewritten)."""
        if accuracy is None or accuracy <= self.accuracy:
            return False
        self.accuracy, self.epoch = accuracy, epoch
        return True

    def should_stop(self, epoch: int) -> bool:
        return self.patience is not None and epoch - self.epoch >= self.patience
