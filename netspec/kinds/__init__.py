"""The closed registry of layer kinds.

Every kind lives in one module of this package and is listed here once. The
registry is checked by tests: each kind has a schema tagged by its name, a shape
rule, a cost and a builder, and the schema union matches this table.
"""

from __future__ import annotations

from . import activations, channels, conv, dense, merge, normalization, pooling, residual, upsample
from .base import Cost, LayerKind, LayerSchema, Notes, Reach, Shape, ShapeError, Window, fmt_shape

_ALL: list[LayerKind] = [*conv.KINDS, *pooling.KINDS, *activations.KINDS, *normalization.KINDS,
                         *dense.KINDS, *merge.KINDS, *residual.KINDS, *channels.KINDS, *upsample.KINDS]

REGISTRY: dict[str, LayerKind] = {kind.name: kind for kind in _ALL}

__all__ = ["REGISTRY", "Cost", "LayerKind", "LayerSchema", "Notes", "Reach", "Shape", "ShapeError", "Window",
           "fmt_shape"]
