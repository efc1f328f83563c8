"""Variants of zoo networks: `--set` on zoo:NAME, zoo:NAME@SCALE, and `imports: [zoo:NAME]`."""

from __future__ import annotations

import torch
import torchvision

import netspec


def test_set_width_on_the_zoo_mobilenet_v2_is_torchvisions_width_mult():
    for width in (0.5, 0.75, 1.4):
        report = netspec.check("zoo:mobilenet_v2", overrides={"width": width, "num_classes": 10})
        twin = torchvision.models.mobilenet_v2(width_mult=width, num_classes=10)
        assert report.ok and report.params == sum(p.numel() for p in twin.parameters()), width


def test_a_spec_builds_from_a_zoo_networks_blocks_with_that_files_defaults(write_spec):
    spec = write_spec("""
        name: small_resnet
        input: [3, 32, 32]
        imports: [zoo:resnet18]
        layers:
          - {kind: conv, name: stem, out_channels: 64, kernel_size: 3, padding: 1, bias: false}
          - {block: basic, name: res1}
          - {block: basic, name: res2, channels: 128, stride: 2}
          - global_avgpool
          - {kind: linear, name: fc, out_features: 10}
    """)
    model = netspec.build(spec)
    twins = [torchvision.models.resnet.BasicBlock(64, 64),
             torchvision.models.resnet.BasicBlock(64, 128, 2, torch.nn.Sequential(
                 torch.nn.Conv2d(64, 128, 1, 2, bias=False), torch.nn.BatchNorm2d(128)))]
    for built, twin in zip((model.res1, model.res2), twins):  # resnet18's `defaults: conv: {bias: false}` came along
        assert sum(p.numel() for p in built.parameters()) == sum(p.numel() for p in twin.parameters())
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_zoo_name_at_scale_is_read_as_a_scale():
    (error,) = netspec.check("zoo:resnet18@tiny").errors
    assert error.message == "unknown scale 'tiny' (the spec has no `scales:` section)"
    assert error.file == "<zoo:resnet18@tiny>" and error.column == len("zoo:resnet18@") + 1
