"""`netspec check SPEC --sweep NAME=V1,V2 ...`: the check command's sweep mode, one row per grid point."""

from __future__ import annotations

import sys

import click

from .diagnostics import render_text

SWEEP_EXAMPLES = """
\b
Sweeps (every point of the grid, checked without torch; valid means every point is ok):
  netspec check examples/resnet_family.yaml --sweep width=8,16,32 --sweep depth=1,2,3
  netspec check examples/resnet_family.yaml --all-scales --csv > scales.csv
  netspec check examples/resnet50_family.yaml --sweep width=32,64 --sweep d3=2,6,23 \\
      --max-params 30000000 --plot sweep.png"""


def sweep_options(command):
    """--sweep, --all-scales, --csv, --plot and --max-macs of `netspec check`."""
    for option in reversed([
        click.option("--sweep", "sweeps", multiple=True, metavar="NAME=V1,V2,...",
                     help="Check every combination of these values (repeat for a grid); NAME as for --set, "
                          "or `scale` for the spec's scales."),
        click.option("--all-scales", is_flag=True, help="Sweep over every one of the spec's `scales:`."),
        click.option("--csv", "as_csv", is_flag=True, help="Sweeps: print CSV, one line per point."),
        click.option("--plot", type=click.Path(dir_okay=False), metavar="FILE.png",
                     help="Sweeps: save a scatter plot of params against MACs (needs matplotlib)."),
        click.option("--max-macs", type=click.IntRange(min=1), help="Refuse networks with more MACs per sample."),
    ]):
        command = option(command)
    return command


def run_sweep(specs, sweeps, all_scales, *, as_json, as_csv, plot, limits, **check_options) -> None:
    """Sweep the one spec in `specs`, print its rows, exit 0 if every point is ok, else 1."""
    from .sweeps import render_csv, render_json, render_table, sweep

    if len(specs) != 1:
        raise click.UsageError("--sweep and --all-scales check one spec at a time")
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    result = sweep(specs[0], list(sweeps), all_scales=all_scales, limits=limits, **check_options)
    if result.problems:
        click.echo(render_text(result.problems, result.sources), err=True)
        click.echo(f"{specs[0]}: nothing swept", err=True)
        sys.exit(1)
    click.echo(render_json(result) if as_json else render_csv(result) if as_csv else render_table(result),
               nl=not as_csv)
    if plot:
        from .sweep_plot import plot_sweep

        click.echo(f"wrote {plot_sweep(result, plot, limits)}", err=True)
    sys.exit(0 if result.ok else 1)
