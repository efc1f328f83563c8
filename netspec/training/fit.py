"""Does a dataset fit a spec? Its images must be the spec's input (after `resize`) and its classes the output.

Checked before --out or any data is touched, by train, evaluate and predict alike, so a mismatch costs nothing.
"""

from __future__ import annotations

from pathlib import Path

from ..check import Report
from .data import CLASSES, IMAGE_SHAPES
from .errors import TrainError
from .imagefolder import scan
from .settings import IMAGE_FOLDER, require_dataset


def check_input_shape(report: Report, dataset: str, resize: int | None, folder: Path | None = None) -> tuple[int, int]:
    """The spec must take the dataset's images (after `resize`) and give one score per class."""
    require_dataset(dataset)  # evaluate() reaches here without resolve()
    if dataset == IMAGE_FOLDER:
        return _check_folder_fit(report, folder, resize)
    channels, height, width = IMAGE_SHAPES[dataset]
    size = (resize, resize) if resize else (height, width)
    arriving = (channels, *size)
    expected = tuple(report.graph.input_shape)
    if arriving != expected:
        after = f" after resize to {resize}" if resize else ""
        raise TrainError(f"{report.spec.file}: the spec expects input {list(expected)}; {dataset} images are "
                         f"{list(arriving)}{after}", _input_hint(dataset, channels, expected))
    _check_classes(report, len(CLASSES[dataset]), dataset)
    return size


def _check_folder_fit(report: Report, folder: Path, resize: int | None) -> tuple[int, int]:
    """Image files are converted to the spec's channels and scaled to its input (or to `resize`, which must fit)."""
    expected = tuple(report.graph.input_shape)
    if resize and (resize, resize) != expected[1:]:
        raise TrainError(f"{report.spec.file}: the spec expects input {list(expected)}; images resized to {resize} "
                         f"are [{expected[0]}, {resize}, {resize}]",
                         f"drop train.resize (image files are scaled to the spec's input) or set it to {expected[1]}")
    classes = scan(folder).classes
    shown = ", ".join(classes[:8]) + (", ..." if len(classes) > 8 else "")
    _check_classes(report, len(classes), f"{folder}: {shown}")
    return expected[1], expected[2]


def _check_classes(report: Report, classes: int, where: str) -> None:
    if tuple(report.graph.output_shape or ()) != (classes,):
        raise TrainError(f"{report.spec.file}: expected the network to output [{classes}] ({where}: "
                         f"{classes} classes); it outputs {list(report.graph.output_shape or ())}",
                         "end the spec with a linear layer of that many outputs")


def _input_hint(dataset: str, channels: int, expected: tuple[int, ...]) -> str:
    if channels != expected[0]:
        fits = [name for name, shape in IMAGE_SHAPES.items() if shape[0] == expected[0]]
        return (f"{dataset} has {channels} channel{'s' * (channels != 1)}: train this spec on "
                f"{' or '.join(fits) or 'a dataset with that many channels'}, or change its `input`")
    if expected[1] == expected[2]:
        return f"set `resize: {expected[1]}` in the spec's train: section, or change its `input`"
    return "change the spec's `input` to the dataset's image size (resize makes square images only)"
