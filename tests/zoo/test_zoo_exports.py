"""The zoo's networks export to plain PyTorch source that computes what the built module computes.

Their residual units drop the shortcut with a false `if:` where the shapes change (MobileNetV2,
EfficientNet, ResNet's projection); the exporter must see the branches the IR kept, not the spec's.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch

import netspec


@pytest.mark.parametrize("name", ["efficientnet_b0", "mobilenet_v2", "resnet18"])
def test_python_export_of_a_zoo_network_computes_the_built_module(name, tmp_path):
    path = netspec.export(f"zoo:{name}", "python", tmp_path / f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"exported_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = netspec.build(f"zoo:{name}").eval()
    network = [value for value in vars(module).values() if isinstance(value, type)
               and issubclass(value, torch.nn.Module) and value.__module__ == module.__name__][-1]()
    network.load_state_dict(built.state_dict())
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(network.eval()(x), built(x))
