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


def _margin_is_blank(image: Image.Image, width: int = 4) -> bool:
    """True when nothing touches the picture's edges: no title or label runs off it."""
    rgb = image.convert("L")
    strips = [rgb.crop((0, 0, rgb.width, width)), rgb.crop((0, rgb.height - width, rgb.width, rgb.height)),
              rgb.crop((0, 0, width, rgb.height)), rgb.crop((rgb.width - width, 0, rgb.width, rgb.height))]
    return all(strip.getextrema()[0] >= 250 for strip in strips)


def test_a_nested_layer_name_is_not_clipped(tmp_path):
    spec = "specs/resnet_mini.yaml"
    torch.save(netspec.build(spec).state_dict(), tmp_path / "weights.pt")
    path = netspec.draw_filters(spec, tmp_path / "weights.pt", tmp_path / "body.png", layer="rblock1.0.body.conv1")
    image = Image.open(path)
    assert _margin_is_blank(image)
    assert image.width >= 300 and image.height >= 300


def test_1x1_kernels_are_drawn_as_their_weight_matrix(tmp_path):
    spec = "specs/googlenet_mini.yaml"  # incep1.0.branch1x1.0: 16 kernels over 10 input channels
    torch.manual_seed(0)
    torch.save(netspec.build(spec).state_dict(), tmp_path / "weights.pt")
    path = netspec.draw_filters(spec, tmp_path / "weights.pt", tmp_path / "1x1.png", layer="incep1.0.branch1x1.0")
    image = Image.open(path).convert("RGB")
    assert _margin_is_blank(image)
    colours = image.getcolors(maxcolors=2**20)
    black = sum(count for count, (r, g, b) in colours if max(r, g, b) < 30)
    assert black < 0.1 * image.width * image.height  # not a grid of black squares
    reds = sum(count for count, (r, g, b) in colours if r > 150 and g < 120 and b < 120)
    blues = sum(count for count, (r, g, b) in colours if b > 150 and r < 120)
    assert reds > 1000 and blues > 1000  # positive and negative weights on a diverging scale
