"""Image folders for the trainer's tests: MNIST and Fashion-MNIST written as PNG/JPEG class folders, tiny specs."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from netspec.cli import cli
from netspec.training.data import load_dataset

FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture
def cache_in_tmp(tmp_path, monkeypatch):
    """Image-folder caches in the test's own folder, not ~/.cache."""
    monkeypatch.setenv("NETSPEC_DATA", str(tmp_path / "cache"))


def invoke(*args):
    """`netspec ARGS` in-process; a traceback in the output fails the test (errors must be messages)."""
    result = CliRunner().invoke(cli, [str(arg) for arg in args])
    assert "Traceback" not in result.output, result.output
    return result


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file of unsigned bytes, gzipped, as MNIST ships them."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def folder_and_idx_twins(source: Path, name: str, root: Path, suffix: str, limit: int | None = None,
                         quality: int = 95) -> tuple[Path, Path]:
    """The same images twice: as `suffix` files in root/images/{train,test}/<class>/, and as IDX files in
    root/idx/ in the order a folder lists them (by class, then file name), so both paths see equal data."""
    data = load_dataset(name, source, download=False).limited(limit, limit)
    images_root, idx_root = root / "images", root / "idx"
    idx_root.mkdir(parents=True)
    for split, images, labels, stem in (("train", data.train_images, data.train_labels, "train"),
                                        ("test", data.test_images, data.test_labels, "t10k")):
        order = torch.argsort(labels, stable=True)
        images, labels = images[order, 0].numpy(), labels[order].numpy()
        for index, (image, label) in enumerate(zip(images, labels)):
            folder = images_root / split / data.classes[label].replace("/", "-")
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{index:05d}{suffix}", quality=quality)
        write_idx(idx_root / f"{stem}-images-idx3-ubyte.gz", images)
        write_idx(idx_root / f"{stem}-labels-idx1-ubyte.gz", labels)
    return images_root, idx_root


def write_classes(root: Path, classes: dict[str, int], size: tuple[int, int] = (8, 8), mode: str = "L",
                  suffix: str = ".png", seed: int = 0) -> Path:
    """root/<class>/<i><suffix>: random images, a class-dependent brightness so something can be learnt."""
    generator = np.random.default_rng(seed)
    for index, (name, count) in enumerate(classes.items()):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            shape = size + ((3,) if mode == "RGB" else ())
            pixels = (generator.integers(0, 100, shape) + 60 * index).clip(0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:03d}{suffix}")
    return root


def tiny_spec(folder: Path, channels: int = 1, size: int = 8, classes: int = 3) -> Path:
    path = folder / "tiny.yaml"
    path.write_text(f"""name: tiny
input: [{channels}, {size}, {size}]
layers:
  - {{kind: conv, name: conv1, out_channels: 4, kernel_size: 3, padding: 1}}
  - relu
  - flatten
  - {{kind: linear, name: fc, out_features: {classes}}}
train: {{epochs: 1, batch_size: 8, lr: 0.05}}
""")
    return path
