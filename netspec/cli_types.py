"""Click types the commands share: every number a flag takes is bounded like every integer a spec holds."""

from __future__ import annotations

import click

from .expand import Limits
from .expr import MAX_MAGNITUDE as MAX_INTEGER


def whole_number(minimum: int = 1) -> click.IntRange:
    """An integer flag from `minimum` to 10**15: a 400-digit --seed is a usage error (exit 2), not an overflow."""
    return click.IntRange(min=minimum, max=MAX_INTEGER)


def bounded_number(minimum: float = 0, **options) -> click.FloatRange:
    """A number flag from `minimum` to 10**15 (`1e400` reads as infinity, which no budget or rate can be)."""
    return click.FloatRange(min=minimum, max=MAX_INTEGER, **options)


def limit_options(command):
    """--max-params, --max-memory (GiB) and --max-layers: the budgets a spec is checked against (`limits_from`)."""
    command = click.option("--max-layers", default=Limits.max_nodes, show_default=True, type=whole_number(1),
                           help="Refuse specs that expand (blocks, repeats) to more layers.")(command)
    command = click.option("--max-memory", default=Limits.max_memory_bytes / 2**30, show_default=True,
                           type=bounded_number(0),
                           help="Refuse networks whose training-memory estimate (GiB) is larger.")(command)
    return click.option("--max-params", default=Limits.max_params, show_default=True, type=whole_number(1),
                        help="Refuse networks with more parameters.")(command)


def limits_from(max_params: int, max_memory: float, max_layers: int, max_macs: int | None = None) -> Limits:
    return Limits(max_nodes=max_layers, max_params=max_params, max_memory_bytes=int(max_memory * 2**30),
                  max_macs=max_macs)
