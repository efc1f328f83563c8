"""Data-parallel training: two Gloo processes on the CPU, launched by torchrun and by `netspec train --nproc-per-node`.

The slow tests start real process groups; the others check the pieces that need none
(sharding, the launcher's command line and failure report, refusals before training).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from click.testing import CliRunner

import netspec
from netspec.cli import cli
from netspec.training import CheckpointError, TrainError
from netspec.training.distributed import (EXIT_RANK_FAILED, DistributedRuntime, agreed_digest,
                                          convert_to_sync_batchnorm, failure_message, refuse_other_world_size,
                                          relaunch_arguments, start_runtime, weights_digest)

from .conftest import MNIST_SAMPLE, SPECS

SPEC = str(SPECS / "resnet_mini.yaml")
PER_RANK_BATCH, RANKS = 16, 2
RUN = ["--dataset", "mnist", "--data-dir", str(MNIST_SAMPLE), "--epochs", "2", "--batch-size", str(PER_RANK_BATCH),
       "--seed", "3", "--device", "cpu"]  # 1,200 images: 38 steps of 2 x 16 an epoch
TIMING = {"seconds", "images_per_second"}
# The 2-process run against one process with the same global batch (32) sees the same images in the same
# steps, but not bit for bit: each rank sums its 16 images' float32 gradients and Gloo adds the two halves,
# a different rounding than one sum of 32, and 76 SGD steps amplify it. Measured here: 5e-8 relative on
# epoch 1's losses, 3e-3 on epoch 2's, 3e-3 on the weights (relative norm). The bounds are what merely
# changing the single-process run from 1 to 2 intra-op threads does (measured: 7e-3 on the losses, 2e-2
# on the weights), while wrong averaging or overlapping shards move the losses by far more.
LOSS_RTOL, ACCURACY_ATOL, WEIGHT_RTOL = 1e-2, 0.01, 2e-2


def test_each_rank_gets_an_equal_strided_share_and_the_shares_make_the_global_batches():
    order = torch.randperm(11)
    shares = [DistributedRuntime(torch.device("cpu"), rank, 3).shard(order) for rank in range(3)]
    assert [len(share) for share in shares] == [3, 3, 3]  # 11 % 3 = 2 images sit this epoch out
    step_zero = torch.cat([share[:2] for share in shares])  # batch 2 per rank: step 0 of batch 6 in one process
    assert sorted(step_zero.tolist()) == sorted(order[:6].tolist())


def test_more_processes_than_training_images_is_refused_before_training():
    with pytest.raises(TrainError, match="3 images cannot be shared among 4 processes"):
        DistributedRuntime(torch.device("cpu"), 0, 4).shard(torch.arange(3))


def test_resume_with_another_world_size_is_refused_naming_both():
    with pytest.raises(CheckpointError, match="written by a run on 2 processes; this run has a single process") as error:
        refuse_other_world_size({"world_size": 2}, Path("run/checkpoint.pt"), 1)
    assert "--nproc-per-node 2" in str(error.value)
    refuse_other_world_size({}, Path("old/checkpoint.pt"), 1)  # checkpoints from before data-parallel: one process


def test_replicas_that_differ_stop_the_run_naming_the_ranks():
    assert agreed_digest(["ab" * 32] * 3) == "ab" * 32
    with pytest.raises(TrainError, match=r"rank\(s\) 2 differ from rank 0"):
        agreed_digest(["ab" * 32, "ab" * 32, "cd" * 32])


def test_sync_batchnorm_on_the_cpu_is_refused_before_joining_the_group(monkeypatch):
    for name, value in {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "localhost",
                        "MASTER_PORT": "1"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(TrainError, match="SyncBatchNorm does not run on the CPU"):
        start_runtime("cpu", sync_batchnorm=True)


def test_the_launcher_passes_on_every_given_option_but_nproc_per_node():
    from netspec.training.cli import train

    given = [SPEC, "--dataset", "mnist", "--epochs", "3", "--resume", "--no-download", "--nproc-per-node", "4",
             "--sync-batchnorm", "--device", "cuda", "--set", "num_classes=10", "--set", "train.lr=0.1",
             "--scale", "s"]
    arguments = relaunch_arguments(train.make_context("train", list(given)), "nproc_per_node")
    assert arguments[0] == "train" and "--nproc-per-node" not in arguments
    again = train.make_context("train", arguments[1:]).params
    expected = dict(train.make_context("train", list(given)).params, nproc_per_node=None)
    assert again == expected


def test_nproc_per_node_under_torchrun_is_a_usage_error(monkeypatch):
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.setenv(name, "0")
    result = CliRunner().invoke(cli, ["train", SPEC, "--dataset", "mnist", "--nproc-per-node", "2"])
    assert result.exit_code == 2 and "under torchrun, drop it" in result.output


def test_the_failure_report_names_the_rank_that_died_first():
    def failure(local_rank, exitcode, signal_name=""):
        return SimpleNamespace(local_rank=local_rank, pid=100 + local_rank, exitcode=exitcode, timestamp=0,
                               signal_name=lambda: signal_name)

    from netspec.training.distributed import _failure_order

    failures = sorted({0: failure(0, -signal.SIGTERM), 1: failure(1, -signal.SIGKILL, "SIGKILL"),
                       2: failure(2, 1)}.items(), key=_failure_order)
    message = failure_message(failures)
    assert message.startswith("error: data-parallel run failed: rank 1 (local rank 1, pid 101) was killed by SIGKILL")
    assert "then rank 2 stopped with exit status 1, rank 0 was stopped (SIGTERM)" in message


# ---- two real Gloo processes -----------------------------------------------------------------------------------


def launch(out: Path, env: dict, *extra: str, torchrun: bool = False) -> subprocess.Popen:
    if torchrun:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={RANKS}",
                   "-m", "netspec", "train"]
    else:
        command = [sys.executable, "-m", "netspec", "train", f"--nproc-per-node={RANKS}"]
    return subprocess.Popen(command + [SPEC, *RUN, "--out", str(out), *extra], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def finish(process: subprocess.Popen, timeout: float = 240) -> str:
    try:
        return process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the launcher and its workers: a hang fails the test, not the suite
        raise


def history(out: Path) -> list[dict]:
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [{key: value for key, value in row.items() if key not in TIMING} for row in rows]


def rank_process(launcher: int, rank: int) -> int | None:
    """The pid of the worker with RANK=`rank` among the launcher's children."""
    for entry in Path("/proc").iterdir():
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environment = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if parent == launcher and f"RANK={rank}".encode() in environment:
            return int(entry.name)
    return None


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """resnet_mini trained by two Gloo processes under torchrun, 16 images per rank and step."""
    out = tmp_path_factory.mktemp("ddp") / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    process = launch(out, env, torchrun=True)
    output = finish(process)
    assert process.returncode == 0, output
    return out, output


@pytest.mark.slow
def test_two_gloo_ranks_end_with_identical_weights_and_rank_0_writes_alone(two_ranks):
    out, output = two_ranks
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    assert checkpoint["world_size"] == RANKS
    # every rank's digest was gathered and compared at each save; the agreed one is rank 0's saved weights
    assert checkpoint["weights_sha256"] == weights_digest(checkpoint["model"], list(checkpoint["model"]))
    assert "2 processes (Gloo, cpu), batch 16 per process = 32 per step" in output
    # one random-number state per rank, and they differ: the ranks draw their own dropout masks
    states = [rank_state["torch"] for rank_state in checkpoint["rng"]]
    assert len(states) == RANKS and not torch.equal(states[0], states[1])
    assert output.count("test accuracy") == 2  # rank 0's evaluation and summary lines, not rank 1's
    assert sorted(path.name for path in out.iterdir()) == ["best.pt", "checkpoint.pt", "confusion.png", "curves.png",
                                                           "evaluation.json", "metrics.jsonl", "tensorboard"]
    assert len(list((out / "tensorboard").iterdir())) == 1  # rank 0's event file alone


@pytest.mark.slow
def test_the_loss_curve_matches_one_process_with_the_same_global_batch(two_ranks, tmp_path):
    out, _ = two_ranks
    torch.set_num_threads(1)
    single = netspec.train(SPEC, "mnist", data_dir=MNIST_SAMPLE, epochs=2, batch_size=PER_RANK_BATCH * RANKS, seed=3,
                           device="cpu", out=tmp_path / "single", progress=False)
    for parallel, alone in zip(history(out), single.history, strict=True):
        for key in ("train_loss", "val_loss"):
            assert parallel[key] == pytest.approx(alone[key], rel=LOSS_RTOL), key
        for key in ("train_acc", "val_acc"):
            assert parallel[key] == pytest.approx(alone[key], abs=ACCURACY_ATOL), key
        assert parallel["lr"] == pytest.approx(alone["lr"], rel=1e-12)  # same steps per epoch
    parallel_weights = torch.load(out / "checkpoint.pt", weights_only=True)["model"]
    single_weights = torch.load(single.checkpoint, weights_only=True)["model"]
    difference = sum((parallel_weights[k] - single_weights[k]).square().sum() for k in single_weights).sqrt()
    size = sum(single_weights[k].square().sum() for k in single_weights).sqrt()
    assert difference / size < WEIGHT_RTOL


@pytest.mark.slow
def test_resuming_a_two_process_run_in_one_process_is_refused(two_ranks):
    out, _ = two_ranks
    with pytest.raises(CheckpointError, match="written by a run on 2 processes"):
        netspec.train(SPEC, "mnist", data_dir=MNIST_SAMPLE, epochs=2, batch_size=PER_RANK_BATCH, seed=3,
                      device="cpu", out=out, resume=True, progress=False)


def wait_for(process: subprocess.Popen, ready) -> None:
    deadline = time.monotonic() + 180
    while not ready():
        assert process.poll() is None and time.monotonic() < deadline, finish(process)
        time.sleep(0.02)


@pytest.mark.slow
def test_a_killed_rank_ends_the_run_with_a_message_naming_it(tmp_path, subprocess_env):
    out = tmp_path / "run"
    process = launch(out, subprocess_env)
    wait_for(process, lambda: rank_process(process.pid, 1) is not None and (out / "checkpoint.pt").exists())
    victim = rank_process(process.pid, 1)
    os.kill(victim, signal.SIGKILL)
    output = finish(process)
    assert process.returncode == EXIT_RANK_FAILED, output
    assert f"data-parallel run failed: rank 1 (local rank 1, pid {victim}) was killed by SIGKILL" in output
    assert "Traceback" not in output and "internal error" not in output  # rank 0 lost its peer: a message


@pytest.mark.slow
def test_ctrl_c_stops_both_ranks_after_the_same_step_and_resume_on_two_ends_like_the_uninterrupted_run(
        two_ranks, tmp_path, subprocess_env):
    out = tmp_path / "run"
    process = launch(out, subprocess_env)
    metrics = out / "metrics.jsonl"
    wait_for(process, lambda: metrics.exists() and metrics.read_text().strip())
    time.sleep(0.3 * json.loads(metrics.read_text().splitlines()[0])["seconds"])  # part-way into epoch 2
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: to the launcher, which passes it on
    output = finish(process)
    assert process.returncode == 130, output
    stopped = torch.load(out / "checkpoint.pt", weights_only=True)
    assert (stopped["epoch"], stopped["step"] > 0) == (1, True), "expected a mid-epoch checkpoint"

    resumed = launch(out, subprocess_env, "--resume")
    output = finish(resumed)
    assert resumed.returncode == 0, output
    reference, _ = two_ranks
    assert history(out) == history(reference)  # the epoch's counters went on from all ranks' partial sums
    weights = torch.load(out / "checkpoint.pt", weights_only=True)["model"]
    expected = torch.load(reference / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(weights[k], expected[k]) for k in expected)


def test_sync_batchnorm_swaps_the_spec_batchnorms_and_keeps_the_checkpoint_names(tmp_path):
    spec = tmp_path / "bn.yaml"
    spec.write_text("name: bn\ninput: [1, 8, 8]\nlayers:\n  - {kind: conv, name: conv1, out_channels: 4, kernel_size: 3}\n"
                    "  - {kind: batchnorm, name: bn1}\n  - relu\n  - flatten\n  - {kind: linear, name: fc, out_features: 2}\n")
    model = netspec.build(str(spec))
    names, parameters = list(model.state_dict()), list(model.parameters())
    assert convert_to_sync_batchnorm(model) == 1  # (DDP accepts SyncBatchNorm on GPU modules only)
    assert list(model.state_dict()) == names and all(a is b for a, b in zip(model.parameters(), parameters))
    model.eval()  # outside training it normalises with the running statistics, like BatchNorm2d
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 2)
