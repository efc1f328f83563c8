"""The `netspec` command line: a thin click layer over the Python API."""

from __future__ import annotations

import json
import sys

import click

from .check import check as check_spec
from .diagnostics import render_text
from .expand import Limits

EXAMPLES = """
\b
Examples:
  netspec check specs/googlenet_mini.yaml          # per-layer table, exit 1 on errors
  netspec check --json specs/alexnet.yaml          # the same as one JSON object
  netspec train specs/resnet_mini.yaml --dataset mnist --data-dir ../shared/datasets/mnist
  netspec export specs/lenet_cifar.yaml --format onnx -o lenet.onnx
  netspec graph specs/googlenet_mini.yaml -o googlenet.svg
  netspec schema > netspec.schema.json             # editor completion (see README)
"""


@click.group(epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="netspec")
def cli() -> None:
    """netspec: write CNNs as YAML layer graphs, check them statically, build and train them."""


def parse_shape(ctx, param, value):
    if value is None:
        return None
    try:
        shape = tuple(int(part) for part in value.replace("x", ",").split(","))
    except ValueError:
        raise click.BadParameter(f"expected C,H,W such as 3,32,32; got '{value}'") from None
    if len(shape) not in (1, 3) or min(shape) < 1:
        raise click.BadParameter(f"expected C,H,W of positive integers such as 3,32,32; got '{value}'")
    return shape


@cli.command(epilog="""
\b
Examples:
  netspec check specs/alexnet.yaml
  netspec check specs/*.yaml
  netspec check specs/lenet_cifar.yaml --input 3,64,64 --batch 256
  netspec check specs/googlenet_mini.yaml --depth 1   # each block one row
  netspec check --json specs/alexnet.yaml | jq .params
\b
Exit status: 0 valid (warnings allowed), 1 errors in a spec, 2 usage errors.""")
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--input", "input_shape", callback=parse_shape, metavar="C,H,W",
              help="Check with this input shape instead of the spec's `input`.")
@click.option("--batch", default=1, show_default=True, type=click.IntRange(min=1),
              help="Batch size for the training-memory estimate.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object (a list for several specs).")
@click.option("--depth", type=click.IntRange(min=1), help="Fold blocks and merges nested deeper than this into "
              "one row with their totals (default: every layer).")
@click.option("--max-params", default=Limits.max_params, show_default=True, type=click.IntRange(min=1),
              help="Refuse networks with more parameters.")
@click.option("--max-memory", default=Limits.max_memory_bytes / 2**30, show_default=True,
              type=click.FloatRange(min=0), help="Refuse networks whose training-memory estimate (GiB) is larger.")
@click.option("--max-layers", default=Limits.max_nodes, show_default=True, type=click.IntRange(min=1),
              help="Refuse specs that expand (blocks, repeats) to more layers.")
def check(specs, input_shape, batch, as_json, depth, max_params, max_memory, max_layers):
    """Check SPECS statically: shapes, parameters, MACs and memory, without running anything."""
    limits = Limits(max_nodes=max_layers, max_params=max_params, max_memory_bytes=int(max_memory * 2**30))
    reports = [check_spec(path, input_shape=input_shape, batch_size=batch, limits=limits) for path in specs]
    if as_json:
        objects = [report.to_dict() for report in reports]
        click.echo(json.dumps(objects[0] if len(objects) == 1 else objects, indent=2))
    else:
        from .table import render_table

        for index, report in enumerate(reports):
            if index:
                click.echo()
            if report.graph is not None and report.ok:
                click.echo(render_table(report, depth))
            if report.diagnostics:
                click.echo(render_text(report.diagnostics, report.spec.source if report.spec else None), err=True)
            if not report.ok:
                count = len(report.errors)
                click.echo(f"{specs[index]}: {count} error{'s' * (count != 1)}", err=True)
    sys.exit(0 if all(report.ok for report in reports) else 1)


@cli.command(epilog="""
\b
Example (VS Code with the YAML extension, in .vscode/settings.json):
  netspec schema > netspec.schema.json
  "yaml.schemas": {"./netspec.schema.json": "specs/*.yaml"}""")
def schema():
    """Print the JSON Schema of the spec format (for editor completion and inline errors)."""
    from .schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


def main() -> None:
    """Console entry point: never shows a Python traceback for an unexpected failure."""
    try:
        cli(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug in netspec, not in the user's input
        click.echo(f"netspec: internal error: {type(exc).__name__}: {exc}\n"
                   "This is a bug in netspec; please report it with the command you ran.", err=True)
        sys.exit(70)


from .training.cli import evaluate as _eval_command, predict as _predict_command, train as _train_command  # noqa: E402

cli.add_command(_train_command)
cli.add_command(_eval_command)
cli.add_command(_predict_command)

from .cli_outputs import export as _export_command, filters as _filters_command, graph as _graph_command  # noqa: E402

cli.add_command(_export_command)
cli.add_command(_graph_command)
cli.add_command(_filters_command)
