"""Every GPU figure of netspec in one run, sized for one short lease of a GPU machine.

One process runs the sections below in order (torch is imported once), each under its own
time budget, and writes gpu_results.md (the tables, with date, command, device and versions:
append it to bench/RESULTS.md afterwards) and gpu_results.json into --out ($OUT on the device
machine). A section that fails is recorded with its error and the suite goes on, so one
problem never costs the whole lease. `bench/gpu_suite.sh` is the entry point on the device
machine (it installs the carried wheels first); `--smoke` runs every section on the CPU at
tiny sizes in about a minute, and the test suite runs it so this script cannot rot.

Sections:
  peak         the measured bf16 matmul peak (CUDA; the smoke run times a small fp32 matmul)
  mnist99      time for resnet_mini (its own train: settings) to reach >= 99.0% MNIST test
               accuracy, data resident on the GPU; setup (data loading, building) and the first
               epoch's compilation (--compile run, first epoch minus a later one) reported apart
  vs_seed      resnet_mini: netspec.train vs seed 003's own loop (bench/seed_loops.py), images/s ratio
  alexnet      d2l's AlexNet on Fashion-MNIST at 224, batch 128, SGD lr 0.01, 10 epochs:
               images/s, % of the bf16 peak, test accuracy (d2l: 3,942 images/s, 0.883)
  torchrun     `torchrun --nproc-per-node 1 -m netspec train ...` starts its process group
               (NCCL on CUDA) and finishes a short run
  imagefolder  bench/imagefolder_speed.py's loader comparison, when that script exists

Examples:
  bash bench/gpu_suite.sh                       # on the GPU machine: everything, results in $OUT
  bash bench/gpu_suite.sh --smoke               # CPU dry run at tiny sizes (the test suite runs this)
  .venv/bin/python bench/gpu_suite.py --sections peak alexnet --out /tmp/gpu
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from harness import DATA_CACHE, REPO, markdown_table, render_report

SECTIONS = ("peak", "mnist99", "vs_seed", "alexnet", "torchrun", "imagefolder")
FASHION_DIRS = (REPO / ".gpu_carry" / "fashion-mnist", Path("/usr/share/datasets/fashion-mnist"))
MNIST_DIRS = (REPO / ".gpu_carry" / "mnist", REPO.parent / "shared" / "datasets" / "mnist",
              REPO / "tests" / "data" / "mnist-sample")
D2L_ALEXNET = dict(optimizer="sgd", lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0, batch_size=128,
                   resize=224, normalize=False, schedule="none", label_smoothing=0.0,
                   augment={"random_crop_padding": 0, "horizontal_flip": False})


@dataclass(frozen=True)
class Sizes:
    """How much work each section does: the full run on a GPU, or a smoke run on the CPU."""

    peak_sizes: tuple[int, ...]
    mnist_epochs: int
    limit_train: int | None  # None: every image
    limit_test: int | None
    alexnet_epochs: int
    alexnet_train: int | None
    alexnet_test: int | None
    alexnet_batch: int


FULL = Sizes((8192,), 6, None, None, 10, None, None, 128)
SMOKE = Sizes((256,), 1, 256, 256, 1, 64, 64, 32)


def first_existing(folders: tuple[Path, ...], stem: str) -> Path | None:
    return next((folder for folder in folders if (folder / f"{stem}.gz").exists() or (folder / stem).exists()), None)


class Suite:
    def __init__(self, args: argparse.Namespace):
        import torch

        self.args, self.torch = args, torch
        self.device = torch.device("cuda" if torch.cuda.is_available() and not args.smoke else "cpu")
        self.sizes = SMOKE if args.smoke else FULL
        self.mnist = first_existing(MNIST_DIRS, "train-images-idx3-ubyte")
        self.fashion = first_existing(FASHION_DIRS, "train-images-idx3-ubyte")
        self.peak: float | None = None
        self.tables: list[tuple[str, str, list[str]]] = []
        self.results: dict[str, object] = {}

    def train(self, spec: str, dataset: str, data_dir: Path, out: str, **settings):
        import netspec

        return netspec.train(REPO / "specs" / f"{spec}.yaml", dataset=dataset, data_dir=data_dir,
                             device=self.device.type, out=out, progress=False, download=False, **settings)

    def section_peak(self) -> None:
        from gpu_peak import bf16_matmul_peak

        if self.device.type == "cuda":
            self.peak, size = bf16_matmul_peak(self.device, self.sizes.peak_sizes)
            what = f"bf16 matmul peak (n = {size})"
        else:  # the smoke run: the same arithmetic on the CPU, so the code path runs
            torch = self.torch
            size = self.sizes.peak_sizes[0]
            a, b = torch.randn(size, size), torch.randn(size, size)
            start = time.perf_counter()
            for _ in range(10):
                a @ b
            self.peak, what = 2 * size ** 3 * 10 / (time.perf_counter() - start), f"CPU fp32 matmul (n = {size})"
        self.results["peak_flops"] = self.peak
        self.tables.append(("Matrix-multiply peak", markdown_table(["measure", "TFLOP/s"],
                                                                  [[what, f"{self.peak / 1e12:.2f}"]]), []))

    def section_mnist99(self) -> None:
        rows, record = [], {}
        for compiled in (False, True) if self.device.type == "cuda" else (False,):  # compiling on a CPU: 30 s
            with tempfile.TemporaryDirectory(prefix="gpu-suite-") as out:
                start = time.perf_counter()
                result = self.train("resnet_mini", "mnist", self.mnist, out, epochs=self.sizes.mnist_epochs,
                                    limit_train=self.sizes.limit_train, limit_test=self.sizes.limit_test,
                                    compile=compiled)
                wall = time.perf_counter() - start
            history = result.history
            seconds = [row["seconds"] for row in history]
            # netspec reads the test split once, at the end: epochs are judged on the validation split
            reached = next((index for index, row in enumerate(history) if row["val_acc"] >= 0.99), None)
            to_99 = f"{sum(seconds[:reached + 1]):.2f} (epoch {reached + 1})" if reached is not None else "not reached"
            compile_s = f"{seconds[0] - min(seconds[1:]):.2f}" if compiled and len(seconds) > 1 else "-"
            label = "resnet_mini, --compile" if compiled else "resnet_mini"
            rows.append([label, to_99, f"{result.test_acc:.4f}", f"{wall - sum(seconds):.2f}", compile_s,
                         " ".join(f"{s:.2f}" for s in seconds)])
            record[label] = {"history": history, "wall": wall}
        self.results["mnist99"] = record
        self.tables.append(("MNIST: time to 99.0% validation accuracy (data resident on the device)",
                            markdown_table(["run", "train s to >= 0.99", "final acc", "setup+eval s",
                                            "compile s (epoch 1 - best later)", "epoch train s"], rows),
                            ["Record to beat: 0.76 s on a laptop GTX 1660 Ti (GPU-resident data).",
                             "train s: training seconds only, summed to the first epoch whose validation accuracy "
                             "(10% of train held out) reaches 0.99; final acc: the test split, once at the end; "
                             "setup+eval: reading MNIST, building, per-epoch evaluation, saves."]))

    def section_vs_seed(self) -> None:
        from train_vs_seed import CASES, Runner, rows_for

        args = argparse.Namespace(epochs=1 if self.args.smoke else None, limit_train=self.sizes.limit_train,
                                  limit_test=self.sizes.limit_test, repeats=1, compile=False, spec_settings=False,
                                  mnist_dir=self.mnist, fashion_dir=self.fashion, cifar_dir=None, verbose=False)
        runner = Runner("resnet_mini", CASES["resnet_mini"], args, self.device)
        outcomes = runner.measure()
        rows = rows_for(runner, outcomes, None, self.peak if self.device.type == "cuda" else None)
        ratio = outcomes["netspec"][0].images_per_second / outcomes[runner.case.seed][0].images_per_second
        self.results["vs_seed_ratio"] = ratio
        headers = ["case", "side", "images/s", "vs seed", "final test acc", "time to target s", "setup+eval s"]
        headers += ["% bf16 peak"] if len(rows[0]) > 8 else []
        self.tables.append(("resnet_mini: netspec.train vs seed 003's loop", markdown_table(headers + ["goal"], rows),
                            [f"images/s ratio netspec / seed: {ratio:.2f} (goal on a GPU: >= 10)."]))

    def section_alexnet(self) -> None:
        from gpu_peak import training_flops

        import netspec

        if self.fashion is None:
            raise RuntimeError("no Fashion-MNIST: carry it in .gpu_carry/fashion-mnist (bench/gpu_suite.sh --prepare)")
        settings = dict(D2L_ALEXNET, batch_size=self.sizes.alexnet_batch)
        with tempfile.TemporaryDirectory(prefix="gpu-suite-") as out:
            result = self.train("alexnet_fashion", "fashion-mnist", self.fashion, out, epochs=self.sizes.alexnet_epochs,
                                limit_train=self.sizes.alexnet_train, limit_test=self.sizes.alexnet_test, **settings)
        history = result.history
        images = sum(row["images_per_second"] * row["seconds"] for row in history)
        rate = images / sum(row["seconds"] for row in history)
        macs = netspec.check(REPO / "specs" / "alexnet_fashion.yaml").macs
        share = training_flops(macs, rate) / self.peak if self.peak else None
        self.results["alexnet"] = {"images_per_second": rate, "test_acc": result.test_acc, "share": share}
        row = [f"{self.sizes.alexnet_epochs}", f"{rate:,.0f}", f"{rate / 3942:.2f}x",
               f"{share:.1%}" if share is not None else "-", f"{result.test_acc:.4f}"]
        self.tables.append(("d2l AlexNet on Fashion-MNIST at 224, batch 128",
                            markdown_table(["epochs", "images/s", "vs d2l 3,942", "% of peak", "test acc"], [row]),
                            ["d2l's figures: 3,942 images/s, test accuracy 0.883 after 10 epochs.",
                             "% of peak: MACs x 2 FLOP x 3 (forward + backward) x images/s over the measured peak."]))

    def section_torchrun(self) -> None:
        limit = self.sizes.limit_train or 4096
        with tempfile.TemporaryDirectory(prefix="gpu-suite-") as out:
            command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "1", "-m", "netspec",
                       "train", "specs/resnet_mini.yaml", "--dataset", "mnist", "--data-dir", str(self.mnist),
                       "--epochs", "1", "--limit-train", str(limit), "--limit-test", str(limit), "--out", out,
                       "--device", self.device.type]
            start = time.perf_counter()
            done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300,
                                  env={**os.environ, "NCCL_DEBUG": "INFO"})
            wall = time.perf_counter() - start
        output = done.stdout + done.stderr
        backend = "NCCL" if "NCCL INFO" in output else ("gloo" if self.device.type == "cpu" else "unknown")
        self.results["torchrun"] = {"rc": done.returncode, "wall": wall, "backend": backend}
        if done.returncode:
            raise RuntimeError(f"torchrun exited {done.returncode}: {output[-2000:]}")
        self.tables.append(("torchrun --nproc-per-node 1", markdown_table(
            ["exit", "process group", "wall s", "last line"],
            [[done.returncode, backend, f"{wall:.1f}", _last_line_with(output, "acc")[:100]]]), []))

    def section_imagefolder(self) -> None:
        script = REPO / "bench" / "imagefolder_speed.py"
        if not script.exists():
            self.tables.append(("Image-folder loader", "not measured: bench/imagefolder_speed.py does not exist yet",
                                []))
            return
        command = [sys.executable, str(script), "--no-record", "--device", self.device.type]
        command += ["--smoke"] if self.args.smoke else []
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=240)
        if done.returncode:
            raise RuntimeError(f"{script.name} exited {done.returncode}: {(done.stdout + done.stderr)[-2000:]}")
        self.tables.append(("Image-folder loader (bench/imagefolder_speed.py)", done.stdout.strip()[-6000:], []))

    def run(self) -> int:
        failures = 0
        for name in self.args.sections:
            print(f"[gpu_suite] {name} ...", flush=True)
            start = time.perf_counter()
            try:
                getattr(self, f"section_{name}")()
            except Exception as error:  # record it and go on: one failure must not cost the whole lease
                failures += 1
                self.tables.append((f"{name}: FAILED", f"{type(error).__name__}: {error}",
                                    [traceback.format_exc(limit=4).replace("\n", " | ")[-1500:]]))
            print(f"[gpu_suite] {name}: {time.perf_counter() - start:.1f} s", flush=True)
        return failures

    def write(self, out: Path, total_seconds: float) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        body = "\n\n".join(f"### {title}\n\n{table}" + "".join(f"\n- {note}" for note in notes)
                             for title, table, notes in self.tables)
        title = "GPU suite (bench/gpu_suite.sh)" + (" SMOKE RUN on the CPU, tiny sizes" if self.args.smoke else "")
        text = render_report(title, self.device, body, [f"whole suite: {total_seconds:.0f} s"])
        (out / "gpu_results.md").write_text(text, encoding="utf-8")
        (out / "gpu_results.json").write_text(json.dumps(self.results, indent=2, default=str), encoding="utf-8")
        return out / "gpu_results.md"


def _last_line_with(text: str, word: str) -> str:
    return next((line.strip() for line in reversed(text.splitlines()) if word in line), "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="CPU dry run at tiny sizes")
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS, metavar="NAME",
                        help=f"among {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or DATA_CACHE / "gpu-suite"),
                        help="folder for gpu_results.md and .json (default: $OUT, else runs/bench-data/gpu-suite)")
    args = parser.parse_args()
    started = time.perf_counter()
    suite = Suite(args)
    if suite.mnist is None:
        sys.exit("no MNIST IDX files: run `bash bench/gpu_suite.sh --prepare` first")
    if args.smoke:
        suite.torch.set_num_threads(1)
    failures = suite.run()
    path = suite.write(args.out, time.perf_counter() - started)
    print(path.read_text(encoding="utf-8"))
    print(f"[gpu_suite] results in {path}; {failures} section(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
