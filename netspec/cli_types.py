"""Click types the commands share: every number a flag takes is bounded like every integer a spec holds."""

from __future__ import annotations

import click

from .expr import MAX_MAGNITUDE as MAX_INTEGER


def whole_number(minimum: int = 1) -> click.IntRange:
    """An integer flag from `minimum` to 10**15: a 400-digit --seed is a usage error (exit 2), not an overflow."""
    return click.IntRange(min=minimum, max=MAX_INTEGER)


def bounded_number(minimum: float = 0, **options) -> click.FloatRange:
    """A number flag from `minimum` to 10**15 (`1e400` reads as infinity, which no budget or rate can be)."""
    return click.FloatRange(min=minimum, max=MAX_INTEGER, **options)
