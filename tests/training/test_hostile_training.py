"""Faults on the training path (issue 16, issue 12's bugs): each ended in "internal error" (exit 70) before.

One-cycle on runs of a few steps, `train:` numbers torch refuses (torch is the oracle: the checker
refuses exactly what torch's optimizers and schedulers refuse), a last batch of one image meeting
batchnorm, the CPU allocator running out of memory, a decompression-bomb image given to predict,
and the files of a run following the umask.
"""

from __future__ import annotations

import os
import struct
import zlib

import pytest
import torch
from click.testing import CliRunner

import netspec
from netspec.cli import cli
from netspec.training.loop import warmup_fraction

from .conftest import MNIST_SAMPLE, SPECS


@pytest.mark.parametrize("spec, limit, batch", [("resnet_mini", 512, None), ("googlenet_mini", 256, 64)])
def test_one_cycle_trains_on_runs_of_a_few_steps(tmp_path, spec, limit, batch):
    """4 steps at warm-up 0.25: a warm-up of one step, which torch divided by zero on."""
    result = netspec.train(str(SPECS / f"{spec}.yaml"), "mnist", data_dir=MNIST_SAMPLE, epochs=1, limit_train=limit,
                           batch_size=batch, limit_test=64, out=tmp_path / "run", device="cpu", progress=False)
    assert len(result.history) == 1 and result.history[0]["lr"] > 0


@pytest.mark.parametrize("total", range(1, 41))
def test_every_one_cycle_warmup_torch_is_given_runs_through(total):
    for warmup in (0, 0.25, 0.3, 1 / 3, 0.5, 0.1, 0.99):
        optimizer = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=total,
                                                       pct_start=warmup_fraction(warmup, total))
        for _ in range(total):
            optimizer.step()
            schedule.step()


def _torch_refuses(field: str, value) -> bool:
    """Does torch's own optimizer or scheduler refuse this `train:` value?"""
    optimizer = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1)
    schedulers = torch.optim.lr_scheduler
    makers = {
        "lr": lambda: torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=value),
        "momentum": lambda: torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1, momentum=value),
        "weight_decay": lambda: torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1, weight_decay=value),
        "factor": lambda: schedulers.ReduceLROnPlateau(optimizer, factor=value),
        "warmup": lambda: schedulers.OneCycleLR(optimizer, 0.1, total_steps=10, pct_start=float(value)),
        "label_smoothing": lambda: torch.nn.functional.cross_entropy(torch.zeros(1, 2), torch.zeros(1).long(),
                                                                     label_smoothing=value),
    }
    try:
        makers[field]()
    except ValueError:
        return True
    except RuntimeError:
        return True
    return False


@pytest.mark.parametrize("field, value", [("lr", -0.5), ("momentum", -3), ("weight_decay", -1),
                                          ("factor", 5), ("factor", 1.0), ("warmup", 7), ("warmup", -0.1),
                                          ("label_smoothing", 1.5)])
def test_the_checker_refuses_the_train_values_torch_refuses(check_text, field, value):
    assert _torch_refuses(field, value)
    section = f"schedule: {{kind: plateau, {field}: {value}}}" if field in ("factor", "warmup") else f"{field}: {value}"
    report = check_text(f"name: t\ninput: [1, 8, 8]\nlayers: [flatten, {{kind: linear, out_features: 10}}]\n"
                        f"train:\n  {section}\n")
    (error,) = report.errors
    assert error.code == "schema.type" and error.line == 5 and field in error.message


@pytest.mark.parametrize("field, value", [("lr", 1e-6), ("momentum", 0), ("momentum", 0.99), ("weight_decay", 0),
                                          ("factor", 0.5), ("warmup", 0), ("warmup", 0.9), ("label_smoothing", 0)])
def test_the_checker_accepts_the_train_values_torch_accepts(check_text, field, value):
    assert not _torch_refuses(field, value)
    section = f"schedule: {{kind: plateau, {field}: {value}}}" if field in ("factor", "warmup") else f"{field}: {value}"
    report = check_text(f"name: t\ninput: [1, 8, 8]\nlayers: [flatten, {{kind: linear, out_features: 10}}]\n"
                        f"train:\n  {section}\n")
    assert report.ok, report.errors


@pytest.mark.parametrize("field, value", [("lr", 0), ("momentum", 1)])
def test_two_bounds_are_stricter_than_torch(check_text, field, value):
    """torch takes lr 0 (nothing is learned; --lr refuses it too) and momentum 1 (the step never decays)."""
    assert not _torch_refuses(field, value)
    report = check_text(f"name: t\ninput: [1, 8, 8]\nlayers: [flatten, {{kind: linear, out_features: 10}}]\n"
                        f"train: {{{field}: {value}}}\n")
    assert [e.code for e in report.errors] == ["schema.type"]


def test_a_schedule_kind_alone_is_the_kind_with_its_defaults(check_text, tmp_path):
    report = check_text("name: t\ninput: [1, 28, 28]\nlayers: [flatten, {kind: linear, out_features: 10}]\n"
                        "train: {schedule: cosine, batch_size: 64}\n")
    assert report.ok and report.spec.train.schedule.kind == "cosine"
    result = netspec.train(report.spec, "mnist", data_dir=MNIST_SAMPLE, epochs=1, limit_train=128, limit_test=64,
                           out=tmp_path / "run", device="cpu", progress=False)
    assert result.history[0]["lr"] < 0.01 * 0.01  # cosine annealed to (nearly) zero over the run


BATCHNORM_1D = """
name: bn
input: [1, 28, 28]
layers: [flatten, {kind: linear, out_features: 16}, batchnorm, relu, {kind: linear, out_features: 10}]
train: {batch_size: 32}
"""


def test_a_last_batch_of_one_image_is_dropped_for_batchnorm(check_text, tmp_path):
    report = check_text(BATCHNORM_1D)
    result = netspec.train(report.spec, "mnist", data_dir=MNIST_SAMPLE, epochs=1, limit_train=65, limit_test=64,
                           out=tmp_path / "run", device="cpu", progress=False, val_fraction=0)  # all 65 train
    assert result.history[0]["train_acc"] >= 0  # it trained: 2 steps of 32, the 65th image sat out


def test_batchnorm_on_a_single_image_is_a_clear_error(check_text, tmp_path):
    report = check_text(BATCHNORM_1D)
    with pytest.raises(netspec.training.TrainError, match="batchnorm cannot train on a batch of one image"):
        netspec.train(report.spec, "mnist", data_dir=MNIST_SAMPLE, epochs=1, limit_train=1, limit_test=64,
                      out=tmp_path / "run", device="cpu", progress=False, val_fraction=0)


def test_cpu_out_of_memory_is_exit_4_like_cuda(tmp_path, monkeypatch):
    from netspec.training import run

    def allocate_too_much(self, resumed):
        torch.empty(2**62, dtype=torch.uint8)  # the CPU allocator's own refusal, a plain RuntimeError

    monkeypatch.setattr(run._Run, "go", allocate_too_much)
    result = CliRunner().invoke(cli, ["train", str(SPECS / "resnet_mini.yaml"), "--dataset", "mnist", "--data-dir",
                                      str(MNIST_SAMPLE), "--out", str(tmp_path / "run"), "--device", "cpu", "--quiet"])
    assert result.exit_code == 4, result.output
    assert "out of memory on cpu at batch 128" in result.output and "lower --batch-size" in result.output


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels (a decompression bomb's calling card)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height, message", [
    (10_000, 10_000, "expected at most 50,000,000 pixels; it has 10000 x 10000 = 100,000,000"),  # PIL only warns
    (20_000, 20_000, "could be decompression bomb"),  # PIL's DecompressionBombError, an internal error before
])
def test_predict_refuses_an_image_of_too_many_pixels_before_decoding(trained_run, tmp_path, width, height, message):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(width, height))
    result = CliRunner().invoke(cli, ["predict", str(SPECS / "resnet_mini.yaml"), str(trained_run.checkpoint),
                                      str(bomb)])
    assert result.exit_code == 1, result.output
    assert f"cannot read image {bomb}" in result.output and message in result.output


def test_a_runs_files_follow_the_umask(trained_run):
    mask = os.umask(0o022)
    os.umask(mask)
    expected = 0o666 & ~mask
    modes = {path.name: path.stat().st_mode & 0o777 for path in trained_run.out.iterdir()}
    for name in ("checkpoint.pt", "metrics.jsonl", "curves.png", "evaluation.json"):
        assert modes[name] == expected, (name, oct(modes[name]))
