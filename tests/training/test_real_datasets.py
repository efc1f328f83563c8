"""The issue's must-show runs on real data: resnet_mini and googlenet_mini reach 98% on MNIST in one CPU epoch,
alexnet_fashion trains on Fashion-MNIST resized to 224."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from netspec.cli import cli

from .conftest import REPO, SPECS

pytestmark = pytest.mark.slow
MNIST = REPO.parent / "shared" / "datasets" / "mnist"  # the command's ../shared/datasets/mnist
FASHION = Path("/usr/share/datasets/fashion-mnist")


def train(*args) -> tuple[str, float]:
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["train", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output, time.perf_counter() - started


@pytest.mark.skipif(not MNIST.is_dir(), reason=f"full MNIST expected in {MNIST}")
@pytest.mark.parametrize("spec", ["resnet_mini", "googlenet_mini"])
def test_one_epoch_on_the_cpu_reaches_98_percent_on_mnist(spec, tmp_path):
    output, seconds = train(SPECS / f"{spec}.yaml", "--dataset", "mnist", "--data-dir", MNIST, "--epochs", "1",
                            "--out", tmp_path)
    row = json.loads((tmp_path / "metrics.jsonl").read_text())
    accuracy = json.loads((tmp_path / "evaluation.json").read_text())["test_acc"]
    print(f"{spec}: test accuracy {accuracy:.4f}, {row['images_per_second']:.0f} training images/s, "
          f"{seconds:.1f} s wall")
    assert accuracy >= 0.98, output
    assert (tmp_path / "curves.png").is_file() and (tmp_path / "checkpoint.pt").is_file()


@pytest.mark.skipif(not FASHION.is_dir(), reason=f"Fashion-MNIST expected in {FASHION} (dataset-fashion-mnist)")
def test_alexnet_trains_on_fashion_mnist_at_224_from_the_known_location(tmp_path):
    output, _ = train(SPECS / "alexnet_fashion.yaml", "--dataset", "fashion-mnist", "--epochs", "1", "--batch-size",
                      "16", "--limit-train", "48", "--limit-test", "32", "--out", tmp_path, "--no-download")
    assert f"data from {FASHION}" in output
    row = json.loads((tmp_path / "metrics.jsonl").read_text())
    assert row["train_loss"] > 0 and 0 <= row["val_acc"] <= 1
    evaluation = json.loads((tmp_path / "evaluation.json").read_text())
    assert evaluation["images"] == 32 and evaluation["classes"][9] == "Ankle boot"
