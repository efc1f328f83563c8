"""Layer names and branch labels that cannot become submodule names are refused by the checker.

Found by the property test: a layer named `forward` recursed forever, `training` broke .train(),
`class` made the generated forward a syntax error, all after `check` had said the spec was fine.
"""

from __future__ import annotations

import pytest

import netspec
from netspec.names import MODULE_ATTRIBUTES, name_problem

REFUSED = ["forward", "training", "eval", "float", "type", "self", "class", "None", "_modules"]


def spec_text(name: str, label: str) -> str:
    return (f"name: t\ninput: [1, 8, 8]\nlayers:\n"
            f"  - {{kind: conv, name: {name}, out_channels: 2, kernel_size: 3}}\n"
            f"  - kind: concat\n    branches:\n      {label}: [relu]\n      other: []\n")


@pytest.mark.parametrize("word", REFUSED)
def test_a_word_torch_modules_use_is_refused_as_name_and_label(word, check_text):
    report = check_text(spec_text(word, word))
    errors = {(d.code, d.line, d.column) for d in report.errors}
    assert errors == {("layer.name", 4, 24), ("merge.label", 7, 7)}
    assert all(f"got '{word}'" in d.message for d in report.errors)


def test_other_names_still_build(check_text):
    import torch

    model = netspec.build(check_text(spec_text("x", "print")))
    assert [name for name, _ in model.named_parameters()] == ["x.weight", "x.bias"]
    assert model(torch.zeros(1, 1, 8, 8)).shape == (1, 4, 6, 6)


def test_the_reserved_list_covers_every_public_attribute_torch_gives_a_built_network():
    model = netspec.build("specs/resnet_mini.yaml")
    public = {word for word in dir(model) if not word.startswith("_")} - set(model._modules)
    assert {word for word in public if name_problem(word) is None} == set()
    assert name_problem("self") and not (MODULE_ATTRIBUTES & set(model._modules))
