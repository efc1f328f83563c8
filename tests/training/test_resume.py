"""Killed, interrupted and terminated runs: checkpoints survive, and a resumed run ends exactly like an uninterrupted one."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
import torch

import netspec
from netspec.training.progress import Progress
from netspec.training.run import _StopOnSignal

from .conftest import MNIST_SAMPLE, SPECS

pytestmark = pytest.mark.slow
RUN = dict(epochs=2, batch_size=16, limit_train=600, seed=7, device="cpu")  # 38 steps an epoch: time to hit mid-epoch
TIMING = {"seconds", "images_per_second"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    """resnet_mini with dropout and random crops and flips: resuming must also restore where the random draws were."""
    text = (SPECS / "resnet_mini.yaml").read_text()
    text = text.replace("  - flatten ", "  - {kind: dropout, p: 0.3}\n  - flatten ")
    text = text.replace("  epochs: 1\n", "  epochs: 1\n  augment: {random_crop_padding: 2, horizontal_flip: true}\n")
    assert "dropout" in text and "augment" in text
    path = tmp_path_factory.mktemp("spec") / "resnet_dropout.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, spec):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("reference") / "run"
    result = netspec.train(str(spec), "mnist", data_dir=MNIST_SAMPLE, out=out, progress=False, **RUN)
    return result.history, torch.load(result.checkpoint, weights_only=True)["model"]


def start(spec, out, env, *extra):
    command = [sys.executable, "-m", "netspec", "train", str(spec), "--dataset", "mnist",
               "--data-dir", str(MNIST_SAMPLE), "--out", str(out), *extra]
    for key, value in RUN.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_into_second_epoch(process, out) -> None:
    """Return a while after epoch 1 is on disk, part-way through epoch 2 (metrics.jsonl is written last)."""
    metrics, deadline = out / "metrics.jsonl", time.monotonic() + 180
    while not (metrics.exists() and metrics.read_text().strip()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.3 * json.loads(metrics.read_text().splitlines()[0])["seconds"])


def assert_same_run(out, uninterrupted) -> None:
    history, weights = uninterrupted
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [{k: v for k, v in row.items() if k not in TIMING} for row in rows] == \
           [{k: v for k, v in row.items() if k not in TIMING} for row in history]
    resumed = torch.load(out / "checkpoint.pt", weights_only=True)["model"]
    assert resumed.keys() == weights.keys() and all(torch.equal(resumed[k], weights[k]) for k in weights)


def test_sigkill_in_the_second_epoch_then_resume_ends_like_the_uninterrupted_run(tmp_path, subprocess_env, spec,
                                                                                 uninterrupted):
    out = tmp_path / "run"
    process = start(spec, out, subprocess_env)
    wait_into_second_epoch(process, out)
    process.kill()
    process.communicate()
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 1  # killed before epoch 2 ended
    saved = torch.load(out / "checkpoint.pt", weights_only=True)
    assert (saved["epoch"], saved["step"]) == (1, 0)
    resumed = start(spec, out, subprocess_env, "--resume")
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert "resuming from" in stderr and "at epoch 2" in stderr
    assert_same_run(out, uninterrupted)


def test_sigterm_mid_epoch_finishes_the_step_checkpoints_and_resumes_exactly(tmp_path, subprocess_env, spec,
                                                                             uninterrupted):
    out = tmp_path / "run"
    process = start(spec, out, subprocess_env)
    wait_into_second_epoch(process, out)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert "SIGTERM: stopping after this step" in stderr and "continue with --resume" in stderr
    assert "Traceback" not in stderr
    saved = torch.load(out / "checkpoint.pt", weights_only=True)
    assert saved["epoch"] == 1 and saved["step"] > 0  # part-way through epoch 2
    resumed = start(spec, out, subprocess_env, "--resume")
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert f"at epoch 2, step {saved['step'] + 1}" in stderr
    assert_same_run(out, uninterrupted)


def test_ctrl_c_exits_130_after_writing_a_checkpoint(tmp_path, subprocess_env, spec):
    process = start(spec, tmp_path / "run", subprocess_env)
    wait_into_second_epoch(process, tmp_path / "run")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "SIGINT: stopping after this step" in stderr and "Traceback" not in stderr
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["step"] > 0


def test_a_second_ctrl_c_aborts_at_once():
    stop = _StopOnSignal(Progress(enabled=False))
    stop._handle(signal.SIGINT, None)
    assert stop.signalled == "SIGINT"
    with pytest.raises(KeyboardInterrupt):  # `netspec` turns it into "interrupted", exit 130
        stop._handle(signal.SIGINT, None)
