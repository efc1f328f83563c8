"""Forward+backward time of `netspec.build(spec)` against the same network written by hand.

For every spec in specs/ that has a hand-written twin in bench/seed_nets.py (the seeds' own
classes), the script builds both, copies the built weights into the twin, checks that the
two give the same outputs, then times training steps (forward, cross-entropy, backward) of
each in interleaved rounds. Goal: built / hand <= 1.02 (building adds nothing).

Examples:
  .venv/bin/python bench/module_overhead.py
  .venv/bin/python bench/module_overhead.py --specs resnet_mini googlenet_mini --rounds 30
  .venv/bin/python bench/module_overhead.py --device cuda --batch 128 --no-record
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

import netspec
from harness import (REPO, Spread, add_common_arguments, configure, interleaved, markdown_table, ratios, report,
                     timed)
from seed_nets import HAND_NETS, load_built_weights

GOAL = 1.02
# The seeds' training batch sizes; on the CPU the AlexNets at 224 take seconds per batch of 128.
SEED_BATCH = {"resnet_mini": 64, "googlenet_mini": 64, "alexnet_fashion": 128, "alexnet_28": 128, "lenet_cifar": 4,
              "alexnet": 128, "zfnet": 128}
CPU_BATCH = {"alexnet_fashion": 8, "alexnet_28": 4, "alexnet": 4, "zfnet": 4}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--specs", nargs="+", metavar="STEM", help="spec stems (default: every one with a "
                        f"hand-written twin and a file in specs/: {', '.join(HAND_NETS)})")
    parser.add_argument("--batch", type=int, help="batch size for every spec (default: the seed's; smaller for "
                        "the AlexNets on the CPU)")
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds (default 21)")
    parser.add_argument("--sample-seconds", type=float, default=0.25,
                        help="each round times as many steps as fill about this long (default 0.25)")
    parser.add_argument("--bf16", action="store_true", help="run both under bf16 autocast, as `netspec train` "
                        "does on CUDA (both stay in contiguous layout: the seeds' x.view(N, -1) refuses "
                        "channels_last tensors)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall time (default), or this process's CPU time: steadier on a shared CPU with "
                        "--threads 1 (CPU device only)")
    add_common_arguments(parser)
    return parser.parse_args()


def available_specs(requested: list[str] | None) -> list[str]:
    stems = requested or [stem for stem in HAND_NETS if (REPO / "specs" / f"{stem}.yaml").exists()]
    unknown = [stem for stem in stems if stem not in HAND_NETS]
    if unknown:
        raise SystemExit(f"--specs: expected stems among {', '.join(HAND_NETS)}; got {', '.join(unknown)}")
    return stems


def twin_pair(stem: str, device):
    """The built module and its hand-written twin, with the same weights, checked to agree."""
    report_ = netspec.check(REPO / "specs" / f"{stem}.yaml")
    built = netspec.build(report_)
    hand = HAND_NETS[stem]()
    example = torch.randn(2, *report_.graph.input_shape)
    load_built_weights(hand, built, example)
    built.eval(), hand.eval()
    with torch.no_grad():
        difference = (built(example) - hand(example)).abs().max().item()
    if difference > 1e-4:
        raise SystemExit(f"{stem}: expected the built and hand-written nets to agree; outputs differ by {difference:g}")
    return built.to(device).train(), hand.to(device).train(), report_


def training_step(model, inputs, labels, bf16: bool) -> None:
    for parameter in model.parameters():
        parameter.grad = None
    with torch.autocast(inputs.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(inputs)
    F.cross_entropy(logits.float(), labels).backward()


def steps_per_sample(step, device, seconds: float) -> int:
    for _ in range(3):  # warm up allocator, kernels and autotuning
        step()
    return max(1, round(seconds / timed(step, device)))


def measure(stem: str, batch: int, rounds: int, seconds: float, device, bf16: bool, clock) -> list[object]:
    built, hand, report_ = twin_pair(stem, device)
    inputs = torch.randn(batch, *report_.graph.input_shape, device=device)
    labels = torch.randint(0, report_.graph.output_shape[0], (batch,), device=device)
    steps = steps_per_sample(lambda: training_step(hand, inputs, labels, bf16), device, seconds)
    steps_per_sample(lambda: training_step(built, inputs, labels, bf16), device, seconds)

    def candidate(model):
        def run() -> float:
            return timed(lambda: [training_step(model, inputs, labels, bf16) for _ in range(steps)], device,
                         clock) / steps
        return run

    samples = interleaved({"hand": candidate(hand), "built": candidate(built)}, rounds)
    ratio = ratios(samples["built"], samples["hand"])
    verdict = "meets" if ratio.median <= GOAL else "within noise" if ratio.low <= GOAL else "MISSES"
    return [stem, batch, f"{rounds}x{steps}", Spread.of(samples["hand"]).format(2, 1e3),
            Spread.of(samples["built"]).format(2, 1e3), ratio.format(3), f"{verdict} (<= {GOAL})"]


def main() -> None:
    args = parse_arguments()
    device = configure(args)
    if args.clock == "cpu" and device.type != "cpu":
        raise SystemExit("--clock cpu: expected --device cpu (GPU work does not show in this process's CPU time)")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    rows = []
    for stem in available_specs(args.specs):
        batch = args.batch or (CPU_BATCH.get(stem) if device.type == "cpu" else None) or SEED_BATCH[stem]
        print(f"{stem}: batch {batch}, {args.rounds} interleaved rounds ...", flush=True)
        rows.append(measure(stem, batch, args.rounds, args.sample_seconds, device, args.bf16, clock))
    headers = ["spec", "batch", "rounds x steps", "hand ms/step", "built ms/step", "built/hand", "goal"]
    mode = "bf16 autocast" if args.bf16 else "float32"
    notes = [f"ms/step: one forward + cross-entropy + backward, {mode}, train mode, {args.clock} clock; "
             "median [25th-75th percentile].",
             "built/hand: median of the per-round ratios (rounds alternate which runs first) [25th-75th pct]; "
             "'within noise': the median misses the goal but the 25th percentile meets it.",
             "Weights are copied from the built module into the seed's hand-written class and outputs checked "
             "equal (max abs difference <= 1e-4) before timing."]
    report("Module overhead: netspec.build vs hand-written nn.Module", device, markdown_table(headers, rows),
           notes, record=not args.no_record)


if __name__ == "__main__":
    main()
