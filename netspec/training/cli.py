"""`netspec train`, `netspec eval` and `netspec predict`: thin click layers over netspec.train/evaluate/predict.

Importing this module does not import torch; each command imports it when it runs.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import click

from ..cli_variant import variant_options
from ..diagnostics import SpecError
from ..cli_types import MAX_INTEGER, bounded_number, whole_number
from ..train_config import Schedule, TrainConfig
from .errors import (EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OUT_OF_MEMORY, EXIT_TERMINATED, TrainError,
                     is_out_of_memory)
from .settings import DATASETS, DEVICES

EXIT_CODES = """
\b
Exit status: 0 done; 1 bad spec, data, checkpoint or --out; 2 usage error;
3 the loss became NaN or infinite (the last good checkpoint is kept);
4 out of device memory; 130 stopped by Ctrl-C, 143 stopped by SIGTERM
(both after finishing the step and writing a checkpoint: continue with --resume;
a second Ctrl-C aborts at once without one)."""


@contextmanager
def _reported():
    """Errors the user can fix become a message and an exit code, never a traceback."""
    try:
        yield
    except SpecError as error:
        click.echo(error.render(), err=True)
        sys.exit(EXIT_BAD_INPUT)
    except TrainError as error:
        if not getattr(error, "shown_by_main", False):  # data-parallel: rank 0 prints what every rank refused
            click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except RuntimeError as error:  # eval and predict: their batch did not fit (train says more, see run.py)
        if not is_out_of_memory(error):
            raise
        click.echo(f"error: out of memory ({str(error).splitlines()[0][:200]})\n  hint: lower --batch-size", err=True)
        sys.exit(EXIT_OUT_OF_MEMORY)


dataset_option = click.option("--dataset", metavar="NAME|PATH",
                              help="mnist, fashion-mnist or cifar10 (found in --data-dir, known places, or "
                                   "downloaded); "
                                   "a folder of class folders (train/, val/, test/ or one folder); or imagefolder "
                                   "with --data-dir PATH.")
data_dir_option = click.option("--data-dir", type=click.Path(file_okay=False),
                               help="Folder with the dataset files (MNIST IDX files, gzipped or not; "
                                    "cifar-10-batches-py); downloads go here.")
device_option = click.option("--device", default="auto", show_default=True, type=click.Choice(DEVICES),
                             help="auto picks CUDA, then MPS, then the CPU.")
download_option = click.option("--download/--no-download", default=True, show_default=True,
                               help="Download the dataset with torchvision when it is not found.")


@click.command(epilog="""
\b
Examples:
  netspec train specs/resnet_mini.yaml --dataset mnist --data-dir ../shared/datasets/mnist --out runs/resnet_mini
  netspec train specs/lenet_cifar.yaml --dataset cifar10 --epochs 20 --lr 0.01 --optimizer sgd
  netspec train specs/alexnet_fashion.yaml --dataset fashion-mnist --limit-train 2000 --limit-test 500
  netspec train specs/resnet_mini.yaml --dataset mnist --out runs/resnet_mini --resume   # after Ctrl-C or a crash
  netspec train specs/resnet_mini.yaml --dataset mnist --out runs/resnet_mini --resume --epochs 5   # 2 more epochs
  netspec train specs/resnet_mini.yaml --dataset photos/ --early-stopping 3   # photos/train/<class>/*.jpg ...
  netspec train zoo:resnet18 --set num_classes=5 --dataset photos/ --init resnet18.pth --freeze layer4
  netspec train specs/resnet_mini.yaml --dataset mnist --set num_classes=10 --set train.lr=0.1
  netspec train specs/resnet_mini.yaml --dataset mnist --nproc-per-node 4   # data-parallel, 4 GPUs
  torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint host0:29500 \\
      -m netspec train specs/resnet_mini.yaml --dataset mnist   # on each of 2 nodes
\b
Settings come from the spec's `train:` section; the flags above override them.
--out receives checkpoint.pt (after every epoch), best.pt (best validation accuracy),
metrics.jsonl (one JSON object per epoch), curves.png (loss per step, accuracy),
tensorboard/ (event files, when tensorboard is installed), evaluation.json and
confusion.png (the final network on the test split, evaluated once at the end).
Validation (the plateau schedule, --early-stopping, best.pt) reads the dataset's val
split, or --val-fraction of the training images held out (fixed by --seed).
\b
Data-parallel (under torchrun, or --nproc-per-node N): one process per GPU
(NCCL; Gloo on the CPU), each on its own shard of every epoch; --batch-size
is per process, so a step takes N x batch images (printed at the start);
rank 0 alone writes --out; --resume needs the same number of processes.""" + EXIT_CODES + """
5 a process of a data-parallel run crashed or was killed (the message names its rank).""")
@click.argument("spec", type=click.Path(dir_okay=False))
@dataset_option
@data_dir_option
@click.option("--epochs", type=whole_number(1), help="Passes over the training set.")
@click.option("--batch-size", type=whole_number(1),
              help="Images per step on each device: with N processes a step takes N x this many.")
@click.option("--lr", type=bounded_number(0, min_open=True), help="Learning rate (one-cycle: the peak).")
@click.option("--optimizer", type=click.Choice(TrainConfig.model_fields["optimizer"].annotation.__args__),
              help="sgd (momentum, nesterov from the spec), adam or adamw.")
@click.option("--schedule", type=click.Choice(Schedule.model_fields["kind"].annotation.__args__),
              help="Learning-rate schedule; its other keys come from the spec.")
@device_option
@click.option("--out", type=click.Path(file_okay=False), help="Output folder  [default: runs/<spec name>]")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its checkpoint.")
@click.option("--seed", default=0, show_default=True, type=whole_number(-MAX_INTEGER),
              help="Seeds weights, shuffling and augmentation.")
@click.option("--limit-train", type=whole_number(1),
              help="Train on the first N training images only (those not held out for validation).")
@click.option("--limit-test", type=whole_number(1), help="Evaluate on the first N test (and validation) images only.")
@click.option("--compile", "compile_", is_flag=True, help="torch.compile the network (pays off on GPUs).")
@click.option("--val-fraction", type=float, help="Training images held out for validation when the dataset has "
              "no val split  [default: 0.1; 0: none]")
@click.option("--early-stopping", type=click.IntRange(min=1), metavar="N",
              help="Stop after N epochs without a better validation accuracy.")
@click.option("--init", "init", type=click.Path(dir_okay=False), metavar="FILE",
              help="Start from these weights: a netspec checkpoint, a state_dict file, or torchvision's weights "
                   "(matched by name, else by the spec's structure; a report says what loaded).")
@click.option("--freeze", metavar="LAYER", help="Freeze every layer up to and including LAYER (see `netspec check`).")
@click.option("--memory-budget", type=click.IntRange(min=0), metavar="MIB",
              help="Image folders: decode into memory (and cache) up to this size, else stream  "
                   "[default: a quarter of the device's memory; 0: always stream]")
@click.option("--workers", type=click.IntRange(min=0), help="Image folders: decoding processes  [default: up to 8]")
@click.option("--tensorboard/--no-tensorboard", default=True, show_default=True,
              help="Write TensorBoard event files to --out/tensorboard (when tensorboard is installed).")
@download_option
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.option("--nproc-per-node", type=whole_number(1),
              help="Train data-parallel in N processes on this machine (one per GPU), as torchrun does.")
@click.option("--sync-batchnorm", is_flag=True,
              help="Data-parallel on GPUs: batchnorm statistics over all processes' batches, not each its own.")
@variant_options()
@click.pass_context
def train(context, spec, dataset, data_dir, epochs, batch_size, lr, optimizer, schedule, device, out, resume, seed,
          limit_train, limit_test, compile_, val_fraction, early_stopping, init, freeze, memory_budget, workers,
          tensorboard, download, quiet, nproc_per_node, sync_batchnorm, overrides, scale):
    """Train the network SPEC describes on a dataset; checkpoint, log and plot every epoch."""
    if dataset is None:
        raise click.UsageError("Missing option '--dataset' (one of: " + ", ".join(DATASETS)
                               + ", or a folder of class folders).")
    if nproc_per_node is not None:
        _launch(context, nproc_per_node)
    from . import run

    with _reported():
        result = run.train(spec, dataset, data_dir=data_dir, epochs=epochs, batch_size=batch_size, lr=lr,
                           optimizer=optimizer, schedule=schedule, device=device, out=out, resume=resume, seed=seed,
                           limit_train=limit_train, limit_test=limit_test, compile=compile_, download=download,
                           progress=not quiet, sync_batchnorm=sync_batchnorm, val_fraction=val_fraction,
                           early_stopping=early_stopping, init=init, freeze=freeze, memory_budget=memory_budget,
                           workers=workers, tensorboard=tensorboard, overrides=overrides, scale=scale)
    if result.stopped_by:
        sys.exit(EXIT_INTERRUPTED if result.stopped_by == "SIGINT" else EXIT_TERMINATED)
    if not result.is_main:
        return  # rank 0 speaks for a data-parallel run
    judged = f"{result.evaluation.split} accuracy {result.test_acc:.2%}; " if result.evaluation else ""
    written = sorted(path.name for path in result.out.iterdir() if not path.name.startswith("."))
    click.echo(f"{judged}wrote {result.out}/{{{', '.join(written)}}}")


def _launch(context: click.Context, nproc_per_node: int) -> None:
    """This command again in `nproc_per_node` processes through torch.distributed's elastic launcher."""
    import os

    from . import distributed

    if distributed.launched_by_torchrun(os.environ):
        raise click.UsageError("--nproc-per-node starts the processes itself; under torchrun, drop it "
                               "(torchrun's own --nproc-per-node says how many)")
    sys.exit(distributed.launch(nproc_per_node, distributed.relaunch_arguments(context, "nproc_per_node")))


@click.command("eval", epilog="""
\b
Examples:
  netspec eval specs/resnet_mini.yaml runs/resnet_mini/checkpoint.pt   # the run's dataset and --data-dir
  netspec eval specs/resnet_mini.yaml runs/resnet_mini/best.pt --json > evaluation.json
  netspec eval examples/resnet_family.yaml runs/w8/checkpoint.pt   # trained with --set width=8: not repeated
\b
Exit status: 0 done; 1 bad spec, data or checkpoint; 2 usage error; 4 out of memory.""")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@dataset_option
@data_dir_option
@device_option
@click.option("--batch-size", default=512, show_default=True, type=whole_number(1))
@click.option("--limit-test", type=whole_number(1), help="Evaluate on the first N test images only.")
@download_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@variant_options(recorded_in_checkpoint=True)
def evaluate(spec, checkpoint, dataset, data_dir, device, batch_size, limit_test, download, as_json, overrides, scale):
    """Test accuracy, per-class accuracy and confusion matrix of CHECKPOINT (default dataset: the one it trained on)."""
    from . import inference

    with _reported():
        result = inference.evaluate(spec, checkpoint, dataset, data_dir=data_dir, device=device,
                                    batch_size=batch_size, limit_test=limit_test, download=download,
                                    overrides=overrides, scale=scale)
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else result.render())


@click.command(epilog="""
\b
Examples:
  netspec predict specs/resnet_mini.yaml runs/resnet_mini/checkpoint.pt docs/examples/digit7.png
  netspec predict specs/lenet_cifar.yaml runs/lenet_cifar/checkpoint.pt photos/*.jpg --top 5 --json
\b
Images are converted to the network's channels, resized to its input and
normalised as in training. Exit status: 0 done; 1 bad spec, checkpoint or image;
2 usage error; 4 out of memory.""")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.argument("images", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--top", "top_k", default=3, show_default=True, type=whole_number(1), help="Classes per image.")
@device_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per image.")
@variant_options(recorded_in_checkpoint=True)
def predict(spec, checkpoint, images, top_k, device, as_json, overrides, scale):
    """The most likely classes, with probabilities, for each image file."""
    from . import inference

    with _reported():
        results = inference.predict(spec, checkpoint, images, top_k=top_k, device=device, overrides=overrides,
                                    scale=scale)
    if as_json:
        rows = [{"image": str(r.path), "top": [{"class": c, "probability": p} for c, p in r.top]} for r in results]
        click.echo(json.dumps(rows, indent=2))
        return
    for result in results:
        click.echo(f"{result.path}: " + ", ".join(f"{name} {probability:.1%}" for name, probability in result.top))
