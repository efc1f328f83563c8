"""The validation split decides (plateau, early stopping, best.pt); the test split is read once, at the end."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

import netspec
from netspec.cli import cli
from netspec.training import run as run_module
from netspec.training.data import load_dataset
from netspec.training.holdout import with_validation
from netspec.training.loop import Schedule

from .conftest import MNIST_SAMPLE
from .folders import cache_in_tmp, tiny_spec, write_classes  # noqa: F401 (fixture)


pytestmark = pytest.mark.usefixtures("cache_in_tmp")


@pytest.fixture
def three_splits(tmp_path):
    for split, seed in (("train", 0), ("val", 1), ("test", 2)):
        write_classes(tmp_path / "data" / split, {"cat": 12, "dog": 12, "eel": 12}, seed=seed)
    return tmp_path / "data"


@pytest.fixture
def spy(monkeypatch):
    """Which labels each evaluation read, the loss plateau stepped on, and the run's data."""
    seen = {"evaluated": [], "plateau": [], "data": None}
    evaluate, require, after_epoch = run_module.evaluate, run_module.require_validation, Schedule.after_epoch

    def recording_evaluate(model, images, labels, *args):
        seen["evaluated"].append(labels)
        return evaluate(model, images, labels, *args)

    def recording_data(data, *args):  # the run's data, split and limited, as training will read it
        seen["data"] = data
        return require(data, *args)

    def recording_after_epoch(self, val_loss):
        seen["plateau"].append(val_loss)
        return after_epoch(self, val_loss)

    monkeypatch.setattr(run_module, "evaluate", recording_evaluate)
    monkeypatch.setattr(run_module, "require_validation", recording_data)
    monkeypatch.setattr(Schedule, "after_epoch", recording_after_epoch)
    return seen


def test_plateau_and_best_pt_read_validation_and_the_test_split_is_read_once_at_the_end(three_splits, tmp_path,
                                                                                         spy):
    result = netspec.train(tiny_spec(tmp_path), str(three_splits), epochs=4, schedule={"kind": "plateau"},
                           out=tmp_path / "run", device="cpu", progress=False)
    data = spy["data"]
    *during, last = spy["evaluated"]
    assert len(during) == 4 and all(labels is data.val_labels for labels in during)
    assert last is data.test_labels and result.evaluation.split == "test" and result.evaluation.total == 36
    assert spy["plateau"] == [row["val_loss"] for row in result.history]
    best = torch.load(tmp_path / "run" / "best.pt", weights_only=True)
    accuracies = [row["val_acc"] for row in result.history]
    assert best["epoch"] == accuracies.index(max(accuracies)) + 1
    assert best["model"].keys() == torch.load(result.checkpoint, weights_only=True)["model"].keys()


def test_early_stopping_ends_after_n_epochs_without_a_better_validation_accuracy(three_splits, tmp_path, spy):
    result = netspec.train(tiny_spec(tmp_path), str(three_splits), epochs=8, lr=1e-12, early_stopping=2,
                           out=tmp_path / "run", device="cpu", progress=False)
    assert len(result.history) == 3  # epoch 1 is the best; 2 and 3 do not beat it
    assert len({row["val_acc"] for row in result.history}) == 1
    assert spy["evaluated"][-1] is spy["data"].test_labels and len(spy["evaluated"]) == 4


def test_a_held_out_fraction_is_fixed_by_the_seed_and_disjoint_from_train():
    data = load_dataset("mnist", MNIST_SAMPLE, download=False)
    first, again, other = (with_validation(data, 0.1, seed) for seed in (0, 0, 1))
    assert len(first.val_labels) == 120 and len(first.train_labels) == 1080
    assert torch.equal(first.val_images, again.val_images) and not torch.equal(first.val_images, other.val_images)
    rows = {bytes(image.flatten().tolist()) for image in first.train_images}
    assert not any(bytes(image.flatten().tolist()) in rows for image in first.val_images)
    assert with_validation(data, 0, 0).val_images is None


def test_plateau_without_a_validation_split_is_refused(three_splits, tmp_path):
    single = write_classes(tmp_path / "single", {"cat": 4, "dog": 4, "eel": 4})
    result = CliRunner().invoke(cli, ["train", str(tiny_spec(tmp_path)), "--dataset", str(single), "--val-fraction",
                                      "0", "--schedule", "plateau", "--out", str(tmp_path / "run")])
    assert result.exit_code == 1 and "schedule: plateau read the validation split" in result.output


def test_resume_with_more_epochs_extends_a_finished_run_and_a_refusal_names_the_setting(three_splits, tmp_path):
    spec, out = tiny_spec(tmp_path), tmp_path / "run"
    args = ["train", str(spec), "--dataset", str(three_splits), "--out", str(out), "--device", "cpu"]
    assert CliRunner().invoke(cli, args + ["--epochs", "2"]).exit_code == 0
    extended = CliRunner().invoke(cli, args + ["--epochs", "3", "--resume"])
    assert extended.exit_code == 0, extended.output
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == [1, 2, 3]
    refused = CliRunner().invoke(cli, args + ["--epochs", "4", "--resume", "--lr", "0.2", "--seed", "5"])
    assert refused.exit_code == 1
    assert "changed: config.lr 0.05 -> 0.2; seed 0 -> 5" in refused.output
    fewer = CliRunner().invoke(cli, args + ["--epochs", "2", "--resume"])
    assert fewer.exit_code == 1 and "config.epochs 3 -> 2" in fewer.output
    cosine = CliRunner().invoke(cli, args + ["--epochs", "5", "--resume", "--schedule", "cosine"])
    assert "config.epochs 3 -> 5" in cosine.output and "config.schedule.kind 'none' -> 'cosine'" in cosine.output
