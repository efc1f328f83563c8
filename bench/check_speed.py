"""`netspec check` wall time against a torchinfo-style summary that runs a real forward pass.

The summary (written here, not torchinfo itself) is what a user does without netspec:
import torch, build the network, run one forward pass with hooks on every layer and print
each layer's output shape, parameters and MACs. Two comparisons, in interleaved rounds:
  - cold, one process each: `netspec check SPEC` (the CLI) against a Python process that
    imports torch, builds the seed's hand-written net and prints the summary;
  - warm, in this process: `netspec.check(SPEC)` against building the net and summarising it
    (torch already imported).
Goal: check at least 5x faster; the CLI on specs/googlenet_mini.yaml under 0.5 s. Last, the
CLI runs in a process where `import torch` fails, and must still exit 0 with its table.

Examples:
  .venv/bin/python bench/check_speed.py
  .venv/bin/python bench/check_speed.py --specs googlenet_mini alexnet_fashion --rounds 15
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

# Top-level imports stay torch-free: this file is also the summary's cold process (--summary-of).
from harness import REPO, Spread, add_common_arguments, interleaved, markdown_table, ratios, report

GOAL_SPEEDUP = 5.0
GOAL_CLI_SECONDS = 0.5
NETSPEC_CLI = Path(sys.executable).with_name("netspec")
BLOCK_TORCH = ("import sys; sys.modules['torch'] = None  # makes `import torch` raise ImportError\n"
               "sys.argv = ['netspec', 'check', {spec!r}]\n"
               "from netspec.cli import main\n"
               "main()\n")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--specs", nargs="+", metavar="STEM", default=["googlenet_mini", "resnet_mini"],
                        help="spec stems in specs/ (default: googlenet_mini resnet_mini)")
    parser.add_argument("--rounds", type=int, default=11, help="interleaved rounds (default 11)")
    parser.add_argument("--summary-of", metavar="STEM", help=argparse.SUPPRESS)  # the cold summary process
    add_common_arguments(parser, device=False)  # checking is CPU work
    return parser.parse_args()


def forward_summary(model, input_shape) -> str:
    """torchinfo-style table: one forward pass with a hook on every leaf layer."""
    import torch

    rows, hooks = [], []

    def record(name):
        def hook(module, inputs, output):
            params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append((name, type(module).__name__, tuple(output.shape), params, _macs(module, output)))
        return hook

    for name, module in model.named_modules():
        if not list(module.children()):
            hooks.append(module.register_forward_hook(record(name)))
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, *input_shape))
    finally:
        for hook in hooks:
            hook.remove()
    lines = [f"{name:<28} {kind:<12} {str(list(shape)):<20} {params:>12,} {macs:>14,}"
             for name, kind, shape, params, macs in rows]
    total_params = sum(p.numel() for p in model.parameters())
    lines.append(f"Total params: {total_params:,}; total MACs: {sum(row[4] for row in rows):,}")
    return "\n".join(lines)


def _macs(module, output) -> int:
    import torch.nn as nn

    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return output[0].numel() * module.in_channels // module.groups * kh * kw
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features
    return 0


def network(stem: str):
    """The seed's hand-written net when bench/seed_nets.py has it; the built one otherwise."""
    from seed_nets import HAND_NETS

    if stem in HAND_NETS:
        return HAND_NETS[stem]()
    import netspec

    return netspec.build(REPO / "specs" / f"{stem}.yaml")


def input_shape(stem: str) -> tuple[int, ...]:
    import netspec

    return netspec.check(REPO / "specs" / f"{stem}.yaml").graph.input_shape


def process_seconds(command: list[str]) -> float:
    start = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - start
    if finished.returncode != 0:
        raise SystemExit(f"{' '.join(command)}: expected exit 0; got {finished.returncode}\n{finished.stderr}")
    return seconds


def measure(stem: str, rounds: int) -> list[list[object]]:
    import netspec

    spec = str(REPO / "specs" / f"{stem}.yaml")
    shape = input_shape(stem)
    cold = interleaved({
        "check": lambda: process_seconds([str(NETSPEC_CLI), "check", spec]),
        "summary": lambda: process_seconds([sys.executable, __file__, "--summary-of", stem]),
    }, rounds)

    def warm_check() -> float:
        start = time.perf_counter()
        netspec.check(spec)
        return time.perf_counter() - start

    def warm_summary() -> float:
        start = time.perf_counter()
        forward_summary(network(stem), shape)
        return time.perf_counter() - start

    warm = interleaved({"check": warm_check, "summary": warm_summary}, rounds)
    rows = []
    for label, samples in (("cold process (CLI vs import torch+build+forward)", cold),
                           ("warm in-process (netspec.check vs build+forward)", warm)):
        speedup = ratios(samples["summary"], samples["check"])
        verdict = "meets" if speedup.median >= GOAL_SPEEDUP else "MISSES"
        rows.append([stem, label, Spread.of(samples["check"]).format(1, 1e3),
                     Spread.of(samples["summary"]).format(1, 1e3), speedup.format(1),
                     f"{verdict} >= {GOAL_SPEEDUP:g}x"])
    cli = Spread.of(cold["check"])
    rows.append([stem, "CLI process wall time", cli.format(1, 1e3), "", "",
                 f"{'meets' if cli.median < GOAL_CLI_SECONDS else 'MISSES'} < {GOAL_CLI_SECONDS * 1e3:.0f} ms"])
    return rows


def check_without_torch(stem: str) -> str:
    """Run the CLI where `import torch` fails; it must still print its table and exit 0."""
    spec = str(REPO / "specs" / f"{stem}.yaml")
    start = time.perf_counter()
    finished = subprocess.run([sys.executable, "-c", BLOCK_TORCH.format(spec=spec)], capture_output=True,
                              text=True, cwd=REPO)
    seconds = time.perf_counter() - start
    if finished.returncode != 0 or "params:" not in finished.stdout:
        raise SystemExit(f"netspec check {stem} with torch blocked: expected exit 0 and the table; got exit "
                         f"{finished.returncode}\n{finished.stdout}\n{finished.stderr}")
    return (f"`netspec check specs/{stem}.yaml` with `import torch` blocked: exit 0, table printed, "
            f"{seconds * 1e3:.0f} ms.")


def main() -> None:
    args = parse_arguments()
    if args.summary_of:  # the cold summary process: everything a torchinfo user pays for
        print(forward_summary(network(args.summary_of), input_shape(args.summary_of)))
        return
    import torch

    rows = []
    for stem in args.specs:
        print(f"{stem}: {args.rounds} interleaved rounds ...", flush=True)
        rows += measure(stem, args.rounds)
    headers = ["spec", "comparison", "check ms", "summary ms", "summary/check", "goal"]
    notes = ["ms: median [25th-75th percentile]; summary/check: median of per-round ratios [25th-75th pct].",
             "summary: a torchinfo-style table (leaf-layer hooks, one forward pass of a 1-sample batch, params and "
             "MACs) of the seed's hand-written net from bench/seed_nets.py (the built net for specs without one).",
             *(check_without_torch(stem) for stem in args.specs)]
    report("Check speed: netspec check vs a forward-pass summary", torch.device("cpu"), markdown_table(headers, rows),
           notes, record=not args.no_record)


if __name__ == "__main__":
    main()
