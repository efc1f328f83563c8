"""Python source for one built torch layer: its constructor call, or a functional call.

The source is read off the module instance the builder made (its constructor
arguments are stored as same-named attributes in torch.nn), so every layer kind
the registry builds is covered without a second per-kind table of arguments.
Only the functional spellings (`F.relu(x)` for `nn.ReLU()`) need a name each.
"""

from __future__ import annotations

import inspect

import torch
from torch import nn

from .errors import ExportError

SKIPPED_ARGUMENTS = {"device", "dtype"}
NETSPEC_MODULES = "netspec.modules"
POSITIONAL = 2  # required arguments written without their name

# torch.nn layer without state -> the function a hand-written forward calls instead
FUNCTIONAL = {
    "ReLU": "F.relu", "LeakyReLU": "F.leaky_relu", "Tanh": "torch.tanh", "Sigmoid": "torch.sigmoid",
    "GELU": "F.gelu", "SiLU": "F.silu", "ReLU6": "F.relu6", "Hardswish": "F.hardswish",
    "Hardsigmoid": "F.hardsigmoid", "Mish": "F.mish", "Softmax": "F.softmax", "LogSoftmax": "F.log_softmax",
    "MaxPool2d": "F.max_pool2d", "AvgPool2d": "F.avg_pool2d", "AdaptiveAvgPool2d": "F.adaptive_avg_pool2d",
    "AdaptiveMaxPool2d": "F.adaptive_max_pool2d",
    "LocalResponseNorm": "F.local_response_norm", "Dropout": "F.dropout", "Flatten": "torch.flatten",
}


def has_state(module: nn.Module) -> bool:
    """True when the layer owns parameters or buffers, i.e. appears in the state dict."""
    return bool(module.state_dict())


def constructor(module: nn.Module) -> str:
    """`nn.Conv2d(1, 10, kernel_size=5)`: the call that makes an equal module (weights aside).

    A class of netspec.modules or of a plugin is called by its bare name: `helper_code` defines or imports it.
    """
    cls = type(module)
    if cls is nn.Sequential:
        return "nn.Sequential(" + ", ".join(constructor(child) for child in module) + ")"
    if getattr(nn, cls.__name__, None) is cls:
        return f"nn.{cls.__name__}({', '.join(_arguments(module))})"
    if cls.__module__.startswith("torch.") or cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        raise ExportError(f"python export: expected a torch.nn layer or a class importable by name; got "
                          f"{cls.__module__}.{cls.__qualname__}",
                          "this layer kind has no plain-PyTorch spelling; export to onnx or torchscript")
    return f"{cls.__name__}({', '.join(_arguments(module))})"


def helper_code(classes: list[type]) -> tuple[list[str], list[str]]:
    """Import lines and class sources that define the non-torch.nn classes `constructor` called by name.

    netspec's own modules are copied in (they use only torch, nn and F), so the file still needs only torch;
    a plugin's class is imported from its module, which the file then needs too.
    """
    imports, sources = [], []
    for cls in classes:
        if cls.__module__ == NETSPEC_MODULES:
            sources.append(inspect.getsource(cls))
        else:
            imports.append(f"from {cls.__module__} import {cls.__name__}")
    return imports, sources


def functional(module: nn.Module, value: str) -> str | None:
    """`F.max_pool2d(x, 2)`: the stateless layer applied to `value`; None when it has no such spelling."""
    name = type(module).__name__
    if type(module) is nn.Sequential:
        for child in module:
            value = functional(child, value)
            if value is None:
                return None
        return value
    if name == "Identity":
        return value
    if name not in FUNCTIONAL or has_state(module):
        return None
    if name == "Flatten":
        return f"torch.flatten({value}, {module.start_dim})" if module.end_dim == -1 else \
            f"torch.flatten({value}, {module.start_dim}, {module.end_dim})"
    arguments = [value, *_arguments(module)]
    if name == "Dropout":
        arguments.append("training=self.training")
    return f"{FUNCTIONAL[name]}({', '.join(arguments)})"


def _arguments(module: nn.Module) -> list[str]:
    """Required constructor arguments, then those that differ from their defaults."""
    signature = inspect.signature(type(module).__init__)
    texts = []
    for parameter in list(signature.parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD) or parameter.name in SKIPPED_ARGUMENTS:
            continue
        value = _attribute(module, parameter.name)
        if parameter.default is parameter.empty:
            # sizes first, the rest by name: nn.Conv2d(1, 10, kernel_size=5), as the seeds write it
            texts.append(repr(value) if len(texts) < POSITIONAL else f"{parameter.name}={value!r}")
        elif value != _compact(parameter.default) and not (parameter.default is None and
                                                           _is_implied_stride(module, parameter.name, value)):
            texts.append(f"{parameter.name}={value!r}")
    return texts


def _attribute(module: nn.Module, name: str):
    if not hasattr(module, name):
        raise ExportError(f"python export: cannot read argument '{name}' back from {type(module).__name__}",
                          "export to onnx or torchscript instead")
    value = getattr(module, name)
    if name == "bias" and (value is None or isinstance(value, torch.Tensor)):
        return value is not None  # the constructor takes a flag; the module holds the tensor
    return _compact(value)


def _compact(value):
    """(5, 5) -> 5: torch takes one number for a square window."""
    if isinstance(value, tuple) and value and all(item == value[0] for item in value):
        return value[0]
    return value


def _is_implied_stride(module: nn.Module, name: str, value) -> bool:
    # pools default their stride to the kernel size; saying so again is noise
    return name == "stride" and value == _compact(getattr(module, "kernel_size", None))
