"""`netspec export`, `graph` and `filters`: what comes out of a spec besides a check.

Thin click commands over netspec.export, netspec.draw_graph and netspec.draw_filters;
torch is imported only when a command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli_variant import variant_options
from .diagnostics import SpecError
from .draw import GRAPH_FORMATS, draw_filters, draw_graph
from .exporters import FORMATS
from .exporters.errors import ExportError

EXIT_STATUS = """
\b
Exit status: 0 written, 1 errors in the spec, checkpoint or output path, 2 usage errors, 4 out of memory."""


def _run(action, *args, **kwargs) -> Path:
    """Call the API; turn the problems a user can fix into a message and exit status 1."""
    try:
        return action(*args, **kwargs)
    except SpecError as error:
        click.echo(error.render(), err=True)
        count = sum(d.is_error for d in error.diagnostics)
        click.echo(f"{args[0]}: {count} error{'s' * (count != 1)}; nothing written", err=True)
    except ExportError as error:
        click.echo(f"netspec: {error}", err=True)
    except RuntimeError as error:  # building the network's tensors, as `train` does: 4 when memory runs out
        from .training.errors import EXIT_OUT_OF_MEMORY, is_out_of_memory

        if not is_out_of_memory(error):
            raise
        click.echo(f"netspec: out of memory building the network ({str(error).splitlines()[0][:200]})\n"
                   "  hint: check its size with `netspec check`; lower --max-params to refuse such specs", err=True)
        sys.exit(EXIT_OUT_OF_MEMORY)
    sys.exit(1)


def _done(path: Path) -> None:
    size = path.stat().st_size
    click.echo(f"wrote {path} ({size / 2**20:.1f} MiB)" if size >= 2**20 else f"wrote {path} ({size:,} bytes)",
               err=True)


def _parse_shape(ctx, param, value):
    from .cli import parse_shape

    return parse_shape(ctx, param, value)


@click.command(epilog="""
\b
Examples:
  netspec export specs/resnet_mini.yaml --checkpoint runs/resnet_mini/checkpoint.pt -o resnet_mini.onnx
  netspec export specs/resnet_mini.yaml --checkpoint runs/resnet_mini/best.pt -o resnet_mini.pt
  netspec export specs/alexnet.yaml --random-weights -o alexnet.onnx   # untrained: to look at in Netron
  netspec export specs/googlenet_mini.yaml --format python -o googlenet_mini.py
  netspec export specs/resnet_mini.yaml --set num_classes=100 --random-weights -o resnet100.onnx
\b
Load the results without netspec:
  onnxruntime.InferenceSession("resnet_mini.onnx")    # input "input", output "output"
  torch.jit.load("resnet_mini.pt")
  from googlenet_mini import GooglenetMini; GooglenetMini().load_state_dict(...)
\b
--format defaults to the output's suffix: .onnx, .pt (torchscript), .py (python).
ONNX and TorchScript files carry weights: pass --checkpoint, or --random-weights
for an untrained network on purpose (python writes source only: no weights).""" + EXIT_STATUS)
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(), help="The file to write.")
@click.option("--format", "format_", type=click.Choice(list(FORMATS)), default=None,
              help="onnx (opset 18, dynamic batch), torchscript, or python (a standalone nn.Module source file).")
@click.option("--checkpoint", type=click.Path(dir_okay=False),
              help="Weights to export: a `netspec train` checkpoint or a saved state dict.")
@click.option("--random-weights", is_flag=True, help="Export freshly initialised weights (no --checkpoint).")
@click.option("--input", "input_shape", callback=_parse_shape, metavar="C,H,W",
              help="Export for this input shape instead of the spec's `input`.")
@variant_options(recorded_in_checkpoint=True)
def export(spec, output, format_, checkpoint, random_weights, input_shape, overrides, scale):
    """Export SPEC's network to ONNX, TorchScript, or plain PyTorch source."""
    from . import export as export_api

    suffixes = {suffix: name for name, suffix in FORMATS.items()}
    format_ = format_ or suffixes.get(Path(output).suffix.lower())
    if format_ is None:
        raise click.UsageError(f"cannot tell the format from '{output}': pass --format "
                               f"({', '.join(FORMATS)}) or end the file in {', '.join(suffixes)}")
    if format_ != "python" and (checkpoint is None) == (not random_weights):
        raise click.UsageError("pass --checkpoint FILE (trained weights) or --random-weights (an untrained network, "
                               "on purpose), not both" if random_weights else
                               f"{format_} files carry weights: pass --checkpoint FILE (e.g. the checkpoint.pt or "
                               "best.pt of a `netspec train` run), or --random-weights for an untrained network")
    click.echo(f"exporting {spec} as {format_} ...", err=True)
    _done(_run(export_api, spec, format_, output, checkpoint, input_shape=input_shape, overrides=overrides,
               scale=scale))


@click.command(epilog="""
\b
Examples:
  netspec graph specs/googlenet_mini.yaml -o googlenet.svg   # both Inception blocks, four branches each
  netspec graph specs/resnet_mini.yaml -o resnet.png
  netspec graph specs/alexnet.yaml -o alexnet.mmd            # Mermaid: paste into a GitHub README
  netspec graph specs/lenet_cifar.yaml -o lenet.dot          # Graphviz source: dot -Tpdf lenet.dot
  netspec graph specs/resnet_mini.yaml --collapse --rankdir LR -o resnet.svg   # blocks as one box each
  netspec graph specs/googlenet_mini.yaml -o googlenet.html  # interactive: click a block to fold it
\b
Every edge shows the shape flowing along it; block instances are framed.
.html is one self-contained file (no network needed to open it): pan, zoom,
click a block to fold or unfold it, click a layer to see its row and YAML line.
.svg and .png need Graphviz's `dot` (apt install graphviz / brew install graphviz);
.html, .dot and .mmd need nothing.""" + EXIT_STATUS)
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(),
              help=f"The picture to write: {', '.join('.' + f for f in GRAPH_FORMATS)}.")
@click.option("--collapse", is_flag=True, help="Fold every block into one box (the same as --depth 0).")
@click.option("--depth", type=click.IntRange(min=0), default=None, metavar="N",
              help="Show N levels of nested blocks; fold the deeper ones into one box each.")
@click.option("--rankdir", type=click.Choice(["TB", "LR"]), default="TB", show_default=True,
              help="Lay the network out top to bottom or left to right.")
@variant_options()
def graph(spec, output, collapse, depth, rankdir, overrides, scale):
    """Draw SPEC's network: layers, branches and merges, with the shape on every edge."""
    _done(_run(draw_graph, spec, output, depth=0 if collapse else depth, rankdir=rankdir, overrides=overrides,
               scale=scale))


@click.command(epilog="""
\b
Examples:
  netspec filters specs/resnet_mini.yaml runs/resnet_mini/checkpoint.pt -o filters.png
  netspec filters specs/resnet_mini.yaml runs/resnet_mini/checkpoint.pt --layer rblock1.0.body.conv1 -o body.png
\b
Kernels over 3 input channels are drawn in colour; others as the mean over
their input channels. Each kernel is scaled to its own range.""" + EXIT_STATUS)
@click.argument("spec", type=click.Path(dir_okay=False))
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(), help="The .png to write.")
@click.option("--layer", default=None, metavar="NAME",
              help="The conv layer to show, by module name (default: the first conv).")
@variant_options(recorded_in_checkpoint=True)
def filters(spec, checkpoint, output, layer, overrides, scale):
    """Save the learned kernels of SPEC's first conv layer, trained in CHECKPOINT, as an image grid."""
    _done(_run(draw_filters, spec, checkpoint, output, layer=layer, overrides=overrides, scale=scale))
