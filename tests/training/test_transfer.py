"""--init (by name, by structure, with a report) and freezing (trainable: false, --freeze), resumable."""

from __future__ import annotations

import pytest
import torch

import netspec
from netspec.training.errors import CheckpointError, TrainError
from netspec.training.transfer import freeze_through, init_from

from .folders import cache_in_tmp, invoke, tiny_spec, write_classes  # noqa: F401 (fixture)


pytestmark = pytest.mark.usefixtures("cache_in_tmp")


def test_a_netspec_checkpoint_loads_by_name_and_a_new_head_is_reinitialised(tmp_path):
    data = write_classes(tmp_path / "data", {"cat": 4, "dog": 4, "eel": 4})
    first = netspec.train(tiny_spec(tmp_path), str(data), out=tmp_path / "run", device="cpu", progress=False)
    (tmp_path / "four").mkdir()
    model = netspec.build(tiny_spec(tmp_path / "four", classes=4))
    before = model.state_dict()["fc.weight"].clone()
    report = init_from(model, first.checkpoint)
    trained = torch.load(first.checkpoint, weights_only=True)["model"]
    assert report.loaded == ("conv1.weight", "conv1.bias") and report.by_structure == {}
    assert report.reinitialised == ("fc.weight", "fc.bias") and report.kept == () and report.left_out == ()
    assert torch.equal(model.state_dict()["conv1.weight"], trained["conv1.weight"])
    assert torch.equal(model.state_dict()["fc.weight"], before)
    assert "re-initialised (shape changed): fc.weight, fc.bias" in report.render()


def test_freeze_names_a_layer_and_an_unknown_name_lists_the_layers(tmp_path):
    model = netspec.build(tiny_spec(tmp_path))
    assert freeze_through(model, "conv1") == ["conv1.weight", "conv1.bias"]
    assert [name for name, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    with pytest.raises(TrainError, match="the spec's layers with parameters are: conv1, fc"):
        freeze_through(model, "conv9")


def test_frozen_layers_are_bit_identical_after_an_epoch_and_the_run_resumes_with_another_freeze(tmp_path):
    data = write_classes(tmp_path / "data", {"cat": 8, "dog": 8, "eel": 8})
    start = {key: torch.randn_like(value) for key, value in netspec.build(tiny_spec(tmp_path)).state_dict().items()}
    torch.save(start, tmp_path / "start.pt")
    args = ["train", tiny_spec(tmp_path), "--dataset", data, "--out", tmp_path / "run", "--device", "cpu",
            "--init", tmp_path / "start.pt", "--freeze", "conv1"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "--init " in result.output and "loaded 4 tensors" in result.output
    assert "--freeze conv1: 2 parameter tensors frozen, conv1.weight to conv1.bias" in result.output
    after = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["model"]
    for key in ("conv1.weight", "conv1.bias"):
        assert torch.equal(after[key], start[key]), key
    assert not torch.equal(after["fc.weight"], start["fc.weight"])
    resumed = invoke(*args[:-2], "--resume", "--epochs", "2")  # no --freeze now: every layer trains
    assert resumed.exit_code == 0, resumed.output
    again = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["model"]
    assert not torch.equal(again["conv1.weight"], start["conv1.weight"])


def test_trainable_false_freezes_a_batchnorm_layer_with_its_running_statistics(tmp_path):
    spec = tmp_path / "bn.yaml"
    spec.write_text(tiny_spec(tmp_path).read_text().replace(
        "  - relu\n", "  - {kind: batchnorm, name: bn, trainable: false}\n  - relu\n"))
    data = write_classes(tmp_path / "data", {"cat": 8, "dog": 8, "eel": 8})
    result = netspec.train(spec, str(data), out=tmp_path / "run", device="cpu", progress=False)
    after = torch.load(result.checkpoint, weights_only=True)["model"]
    fresh = netspec.build(spec).state_dict()
    for key in ("bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"):
        assert torch.equal(after[key], fresh[key]), key


def test_an_unreadable_init_file_is_a_clear_error(tmp_path):
    (tmp_path / "notes.pt").write_text("not weights")
    with pytest.raises(CheckpointError, match="expected a torch weights file; it cannot be read"):
        init_from(netspec.build(tiny_spec(tmp_path)), tmp_path / "notes.pt")
    torch.save({"weights": [1, 2]}, tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match=r"expected names -> tensors \(a state_dict\); got dict"):
        init_from(netspec.build(tiny_spec(tmp_path)), tmp_path / "list.pt")


def _torchvision_resnet18(path, seed: int = 0):
    """torchvision's resnet18 with random weights (offline) and non-trivial batchnorm statistics, saved."""
    import torchvision

    torch.manual_seed(seed)
    model = torchvision.models.resnet18()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
    torch.save(model.state_dict(), path)
    return model.eval()


def test_torchvision_resnet18_weights_make_the_zoo_spec_compute_torchvisions_outputs(tmp_path):
    reference = _torchvision_resnet18(tmp_path / "resnet18.pth")
    model = netspec.build("zoo:resnet18")
    report = init_from(model, tmp_path / "resnet18.pth")
    assert report.loaded == tuple(model.state_dict()) and report.by_structure  # torchvision's names differ
    assert report.reinitialised == report.kept == report.left_out == ()
    images = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(model.eval()(images), reference(images), rtol=1e-4, atol=1e-5)


def test_with_num_classes_10_the_report_names_only_the_classifier_as_reinitialised(tmp_path):
    _torchvision_resnet18(tmp_path / "resnet18.pth")
    model = netspec.build("zoo:resnet18", overrides={"num_classes": 10})
    report = init_from(model, tmp_path / "resnet18.pth")
    assert report.reinitialised == ("fc.weight", "fc.bias")
    assert report.loaded == tuple(key for key in model.state_dict() if not key.startswith("fc."))
    assert report.kept == report.left_out == ()
    assert "re-initialised (shape changed): fc.weight, fc.bias" in report.render()


@pytest.mark.slow
def test_fine_tuning_resnet18_with_freeze_keeps_the_frozen_weights_bit_identical(tmp_path):
    reference = _torchvision_resnet18(tmp_path / "resnet18.pth").state_dict()
    spec = "zoo:resnet18"  # at 3x32x32 (1x1 after layer4), to stay fast
    data = write_classes(tmp_path / "data", {"cat": 8, "dog": 8, "eel": 8}, size=(32, 32), mode="RGB",
                         suffix=".jpg")
    result = invoke("train", spec, "--set", "num_classes=3", "--set", "image_size=32", "--dataset", data, "--init", tmp_path / "resnet18.pth",
                    "--freeze", "layer4", "--epochs", "1", "--batch-size", "8", "--limit-train", "16",
                    "--out", tmp_path / "run", "--device", "cpu", "--no-tensorboard")
    assert result.exit_code == 0, result.output
    assert "re-initialised (shape changed): fc.weight, fc.bias" in result.output
    trained = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["model"]
    model = netspec.build(spec, overrides={"num_classes": 3, "image_size": 32})
    report = init_from(model, tmp_path / "resnet18.pth")
    pairs = {key: report.by_structure.get(key, key) for key in report.loaded}  # spec key -> torchvision key
    frozen = [key for key in trained if not key.startswith("fc.")]
    assert frozen == list(pairs) and len(frozen) == len(trained) - 2
    for key in frozen:  # weights, biases and batchnorm statistics, bit for bit
        assert torch.equal(trained[key], reference[pairs[key]]), key
    assert not torch.equal(trained["fc.weight"], model.state_dict()["fc.weight"])  # the head trained
