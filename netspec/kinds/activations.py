"""Shape-preserving element-wise layers: relu, relu6, leaky_relu, tanh, sigmoid, hardsigmoid, gelu,
silu, hardswish, mish, softmax, log_softmax, identity. Each has no parameters and no MACs."""

from __future__ import annotations

from typing import Literal

from pydantic import StrictInt

from .base import Cost, LayerKind, LayerSchema, Number, Notes


class ReLU(LayerSchema):
    kind: Literal["relu"] = "relu"


class ReLU6(LayerSchema):
    """min(max(x, 0), 6), as in MobileNetV2."""

    kind: Literal["relu6"] = "relu6"


class LeakyReLU(LayerSchema):
    kind: Literal["leaky_relu"] = "leaky_relu"
    negative_slope: Number = 0.01


class Tanh(LayerSchema):
    kind: Literal["tanh"] = "tanh"


class Sigmoid(LayerSchema):
    kind: Literal["sigmoid"] = "sigmoid"


class Hardsigmoid(LayerSchema):
    """relu6(x + 3) / 6: MobileNetV3's cheap sigmoid, used in its squeeze-excitation gates."""

    kind: Literal["hardsigmoid"] = "hardsigmoid"


class GELU(LayerSchema):
    kind: Literal["gelu"] = "gelu"
    approximate: Literal["none", "tanh"] = "none"


class SiLU(LayerSchema):
    kind: Literal["silu"] = "silu"


class Hardswish(LayerSchema):
    """x * relu6(x + 3) / 6: MobileNetV3's cheap swish."""

    kind: Literal["hardswish"] = "hardswish"


class Mish(LayerSchema):
    """x * tanh(softplus(x))."""

    kind: Literal["mish"] = "mish"


class Softmax(LayerSchema):
    """dim counts the batch dimension, as in torch: 1 is channels/features."""

    kind: Literal["softmax"] = "softmax"
    dim: StrictInt = 1


class LogSoftmax(LayerSchema):
    """dim counts the batch dimension, as in torch: 1 is channels/features."""

    kind: Literal["log_softmax"] = "log_softmax"
    dim: StrictInt = 1


class Identity(LayerSchema):
    kind: Literal["identity"] = "identity"


def _same_shape(layer, in_shapes, notes: Notes):
    (in_shape,) = in_shapes
    dim = getattr(layer, "dim", None)
    if dim is not None and not -(len(in_shape) + 1) <= dim <= len(in_shape):
        from .base import ShapeError, fmt_shape

        raise ShapeError(f"dim: expected a dimension of the batched input (N, *{fmt_shape(in_shape)}); got {dim}",
                         hint="dim 1 is the channel/feature dimension", field="dim")
    return in_shape


def _no_cost(layer, in_shapes, out_shape) -> Cost:
    return Cost()


def _torch_module(class_name: str, *fields: str):
    """A builder that calls torch.nn.<class_name> with the layer's given fields."""

    def build(layer, in_shapes, out_shape):
        import torch.nn as nn

        return getattr(nn, class_name)(**{name: _torch_value(layer, name) for name in fields})

    return build


def _torch_value(layer, name: str):
    """A Number field as a float (`negative_slope: 0` too): TorchScript refuses an int where torch wants a float."""
    value = getattr(layer, name)
    return float(value) if type(value) is int and type(layer).model_fields[name].annotation == Number else value


def _kind(schema, class_name: str, summary: str, *fields: str, shorthand: str | None = None) -> LayerKind:
    name = schema.model_fields["kind"].default
    return LayerKind(name, schema, _same_shape, _no_cost, _torch_module(class_name, *fields),
                     summary=f"{summary} (nn.{class_name})", shorthand=shorthand)


KINDS = [
    _kind(ReLU, "ReLU", "rectified linear unit"),
    _kind(ReLU6, "ReLU6", "ReLU clipped at 6"),
    _kind(LeakyReLU, "LeakyReLU", "leaky ReLU", "negative_slope", shorthand="negative_slope"),
    _kind(Tanh, "Tanh", "hyperbolic tangent"),
    _kind(Sigmoid, "Sigmoid", "logistic sigmoid"),
    _kind(Hardsigmoid, "Hardsigmoid", "piecewise-linear sigmoid"),
    _kind(GELU, "GELU", "Gaussian error linear unit", "approximate"),
    _kind(SiLU, "SiLU", "sigmoid linear unit (swish)"),
    _kind(Hardswish, "Hardswish", "piecewise-linear swish"),
    _kind(Mish, "Mish", "self-regularised non-monotonic activation"),
    _kind(Softmax, "Softmax", "softmax over dim", "dim", shorthand="dim"),
    _kind(LogSoftmax, "LogSoftmax", "log-softmax over dim", "dim", shorthand="dim"),
    _kind(Identity, "Identity", "pass-through"),
]
