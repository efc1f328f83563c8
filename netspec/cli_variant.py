"""`--set NAME=VALUE` and `--scale NAME`: one decorator gives every command that reads a spec both options.

The command receives them as `overrides` (a tuple of NAME=VALUE strings) and `scale`,
and hands them to the Python API, which reads the values as YAML like the file's.
"""

from __future__ import annotations

import click

SET_HELP = ("Set a spec param (num_classes=100, width=0.5) or a training setting (train.lr=0.1, "
            "train.schedule.kind=cosine); the value is read as YAML. Repeatable.")
SCALE_HELP = "Use the spec's `scales:` preset NAME (the same as SPEC@NAME)."
RECORDED = (" A checkpoint's own --set and --scale are applied without repeating them; a contradicting one is "
            "refused.")


def variant_options(recorded_in_checkpoint: bool = False):
    """Decorator adding --set and --scale; `recorded_in_checkpoint` says so in the help of commands reading one."""
    note = RECORDED if recorded_in_checkpoint else ""

    def decorate(command):
        command = click.option("--scale", metavar="NAME", help=SCALE_HELP + note)(command)
        return click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE", help=SET_HELP)(command)

    return decorate
