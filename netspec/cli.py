"""The `netspec` command line: a thin click layer over the Python API."""

from __future__ import annotations

import importlib
import json
import os
import sys

import click

from .check import check as check_spec
from .cli_sweep import SWEEP_EXAMPLES, run_sweep, sweep_options
from .cli_variant import variant_options
from .cli_types import MAX_INTEGER, limit_options, limits_from, whole_number
from .diagnostics import render_text
from .variants import describe as describe_variant

EXAMPLES = """
\b
Examples:
  netspec check specs/googlenet_mini.yaml          # per-layer table, exit 1 on errors
  netspec check --json specs/alexnet.yaml          # the same as one JSON object
  netspec train specs/resnet_mini.yaml --dataset mnist --data-dir ../shared/datasets/mnist
  netspec export specs/lenet_cifar.yaml --format onnx -o lenet.onnx
  netspec graph specs/googlenet_mini.yaml -o googlenet.svg
  netspec schema > netspec.schema.json             # editor completion (see README)
  netspec lsp                                      # live shapes and errors in your editor
  netspec zoo                                      # the packaged model zoo; use one as zoo:resnet18
\b
Each command's --help gives its exit statuses; every command may also end with
130 (Ctrl-C) or 70 (an internal error: a bug in netspec, please report it).
"""


# command -> "module:function" defining it, imported only when it runs or --help lists it: `netspec check`
# then loads neither the training nor the picture commands (start-up, bench/startup.py)
LAZY_COMMANDS = {"train": "netspec.training.cli:train", "eval": "netspec.training.cli:evaluate",
                 "predict": "netspec.training.cli:predict", "export": "netspec.cli_outputs:export",
                 "graph": "netspec.cli_outputs:graph", "filters": "netspec.cli_outputs:filters",
                 "zoo": "netspec.zoo.cli:zoo"}


class LazyGroup(click.Group):
    """A click group whose LAZY_COMMANDS are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS and name not in self.commands:
            module, function = LAZY_COMMANDS[name].split(":")
            self.add_command(getattr(importlib.import_module(module), function), name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="netspec")
def cli() -> None:
    """netspec: write CNNs as YAML layer graphs, check them statically, build and train them."""


def parse_shape(ctx, param, value):
    if value is None:
        return None
    try:
        shape = tuple(int(part) for part in value.replace("x", ",").split(","))
    except ValueError:  # not a number, or more than Python's 4,300 digits
        raise click.BadParameter(f"expected C,H,W such as 3,32,32; got '{value[:60]}'") from None
    if len(shape) not in (1, 3) or min(shape) < 1 or max(shape) > MAX_INTEGER:
        raise click.BadParameter(f"expected C,H,W of positive integers (at most {MAX_INTEGER:.0e}) such as "
                                 f"3,32,32; got '{value[:60]}'")
    return shape


@cli.command(epilog="""
\b
Examples:
  netspec check specs/alexnet.yaml
  netspec check specs/*.yaml
  netspec check specs/lenet_cifar.yaml --input 3,64,64 --batch 256
  netspec check specs/googlenet_mini.yaml --depth 1   # each block one row
  netspec check --json specs/alexnet.yaml | jq .params
  netspec check specs/resnet_mini.yaml --set num_classes=100
  netspec check examples/resnet_family.yaml@s       # or --scale s: one of the spec's `scales:`""" + SWEEP_EXAMPLES + """
\b
Exit status: 0 valid (warnings allowed), 1 errors in a spec, 2 usage errors.""")
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--input", "input_shape", callback=parse_shape, metavar="C,H,W",
              help="Check with this input shape instead of the spec's `input`.")
@click.option("--batch", default=1, show_default=True, type=whole_number(1),
              help="Batch size for the training-memory estimate.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object (a list for several specs).")
@click.option("--depth", type=click.IntRange(min=1), help="Fold blocks and merges nested deeper than this into "
              "one row with their totals (default: every layer).")
@limit_options
@variant_options()
@sweep_options
def check(specs, input_shape, batch, as_json, depth, max_params, max_memory, max_layers, overrides, scale, sweeps,
          all_scales, as_csv, plot, max_macs):
    """Check SPECS statically: shapes, parameters, MACs and memory, without running anything."""
    limits = limits_from(max_params, max_memory, max_layers, max_macs)
    if sweeps or all_scales:
        run_sweep(specs, sweeps, all_scales, as_json=as_json, as_csv=as_csv, plot=plot, limits=limits,
                  overrides=overrides, scale=scale, input_shape=input_shape, batch_size=batch)
    if as_csv or plot:
        raise click.UsageError("--csv and --plot go with --sweep or --all-scales")
    reports = [check_spec(path, input_shape=input_shape, batch_size=batch, limits=limits, overrides=overrides,
                          scale=scale) for path in specs]
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
                variant = describe_variant(report.spec)
                if variant:
                    click.echo(variant)
            if report.diagnostics:
                click.echo(render_text(report.diagnostics, report.sources), err=True)
            if not report.ok:
                count = len(report.errors)
                click.echo(f"{specs[index]}: {count} error{'s' * (count != 1)}", err=True)
    sys.exit(0 if all(report.ok for report in reports) else 1)


@cli.command(epilog="""
\b
Example (VS Code with the YAML extension, in .vscode/settings.json):
  netspec schema > netspec.schema.json
  "yaml.schemas": {"./netspec.schema.json": "specs/*.yaml"}
\b
With the kinds of a plugin file your specs list under `plugins:` (installed plugins are always in):
  netspec schema --plugin specs/my_kinds.py > netspec.schema.json
\b
Exit status: 0 printed, 1 a plugin that cannot be loaded (nothing printed), 2 usage errors.""")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
              help="Also describe this plugin's kinds: a module name or a path to NAME.py (repeatable).")
def schema(plugins):
    """Print the JSON Schema of the spec format (for editor completion and inline errors)."""
    from .diagnostics import SpecError
    from .schema import json_schema

    try:
        described = json_schema(plugins, installed_plugins=True)
    except SpecError as error:
        click.echo(error.render(), err=True)
        sys.exit(1)
    click.echo(json.dumps(described, indent=2))


@cli.command(epilog="""
\b
Examples:
  netspec lsp                     # what an editor runs; it speaks JSON-RPC on stdin/stdout
  netspec lsp --max-layers 50000  # the budgets of `netspec check`, for specs past its defaults
\b
  Neovim:  vim.lsp.start({name = "netspec", cmd = {"netspec", "lsp"}})
  Helix:   [language-server.netspec] command = "netspec", args = ["lsp"] (languages.toml)
  VS Code: see the README, "Live checking in your editor: netspec lsp"
\b
Exit status: 0 after the client's exit request, 1 when pygls is missing.""")
@click.option("--stdio", is_flag=True, help="Accepted for clients that pass it; stdio is the only transport.")
@limit_options
def lsp(stdio, max_params, max_memory, max_layers):
    """Run the language server: live shapes, costs and errors in any editor with an LSP client."""
    try:
        import pygls  # noqa: F401 - an optional dependency, imported only here
    except ImportError:
        raise click.ClickException("netspec lsp needs pygls: pip install 'netspec[lsp]'") from None
    from .lsp import serve

    serve(limits_from(max_params, max_memory, max_layers))


def main() -> None:
    """Console entry point: never shows a Python traceback for an unexpected failure."""
    # netspec's pydantic models are its own: no plugin observes them, so skip pydantic's scan of every installed
    # package's entry points (20-30 ms of each start); setting the variable yourself (e.g. to "") keeps plugins
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
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

