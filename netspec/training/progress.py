"""Progress during an epoch: a live bar on a terminal, a plain line every few seconds otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 24


class Progress:
    """Shows steps, loss and images/s; `due()` tells the loop when reading the loss (a host sync) is worth it."""

    def __init__(self, enabled: bool = True, terminal: bool | None = None, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.interval = 0.25 if self.terminal else 10.0
        self.label, self.steps, self.batch_size = "", 0, 0
        self.started = self.last = time.monotonic()
        self.first_step = 0

    def start_epoch(self, label: str, steps: int, batch_size: int, first_step: int = 0) -> None:
        self.label, self.steps, self.batch_size, self.first_step = label, steps, batch_size, first_step
        self.started = self.last = time.monotonic()

    def due(self) -> bool:
        return time.monotonic() - self.last >= self.interval

    def show(self, step: int, loss: float) -> None:
        self.last = time.monotonic()
        if not self.enabled:
            return
        done = step + 1
        rate = (done - self.first_step) * self.batch_size / max(self.last - self.started, 1e-9)
        figures = f"{done}/{self.steps}  loss {loss:.4f}  {rate:,.0f} img/s"
        if self.terminal:
            filled = BAR_WIDTH * done // max(self.steps, 1)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self.stream.write(f"\r{self.label} [{bar}] {figures}\033[K")
        else:
            self.stream.write(f"{self.label} step {figures}\n")
        self.stream.flush()

    def end_epoch(self, summary: str) -> None:
        if not self.enabled:
            return
        if self.terminal:
            self.stream.write("\r\033[K")
        self.stream.write(summary + "\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        if self.enabled:
            self.stream.write(message + "\n")
            self.stream.flush()
