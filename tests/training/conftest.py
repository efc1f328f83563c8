"""Fixtures for the trainer's tests: the committed MNIST sample, a tiny CIFAR-10 folder, one trained run.

Training tests use one intra-op thread: on a small machine shared with other jobs,
two OpenMP threads that spin-wait for each other run up to 10x slower than one
(measured here: 250 vs 3,000 images/s for resnet_mini), and one thread keeps
results bit-for-bit reproducible between the in-process and subprocess runs the
resume tests compare.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
MNIST_SAMPLE = REPO / "tests" / "data" / "mnist-sample"
SPECS = REPO / "specs"


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def subprocess_env():
    """Environment for `python -m netspec` children: one thread (see above), output unbuffered."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def write_cifar_folder(root: Path, per_batch: int = 20, seed: int = 0) -> Path:
    """cifar-10-batches-py as torchvision expects it, with `per_batch` random images per file."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    generator = np.random.default_rng(seed)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = generator.integers(0, 10, per_batch)
        # class-dependent brightness, so a network can learn something from noise
        data = (generator.integers(0, 128, (per_batch, 3072)) + labels[:, None] * 12).astype(np.uint8)
        with (folder / name).open("wb") as file:
            pickle.dump({b"data": data, b"labels": labels.tolist(), b"batch_label": name.encode()}, file)
    return folder


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """resnet_mini trained for 2 epochs on the MNIST sample (shared by the eval/predict/checkpoint tests)."""
    import netspec

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("trained") / "run"
    return netspec.train(str(SPECS / "resnet_mini.yaml"), "mnist", data_dir=MNIST_SAMPLE, epochs=2, out=out,
                         device="cpu", progress=False)
