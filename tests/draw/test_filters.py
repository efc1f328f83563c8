"""`draw_filters`: the first conv layer's kernels from a checkpoint, as a PNG grid."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

import netspec
from netspec.exporters.errors import ExportError

SPEC = "specs/lenet_cifar.yaml"  # conv1: 6 kernels of 3x5x5, drawn in colour


@pytest.fixture
def checkpoint(tmp_path):
    model = netspec.build(SPEC)
    path = tmp_path / "checkpoint.pt"
    torch.save({"model": model.state_dict(), "epoch": 1}, path)
    return path


def test_grid_has_a_tile_per_kernel(checkpoint, tmp_path):
    path = netspec.draw_filters(SPEC, checkpoint, tmp_path / "filters.png")
    image = Image.open(path)
    assert image.format == "PNG" and image.width >= 3 * 48 and image.height >= 2 * 48
    assert len(image.convert("RGB").getcolors(maxcolors=2**20)) > 50  # coloured kernels, not a blank canvas


def test_a_named_conv_and_a_plain_state_dict(tmp_path):
    model = netspec.build(SPEC)
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    assert netspec.draw_filters(SPEC, tmp_path / "weights.pt", tmp_path / "c2.png", layer="conv2").exists()
    with pytest.raises(ExportError, match="expected the name of a conv layer; got 'fc1'"):
        netspec.draw_filters(SPEC, tmp_path / "weights.pt", tmp_path / "x.png", layer="fc1")


def test_a_checkpoint_of_another_network_is_refused(tmp_path):
    torch.save(netspec.build("specs/resnet_mini.yaml").state_dict(), tmp_path / "other.pt")
    with pytest.raises(ExportError, match="expected the weights of this spec's network"):
        netspec.draw_filters(SPEC, tmp_path / "other.pt", tmp_path / "f.png")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(ExportError, match="cannot be read as a torch file"):
        netspec.draw_filters(SPEC, tmp_path / "junk.pt", tmp_path / "f.png")
    assert not (tmp_path / "f.png").exists()
