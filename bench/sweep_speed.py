"""Sweep speed: grid points checked per second on a ResNet-50-sized spec, three ways.

  - sweep: `netspec.sweep` over the whole grid: the YAML (and its imports) read and parsed
    once, each point derived from that tree and checked;
  - check per point: `netspec.check(path, overrides=...)` for each point, as a shell loop over
    `netspec check --set` would do in-process (each point reads and parses the file again);
  - build per point: what a user without a static checker does (Keras Tuner, NNI): build each
    variant in torch (`netspec.build`) and run one forward pass of a 1-sample batch to learn
    its output shape, parameters and validity.
The three run in interleaved rounds (the build side on a few points only: it is slow).
Goal: a 1,000-point grid of examples/resnet50_family.yaml (25.6 M params, 4.1 G MACs at the
default point, 191 nodes) in seconds, not minutes: at least 50 points/s of CPU time.

Examples:
  .venv/bin/python bench/sweep_speed.py
  .venv/bin/python bench/sweep_speed.py --points 1000 --rounds 5 --build-points 3
"""

from __future__ import annotations

import argparse
import itertools
import time

from harness import REPO, Spread, add_common_arguments, configure, interleaved, markdown_table, ratios, report

SPEC = str(REPO / "examples" / "resnet50_family.yaml")
GOAL_POINTS_PER_SECOND = 50  # 1,000 points in 20 s of CPU at most
AXES = {"width": [16, 24, 32, 40, 48, 56, 64, 72, 80, 96], "d2": list(range(1, 11)), "d3": list(range(2, 25, 2)),
        "d4": [3, 2, 4, 5]}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1000, help="grid points per sweep (default 1000)")
    parser.add_argument("--check-points", type=int, default=100, help="points of the check-per-point side (100)")
    parser.add_argument("--build-points", type=int, default=3, help="points of the build-per-point side (3)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    add_common_arguments(parser)
    return parser.parse_args()


def grid(points: int) -> list[str]:
    """`--sweep` axes whose product has exactly `points` points (the first axes' values, cut to fit)."""
    axes, remaining = [], points
    for name, values in AXES.items():
        count = next(n for n in range(min(len(values), remaining), 0, -1) if remaining % n == 0)
        axes.append(f"{name}={','.join(map(str, values[:count]))}")
        remaining //= count
    if remaining != 1:
        raise SystemExit(f"--points {points}: expected a product of the axes' sizes {[len(v) for v in AXES.values()]}")
    return axes


def points_of(axes: list[str]) -> list[dict]:
    names = [axis.split("=")[0] for axis in axes]
    values = [[int(v) for v in axis.split("=")[1].split(",")] for axis in axes]
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def clocked(function) -> float:
    """CPU seconds of this process (the neighbours' time on a shared machine left out), and wall time."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    clocked.wall = time.perf_counter() - wall
    return time.process_time() - cpu


def main() -> None:
    args = parse_arguments()
    device = configure(args)
    import torch

    import netspec

    axes = grid(args.points)
    points = points_of(axes)
    result = netspec.sweep(SPEC, axes)
    statuses = {status: sum(row.status == status for row in result.rows) for status in ("ok", "error")}
    valid = [row.point for row in result.rows if row.status == "ok"]
    check_points = points[:args.check_points]
    build_points = valid[::max(len(valid) // args.build_points, 1)][:args.build_points]
    shape = netspec.check(SPEC).graph.input_shape
    walls: dict[str, list[float]] = {"sweep": [], "check": [], "build": []}

    def sweep() -> float:
        cpu = clocked(lambda: netspec.sweep(SPEC, axes))
        walls["sweep"].append(clocked.wall)
        return cpu / len(points)

    def check_each() -> float:
        cpu = clocked(lambda: [netspec.check(SPEC, overrides=point) for point in check_points])
        walls["check"].append(clocked.wall)
        return cpu / len(check_points)

    def build_each() -> float:
        def run():
            with torch.no_grad():
                for point in build_points:
                    model = netspec.build(netspec.check(SPEC, overrides=point)).to(device).eval()
                    model(torch.zeros(1, *shape, device=device))
        cpu = clocked(run)
        walls["build"].append(clocked.wall)
        return cpu / len(build_points)

    seconds = interleaved({"sweep": sweep, "check": check_each, "build": build_each}, args.rounds)
    rows = []
    for side, label, count in (("sweep", "netspec.sweep (parse once)", len(points)),
                               ("check", "netspec.check per point", len(check_points)),
                               ("build", "build + forward per point", len(build_points))):
        per_second = Spread.of([1 / s for s in seconds[side]])
        wall = Spread.of([count / w for w in walls[side]])
        speedup = ratios(seconds[side], seconds["sweep"])
        goal = ""
        if side == "sweep":
            goal = ("meets" if per_second.median >= GOAL_POINTS_PER_SECOND else "MISSES") + \
                   f" >= {GOAL_POINTS_PER_SECOND}/s; {len(points):,} points in {Spread.of(walls['sweep']).median:.1f} s wall"
        rows.append([label, count, per_second.format(1), wall.format(1),
                     f"{1 / speedup.median:.3g}x" if side != "sweep" else "1", goal])
    table = markdown_table(["side", "points", "points/s (CPU)", "points/s (wall)", "vs sweep", "goal"], rows)
    notes = [f"spec: examples/resnet50_family.yaml, grid {' x '.join(axes)} ({len(points):,} points: "
             f"{statuses['ok']} ok, {statuses['error']} with an error)",
             "points/s: median [25th-75th pct] over rounds; CPU: over this process's CPU seconds; wall: over "
             "wall seconds, which also count the neighbours on a shared machine (load above)",
             "vs sweep: the side's points/s over the sweep's, median of per-round ratios",
             f"build + forward: {len(build_points)} points spread over the grid, on {device}"]
    report("Sweep speed: grid points checked per second", device, table, notes, not args.no_record)


if __name__ == "__main__":
    main()
