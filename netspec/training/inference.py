"""`netspec.evaluate` and `netspec.predict`: use a trained checkpoint on a test set or on image files."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..check import Report, check_as_trained
from ..spec import Spec
from .checkpoint import load_checkpoint, load_model_weights
from .data import load_dataset
from .errors import TrainError
from .loop import evaluate as evaluate_model
from .metrics import Evaluation
from .pipeline import Preprocess
from .run import build_model, check_input_shape
from .runtime import Runtime, single_process


MAX_IMAGE_PIXELS = 50_000_000  # a 50-megapixel photo; a decompression bomb claims billions


@dataclass(frozen=True)
class Prediction:
    """The `top` (class name, probability) pairs for one image, most likely first."""

    path: Path
    top: list[tuple[str, float]]


def evaluate(spec: Spec | str | Path, checkpoint: str | Path, dataset: str | None = None, *,
             data_dir: str | Path | None = None, device: str = "auto", batch_size: int = 512,
             limit_test: int | None = None, download: bool = True, overrides=None,
             scale: str | None = None) -> Evaluation:
    """Test accuracy, per-class accuracy and confusion matrix of a checkpoint on its dataset's test split.

    The network is rebuilt at the scale and overrides the checkpoint recorded; `overrides`
    and `scale` may only repeat them (SpecError names a contradicting one).

    >>> result = netspec.evaluate("specs/resnet_mini.yaml", "runs/resnet/checkpoint.pt",
    ...                           data_dir="../shared/datasets/mnist")
    >>> print(result.render())        # accuracy, per-class table, confusion matrix
    """
    report, model, state, runtime = _load_trained(spec, checkpoint, device, overrides, scale)
    name = dataset or state["settings"]["dataset"]
    size = check_input_shape(report, name, state["settings"]["config"].get("resize"))
    data = load_dataset(name, Path(data_dir) if data_dir else None, download).limited(None, limit_test)
    data = data.to(runtime.device)
    preprocess = Preprocess(tuple(state["mean"]), tuple(state["std"]), size)
    return evaluate_model(model, data.test_images, data.test_labels, preprocess, batch_size, data.classes, runtime)


def predict(spec: Spec | str | Path, checkpoint: str | Path, images: Sequence[str | Path], *, top_k: int = 3,
            device: str = "auto", overrides=None, scale: str | None = None) -> list[Prediction]:
    """The `top_k` most likely classes, with probabilities, for each image file (PNG, JPEG, ...).

    Images are converted to the spec's channels (grey or RGB), resized to its input
    size and normalised as in training. The checkpoint's own `--set` overrides and scale
    apply without repeating them (as in `evaluate`).

    >>> netspec.predict("specs/resnet_mini.yaml", "runs/resnet/checkpoint.pt", ["seven.png"])
    [Prediction(path=PosixPath('seven.png'), top=[('7', 0.998), ('1', 0.001), ('2', 0.0004)])]
    """
    report, model, state, runtime = _load_trained(spec, checkpoint, device, overrides, scale)
    channels, height, width = report.graph.input_shape
    preprocess = Preprocess(tuple(state["mean"]), tuple(state["std"]), (height, width))
    batch = torch.cat([preprocess(_read_image(Path(path), channels).to(runtime.device)) for path in images])
    with torch.inference_mode(), runtime.autocast():
        probabilities = torch.softmax(model.eval()(batch).float(), dim=1).cpu()
    classes = state["classes"]
    best = probabilities.topk(min(top_k, len(classes)), dim=1)
    return [Prediction(Path(path), [(classes[i], p) for p, i in zip(values.tolist(), indices.tolist())])
            for path, values, indices in zip(images, best.values, best.indices)]


def _load_trained(spec, checkpoint, device: str, overrides, scale) -> tuple[Report, torch.nn.Module, dict, Runtime]:
    state = load_checkpoint(Path(checkpoint))  # first: it says which scale and overrides the network was trained at
    report = check_as_trained(spec, state.get("variant"), checkpoint, overrides=overrides, scale=scale)
    report.raise_for_errors()
    runtime = single_process(device)
    model = build_model(report, runtime)
    load_model_weights(model, state, Path(checkpoint))
    return report, model, state, runtime


def _read_image(path: Path, channels: int) -> torch.Tensor:
    """One image file as uint8 [1, C, H, W] with the network's channel count."""
    from PIL import Image, UnidentifiedImageError

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)  # MAX_IMAGE_PIXELS bounds it below
    try:
        with Image.open(path) as image:  # reads the header only: the size is known before any pixel is decoded
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise TrainError(f"cannot read image {path}: expected at most {MAX_IMAGE_PIXELS:,} pixels; it has "
                                 f"{width} x {height} = {width * height:,}",
                                 "shrink the image first; the network sees it resized to its input anyway")
            pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"))
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise TrainError(f"cannot read image {path}: {error}", "give PNG, JPEG or other files Pillow opens") from None
    if channels not in (1, 3):
        raise TrainError(f"expected a network taking 1 (grey) or 3 (RGB) channels to read images; "
                         f"this one takes {channels}")
    tensor = torch.from_numpy(pixels.copy())
    tensor = tensor[None] if tensor.ndim == 2 else tensor.permute(2, 0, 1)
    return tensor[None]
