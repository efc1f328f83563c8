"""A variant trained with `--set` is rebuilt from its checkpoint by eval, predict, export and --resume."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from netspec.cli import cli
from netspec.training.data import load_dataset

from .conftest import MNIST_SAMPLE, REPO

FAMILY = str(REPO / "examples" / "resnet_family.yaml")


def invoke(*args):
    result = CliRunner().invoke(cli, [str(arg) for arg in args])
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture(scope="module")
def narrow_run(tmp_path_factory):
    """resnet_family trained at width 8 (its default is 16) and lr 0.1, one short epoch."""
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("variant") / "run"
    result = invoke("train", FAMILY, "--dataset", "mnist", "--data-dir", MNIST_SAMPLE, "--limit-train", 256,
                    "--limit-test", 128, "--device", "cpu", "--quiet", "--out", out, "--set", "width=8",
                    "--set", "train.lr=0.1")
    assert result.exit_code == 0, result.output
    return out


def test_train_set_width_trains_the_variant_and_the_checkpoint_records_it(narrow_run):
    state = torch.load(narrow_run / "checkpoint.pt", weights_only=True)
    assert state["variant"] == {"scale": None, "overrides": {"width": 8, "train.lr": 0.1}}
    assert state["model"]["conv1.weight"].shape[0] == 8 and state["settings"]["config"]["lr"] == 0.1


def test_eval_predict_and_export_need_no_set(narrow_run, tmp_path):
    checkpoint = narrow_run / "checkpoint.pt"
    evaluated = invoke("eval", FAMILY, checkpoint, "--data-dir", MNIST_SAMPLE, "--limit-test", 64)
    assert evaluated.exit_code == 0, evaluated.output
    assert "on 64 images" in evaluated.output
    image = tmp_path / "digit.png"
    Image.fromarray(load_dataset("mnist", MNIST_SAMPLE, download=False).test_images[0, 0].numpy()).save(image)
    assert invoke("predict", FAMILY, checkpoint, image, "--device", "cpu").exit_code == 0
    exported = invoke("export", FAMILY, "--checkpoint", checkpoint, "--format", "python", "-o", tmp_path / "net.py")
    assert exported.exit_code == 0, exported.output
    assert "x = self.conv1(x)  # (8, 24, 24)" in (tmp_path / "net.py").read_text()
    assert invoke("filters", FAMILY, checkpoint, "-o", tmp_path / "filters.png").exit_code == 0
    assert invoke("eval", FAMILY, checkpoint, "--data-dir", MNIST_SAMPLE, "--limit-test", 8, "--set",
                  "width=8").exit_code == 0  # repeating the recorded value is fine


@pytest.mark.parametrize("flags, message", [
    (["--set", "width=16"], f"<--set width=16>:1:7: error: --set width=16 contradicts {{checkpoint}}, trained with "
                            "width=8"),
    (["--set", "depth=2"], "<--set depth=2>:1:7: error: --set depth=2 contradicts {checkpoint}, trained with the "
                           "spec's own depth"),
    (["--scale", "m"], "<--scale m>:1:9: error: scale 'm' contradicts {checkpoint}, trained with no scale"),
])
def test_a_contradicting_override_is_refused_naming_it(narrow_run, flags, message):
    checkpoint = narrow_run / "checkpoint.pt"
    for command in (["eval", FAMILY, checkpoint, "--data-dir", MNIST_SAMPLE],
                    ["export", FAMILY, "--checkpoint", checkpoint, "-o", narrow_run / "x.onnx"]):
        result = invoke(*command, *flags)
        assert result.exit_code == 1
        assert message.format(checkpoint=checkpoint) in result.stderr.splitlines()


def test_resume_rebuilds_the_variant_without_repeating_set(narrow_run):
    common = ["train", FAMILY, "--dataset", "mnist", "--data-dir", MNIST_SAMPLE, "--limit-train", 256,
              "--limit-test", 128, "--device", "cpu", "--quiet", "--out", narrow_run, "--resume"]
    resumed = invoke(*common)  # the run is complete: resuming it only evaluates
    assert resumed.exit_code == 0, resumed.output
    refused = invoke(*common, "--set", "width=12")
    assert refused.exit_code == 1
    assert "--set width=12 contradicts" in refused.stderr and "trained with width=8" in refused.stderr
