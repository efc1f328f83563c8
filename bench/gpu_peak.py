"""The GPU's measured bf16 matrix-multiply peak, and what a training rate achieves of it (CUDA only).

The peak is the best of several timed runs of square bf16 matmuls (2 n^3 FLOP each),
measured, not taken from a data sheet. A training rate's achieved FLOP/s counts
MACs x 2 FLOP x 3 (forward, and backward for inputs and weights) per image, with the
MACs from `netspec check`. train_vs_seed.py uses these functions for its own figures.

Examples:
  .venv/bin/python bench/gpu_peak.py
  .venv/bin/python bench/gpu_peak.py --sizes 4096 8192 16384 --specs alexnet_fashion resnet_mini
"""

from __future__ import annotations

import argparse

from harness import REPO, add_common_arguments, markdown_table, pick_device, report

SKIPPED = "skipped: no CUDA device (the bf16 matmul peak is measured on CUDA only)"


def bf16_matmul_peak(device, sizes=(4096, 8192), trials: int = 5, matmuls: int = 20) -> tuple[float, int]:
    """(FLOP/s, n): the best rate of n x n bf16 matmuls over `trials` runs of `matmuls` each."""
    import torch

    best, best_size = 0.0, 0
    for size in sizes:
        a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
        b = torch.randn(size, size, device=device, dtype=torch.bfloat16)
        for _ in range(3):
            a @ b  # warm-up: cuBLAS heuristics, clocks
        for _ in range(trials):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(matmuls):
                a @ b
            end.record()
            end.synchronize()
            rate = 2 * size ** 3 * matmuls / (start.elapsed_time(end) / 1e3)
            if rate > best:
                best, best_size = rate, size
        del a, b
    return best, best_size


def training_flops(macs_per_image: int, images_per_second: float) -> float:
    """FLOP/s of training at this rate: forward plus a backward of twice its cost, 2 FLOP per MAC."""
    return macs_per_image * 2 * 3 * images_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[4096, 8192], help="matrix sizes (default 4096 8192)")
    parser.add_argument("--specs", nargs="*", metavar="STEM", default=["resnet_mini", "alexnet_fashion"],
                        help="show the images/s each spec would train at if it ran at the peak")
    add_common_arguments(parser)
    args = parser.parse_args()
    import torch

    import netspec

    if args.device == "cpu" or not torch.cuda.is_available():
        print(SKIPPED)
        return
    device = pick_device("cuda" if args.device == "auto" else args.device)
    peak, size = bf16_matmul_peak(device, tuple(args.sizes))
    rows = [["bf16 matmul peak", f"{peak / 1e12:.1f} TFLOP/s (n = {size})"]]
    for stem in args.specs:
        macs = netspec.check(REPO / "specs" / f"{stem}.yaml").macs
        rows.append([f"{stem}: images/s at the peak", f"{peak / training_flops(macs, 1):,.0f} ({macs:,} MACs/image)"])
    report("GPU bf16 matmul peak", device, markdown_table(["measure", "value"], rows),
           ["Peak: best of 5 runs of 20 back-to-back n x n bf16 matmuls, timed with CUDA events."],
           record=not args.no_record)


if __name__ == "__main__":
    main()
