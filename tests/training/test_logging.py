"""What a run logs: TensorBoard scalars (read back by TensorBoard's own reader), per-step curves, confusion.png."""

from __future__ import annotations

import json
import sys

import pytest
import torch

import netspec

from .folders import cache_in_tmp, tiny_spec, write_classes  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("cache_in_tmp")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def folder(tmp_path):
    for split, seed in (("train", 0), ("val", 1), ("test", 2)):
        write_classes(tmp_path / "data" / split, {"cat": 12, "dog": 12, "eel": 12}, seed=seed)
    return tmp_path / "data"


def test_tensorboard_reads_the_scalars_of_every_step_and_epoch(folder, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = netspec.train(tiny_spec(tmp_path), str(folder), epochs=2, out=tmp_path / "run", device="cpu",
                           progress=False)
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"step/loss", "step/accuracy", "step/lr", "epoch/train_loss", "epoch/val_loss", "epoch/val_acc",
            "epoch/lr", "test/loss", "test/accuracy"} <= tags
    steps = events.Scalars("step/loss")
    assert [event.step for event in steps] == list(range(2 * 5))  # 36 images, batch 8: 5 steps per epoch
    logged = [event.value for event in steps]
    kept = [loss for _, loss in torch.load(result.checkpoint, weights_only=True)["step_losses"]]
    assert logged == pytest.approx(kept, rel=1e-6)  # the curve in curves.png and TensorBoard agree
    assert all(0 <= event.value <= 1 for event in events.Scalars("step/accuracy"))
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [e.value for e in events.Scalars("epoch/val_acc")] == pytest.approx([row["val_acc"] for row in rows])
    assert [e.step for e in events.Scalars("epoch/val_acc")] == [1, 2]
    assert events.Scalars("test/accuracy")[0].value == pytest.approx(result.test_acc)


def test_one_epoch_draws_a_loss_curve_and_the_confusion_matrix_beside_the_evaluation(folder, tmp_path):
    result = netspec.train(tiny_spec(tmp_path), str(folder), epochs=1, out=tmp_path / "run", device="cpu",
                           progress=False, tensorboard=False)
    step_losses = torch.load(result.checkpoint, weights_only=True)["step_losses"]
    assert [round(x, 3) for x, _ in step_losses] == [0.2, 0.4, 0.6, 0.8, 1.0]  # x: epochs, one point per step
    for name in ("curves.png", "confusion.png"):
        assert (tmp_path / "run" / name).read_bytes()[:8] == PNG
    assert (tmp_path / "run" / "evaluation.json").is_file() and not (tmp_path / "run" / "tensorboard").exists()


def test_without_the_tensorboard_package_the_run_says_so_and_trains(folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import raises ImportError
    netspec.train(tiny_spec(tmp_path), str(folder), epochs=1, out=tmp_path / "run", device="cpu")
    assert "the tensorboard package is not installed (pip install tensorboard" in capsys.readouterr().err
    assert not (tmp_path / "run" / "tensorboard").exists() and (tmp_path / "run" / "checkpoint.pt").is_file()
