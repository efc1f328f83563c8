"""Per-step loss, accuracy and learning rate, and the TensorBoard event files they go to.

The loop keeps no per-step figure on the host: after each step the epoch's running
counters (a 3-element device tensor) are copied, and `flush()` reads them all in one
transfer when the progress display refreshes and at the end of the epoch. TensorBoard
(torch.utils.tensorboard's SummaryWriter, which needs the `tensorboard` package) gets
`step/loss`, `step/accuracy`, `step/lr` for every step and `epoch/*` for every epoch,
in --out/tensorboard; a resumed run purges the steps logged after its checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import torch

TENSORBOARD_FOLDER = "tensorboard"


def open_writer(out: Path, enabled: bool, first_step: int):
    """A SummaryWriter on --out/tensorboard, or None (turned off, or tensorboard not installed: said by the caller)."""
    if not enabled:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # torch's writer needs the tensorboard package
        return None
    return SummaryWriter(str(out / TENSORBOARD_FOLDER), purge_step=first_step or None)


class StepLog:
    """The steps of the run so far as (epoch as a fraction, loss), and the writer they are logged to."""

    def __init__(self, writer, steps_per_epoch: int, saved: list | None = None):
        self.writer, self.steps_per_epoch = writer, steps_per_epoch
        self.losses: list[tuple[float, float]] = [tuple(pair) for pair in saved or []]
        self.pending: list[tuple[int, torch.Tensor, float]] = []
        self.base: torch.Tensor | None = None

    def start_epoch(self, totals: torch.Tensor) -> None:
        self.base = totals.clone()

    def record(self, global_step: int, totals: torch.Tensor, lr: float) -> None:
        self.pending.append((global_step, totals.clone(), lr))

    def flush(self) -> None:
        """Read the pending steps' counters (one host transfer) and log each step's figures."""
        if not self.pending:
            return
        counters = torch.stack([self.base] + [totals for _, totals, _ in self.pending]).cpu()
        self.base = self.pending[-1][1]
        steps = counters.diff(dim=0)  # per step: loss sum, correct, images
        for (global_step, _, lr), (loss_sum, correct, images) in zip(self.pending, steps.tolist()):
            loss, accuracy = loss_sum / max(images, 1), correct / max(images, 1)
            self.losses.append(((global_step + 1) / self.steps_per_epoch, loss))
            if self.writer is not None:
                self.writer.add_scalar("step/loss", loss, global_step)
                self.writer.add_scalar("step/accuracy", accuracy, global_step)
                self.writer.add_scalar("step/lr", lr, global_step)
        self.pending = []

    def epoch(self, row: dict) -> None:
        if self.writer is None:
            return
        for key, value in row.items():
            if key != "epoch":
                self.writer.add_scalar(f"epoch/{key}", value, row["epoch"])
        self.writer.flush()

    def final(self, split: str, loss: float, accuracy: float, epoch: int) -> None:
        if self.writer is not None:
            self.writer.add_scalar(f"{split}/loss", loss, epoch)
            self.writer.add_scalar(f"{split}/accuracy", accuracy, epoch)
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
