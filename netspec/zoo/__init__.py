"""The model zoo: specs of torchvision's classification networks (and a U-Net), shipped in the package.

Each `NAME.yaml` in this folder is a spec like any other; `zoo:NAME` is accepted
wherever a spec path is (`netspec check zoo:resnet18`, `netspec.build("zoo:resnet50")`)
and `netspec zoo NAME -o FILE.yaml` copies one out to edit. tests/zoo/ proves every
spec equal to its torchvision twin (parameters, MACs, outputs with the same weights).

Nothing here imports torch; listing the zoo's figures runs the static checker.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..diagnostics import nearest

PREFIX = "zoo:"


class UnknownZooModel(FileNotFoundError):
    """A `zoo:NAME` that names no zoo spec; the hint gives the nearest name."""

    def __init__(self, name: str):
        guess = nearest(name, names())
        self.name = name
        self.hint = (f"did you mean 'zoo:{guess}'? " if guess else "") + "(`netspec zoo` lists the zoo)"
        super().__init__(f"unknown zoo model '{name}'")

    def __str__(self) -> str:
        return f"unknown zoo model '{self.name}'"


def _folder() -> Path:
    return Path(str(resources.files(__name__)))


def names() -> list[str]:
    """The zoo's model names, sorted."""
    return sorted(path.stem for path in _folder().glob("*.yaml"))


def is_zoo_reference(source: str) -> bool:
    return isinstance(source, str) and source.startswith(PREFIX)


def path(name: str) -> Path:
    """The packaged spec file of zoo model `name` (with or without the `zoo:` prefix)."""
    name = name[len(PREFIX):] if is_zoo_reference(name) else name
    if name not in names():
        raise UnknownZooModel(name)
    return _folder() / f"{name}.yaml"


def resolve(source: str) -> str:
    """A spec source as a file path: `zoo:NAME` becomes the packaged file, any other path stays."""
    return str(path(source)) if is_zoo_reference(source) else source


@dataclass(frozen=True)
class Entry:
    """One zoo model's figures, from the static checker at the spec's own input."""

    name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...] | None
    params: int
    macs: int


def entries() -> list[Entry]:
    """Every zoo model with its input, output, parameters and MACs (checked, not stored)."""
    from ..check import check

    rows = []
    for name in names():
        report = check(str(path(name)))
        report.raise_for_errors()
        rows.append(Entry(name, report.spec.input_shape, report.graph.output_shape, report.params, report.macs))
    return rows


def copy_out(name: str, destination: str | Path) -> Path:
    """Write zoo model `name`'s spec to `destination` (a file to edit); return the path."""
    destination = Path(destination)
    destination.write_text(path(name).read_text(encoding="utf-8"), encoding="utf-8")
    return destination
