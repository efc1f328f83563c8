"""`netspec train`, `eval` and `predict` through the CLI: outputs, settings, and every fault a user meets."""

from __future__ import annotations

import json
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import netspec
from netspec.cli import cli
from netspec.training.data import load_dataset

from .conftest import MNIST_SAMPLE, SPECS, write_cifar_folder

RESNET = str(SPECS / "resnet_mini.yaml")


def invoke(*args):
    result = CliRunner().invoke(cli, [str(arg) for arg in args])
    assert "Traceback" not in result.output and not isinstance(result.exception, (AssertionError, TypeError,
                                                                                   AttributeError, KeyError))
    return result


def test_train_leaves_metrics_curves_checkpoint_and_evaluation(trained_run):
    out = trained_run.out
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == [1, 2]
    assert set(rows[0]) >= {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds",
                            "images_per_second"}
    assert not {"test_loss", "test_acc"} & set(rows[0])  # the test split is evaluated once, at the end
    assert rows[1]["val_loss"] < rows[0]["val_loss"] and rows[1]["val_acc"] >= 0.75  # 1,080 images, 2 epochs
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["test_acc"] == trained_run.test_acc >= 0.75 and evaluation["images"] == 400
    assert sum(map(sum, evaluation["confusion"])) == 400 and set(evaluation["per_class"]) == set("0123456789")
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 2 and state["spec_text"] == (SPECS / "resnet_mini.yaml").read_text()
    assert {"model", "optimizer", "scheduler", "rng", "history", "settings"} <= set(state)


def test_eval_reports_accuracy_per_class_and_confusion(trained_run):
    result = invoke("eval", RESNET, trained_run.checkpoint, "--dataset", "mnist", "--data-dir", MNIST_SAMPLE)
    assert result.exit_code == 0, result.output
    accuracy = trained_run.test_acc
    assert f"test accuracy {accuracy:.2%} on 400 images" in result.output
    assert "per-class accuracy:" in result.output and "confusion matrix (rows: true class" in result.output
    as_json = json.loads(invoke("eval", RESNET, trained_run.checkpoint, "--data-dir", MNIST_SAMPLE, "--json").output)
    assert as_json == json.loads((trained_run.out / "evaluation.json").read_text())


def test_predict_gives_top_k_classes_with_probabilities_for_png_files(trained_run, tmp_path):
    data = load_dataset("mnist", MNIST_SAMPLE, download=False)
    paths = []
    for index in range(12):
        path = tmp_path / f"digit{index}.png"
        Image.fromarray(data.test_images[index, 0].numpy()).save(path)
        paths.append(path)
    result = invoke("predict", RESNET, trained_run.checkpoint, *paths, "--top", "3", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["image"] for row in rows] == [str(path) for path in paths]
    for row in rows:
        probabilities = [entry["probability"] for entry in row["top"]]
        assert len(probabilities) == 3 and probabilities == sorted(probabilities, reverse=True)
        assert sum(probabilities) <= 1 + 1e-6
    hits = sum(row["top"][0]["class"] == str(int(label)) for row, label in zip(rows, data.test_labels[:12]))
    assert hits >= 9
    text = invoke("predict", RESNET, trained_run.checkpoint, paths[0]).output
    assert text.startswith(f"{paths[0]}: ") and text.count("%") == 3


def test_lenet_trains_end_to_end_on_a_cifar10_format_folder(tmp_path):
    write_cifar_folder(tmp_path / "cifar", per_batch=20)
    result = invoke("train", SPECS / "lenet_cifar.yaml", "--dataset", "cifar10", "--data-dir", tmp_path / "cifar",
                    "--epochs", "2", "--out", tmp_path / "out", "--device", "cpu")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(np.isfinite(row["train_loss"]) for row in rows)
    assert json.loads((tmp_path / "out" / "evaluation.json").read_text())["classes"][0] == "airplane"


def test_a_spec_for_other_images_is_refused_before_data_or_out_are_touched(tmp_path):
    # the folder holds no CIFAR-10 at all: the shape mismatch is found before anything is read or written
    result = invoke("train", RESNET, "--dataset", "cifar10", "--data-dir", tmp_path / "empty", "--out", tmp_path / "o",
                    "--no-download")
    assert result.exit_code == 1
    assert "the spec expects input [1, 28, 28]; cifar10 images are [3, 32, 32]" in result.output
    assert "hint: cifar10 has 3 channels: train this spec on mnist or fashion-mnist, or change its `input`" \
        in result.output
    assert not (tmp_path / "o").exists()


def test_a_spec_for_bigger_images_is_told_which_resize_fits(tmp_path):
    spec = tmp_path / "alexnet.yaml"
    spec.write_text((SPECS / "alexnet_fashion.yaml").read_text().replace("resize: 224", "resize: 112"))
    result = invoke("train", spec, "--dataset", "fashion-mnist", "--out", tmp_path / "o")
    assert result.exit_code == 1
    assert "the spec expects input [1, 224, 224]; fashion-mnist images are [1, 112, 112] after resize to 112" \
        in result.output
    assert "hint: set `resize: 224` in the spec's train: section, or change its `input`" in result.output
    spec.write_text((SPECS / "resnet_mini.yaml").read_text().replace("input: [1, 28, 28]", "input: [1, 28, 36]"))
    result = invoke("train", spec, "--dataset", "mnist", "--out", tmp_path / "o")
    assert result.exit_code == 1 and "resize makes square images only" in result.output


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    spec = (SPECS / "resnet_mini.yaml").read_text().replace(
        "schedule: {kind: onecycle}", "schedule: {kind: step, step_size: 1, gamma: 1.0e8}")  # epoch 2: lr 1e6
    (tmp_path / "net.yaml").write_text(spec)
    result = invoke("train", tmp_path / "net.yaml", "--dataset", "mnist", "--data-dir", MNIST_SAMPLE, "--epochs", "2",
                    "--lr", "0.01", "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 3
    assert "the training loss became NaN or infinite at epoch 2, step " in result.output
    assert f"the last good checkpoint is {tmp_path / 'out' / 'checkpoint.pt'}" in result.output
    state = torch.load(tmp_path / "out" / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 1 and all(torch.isfinite(value).all() for value in state["model"].values())


@pytest.mark.parametrize("damage, message", [
    ("truncate", "the file is truncated or corrupt"),
    ("garbage", "the file is truncated or corrupt"),
    ("state_dict", "expected a netspec checkpoint; this is some other file"),
    ("code", "refusing to load: it holds a Python object (PIL.Image.Image) besides tensors"),
])
def test_damaged_or_foreign_checkpoints_are_clear_errors(trained_run, tmp_path, damage, message):
    path = tmp_path / "checkpoint.pt"
    good = trained_run.checkpoint.read_bytes()
    if damage == "truncate":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        path.write_bytes(bytes(range(256)) * 10)
    elif damage == "state_dict":
        torch.save(netspec.build(RESNET).state_dict(), path)
    else:
        torch.save({"format": "netspec-checkpoint", "payload": Image.new("L", (2, 2))}, path)
    result = invoke("eval", RESNET, path, "--data-dir", MNIST_SAMPLE)
    assert result.exit_code == 1 and message in result.output, result.output


def test_checkpoint_of_another_network_names_the_tensors_that_do_not_fit(trained_run):
    result = invoke("eval", SPECS / "googlenet_mini.yaml", trained_run.checkpoint, "--data-dir", MNIST_SAMPLE)
    assert result.exit_code == 1
    assert "the checkpoint does not fit this spec's network (it was saved for 'resnet_mini')" in result.output
    assert "missing: incep1." in result.output


def test_run_folder_problems_are_clear_errors(trained_run, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    unwritable = invoke("train", RESNET, "--dataset", "mnist", "--data-dir", MNIST_SAMPLE, "--out", tmp_path / "file" / "x")
    assert unwritable.exit_code == 1 and f"cannot write to --out {tmp_path / 'file' / 'x'}" in unwritable.output
    taken = invoke("train", RESNET, "--dataset", "mnist", "--data-dir", MNIST_SAMPLE, "--out", trained_run.out)
    assert taken.exit_code == 1 and "already holds a run" in taken.output and "--resume" in taken.output
    nothing = invoke("train", RESNET, "--dataset", "mnist", "--data-dir", MNIST_SAMPLE, "--out", tmp_path / "new",
                     "--resume")
    assert nothing.exit_code == 1 and "nothing to resume" in nothing.output
    changed = invoke("train", RESNET, "--dataset", "mnist", "--data-dir", MNIST_SAMPLE, "--out", trained_run.out,
                     "--resume", "--lr", "0.2")
    assert changed.exit_code == 1 and "--resume must keep the run's settings; changed: config" in changed.output


def test_offline_without_data_is_one_message_with_the_fix(tmp_path):
    result = invoke("train", RESNET, "--dataset", "mnist", "--data-dir", tmp_path / "nothing", "--no-download",
                    "--out", tmp_path / "o")
    assert result.exit_code == 1
    assert result.output.startswith("error: no mnist data found. Looked in:\n")
    assert "download: skipped (--no-download)" in result.output and "hint: pass --data-dir DIR" in result.output


def test_bad_training_settings_are_refused_with_the_reason(tmp_path):
    with pytest.raises(netspec.training.TrainError, match="unknown training setting 'epoch'"):
        netspec.train(RESNET, "mnist", epoch=3, out=tmp_path / "o")
    spec = (SPECS / "resnet_mini.yaml").read_text().replace("momentum: 0.9", "momentum: 0.0")
    (tmp_path / "net.yaml").write_text(spec)
    with pytest.raises(netspec.training.TrainError, match="train.nesterov needs momentum > 0"):
        netspec.train(str(tmp_path / "net.yaml"), "mnist", out=tmp_path / "o")
