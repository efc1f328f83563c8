"""Per-node cost of `netspec.check` and `netspec.build` at 1,000, 5,000 and 20,000 nodes.

Two shapes of network, each written with `repeat:` so the YAML stays small: a plain chain
(conv, relu, ...) and a stack of residual blocks (a block instance, an add merge with a
body branch and an identity shortcut, then relu: containers nested three deep). Sizes are
IR nodes (layers, merges and block outputs). Each size is checked and built in interleaved
rounds; the table gives microseconds per node and each size's cost over the smallest's.
Goal: build in linear time, per-node cost flat within 20% from 1,000 to 20,000 nodes.

Examples:
  .venv/bin/python bench/build_cost.py
  .venv/bin/python bench/build_cost.py --sizes 1000 5000 20000 --rounds 5 --shapes residual
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

import torch

import netspec
from harness import Spread, add_common_arguments, markdown_table, report

GOAL = 1.2
NODES_PER_REPEAT = {"chain": 2, "residual": 6}  # conv + relu; conv, relu, conv, add, relu, block output
BODY = {
    "chain": "[{kind: conv, out_channels: 4, kernel_size: 1}, relu]",
    "residual": "[residual]",
}
RESIDUAL = """blocks:
  residual:
    layers:
      - kind: add
        branches:
          body: [{kind: conv, out_channels: 4, kernel_size: 1}, relu, {kind: conv, out_channels: 4, kernel_size: 1}]
          shortcut: []
      - relu
"""


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 5000, 20000], help="IR nodes per network "
                        "(default 1000 5000 20000)")
    parser.add_argument("--shapes", nargs="+", choices=sorted(BODY), default=sorted(BODY),
                        help="network shapes (default: both)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per size (default 3)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu", help="this process's CPU time (default: "
                        "steadier on a shared machine; building is single-threaded Python) or wall time")
    add_common_arguments(parser, device=False)
    return parser.parse_args()


def spec_text(shape: str, nodes: int) -> str:
    copies = max(1, nodes // NODES_PER_REPEAT[shape])
    blocks = RESIDUAL if shape == "residual" else ""
    return (f"name: {shape}_{nodes}\ninput: [4, 4, 4]\n{blocks}"
            f"layers:\n  - {{kind: conv, out_channels: 4, kernel_size: 1}}\n  - {{repeat: {copies}, name: stage, layers: {BODY[shape]}}}\n")


def measure(path: Path, limits: netspec.Limits, clock) -> tuple[int, float, float]:
    """(nodes, check seconds, build seconds) for one spec file."""
    gc.collect()
    start = clock()
    checked = netspec.check(path, limits=limits)
    middle = clock()
    checked.raise_for_errors()
    model = netspec.build(checked)
    end = clock()
    del model
    return len(checked.graph.nodes), middle - start, end - middle


def main() -> None:
    args = parse_arguments()
    torch.set_num_threads(1)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    limits = netspec.Limits(max_nodes=max(args.sizes) * 2, max_repeat=max(args.sizes))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for shape in args.shapes:
            paths = {size: Path(folder) / f"{shape}_{size}.yaml" for size in args.sizes}
            for size, path in paths.items():
                path.write_text(spec_text(shape, size))
            samples: dict[int, list[tuple[int, float, float]]] = {size: [] for size in args.sizes}
            measure(paths[min(args.sizes)], limits, clock)  # warm-up: pydantic builds its validators on first use
            for round_ in range(args.rounds):
                order = args.sizes if round_ % 2 == 0 else list(reversed(args.sizes))
                for size in order:
                    samples[size].append(measure(paths[size], limits, clock))
            print(f"{shape}: done", flush=True)
            rows += table_rows(shape, samples)
    headers = ["shape", "nodes", "check us/node", "build us/node", "build vs smallest", "check vs smallest", "goal"]
    notes = [f"us/node: median [25th-75th percentile] over interleaved rounds (sizes alternate order) of the "
             f"{args.clock} time over the IR's node count, after one warm-up; torch threads 1.",
             "build: netspec.build on the checked report (modules created, fx code generated); check: "
             "netspec.check on the file (read, expand, infer shapes, count).",
             f"vs smallest: median per-node cost over the smallest size's; goal: build's <= {GOAL} at every size."]
    report("Build cost per node: netspec.check and netspec.build from 1k to 20k nodes", torch.device("cpu"),
           markdown_table(headers, rows), notes, record=not args.no_record)


def table_rows(shape: str, samples: dict[int, list[tuple[int, float, float]]]) -> list[list[object]]:
    smallest = min(samples)
    per_node = {size: (Spread.of([c / n * 1e6 for n, c, _ in runs]), Spread.of([b / n * 1e6 for n, _, b in runs]))
                for size, runs in samples.items()}
    rows = []
    for size, (check_cost, build_cost) in per_node.items():
        build_ratio = build_cost.median / per_node[smallest][1].median
        check_ratio = check_cost.median / per_node[smallest][0].median
        verdict = "meets" if build_ratio <= GOAL else "MISSES"
        rows.append([shape, samples[size][0][0], check_cost.format(1), build_cost.format(1), f"{build_ratio:.2f}",
                     f"{check_ratio:.2f}", f"{verdict} (<= {GOAL})"])
    return rows


if __name__ == "__main__":
    main()
