"""The training and evaluation steps, GPU first and free of per-step host synchronisation.

Loss sums, correct counts and the first non-finite step accumulate in device
tensors; the host reads them only when the progress display refreshes (a few
times a second) and at the end of an epoch. On CUDA the forward pass runs under
bf16 autocast on channels_last tensors, with fused optimizers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..train_config import TrainConfig
from .metrics import Evaluation
from .pipeline import EpochBatches, Preprocess, test_batches
from .runtime import Runtime


def make_optimizer(model: nn.Module, config: TrainConfig, runtime: Runtime) -> torch.optim.Optimizer:
    # fused kernels on CUDA: one launch updates every parameter; foreach (batched ops) elsewhere
    speed = {"fused": True} if runtime.is_cuda else {"foreach": True}
    common = dict(lr=config.lr, weight_decay=config.weight_decay, **speed)
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), momentum=config.momentum, nesterov=config.nesterov, **common)
    kind = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
    return kind(model.parameters(), **common)


class Schedule:
    """The learning-rate schedule, stepped after every batch (cosine, one-cycle) or every epoch."""

    def __init__(self, optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int):
        s, total = config.schedule, config.epochs * steps_per_epoch
        lr_scheduler = torch.optim.lr_scheduler
        self.per_step = s.kind in ("cosine", "onecycle")
        self.on_plateau = s.kind == "plateau"
        self.scheduler = {
            "none": lambda: None,
            "step": lambda: lr_scheduler.StepLR(optimizer, s.step_size, s.gamma),
            "multistep": lambda: lr_scheduler.MultiStepLR(optimizer, s.milestones, s.gamma),
            "cosine": lambda: lr_scheduler.CosineAnnealingLR(optimizer, total),
            "onecycle": lambda: lr_scheduler.OneCycleLR(optimizer, s.max_lr or config.lr, total_steps=total,
                                                        pct_start=warmup_fraction(s.warmup, total)),
            "plateau": lambda: lr_scheduler.ReduceLROnPlateau(optimizer, factor=s.factor, patience=s.patience),
        }[s.kind]()
        self.optimizer = optimizer

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def after_step(self) -> None:
        if self.per_step:
            self.scheduler.step()

    def after_epoch(self, val_loss: float | None) -> None:
        """Plateau steps on the validation loss (never the test loss: the test split is for the end)."""
        if self.on_plateau:
            self.scheduler.step(val_loss)
        elif self.scheduler is not None and not self.per_step:
            self.scheduler.step()

    def state_dict(self) -> dict:
        return self.scheduler.state_dict() if self.scheduler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state)


def warmup_fraction(warmup: float, total_steps: int) -> float:
    """One-cycle's warm-up fraction, moved off the one value torch cannot take.

    torch divides by (warm-up steps - 1): a warm-up of exactly one step (a short run: 4 steps at 0.25)
    raises ZeroDivisionError. Such a run warms up over two steps instead, or not at all when it
    has only two steps (its annealing phase needs a step of its own).
    """
    if abs(warmup * total_steps - 1) > 1e-9:
        return float(warmup)
    return 2 / total_steps if total_steps > 2 else 0.0


@dataclass
class EpochState:
    """Device-side counters of a (possibly interrupted) epoch: [loss sum, correct, images], first bad step."""

    totals: torch.Tensor
    first_bad_step: torch.Tensor
    next_step: int = 0

    @classmethod
    def fresh(cls, device: torch.device) -> "EpochState":
        return cls(torch.zeros(3, dtype=torch.float64, device=device),
                   torch.full((), -1, dtype=torch.long, device=device))


@dataclass
class Step:
    """What the loop needs besides the data: the module to run, how to update it, and its device."""

    model: nn.Module  # possibly torch.compile'd; shares parameters with the saved one
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    label_smoothing: float
    runtime: Runtime

    def run_epoch(self, batches: EpochBatches, state: EpochState, on_step: Callable[[int, torch.Tensor], None],
                  should_stop: Callable[[], bool]) -> EpochState:
        """Train from `state.next_step` to the end of the epoch, or until `should_stop()` after a step."""
        self.model.train()
        for step, inputs, labels in batches.from_step(state.next_step):
            with self.runtime.autocast():
                logits = self.model(inputs)
            loss = F.cross_entropy(logits.float(), labels, label_smoothing=self.label_smoothing)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.schedule.after_step()
            with torch.no_grad():
                count = len(labels)
                correct = (logits.argmax(1) == labels).sum()
                state.totals += torch.stack([loss.detach().double() * count, correct.double(),
                                             state.totals.new_tensor(count)])
                bad = ~torch.isfinite(loss) & (state.first_bad_step < 0)
                state.first_bad_step = torch.where(bad, step, state.first_bad_step)
            state.next_step = step + 1
            on_step(step, loss)
            if should_stop():
                break
        return state


@torch.inference_mode()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, preprocess: Preprocess,
             batch_size: int, classes: tuple[str, ...], runtime: Runtime) -> Evaluation:
    """Test loss and confusion matrix (rows: true class, columns: predicted) over the given images."""
    model.eval()
    num_classes = len(classes)
    loss_sum = torch.zeros((), dtype=torch.float64, device=images.device)
    confusion = torch.zeros(num_classes * num_classes, dtype=torch.long, device=images.device)
    mine = slice(runtime.rank, None, runtime.world_size)  # each rank scores its share; the sums cover all
    for inputs, targets in test_batches(images[mine], labels[mine], batch_size, preprocess):
        with runtime.autocast():
            logits = model(inputs)
        loss_sum += F.cross_entropy(logits.float(), targets, reduction="sum").double()
        confusion += torch.bincount(targets * num_classes + logits.argmax(1), minlength=num_classes ** 2)
    loss_sum, confusion = runtime.sum_across_ranks(loss_sum), runtime.sum_across_ranks(confusion)
    confusion = confusion.view(num_classes, num_classes).cpu()
    return Evaluation(loss=loss_sum.item() / max(len(images), 1), confusion=confusion.tolist(), classes=tuple(classes))
