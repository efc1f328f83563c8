"""Where a run executes: the device, its fast paths, and this process's place among its peers.

The one seam for data-parallel training: a single process is rank 0 of a world of 1.
A distributed launcher builds a Runtime with its own rank and world size; the data
pipeline asks it for this rank's shard, the loop asks it to sum counters across
ranks, and only the main rank writes files.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, Iterator, TypeVar

import torch

from .errors import TrainError

T = TypeVar("T")


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Only the main rank writes checkpoints, metrics, plots and progress."""
        return self.rank == 0

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def shard(self, order: torch.Tensor) -> torch.Tensor:
        """This rank's share of an epoch's sample order (all of it in a single process)."""
        return order[self.rank::self.world_size]

    def sum_across_ranks(self, counters: torch.Tensor) -> torch.Tensor:
        """Counters (loss sums, correct counts) summed over every rank; a single process has them all."""
        return counters

    def describe(self, batch_size: int) -> str:
        """Where the run executes, for the line printed at its start."""
        return str(self.device)

    def data_parallel(self, model: torch.nn.Module) -> torch.nn.Module:
        """The module a training step runs: in a single process, the model itself."""
        return model

    def from_main(self, work: Callable[[], T]) -> T:
        """`work()` done once, by the main rank, its result (or TrainError) shared with every rank."""
        return work()

    def node_main_first(self, work: Callable[[], T]) -> T:
        """`work()` on every rank, the first rank of each machine before the others (one download, not N)."""
        return work()

    def gather(self, item: T) -> list[T]:
        """`item` from every rank, in rank order (a single process has only its own)."""
        return [item]

    def first_signal(self, received: str | None) -> str | None:
        """The stop signal any rank received (every rank must stop after the same step)."""
        return received

    def agreed_weights(self, model: torch.nn.Module) -> str | None:
        """A digest of the weights every rank holds; None when there are no other ranks to compare with."""
        return None

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Around a whole run: a data-parallel runtime explains a lost peer and leaves its group at the end."""
        yield

    def autocast(self):
        """bf16 autocast on CUDA (tensor cores, no loss scaling needed); full float32 elsewhere."""
        if self.is_cuda:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()


def pick_device(name: str) -> torch.device:
    """`auto` prefers CUDA, then Apple's MPS, then the CPU; a named device must exist."""
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainError("expected a CUDA device for --device cuda; torch sees none",
                         "use --device cpu, or check the driver with nvidia-smi")
    if name == "mps" and not torch.backends.mps.is_available():
        raise TrainError("expected Apple's MPS device for --device mps; torch sees none", "use --device cpu")
    return torch.device(name)


def single_process(device_name: str) -> Runtime:
    device = pick_device(device_name)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # shapes are fixed: let cuDNN pick the fastest kernels once
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return Runtime(device)
