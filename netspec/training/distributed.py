"""Data-parallel training on torch.distributed: one process per device, each training a replica on its shard.

torchrun (or torch.distributed's elastic launcher behind `netspec train --nproc-per-node N`)
starts the processes and gives each RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and
MASTER_PORT. Each process joins the group (NCCL for CUDA tensors, with Gloo beside it for
the few CPU-side messages; Gloo alone on the CPU), takes the GPU of its LOCAL_RANK, and
trains a DistributedDataParallel replica: gradients are averaged across ranks after every
backward pass, so every replica takes the same optimizer step and holds the same weights.
Only rank 0 reads the checkpoint and writes files; what it decides reaches every rank.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import signal
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Iterator, TypeVar

import torch
import torch.distributed as dist

from .errors import (EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_OUT_OF_MEMORY, EXIT_TERMINATED,
                     CheckpointError, TrainError)
from .runtime import Runtime, single_process

T = TypeVar("T")

TORCHRUN_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
# A collective that waits longer than this for a peer fails instead of hanging: long enough for
# torch.compile's first step and rank 0's checkpoint save, short enough to end a stuck job.
TIMEOUT = timedelta(minutes=10)
EXIT_RANK_FAILED = 5  # a process of a data-parallel run crashed or was killed (the message names its rank)
# exit codes with which a rank has already printed its own message (see errors.py)
REPORTED_EXITS = {EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_OUT_OF_MEMORY, EXIT_INTERRUPTED, EXIT_TERMINATED}
SIGNAL_CODES = {None: 0, "SIGINT": 1, "SIGTERM": 2}


def launched_by_torchrun(environ=os.environ) -> bool:
    return all(name in environ for name in TORCHRUN_VARIABLES)


def start_runtime(device_name: str, sync_batchnorm: bool = False) -> Runtime:
    """This process's runtime: a rank of torchrun's group when torchrun started it, else a single process."""
    if not launched_by_torchrun():
        return single_process(device_name)
    rank, local_rank, world_size = (int(os.environ[name]) for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"))
    device = _rank_device(device_name, local_rank)
    if sync_batchnorm and device.type != "cuda":
        raise TrainError("--sync-batchnorm needs CUDA devices: torch's SyncBatchNorm does not run on the CPU",
                         "drop --sync-batchnorm (each process then normalises over its own batch)")
    owns_group = not dist.is_initialized()
    if owns_group:  # a script of the user's may have joined the group already
        if device.type == "cuda":
            torch.cuda.set_device(device)
            dist.init_process_group("cpu:gloo,cuda:nccl", timeout=TIMEOUT, device_id=device)
        else:
            dist.init_process_group("gloo", timeout=TIMEOUT)
    if device.type == "cuda":
        single_process("cuda")  # the same cuDNN and TF32 settings as a single GPU
    return DistributedRuntime(device, rank, world_size, local_rank=local_rank, sync_batchnorm=sync_batchnorm,
                              owns_group=owns_group)


def _rank_device(device_name: str, local_rank: int) -> torch.device:
    """The GPU of this LOCAL_RANK, or the CPU."""
    if device_name == "mps":
        raise TrainError("expected --device cuda or cpu for data-parallel training; got mps (torch.distributed "
                         "has no backend for Apple's MPS)", "train in a single process, or use --device cpu")
    if device_name == "cpu" or (device_name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    count = torch.cuda.device_count()
    if count == 0:
        raise TrainError("expected a CUDA device for --device cuda; torch sees none",
                         "use --device cpu, or check the driver with nvidia-smi")
    if local_rank >= count:
        raise TrainError(f"expected one GPU per process; local rank {local_rank} has none (this node has {count})",
                         f"start at most {count} processes per node (--nproc-per-node {count})")
    return torch.device("cuda", local_rank)


@dataclass(frozen=True)
class DistributedRuntime(Runtime):
    """One rank of a data-parallel run."""

    local_rank: int = 0
    sync_batchnorm: bool = False
    owns_group: bool = True

    def describe(self, batch_size: int) -> str:
        backend = "NCCL" if self.is_cuda else "Gloo"
        return (f"{self.world_size} processes ({backend}, {self.device.type}), batch {batch_size} per process = "
                f"{batch_size * self.world_size} per step")

    def shard(self, order: torch.Tensor) -> torch.Tensor:
        """Every rank gets the same number of samples (the last len % world_size of the order sit out),
        so all ranks take the same number of steps and the union of step k's batches is the
        single-process batch k of size world_size x batch."""
        if len(order) < self.world_size:
            raise TrainError(f"expected at least one training image per process; {len(order)} images cannot be "
                             f"shared among {self.world_size} processes",
                             f"train on more images, or on at most {len(order)} processes")
        usable = len(order) - len(order) % self.world_size
        return order[:usable][self.rank::self.world_size]

    def sum_across_ranks(self, counters: torch.Tensor) -> torch.Tensor:
        total = counters.clone()
        dist.all_reduce(total)
        return total

    def data_parallel(self, model: torch.nn.Module) -> torch.nn.Module:
        if self.sync_batchnorm:
            convert_to_sync_batchnorm(model)
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[self.device] if self.is_cuda else None)

    def from_main(self, work: Callable[[], T]) -> T:
        outcome = [None]
        if self.is_main:
            try:
                outcome[0] = ("done", work())
            except TrainError as error:
                outcome[0] = ("refused", type(error), error.message, error.hint)
            except BaseException as error:  # the others must not wait for an answer that never comes
                outcome[0] = ("crashed", type(error).__name__, str(error))
                dist.broadcast_object_list(outcome, src=0)
                raise
        dist.broadcast_object_list(outcome, src=0)
        kind, *details = outcome[0]
        if kind == "done":
            return details[0]
        if kind == "refused":
            error_type, message, hint = details
            error = error_type(message, hint)
            error.shown_by_main = not self.is_main  # one copy of the message, rank 0's, not one per process
            raise error
        raise TrainError(f"rank 0 failed: {details[0]}: {details[1]}")

    def node_main_first(self, work: Callable[[], T]) -> T:
        if self.local_rank == 0:
            done = work()
            dist.barrier()
            return done
        dist.barrier()
        return work()

    def gather(self, item: T) -> list[T]:
        items: list = [None] * self.world_size
        dist.all_gather_object(items, item)
        return items

    def first_signal(self, received: str | None) -> str | None:
        # a CPU tensor: Gloo carries it without waiting for the GPU
        code = torch.tensor([SIGNAL_CODES.get(received, 2)], dtype=torch.int32)
        dist.all_reduce(code, op=dist.ReduceOp.MAX)
        return {value: name for name, value in SIGNAL_CODES.items()}[int(code)]

    def agreed_weights(self, model: torch.nn.Module) -> str:
        """The parameters' digest, the same on every rank, or TrainError naming the ranks that differ."""
        digests: list[str | None] = [None] * self.world_size
        dist.all_gather_object(digests, weights_digest(model.state_dict(), parameter_names(model)))
        return agreed_digest(digests)

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        try:
            yield
            if self.owns_group:
                dist.barrier()  # leave together: none tears its connections down while rank 0 still writes
        except RuntimeError as error:
            if not _is_collective_failure(error):
                raise
            raise TrainError(f"rank {self.rank}: a collective operation failed ({str(error).splitlines()[0]})",
                             "another process of the run has probably died: the launcher's report names it; "
                             "continue from the last checkpoint with --resume") from None
        finally:
            if self.owns_group and dist.is_initialized():
                gc.collect()  # a replica left in a reference cycle lets go of the group while it still exists
                dist.destroy_process_group()


def _is_collective_failure(error: RuntimeError) -> bool:
    """Errors of the process group (a peer gone, a timeout), as opposed to bugs in the step itself."""
    return isinstance(error, dist.DistError) or any(
        mark in str(error) for mark in ("gloo", "NCCL", "ProcessGroup", "Connection reset", "Connection closed"))


def convert_to_sync_batchnorm(model: torch.nn.Module) -> int:
    """Swap the batchnorm layers for SyncBatchNorm in place (same parameters, same checkpoint names); how many."""
    torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return sum(isinstance(module, torch.nn.SyncBatchNorm) for module in model.modules())


def parameter_names(model: torch.nn.Module) -> list[str]:
    return [name for name, _ in model.named_parameters()]


def weights_digest(state: dict[str, torch.Tensor], names: list[str]) -> str:
    """sha256 over the named tensors' values (layout-independent: channels_last or not)."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode())
        digest.update(state[name].detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def agreed_digest(digests: list[str]) -> str:
    """The digest all ranks share; DDP keeps replicas identical, so a difference is a bug worth stopping for.
    (Batchnorm running statistics are not compared: without SyncBatchNorm each rank keeps its own, and
    rank 0's, which DDP broadcasts before every step, are the ones saved.)"""
    if len(set(digests)) == 1:
        return digests[0]
    differing = [rank for rank, digest in enumerate(digests) if digest != digests[0]]
    raise TrainError(f"expected identical weights on every rank; rank(s) {', '.join(map(str, differing))} differ "
                     f"from rank 0 (sha256 {', '.join(f'{rank}: {digest[:12]}' for rank, digest in enumerate(digests))})",
                     "this is a bug in netspec or torch.distributed; please report it with the command you ran")


def refuse_other_world_size(state: dict, path, world_size: int) -> None:
    """--resume keeps the process count: the batch per step, the shards and the schedule depend on it."""
    saved = state.get("world_size", 1)
    if saved != world_size:
        def run(n: int) -> str:
            return "a single process" if n == 1 else f"{n} processes"

        how = (f"netspec train --nproc-per-node {saved}, or torchrun with nodes x processes per node = {saved}"
               if saved > 1 else "without torchrun or --nproc-per-node")
        raise CheckpointError(f"{path} was written by a run on {run(saved)}; this run has {run(world_size)}",
                              f"resume on {run(saved)} ({how}), or start a new run in another --out")


def relaunch_arguments(context, dropped: str) -> list[str]:
    """The command line of `context` (a click context) again, without the option `dropped`."""
    arguments = [context.info_name]
    for param in context.command.params:
        value = context.params.get(param.name)
        if param.param_type_name == "argument":
            arguments += [str(item) for item in value] if isinstance(value, tuple) else [str(value)]
        elif param.name != dropped and value is not None and value != param.get_default(context):
            if getattr(param, "is_flag", False):
                arguments.append(param.opts[0] if value else param.secondary_opts[0])
            elif getattr(param, "multiple", False):  # --set a=1 --set b=2
                arguments += [part for item in value for part in (param.opts[0], str(item))]
            else:
                arguments += [param.opts[0], str(value)]
    return arguments


def launch(nproc_per_node: int, arguments: list[str]) -> int:
    """`python -m netspec ARGUMENTS` in `nproc_per_node` processes on this machine, as `torchrun --standalone`
    does; the exit status of the run, with a message naming the rank when one failed."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc_per_node, run_id=f"netspec-{uuid.uuid4()}",
                          rdzv_backend="c10d", rdzv_endpoint="localhost:0", max_restarts=0)
    if nproc_per_node > 1:
        os.environ.setdefault("OMP_NUM_THREADS", "1")  # as torchrun does: processes do not fight over cores
    try:
        elastic_launch(config, sys.executable)("-m", "netspec", *arguments)
        return 0
    except SignalException as stopped:  # the launcher passed Ctrl-C or SIGTERM on; the processes checkpointed
        return 128 + stopped.sigval
    except ChildFailedError as error:
        causes = sorted(error.failures.items(), key=_failure_order)
        exitcode = causes[0][1].exitcode
        if {failure.exitcode for failure in error.failures.values()} <= {EXIT_INTERRUPTED, EXIT_TERMINATED}:
            return exitcode  # stopped by Ctrl-C or SIGTERM after a checkpoint, as rank 0 has said
        print(failure_message(causes), file=sys.stderr)
        return exitcode if exitcode in REPORTED_EXITS else EXIT_RANK_FAILED


def _failure_order(item) -> tuple[int, float]:
    """The likely cause first: a crash or kill, then a rank's own error, then ranks the launcher stopped."""
    _, failure = item
    if failure.exitcode == -signal.SIGTERM:
        return 2, failure.timestamp
    return (1 if failure.exitcode in REPORTED_EXITS else 0), failure.timestamp


def failure_message(failures: list) -> str:
    """(rank, ProcessFailure) pairs, the cause first, as one message."""
    def how(failure) -> str:
        if failure.exitcode == -signal.SIGTERM:
            return "was stopped (SIGTERM)"
        if failure.exitcode < 0:
            return f"was killed by {failure.signal_name()}"
        if failure.exitcode in REPORTED_EXITS:
            return f"stopped with exit status {failure.exitcode}"
        return f"failed with exit status {failure.exitcode}"

    (rank, cause), *others = failures
    message = f"error: data-parallel run failed: rank {rank} (local rank {cause.local_rank}, pid {cause.pid}) {how(cause)}"
    if others:
        message += "; then " + ", ".join(f"rank {other} {how(failure)}" for other, failure in others)
    if cause.exitcode in REPORTED_EXITS:
        return message + f"\n  hint: rank {rank}'s message above says why"
    return message + "\n  hint: the launcher stopped every process; continue from the last checkpoint with --resume"
