"""Training images/s and time-to-accuracy of `netspec.train` against the seeds' own loops.

Both sides train the same network (the spec, and the seed's hand-written class from
bench/seed_nets.py) with the seed's batch size, optimizer and learning rate, on the same
device and the same first N images, in one run: repeats alternate which side goes first.
The seed side is bench/seed_loops.py (torchvision dataset + per-sample PIL transforms +
DataLoader, a host read per step); netspec keeps the data on the device and batches it there.

  images/s        training images / training seconds (the seed's data loading included;
                  evaluation excluded on both sides)
  time to target  training seconds until the first epoch whose test accuracy reaches the
                  target (default: the seed loop's median final accuracy)
  setup+eval      the rest of the wall time: reading data, building, evaluating

Cases: resnet_mini and googlenet_mini (seed 003, MNIST, batch 64, SGD lr 0.01),
alexnet_fashion (seed 001, d2l's train_ch6 on Fashion-MNIST at 224, batch 128, SGD lr 0.01),
lenet_cifar (seed 002, batch 4, SGD lr 0.001 momentum 0.9; CIFAR-10 is read from --cifar-dir
when present, otherwise synthetic CIFAR-format images are written and the rows say so).
On CUDA the table adds each side's achieved training FLOP/s as a fraction of the measured
bf16 matmul peak (bench/gpu_peak.py).

Examples:
  .venv/bin/python bench/train_vs_seed.py                                  # resnet_mini, CPU-sized
  .venv/bin/python bench/train_vs_seed.py --cases resnet_mini googlenet_mini --limit-train 10000
  .venv/bin/python bench/train_vs_seed.py --cases alexnet_fashion --epochs 10 --limit-train 0   # all data
  .venv/bin/python bench/train_vs_seed.py --profile --no-record            # where netspec's time goes
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

import netspec
from gpu_peak import bf16_matmul_peak, training_flops
from harness import DATA_CACHE, REPO, Spread, add_common_arguments, configure, markdown_table, ratios, report
from seed_loops import SeedRun, seed001_d2l, seed002_cifar, seed003_mnist, torchvision_root, write_synthetic_cifar
from seed_nets import HAND_NETS

SEED_003 = dict(optimizer="sgd", lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0, batch_size=64)
NO_EXTRAS = dict(schedule="none", label_smoothing=0.0, augment={"random_crop_padding": 0, "horizontal_flip": False})


@dataclass(frozen=True)
class Case:
    dataset: str
    seed: str  # which seed loop, for the table
    loop: Callable[..., SeedRun]
    overrides: dict  # netspec.train settings that match the seed's
    cpu_limits: tuple[int, int, int]  # epochs, train images, test images (0: all) for a CPU run of minutes
    gpu_limits: tuple[int, int, int]


CASES = {
    "resnet_mini": Case("mnist", "seed 003", seed003_mnist, {**SEED_003, **NO_EXTRAS}, (2, 20000, 0), (2, 0, 0)),
    "googlenet_mini": Case("mnist", "seed 003", seed003_mnist, {**SEED_003, **NO_EXTRAS}, (1, 10000, 0), (2, 0, 0)),
    "alexnet_fashion": Case("fashion-mnist", "seed 001 (d2l)", seed001_d2l,
                            dict(optimizer="sgd", lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0,
                                 batch_size=128, resize=224, normalize=False, **NO_EXTRAS), (1, 512, 256), (1, 0, 0)),
    "lenet_cifar": Case("cifar10", "seed 002", seed002_cifar,
                        dict(optimizer="sgd", lr=0.001, momentum=0.9, nesterov=False, weight_decay=0.0, batch_size=4,
                             **NO_EXTRAS), (1, 5000, 1000), (1, 0, 0)),
}


@dataclass
class Outcome:
    """One training run of either side, reduced to per-epoch figures."""

    train_seconds: list[float]
    images: list[int]
    test_acc: list[float]
    wall_seconds: float
    extra: dict = field(default_factory=dict)

    @property
    def images_per_second(self) -> float:
        return sum(self.images) / sum(self.train_seconds)

    @property
    def setup_and_eval(self) -> float:
        return self.wall_seconds - sum(self.train_seconds)

    def seconds_to(self, target: float) -> float | None:
        elapsed = 0.0
        for seconds, accuracy in zip(self.train_seconds, self.test_acc):
            elapsed += seconds
            if accuracy >= target:
                return elapsed
        return None


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=["resnet_mini"], choices=list(CASES), metavar="CASE",
                        help=f"among {', '.join(CASES)} (default: resnet_mini)")
    parser.add_argument("--epochs", type=int, help="epochs per run (default: per case, smaller on the CPU)")
    parser.add_argument("--limit-train", type=int, help="train on the first N images, 0 for all (default: per case)")
    parser.add_argument("--limit-test", type=int, help="evaluate on the first N test images, 0 for all")
    parser.add_argument("--repeats", type=int, default=2, help="runs per side, alternating who goes first (default 2)")
    parser.add_argument("--target-acc", type=float, help="accuracy for time-to-target (default: the seed's median)")
    parser.add_argument("--compile", action="store_true", help="netspec side with torch.compile (--compile)")
    parser.add_argument("--spec-settings", action="store_true",
                        help="add a third side: netspec with the spec's own train: settings (same epochs and data)")
    parser.add_argument("--mnist-dir", type=Path, default=Path("/work/shared/datasets/mnist"))
    parser.add_argument("--fashion-dir", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--cifar-dir", type=Path, help="folder holding cifar-10-batches-py (default: synthetic data)")
    parser.add_argument("--profile", action="store_true", help="then profile one netspec epoch and print the top ops")
    parser.add_argument("--verbose", action="store_true", help="show the seed loops' own prints and netspec's progress")
    add_common_arguments(parser)
    return parser.parse_args()


class Runner:
    """Runs one case's sides with shared limits, data folders and device."""

    def __init__(self, stem: str, case: Case, args: argparse.Namespace, device: torch.device):
        self.stem, self.case, self.args, self.device = stem, case, args, device
        defaults = case.gpu_limits if device.type == "cuda" else case.cpu_limits
        self.epochs = args.epochs or defaults[0]
        self.limit_train = (args.limit_train if args.limit_train is not None else defaults[1]) or None
        self.limit_test = (args.limit_test if args.limit_test is not None else defaults[2]) or None
        self.synthetic = case.dataset == "cifar10" and args.cifar_dir is None
        self.netspec_dir, self.seed_root = self._data_folders()

    def _data_folders(self) -> tuple[Path, Path]:
        dataset, args = self.case.dataset, self.args
        if dataset == "cifar10":
            folder = args.cifar_dir or write_synthetic_cifar(DATA_CACHE / "synthetic-cifar",
                                                             self.limit_train or 50000, self.limit_test or 10000)
            return folder / "cifar-10-batches-py", folder
        source = args.mnist_dir if dataset == "mnist" else args.fashion_dir
        return source, torchvision_root(dataset, source, DATA_CACHE)

    @property
    def label(self) -> str:
        limits = f"{self.epochs} epoch{'s' * (self.epochs != 1)}, {self.limit_train or 'all'} train / " \
                 f"{self.limit_test or 'all'} test images"
        return f"{self.stem} on {'SYNTHETIC ' if self.synthetic else ''}{self.case.dataset} ({limits})"

    def seed_side(self, repeat: int) -> Outcome:
        torch.manual_seed(repeat)
        log = print if self.args.verbose else (lambda line: None)
        extra = {"synthetic": True} if self.synthetic else {}
        start = time.perf_counter()
        run = self.case.loop(HAND_NETS[self.stem](), self.seed_root, self.epochs, self.device, self.limit_train,
                             self.limit_test, log=log, **extra)
        wall = time.perf_counter() - start
        compute = [e.compute_seconds for e in run.epochs if e.compute_seconds is not None]
        return Outcome([e.train_seconds for e in run.epochs], [e.images for e in run.epochs],
                       [e.test_acc for e in run.epochs], wall, {"compute_seconds": sum(compute)} if compute else {})

    def netspec_side(self, repeat: int, spec_settings: bool = False) -> Outcome:
        overrides = {} if spec_settings else self.case.overrides
        with tempfile.TemporaryDirectory(prefix="netspec-bench-") as out:
            start = time.perf_counter()
            result = netspec.train(REPO / "specs" / f"{self.stem}.yaml", dataset=self.case.dataset,
                                   data_dir=self.netspec_dir, device=self.device.type, epochs=self.epochs,
                                   limit_train=self.limit_train, limit_test=self.limit_test, out=out, seed=repeat,
                                   compile=self.args.compile, progress=self.args.verbose, val_fraction=0,
                                   **overrides)
            wall = time.perf_counter() - start
        history = result.history
        # like the seed, train on every training image; netspec judges the test split once, after the last epoch
        # (earlier epochs count as not yet at any target accuracy)
        return Outcome([row["seconds"] for row in history],
                       [round(row["images_per_second"] * row["seconds"]) for row in history],
                       [0.0] * (len(history) - 1) + [result.test_acc], wall)

    def sides(self) -> dict[str, Callable[[int], Outcome]]:
        sides = {self.case.seed: self.seed_side, "netspec": self.netspec_side}
        if self.args.spec_settings:
            sides["netspec, spec's train:"] = lambda repeat: self.netspec_side(repeat, spec_settings=True)
        return sides

    def measure(self) -> dict[str, list[Outcome]]:
        sides = self.sides()
        outcomes: dict[str, list[Outcome]] = {name: [] for name in sides}
        for repeat in range(self.args.repeats):
            for name in list(sides) if repeat % 2 == 0 else reversed(list(sides)):
                print(f"  {self.stem}: {name}, run {repeat + 1}/{self.args.repeats} ...", flush=True)
                outcomes[name].append(sides[name](repeat))
        return outcomes


def rows_for(runner: Runner, outcomes: dict[str, list[Outcome]], target: float | None,
             peak: float | None) -> list[list[object]]:
    seed = outcomes[runner.case.seed]
    seed_acc = statistics.median(o.test_acc[-1] for o in seed)
    target = target if target is not None else seed_acc
    macs = netspec.check(REPO / "specs" / f"{runner.stem}.yaml").macs
    seed_rate = statistics.median(o.images_per_second for o in seed)
    rows = []
    for name, runs in outcomes.items():
        rates = [o.images_per_second for o in runs]
        accuracy = statistics.median(o.test_acc[-1] for o in runs)
        reached = [o.seconds_to(target) for o in runs]
        to_target = (f"{statistics.median(r for r in reached if r is not None):.1f}" if all(r is not None for r in
                     reached) else f"not reached ({sum(r is None for r in reached)}/{len(reached)} runs)")
        row = [runner.label if name == runner.case.seed else "", name, Spread.of(rates).format(0),
               ratios(rates, [o.images_per_second for o in seed]).format(2), f"{accuracy:.4f}",
               f"{to_target} (>= {target:.4f})", f"{statistics.median(o.setup_and_eval for o in runs):.1f}"]
        if peak:
            row.append(f"{training_flops(macs, statistics.median(rates)) / peak:.2%}")
        row.append(verdict(runner, name, statistics.median(rates) / seed_rate, accuracy, seed_acc))
        rows.append(row)
    return rows


def verdict(runner: Runner, side: str, ratio: float, accuracy: float, seed_acc: float) -> str:
    """The issue's goals that apply to this row."""
    if side != "netspec":
        return ""
    goals = []
    if runner.stem == "resnet_mini":
        wanted = 10.0 if runner.device.type == "cuda" else 1.5
        met = ratio >= wanted and accuracy >= seed_acc
        goals.append(f"{'meets' if met else 'MISSES'} >= {wanted:g}x at >= seed acc")
    return "; ".join(goals)


def profile_netspec(runner: Runner) -> None:
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if runner.device.type == "cuda" else [])
    with profile(activities=activities) as profiler:
        runner.netspec_side(0)
    sort = "self_device_time_total" if runner.device.type == "cuda" else "self_cpu_time_total"
    print(profiler.key_averages().table(sort_by=sort, row_limit=20))


def main() -> None:
    args = parse_arguments()
    device = configure(args)
    peak = bf16_matmul_peak(device)[0] if device.type == "cuda" else None
    rows, notes = [], []
    for stem in args.cases:
        runner = Runner(stem, CASES[stem], args, device)
        print(f"{runner.label}: {args.repeats} runs per side", flush=True)
        outcomes = runner.measure()
        rows += rows_for(runner, outcomes, args.target_acc, peak)
        compute = [o.extra["compute_seconds"] for o in outcomes[runner.case.seed] if "compute_seconds" in o.extra]
        if compute:
            seed_images = sum(outcomes[runner.case.seed][0].images)
            notes.append(f"{stem}: d2l's own timer (steps only, data waits excluded) gives "
                         f"{seed_images / statistics.median(compute):,.0f} images/s for the seed loop.")
        if args.profile:
            profile_netspec(runner)
    headers = ["case", "side", "images/s", "vs seed", "final test acc", "time to target s", "setup+eval s"]
    headers += ["% bf16 peak"] if peak else []
    headers += ["goal"]
    notes += ["images/s: median [25th-75th percentile] over runs; vs seed: median of per-run ratios to the seed "
              "run of the same repeat [25th-75th pct].",
              "Same net, batch size, optimizer, learning rate, data (the first N images) and device on both sides. "
              "netspec normalises with the data's own mean/std; seed 002 with 0.5/0.5; d2l's xavier init is the "
              "seed's only (netspec keeps PyTorch's default init)."]
    if peak:
        notes.append(f"bf16 matmul peak measured: {peak / 1e12:.1f} TFLOP/s; achieved = MACs x 2 x 3 x images/s.")
    report("Training: netspec.train vs the seeds' loops", device, markdown_table(headers, rows), notes,
           record=not args.no_record)


if __name__ == "__main__":
    main()
