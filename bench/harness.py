"""What every bench script shares: device choice, interleaved timing, statistics, tables, RESULTS.md.

Benchmarks on a shared machine are noisy, so candidates are timed in interleaved rounds
(A B, B A, A B, ...) and compared by the median of their per-round ratios, with the
spread (25th-75th percentile) shown next to it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
DATA_CACHE = REPO / "runs" / "bench-data"  # ignored by git (/runs/)


def add_common_arguments(parser: argparse.ArgumentParser, device: bool = True) -> None:
    if device:
        parser.add_argument("--device", default="auto", help="auto (cuda when present, else cpu), cpu or cuda")
        parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice); 1 is "
                            "steadier on a machine shared with other work")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")


def configure(args: argparse.Namespace):
    """Apply --threads and return the torch.device that --device names."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    return pick_device(args.device)


def pick_device(name: str):
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: expected a CUDA device; torch sees none (use --device cpu)")
    return torch.device(name)


def synchronize(device) -> None:
    if device.type == "cuda":
        import torch

        torch.cuda.synchronize(device)


def timed(function: Callable[[], object], device, clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds `function` takes, with the device's queued work included.

    `clock=time.process_time` counts this process's CPU seconds instead of wall time: on a
    CPU shared with other work, time spent descheduled then does not count (use it with
    --threads 1, since idle OpenMP threads spinning at barriers count too).
    """
    synchronize(device)
    start = clock()
    function()
    synchronize(device)
    return clock() - start


def interleaved(candidates: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Call each candidate once per round, alternating the order; each call returns its own measurement."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    names = list(candidates)
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            samples[name].append(candidates[name]())
    return samples


@dataclass(frozen=True)
class Spread:
    median: float
    low: float  # 25th percentile
    high: float  # 75th percentile

    @classmethod
    def of(cls, values: list[float]) -> "Spread":
        if len(values) == 1:
            return cls(values[0], values[0], values[0])
        quartiles = statistics.quantiles(values, n=4, method="inclusive")
        return cls(statistics.median(values), quartiles[0], quartiles[2])

    def format(self, digits: int = 3, scale: float = 1.0) -> str:
        return f"{self.median * scale:.{digits}f} [{self.low * scale:.{digits}f}-{self.high * scale:.{digits}f}]"


def ratios(numerators: list[float], denominators: list[float]) -> Spread:
    """Spread of the per-round ratios of two interleaved series."""
    return Spread.of([a / b for a, b in zip(numerators, denominators)])


def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [headers] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def describe_device(device) -> str:
    if device.type == "cuda":
        import torch

        props = torch.cuda.get_device_properties(device)
        return f"{props.name} ({props.total_memory / 2**30:.0f} GiB), CUDA {torch.version.cuda}"
    return f"CPU {_cpu_model()}, {os.cpu_count()} cores, torch threads {_torch_threads()}, load {_load()}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def versions() -> str:
    import torch
    import torchvision

    import netspec

    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    return (f"python {platform.python_version()}, torch {torch.__version__}, torchvision {torchvision.__version__}, "
            f"netspec {netspec.__version__} (git {commit})")


def command_line() -> str:
    script = os.path.relpath(sys.argv[0], REPO)
    python = os.path.relpath(sys.executable, REPO) if sys.executable.startswith(str(REPO)) else sys.executable
    return " ".join(shlex.quote(part) for part in [python, script, *sys.argv[1:]])


def render_report(title: str, device, table: str, notes: list[str]) -> str:
    """A RESULTS.md section: the title, its context (date, command, device, versions), the table, the notes."""
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"## {title}", "", f"- date: {date}", f"- command: `{command_line()}`",
             f"- device: {describe_device(device)}", f"- versions: {versions()}", "", table, ""]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines).rstrip() + "\n"


def report(title: str, device, table: str, notes: list[str], record: bool) -> None:
    """Print the result and, unless told not to, append it to bench/RESULTS.md with its context."""
    text = render_report(title, device, table, notes)
    print("\n" + text)
    if record:
        with RESULTS.open("a", encoding="utf-8") as results:
            results.write("\n" + text)
        print(f"(appended to {os.path.relpath(RESULTS, Path.cwd())})")
