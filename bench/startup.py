"""Start-up cost of the commands a user waits for, as ratios against the floors nothing can beat.

  check   `netspec check specs/googlenet_mini.yaml` as a process (goal: median <= 0.3 s), against
          `python -c pass` (the interpreter) and `python -c "import click, yaml; from pydantic import
          BaseModel"` (the libraries a check needs)
  train   a 128-image `netspec train specs/resnet_mini.yaml` (1 epoch, 128 test images) as a process,
          against one process that imports torch and reads the same MNIST files with gzip + numpy
          (goal: <= 1.5x); the peak resident memory of both is reported

Every candidate runs in a fresh process, in interleaved rounds (A B C, C B A, ...), after one unmeasured
warm-up run each (which also writes the bytecode caches an installed package has: PYTHONDONTWRITEBYTECODE is
dropped for the children and their caches go to a scratch PYTHONPYCACHEPREFIX). Each process's CPU seconds
(user + system) and peak memory come from os.wait4: on a shared, loaded machine wall time grows with the load,
CPU time much less.

Examples:
  .venv/bin/python bench/startup.py
  .venv/bin/python bench/startup.py --rounds 9 --only check --no-record
  .venv/bin/python bench/startup.py --checkout ../main --no-record   # the same figures for another checkout
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import REPO, Spread, add_common_arguments, markdown_table, pick_device, report

# the main checkout's ../shared, or a worktree's (checkouts under wt/ next to it)
MNIST_DIRS = (REPO.parent / "shared" / "datasets" / "mnist", REPO.parent.parent / "shared" / "datasets" / "mnist")
READ_MNIST = """
import gzip, numpy as np, torch
for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
    data = gzip.open({folder!r} + "/" + stem + ".gz").read()
    torch.from_numpy(np.frombuffer(data, np.uint8).copy())
"""


@dataclass(frozen=True)
class Run:
    seconds: float  # wall
    cpu_seconds: float  # user + system
    peak_mib: float


# what a check cannot do without (`import pydantic` alone defers nearly everything to first use)
LIBRARIES = "import click, yaml; from pydantic import BaseModel"


def run_once(command: list[str], checkout: Path, environment: dict[str, str]) -> Run:
    """The wall and CPU time and the peak resident memory of one fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=checkout, env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)} (exit {os.waitstatus_to_exitcode(status)})")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def child_environment(checkout: Path, scratch: str) -> dict[str, str]:
    """This environment with `checkout` first on the path and bytecode caches written, as an install has them."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPATH"] = os.pathsep.join([str(checkout), *filter(None, [os.environ.get("PYTHONPATH")])])
    environment["PYTHONPYCACHEPREFIX"] = os.path.join(scratch, "pycache")
    return environment


def train_command(mnist: Path):
    def command(out: Path) -> list[str]:
        return [sys.executable, "-m", "netspec", "train", "specs/resnet_mini.yaml", "--dataset", "mnist",
                "--data-dir", str(mnist), "--epochs", "1", "--limit-train", "128", "--limit-test", "128",
                "--out", str(out)]

    return command


def measure(candidates: dict[str, object], rounds: int, checkout: Path) -> dict[str, list[Run]]:
    samples: dict[str, list[Run]] = {name: [] for name in candidates}
    names = list(candidates)
    with tempfile.TemporaryDirectory(prefix="netspec-startup-") as scratch:
        environment = child_environment(checkout, scratch)
        for index in range(-1, rounds):  # round -1: the warm-up, not recorded
            for name in names if index % 2 == 0 else reversed(names):
                command = candidates[name]
                if callable(command):  # a fresh --out each time
                    command = command(Path(scratch) / f"run{index}")
                run = run_once(command, checkout, environment)
                if index >= 0:
                    samples[name].append(run)
    return samples


def rows_for(samples: dict[str, list[Run]], goal_name: str, floor_name: str, goal: float,
             absolute: float | None) -> list[list]:
    floor = statistics.median(run.seconds for run in samples[floor_name])
    cpu_floor = statistics.median(run.cpu_seconds for run in samples[floor_name])
    rows = []
    for name, runs in samples.items():
        median = statistics.median(run.seconds for run in runs)
        cpu = [run.cpu_seconds for run in runs]
        verdict = ""
        if name == goal_name:
            ratio_ok = median / floor <= goal
            verdict = f"{'meets' if ratio_ok else 'MISSES'} <= {goal:g}x {floor_name}"
            if absolute is not None:
                verdict += f"; {'meets' if median <= absolute else 'MISSES'} <= {absolute:g} s"
        rows.append([name, Spread.of([run.seconds for run in runs]).format(3), f"{median / floor:.2f}",
                     Spread.of(cpu).format(3), f"{statistics.median(cpu) / cpu_floor:.2f}",
                     f"{max(run.peak_mib for run in runs):.0f}", verdict])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="runs of each candidate (default 7)")
    parser.add_argument("--only", choices=["check", "train"], help="measure one of the two")
    parser.add_argument("--checkout", type=Path, default=REPO,
                        help="the netspec checkout to measure (default: this one), e.g. main for a before/after")
    parser.add_argument("--data-dir", type=Path, default=next((d for d in MNIST_DIRS if d.is_dir()), MNIST_DIRS[0]),
                        help="the MNIST folder (the four .gz IDX files; default: ../shared/datasets/mnist)")
    add_common_arguments(parser, device=False)
    args = parser.parse_args()
    python = sys.executable
    rows, notes = [], []
    if args.only in (None, "check"):
        samples = measure({"netspec check googlenet_mini": [python, "-m", "netspec", "check",
                                                            "specs/googlenet_mini.yaml"],
                           "python -c pass": [python, "-c", "pass"],
                           LIBRARIES: [python, "-c", LIBRARIES]}, args.rounds, args.checkout.resolve())
        rows += rows_for(samples, "netspec check googlenet_mini", LIBRARIES, 1.5, 0.3)
    if args.only in (None, "train"):
        mnist = args.data_dir.resolve()
        samples = measure({"netspec train, 128 images": train_command(mnist),
                           "import torch + read MNIST": [python, "-c", READ_MNIST.format(folder=str(mnist))]},
                          args.rounds,
                          args.checkout.resolve())
        rows += rows_for(samples, "netspec train, 128 images", "import torch + read MNIST", 1.5, None)
    notes.append(f"{args.rounds} interleaved rounds after a warm-up; seconds: median [25th-75th percentile] of wall "
                 "time per fresh process; CPU s: user + system seconds of the process; x floor: the median over the "
                 "floor's median; peak MiB: the largest resident set of any run (os.wait4).")
    if args.checkout.resolve() != REPO:
        notes.append(f"measured checkout: {args.checkout.resolve()}")
    report("Start-up: check and a 128-image train against their floors", pick_device("cpu"),
           markdown_table(["process", "seconds", "x floor", "CPU s", "CPU x floor", "peak MiB", "goal"], rows), notes,
           record=not args.no_record)


if __name__ == "__main__":
    main()
