"""Datasets as one uint8 tensor per split, read from IDX or CIFAR-10 files, found or downloaded.

MNIST and Fashion-MNIST are read from the four IDX files (gzipped or raw), CIFAR-10
from its python-format batches through an unpickler that only accepts numpy arrays,
so a data file cannot run code. torchvision is used only to download when online.
"""

from __future__ import annotations

import gzip
import math
import os
import pickle
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from .errors import DataNotFound, TrainError

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
CLASSES = {
    "mnist": tuple(str(digit) for digit in range(10)),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
}
# (channels, height, width) of each dataset's images: known before any file is read
IMAGE_SHAPES = {"mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
# torchvision's folder for each dataset under its download root
TORCHVISION_FOLDERS = {"mnist": "MNIST/raw", "fashion-mnist": "FashionMNIST/raw", "cifar10": "cifar-10-batches-py"}
DEFLATE_MAX_RATIO = 1032  # deflate cannot expand a byte to more than this: bounds a gzip file's content
KNOWN_LOCATIONS = {"fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")]}  # Debian's dataset-fashion-mnist


@dataclass(frozen=True)
class Dataset:
    """Images as uint8 [N, C, H, W] and labels as int64 [N], for the train and test splits (and the
    dataset's own validation split, where it has one). `notes` are what loading it told the user."""

    name: str
    classes: tuple[str, ...]
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: str
    val_images: torch.Tensor | None = None
    val_labels: torch.Tensor | None = None
    notes: tuple[str, ...] = ()

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_images.shape[1:])

    def limited(self, train: int | None, test: int | None) -> "Dataset":
        """The first `train` training and `test` test (and validation) images (for short runs)."""
        return replace(self, train_images=self.train_images[:train], train_labels=self.train_labels[:train],
                       test_images=self.test_images[:test], test_labels=self.test_labels[:test],
                       **({} if self.val_images is None else
                          {"val_images": self.val_images[:test], "val_labels": self.val_labels[:test]}))

    def to(self, device: torch.device) -> "Dataset":
        names = ("train_images", "train_labels", "test_images", "test_labels", "val_images", "val_labels")
        return replace(self, **{name: getattr(self, name).to(device) for name in names
                                if getattr(self, name) is not None})


def default_root() -> Path:
    """Where downloads go when no --data-dir is given ($NETSPEC_DATA overrides)."""
    return Path(os.environ.get("NETSPEC_DATA") or Path.home() / ".cache" / "netspec" / "datasets")


def load_dataset(name: str, data_dir: Path | None = None, download: bool = True) -> Dataset:
    """Find `name` in `data_dir` (or the known places), downloading it there when allowed and online."""
    places = [data_dir] if data_dir is not None else KNOWN_LOCATIONS.get(name, []) + [default_root()]
    for place in places:
        found = _read_from(name, place)
        if found is not None:
            return found
    root = data_dir if data_dir is not None else default_root()
    outcome = "skipped (--no-download)"
    if download:
        try:
            _download(name, root)
            found = _read_from(name, root)
            if found is not None:
                return found
            outcome = f"finished, but no readable files appeared in {root}"
        except Exception as error:  # offline, refused, disk full: all end in the same advice
            outcome = f"failed ({type(error).__name__}: {' '.join(str(error).split())})"
    raise DataNotFound(_missing_message(name, places, outcome), _missing_hint(name))


def _read_from(name: str, place: Path) -> Dataset | None:
    for folder in (place, place / TORCHVISION_FOLDERS[name]):
        if name == "cifar10" and all((folder / file).is_file() for file in CIFAR_FILES):
            return _read_cifar(folder)
        if name != "cifar10":
            paths = [_idx_path(folder, stem) for stem in IDX_FILES]
            if all(paths):
                return _read_idx_set(name, folder, paths)
    return None


def _idx_path(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _read_idx_set(name: str, folder: Path, paths: list[Path]) -> Dataset:
    train_x, train_y, test_x, test_y = (read_idx(path) for path in paths)
    for images, labels, split in ((train_x, train_y, "train"), (test_x, test_y, "test")):
        if images.shape[1:] != IMAGE_SHAPES[name][1:] or labels.ndim != 1 or len(images) != len(labels):
            raise TrainError(f"{folder}: expected {split} images [N, 28, 28] and N labels; "
                             f"got images {list(images.shape)} and labels {list(labels.shape)}")
    for labels, path in ((train_y, paths[1]), (test_y, paths[3])):
        check_labels(labels, len(CLASSES[name]), path)
    return Dataset(name, CLASSES[name], train_x.unsqueeze(1), train_y.long(), test_x.unsqueeze(1), test_y.long(),
                   str(folder))


def check_labels(labels: torch.Tensor, classes: int, path: Path) -> None:
    """Every label must name one of the dataset's classes (a label of 200 would index past the loss)."""
    bad = ((labels < 0) | (labels >= classes)).nonzero()
    if len(bad):
        at = int(bad[0])
        raise TrainError(f"{path}: expected labels from 0 to {classes - 1}; label {at} is {int(labels[at])} "
                         f"({len(bad):,} out of range)", "the file is damaged or belongs to another dataset")


def read_idx(path: Path) -> torch.Tensor:
    """An IDX file (gzipped or raw) of unsigned bytes as a uint8 tensor of the shape its header gives.

    The header is checked against the file before anything is allocated: its dimensions (an exact
    product, no wrap-around), at least one item, and no more bytes than the file can hold.
    """
    try:
        with path.open("rb") as raw:
            compressed = raw.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if compressed else path.open("rb")) as file:
            shape, header = _idx_header(path, file)
            size = math.prod(shape)
            _check_idx_size(path, shape, size, header, compressed)
            data = file.read(size + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise TrainError(f"{path}: expected a {'gzip-compressed ' if compressed else ''}IDX file; it is damaged "
                         f"({error})", "delete the file and download it again") from None
    if len(data) != size:
        raise _wrong_size(path, shape, header, "more" if len(data) > size else f"{header + len(data):,}")
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8).reshape(shape).copy())


def _idx_header(path: Path, file) -> tuple[tuple[int, ...], int]:
    magic = file.read(4)
    if len(magic) < 4 or magic[:3] != b"\x00\x00\x08" or not 1 <= magic[3] <= 4:
        raise TrainError(f"{path}: expected an IDX file of unsigned bytes with 1 to 4 dimensions "
                         f"(header 00 00 08 01..04); got header {magic.hex(' ')}")
    ndim = magic[3]
    dims = file.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise TrainError(f"{path}: expected {ndim} dimensions in the IDX header; the file ends first",
                         "delete the file and download it again")
    shape = tuple(int.from_bytes(dims[4 * i: 4 * i + 4], "big") for i in range(ndim))
    return shape, 4 + 4 * ndim


def _check_idx_size(path: Path, shape: tuple[int, ...], size: int, header: int, compressed: bool) -> None:
    if shape[0] == 0 or size == 0:
        raise TrainError(f"{path}: expected at least one item; the IDX header gives shape {list(shape)}",
                         "delete the file and download it again")
    on_disk = path.stat().st_size
    if not compressed and size > on_disk - header:
        raise _wrong_size(path, shape, header, f"{on_disk:,}")
    if compressed and size > DEFLATE_MAX_RATIO * on_disk:
        raise TrainError(f"{path}: the IDX header gives shape {list(shape)} ({size:,} bytes), more than a "
                         f"{on_disk:,}-byte gzip file can hold", "delete the file and download it again")


def _wrong_size(path: Path, shape: tuple[int, ...], header: int, got: str) -> TrainError:
    return TrainError(f"{path}: expected {header + math.prod(shape):,} bytes for shape {list(shape)}; got {got} "
                      "(a truncated download?)", "delete the file and download it again")


class _ArrayUnpickler(pickle.Unpickler):
    """CIFAR-10's batches are pickles; allow numpy arrays and nothing else that could run code."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a CIFAR-10 batch holds only arrays")
        return super().find_class(module, name)


def _read_cifar_batch(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        with path.open("rb") as file:
            batch = _ArrayUnpickler(file, encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, OverflowError) as error:
        raise TrainError(f"{path}: expected a CIFAR-10 python batch (a dict with b'data' and b'labels'); "
                         f"could not read it ({error})") from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise TrainError(f"{path}: expected b'data' of shape [N, 3072] and N labels; "
                         f"got {list(data.shape)} and {len(labels)} labels")
    return torch.from_numpy(data.reshape(-1, 3, 32, 32).copy()), torch.from_numpy(labels)


def _read_cifar(folder: Path) -> Dataset:
    train = [_read_cifar_batch(folder / file) for file in CIFAR_FILES[:-1]]
    test_x, test_y = _read_cifar_batch(folder / CIFAR_FILES[-1])
    for (_, labels), file in zip([*train, (test_x, test_y)], CIFAR_FILES):
        check_labels(labels, len(CLASSES["cifar10"]), folder / file)
    return Dataset("cifar10", CLASSES["cifar10"], torch.cat([x for x, _ in train]), torch.cat([y for _, y in train]),
                   test_x, test_y, str(folder))


def _download(name: str, root: Path) -> None:
    import torchvision.datasets as tv

    kind = {"mnist": tv.MNIST, "fashion-mnist": tv.FashionMNIST, "cifar10": tv.CIFAR10}[name]
    root.mkdir(parents=True, exist_ok=True)
    for train in (True, False):
        kind(str(root), train=train, download=True)


def _missing_message(name: str, places: list[Path], outcome: str) -> str:
    looked = "\n".join(f"  - {place}  (and {place / TORCHVISION_FOLDERS[name]})" for place in places)
    return f"no {name} data found. Looked in:\n{looked}\n  download: {outcome}"


def _missing_hint(name: str) -> str:
    if name == "cifar10":
        wanted = "the cifar-10-batches-py files (" + ", ".join(CIFAR_FILES) + ")"
    else:
        wanted = "the four IDX files (" + ", ".join(f"{stem}.gz" for stem in IDX_FILES) + "; gzipped or not)"
    extra = " or `apt-get install dataset-fashion-mnist`," if name == "fashion-mnist" else ""
    return (f"pass --data-dir DIR where DIR holds {wanted},{extra} "
            f"or run once with internet access to download into {default_root()} (or --data-dir)")
