"""`netspec zoo`: list the packaged model zoo, print or copy one spec out. A thin layer over netspec.zoo."""

from __future__ import annotations

import sys

import click

from . import UnknownZooModel, copy_out, entries, path


def _shape(shape) -> str:
    return "x".join(str(size) for size in shape) if shape else "?"


@click.command(epilog="""
\b
Examples:
  netspec zoo                                   # every model: input, output, params, MACs
  netspec zoo resnet18                          # print the spec
  netspec zoo resnet18 -o my_resnet.yaml        # copy it out to edit
  netspec check zoo:resnet18 --input 3,32,32    # any command takes zoo:NAME as a spec
  netspec train zoo:resnet18 --dataset cifar10
\b
Exit status: 0 done, 1 unknown model or unwritable output, 2 usage errors.""")
@click.argument("name", required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Copy the spec to this file.")
def zoo(name, output):
    """List the model zoo (figures from the static checker), or print/copy the spec NAME."""
    if name is None:
        if output:
            raise click.UsageError("-o needs a model NAME: `netspec zoo resnet18 -o resnet18.yaml`")
        _list()
        return
    try:
        if output is None:
            click.echo(path(name).read_text(encoding="utf-8"), nl=False)
        else:
            copy_out(name, output)
            click.echo(f"wrote {output} (edit it, then `netspec check {output}`)", err=True)
    except UnknownZooModel as error:
        click.echo(f"error: {error}\n  hint: {error.hint.strip()}", err=True)
        sys.exit(1)
    except OSError as error:
        click.echo(f"error: cannot write {output}: {error.strerror or error}", err=True)
        sys.exit(1)


def _list() -> None:
    rows = [(entry.name, _shape(entry.input_shape), _shape(entry.output_shape), f"{entry.params:,}",
             f"{entry.macs / 1e6:,.1f} M") for entry in entries()]
    header = ("name", "input", "output", "params", "MACs")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) if i < 3 else cell.rjust(width)
                             for i, (cell, width) in enumerate(zip(row, widths))).rstrip())
