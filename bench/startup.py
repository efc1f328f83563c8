"""Start-up cost of the commands a user waits for, as ratios against the floors nothing can beat.

  check   `netspec check specs/googlenet_mini.yaml` as a process (goal: median <= 0.3 s), against
          `python -c pass` (the interpreter) and `python -c "import click, pydantic, yaml"` (the libraries
          a check needs)
  train   a 128-image `netspec train specs/resnet_mini.yaml` (1 epoch, 128 test images) as a process,
          against one process that imports torch and reads the same MNIST files with gzip + numpy
          (goal: <= 1.5x); the peak resident memory of both is reported

Every candidate runs in a fresh process, in interleaved rounds (A B C, C B A, ...); each process's own
peak memory comes from os.wait4.

Examples:
  .venv/bin/python bench/startup.py
  .venv/bin/python bench/startup.py --rounds 9 --only check --no-record
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import REPO, Spread, add_common_arguments, markdown_table, pick_device, report

MNIST = REPO.parent / "shared" / "datasets" / "mnist"
READ_MNIST = f"""
import gzip, numpy as np, torch
for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
    data = gzip.open("{MNIST}/" + stem + ".gz").read()
    torch.from_numpy(np.frombuffer(data, np.uint8).copy())
"""


def run_once(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak resident MiB) of one fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)} (exit {os.waitstatus_to_exitcode(status)})")
    return seconds, usage.ru_maxrss / 1024


def train_command(out: Path) -> list[str]:
    return [sys.executable, "-m", "netspec", "train", "specs/resnet_mini.yaml", "--dataset", "mnist", "--data-dir",
            str(MNIST), "--epochs", "1", "--limit-train", "128", "--limit-test", "128", "--out", str(out)]


def measure(candidates: dict[str, object], rounds: int) -> dict[str, list[tuple[float, float]]]:
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in candidates}
    names = list(candidates)
    with tempfile.TemporaryDirectory(prefix="netspec-startup-") as scratch:
        for index in range(rounds):
            for name in names if index % 2 == 0 else reversed(names):
                command = candidates[name]
                if callable(command):  # a fresh --out each time
                    command = command(Path(scratch) / f"run{index}")
                samples[name].append(run_once(command))
    return samples


def rows_for(samples: dict, goal_name: str, floor_name: str, goal: float, absolute: float | None) -> list[list]:
    floor = statistics.median(seconds for seconds, _ in samples[floor_name])
    rows = []
    for name, runs in samples.items():
        seconds = [s for s, _ in runs]
        median = statistics.median(seconds)
        verdict = ""
        if name == goal_name:
            ratio_ok = median / floor <= goal
            verdict = f"{'meets' if ratio_ok else 'MISSES'} <= {goal:g}x {floor_name}"
            if absolute is not None:
                verdict += f"; {'meets' if median <= absolute else 'MISSES'} <= {absolute:g} s"
        rows.append([name, Spread.of(seconds).format(3), f"{median / floor:.2f}",
                     f"{max(m for _, m in runs):.0f}", verdict])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="runs of each candidate (default 7)")
    parser.add_argument("--only", choices=["check", "train"], help="measure one of the two")
    add_common_arguments(parser, device=False)
    args = parser.parse_args()
    python = sys.executable
    rows, notes = [], []
    if args.only in (None, "check"):
        samples = measure({"netspec check googlenet_mini": [python, "-m", "netspec", "check",
                                                            "specs/googlenet_mini.yaml"],
                           "python -c pass": [python, "-c", "pass"],
                           "import click, pydantic, yaml": [python, "-c", "import click, pydantic, yaml"]},
                          args.rounds)
        rows += rows_for(samples, "netspec check googlenet_mini", "import click, pydantic, yaml", 1.5, 0.3)
    if args.only in (None, "train"):
        samples = measure({"netspec train, 128 images": train_command,
                           "import torch + read MNIST": [python, "-c", READ_MNIST]}, args.rounds)
        rows += rows_for(samples, "netspec train, 128 images", "import torch + read MNIST", 1.5, None)
    notes.append("seconds: median [25th-75th percentile] of wall time per fresh process; x floor: the median over "
                 "the floor's median; peak MiB: the largest resident set of any run (os.wait4).")
    report("Start-up: check and a 128-image train against their floors", pick_device("cpu"),
           markdown_table(["process", "seconds", "x floor", "peak MiB", "goal"], rows), notes,
           record=not args.no_record)


if __name__ == "__main__":
    main()
