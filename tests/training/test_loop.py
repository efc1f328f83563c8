"""Optimizers, schedules, progress display and the out-of-memory report."""

from __future__ import annotations

import io
import math

import pytest
import torch
from click.testing import CliRunner

from netspec.cli import cli
from netspec.train_config import TrainConfig
from netspec.training.loop import Schedule, Step, make_optimizer
from netspec.training.progress import Progress
from netspec.training.runtime import Runtime

from .conftest import MNIST_SAMPLE, SPECS

CPU = Runtime(torch.device("cpu"))


def rates(kind: str, epochs: int = 4, steps: int = 5, **schedule) -> list[float]:
    """The learning rate at the start of each epoch, with a test loss that never improves."""
    model = torch.nn.Linear(2, 2)
    config = TrainConfig(lr=0.1, epochs=epochs, schedule={"kind": kind, **schedule})
    optimizer = make_optimizer(model, config, CPU)
    schedule_ = Schedule(optimizer, config, steps)
    seen = []
    for _ in range(epochs):
        seen.append(schedule_.lr)
        for _ in range(steps):
            optimizer.step()
            schedule_.after_step()
        schedule_.after_epoch(val_loss=1.0)
    return seen


def test_each_schedule_shapes_the_rate_as_documented():
    assert rates("none") == [0.1] * 4
    assert rates("step", step_size=2, gamma=0.5) == pytest.approx([0.1, 0.1, 0.05, 0.05])
    assert rates("multistep", milestones=[1, 3], gamma=0.1) == pytest.approx([0.1, 0.01, 0.01, 0.001])
    cosine = rates("cosine")
    assert cosine[0] == 0.1 and cosine == sorted(cosine, reverse=True)
    assert rates("cosine", epochs=2)[1] == pytest.approx(0.05)  # half-way down the cosine
    onecycle = rates("onecycle", warmup=0.5)
    assert onecycle[0] < onecycle[2] and max(onecycle) <= 0.1 + 1e-12
    assert rates("plateau", patience=1, factor=0.1) == pytest.approx([0.1, 0.1, 0.1, 0.01])  # seed 004's 10x


@pytest.mark.parametrize("kind", ["none", "step", "multistep", "cosine", "onecycle", "plateau"])
def test_schedule_and_optimizer_state_survive_a_weights_only_checkpoint(kind, tmp_path):
    model = torch.nn.Linear(2, 2)
    for name in ("sgd", "adam", "adamw"):
        config = TrainConfig(optimizer=name, epochs=2, schedule={"kind": kind, "milestones": [1]})
        optimizer = make_optimizer(model, config, CPU)
        schedule = Schedule(optimizer, config, 3)
        model(torch.ones(1, 2)).sum().backward()
        optimizer.step()
        schedule.after_step()
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": schedule.state_dict()}, tmp_path / "c.pt")
        state = torch.load(tmp_path / "c.pt", weights_only=True)
        restored = Schedule(make_optimizer(model, config, CPU), config, 3)
        restored.optimizer.load_state_dict(state["optimizer"])
        restored.load_state_dict(state["scheduler"])
        assert math.isclose(restored.lr, schedule.lr)


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_otherwise():
    for terminal in (True, False):
        stream = io.StringIO()
        progress = Progress(terminal=terminal, stream=stream)
        progress.start_epoch("epoch 1/2", steps=10, batch_size=64)
        progress.show(4, 0.25)
        progress.end_epoch("epoch 1/2: done")
        text = stream.getvalue()
        assert "5/10  loss 0.2500" in text and "img/s" in text and text.endswith("epoch 1/2: done\n")
        assert ("\r" in text and "[############------------]" in text) == terminal


def test_out_of_device_memory_reports_the_checkers_estimate(tmp_path, monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(Step, "run_epoch", out_of_memory)
    result = CliRunner().invoke(cli, ["train", str(SPECS / "resnet_mini.yaml"), "--dataset", "mnist", "--data-dir",
                                      str(MNIST_SAMPLE), "--out", str(tmp_path / "o"), "--batch-size", "256"])
    assert result.exit_code == 4
    assert "out of memory on cpu at batch 256; the checker estimates 0.03 GiB for training" in result.output
    assert "hint: lower --batch-size" in result.output
