"""`netspec.evaluate` and `netspec.predict`: use a trained checkpoint on a test set or on image files."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import torch

from ..check import Report, check_as_trained
from ..spec import Spec
from .checkpoint import load_checkpoint, load_model_weights
from .errors import TrainError
from .holdout import final_split, with_validation
from .imagedecode import UnreadableImage, decode_file
from .imagefolder import open_dataset
from .loop import evaluate as evaluate_model
from .metrics import Evaluation
from .pipeline import Preprocess
from .fit import check_input_shape
from .run import build_model
from .runtime import Runtime, single_process
from .settings import DEFAULT_VAL_FRACTION, Settings, dataset_and_folder


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
    and `scale` may only repeat them (SpecError names a contradicting one). The dataset and
    --data-dir default to the run's own (kept in the checkpoint); an image folder without
    test/ is judged on the run's validation split, chosen again by its seed.

    >>> result = netspec.evaluate("specs/resnet_mini.yaml", "runs/resnet_mini/checkpoint.pt")
    >>> print(result.render())        # accuracy, per-class table, confusion matrix
    """
    report, model, state, runtime = _load_trained(spec, checkpoint, device, overrides, scale)
    run = state["settings"]
    same_data = dataset is None or dataset == run["dataset"]
    remembered = run.get("data_dir") if same_data else None
    name, folder = dataset_and_folder(dataset or run["dataset"], data_dir or remembered)
    size = check_input_shape(report, name, run["config"].get("resize"), folder)
    settings = Settings(name, report.spec.train, Path("."), data_dir=folder, download=download)
    data = open_dataset(settings, (report.graph.input_shape[0], *size), runtime.device)
    if same_data:  # the run's own validation split, in case the final evaluation is on it
        data = with_validation(data, run.get("val_fraction", DEFAULT_VAL_FRACTION), run["seed"])
    split, images, labels = final_split(data.limited(None, limit_test).to(runtime.device))
    preprocess = Preprocess(tuple(state["mean"]), tuple(state["std"]), size)
    evaluation = evaluate_model(model, images, labels, preprocess, batch_size, data.classes, runtime)
    return replace(evaluation, split=split)


def predict(spec: Spec | str | Path, checkpoint: str | Path, images: Sequence[str | Path], *, top_k: int = 3,
            device: str = "auto", overrides=None, scale: str | None = None) -> list[Prediction]:
    """The `top_k` most likely classes, with probabilities, for each image file (PNG, JPEG, ...).

    Images are converted to the spec's channels (grey or RGB), resized to its input
    size and normalised as in training. The checkpoint's own `--set` overrides and scale
    apply without repeating them (as in `evaluate`).

    >>> netspec.predict("specs/resnet_mini.yaml", "runs/resnet_mini/checkpoint.pt", ["docs/examples/digit7.png"])
    [Prediction(path=PosixPath('docs/examples/digit7.png'), top=[('7', 0.998), ('1', 0.001), ('2', 0.0004)])]
    """
    report, model, state, runtime = _load_trained(spec, checkpoint, device, overrides, scale)
    channels, height, width = report.graph.input_shape
    preprocess = Preprocess(tuple(state["mean"]), tuple(state["std"]), (height, width))
    batch = torch.cat([preprocess(_read_image(Path(path), channels, (height, width)).to(runtime.device))
                       for path in images])
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


def _read_image(path: Path, channels: int, size: tuple[int, int]) -> torch.Tensor:
    """One image file as uint8 [1, C, H, W], decoded as training decodes an image folder's files."""
    if channels not in (1, 3):
        raise TrainError(f"expected a network taking 1 (grey) or 3 (RGB) channels to read images; "
                         f"this one takes {channels}")
    try:
        return decode_file(path, channels, size)[0][None]
    except UnreadableImage as error:
        raise TrainError(f"cannot read image {path}: {error}", error.hint) from None
