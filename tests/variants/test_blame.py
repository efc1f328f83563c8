"""An error an override caused is reported at the override, also when the value reaches the layer through
block params (as an argument, a default, a nested block's argument), inside repeats and merge branches."""

from __future__ import annotations

import pytest

import netspec

SPEC = """
name: t
input: [3, 16, 16]
params: {width: 8, depth: 2}
blocks:
  unit:
    params: {channels: 4, stride: 1}
    layers:
      - {kind: conv, out_channels: channels, kernel_size: 3, padding: 1, stride: stride}
      - relu
  stage:
    params: [size]
    layers:
      - {block: unit, channels: 2 * size}
  plain:
    params: {channels: width}
    layers:
      - {kind: conv, out_channels: channels, kernel_size: 1}
  fixed:
    params: [width]
    layers:
      - {kind: conv, out_channels: width - 4, kernel_size: 1}
layers:
  - LAYER
  - flatten
  - {kind: linear, out_features: 10}
"""


def blamed(write_spec, layer: str, override: str = "width=0"):
    """The file, line and column of each error of the spec with `layer` first, checked with `--set override`."""
    report = netspec.check(write_spec(SPEC.replace("LAYER", layer)), overrides=[override])
    return [(d.file, d.line, d.column) for d in report.errors], report


@pytest.mark.parametrize("layer", [
    "{block: unit, channels: width}",  # an argument
    "{block: stage, size: width}",  # an argument of a block that passes it on to another
    "plain",  # a default over the network's params, the block named bare
    "{block: plain}",
    "{repeat: 2, layers: [{block: unit, channels: width}]}",
    "{kind: add, branches: {body: [{block: unit, channels: width}], other: [{block: unit, channels: width}]}}",
])
def test_a_value_through_block_params_is_blamed_on_the_override(write_spec, layer):
    places, report = blamed(write_spec, layer)
    assert places and set(places) == {("<--set width=0>", 1, 13)}, report.diagnostics
    message = report.errors[0].message
    assert message.startswith("out_channels: expected greater than or equal to 1; got 0 (")
    assert message.endswith(" with --set width=0)")


def test_a_block_param_that_shadows_the_overridden_name_is_not_blamed(write_spec):
    # `fixed` has its own `width` (here 4): its 4 - 4 = 0 channels are the file's fault, not --set width=3's
    places, report = blamed(write_spec, "{block: fixed, width: 4}", override="width=3")
    assert [(file.endswith("net.yaml"), line) for file, line, _ in places] == [(True, 21)], report.diagnostics


def test_an_argument_that_does_not_use_the_override_is_not_blamed(write_spec):
    places, report = blamed(write_spec, "{block: unit, channels: 0}", override="width=3")
    assert [(file.endswith("net.yaml"), line) for file, line, _ in places] == [(True, 8)], report.diagnostics


def test_the_network_params_are_seen_inside_a_block(write_spec):
    places, _ = blamed(write_spec, "{block: unit, channels: 4, stride: depth}", override="depth=0")
    assert places == [("<--set depth=0>", 1, 13)]
