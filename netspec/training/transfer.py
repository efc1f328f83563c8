"""Starting from other weights (`--init FILE`) and freezing layers (`trainable: false`, `--freeze LAYER`).

`--init` reads a netspec checkpoint, a plain state_dict file or torchvision's weights file
(e.g. resnet18-f37072fd.pth) with torch.load(weights_only=True). Tensors load by name where
the file's names and shapes are the spec's; the rest pair by the spec's structure
(netspec.weights.match_by_structure: registration order and shapes), which is how
torchvision's names (layer1.0.conv1) meet a spec's (layer1.0.body.conv1). The report says
which tensors loaded, which were re-initialised because their shape changed (a classifier
for another number of classes), which the spec has and the file lacks, and which of the
file's were left out.

Frozen parameters get no gradient (the optimizer still holds them, so a run may be resumed
with another --freeze), and a batchnorm layer whose parameters are all frozen normalises
with its running statistics and leaves them as they are, as in the usual fine-tuning recipe.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from .errors import CheckpointError, TrainError

SHOWN = 6


@dataclass(frozen=True)
class InitReport:
    """What `--init` transferred: the spec's tensors loaded, re-initialised (shape changed) or kept, and the
    file's tensors left out. `by_structure` lists the loaded ones whose names differ (spec name -> file name)."""

    source: Path
    loaded: tuple[str, ...]
    by_structure: dict[str, str]
    reinitialised: tuple[str, ...]
    kept: tuple[str, ...]
    left_out: tuple[str, ...]

    def render(self) -> str:
        how = f" ({len(self.by_structure)} matched by the spec's structure)" if self.by_structure else ""
        lines = [f"--init {self.source}: loaded {len(self.loaded)} tensors{how}"]
        for label, keys in (("re-initialised (shape changed)", self.reinitialised),
                            ("not in the file (initial weights kept)", self.kept),
                            ("left out (not in the spec)", self.left_out)):
            if keys:
                more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
                lines.append(f"  {label}: {', '.join(keys[:SHOWN])}{more}")
        return "\n".join(lines)


def read_weights_file(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a netspec checkpoint (its "model"), a state_dict, or a dict holding one ("state_dict")."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"--init: no such file {path}", "give a checkpoint.pt, a state_dict file or a "
                              "torchvision weights file (.pth)")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for truncated, foreign or unsafe files
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckpointError(f"--init {path}: expected a torch weights file; it cannot be read ({first})",
                              "torch.save(model.state_dict(), path) writes one") from None
    for key in ("model", "state_dict"):
        if isinstance(content, dict) and isinstance(content.get(key), dict):
            content = content[key]
    if not isinstance(content, dict) or not content or not all(isinstance(v, torch.Tensor) for v in content.values()):
        raise CheckpointError(f"--init {path}: expected names -> tensors (a state_dict); got {type(content).__name__}",
                              "torch.save(model.state_dict(), path) writes one")
    return content


def init_from(model: nn.Module, path: Path) -> InitReport:
    """Copy into `model` every tensor of the file that fits (by name, then by structure); say what happened."""
    own, given = model.state_dict(), read_weights_file(path)
    pairs = {key: key for key, value in own.items() if key in given and given[key].shape == value.shape}
    rest_own = {key: value for key, value in own.items() if key not in pairs}
    used = set(pairs.values())
    rest_given = {key: value for key, value in given.items() if key not in used}
    structural = {}
    if rest_own and rest_given:
        from ..weights import match_by_structure

        structural = match_by_structure(rest_own, rest_given, strict=False)
    pairs |= structural
    used |= set(structural.values())
    reshaped = _reshaped([key for key in own if key not in pairs], [key for key in given if key not in used])
    with torch.no_grad():
        for key, source in pairs.items():
            own[key].copy_(given[source].reshape(own[key].shape))
    used |= set(reshaped.values())
    return InitReport(Path(path), tuple(key for key in own if key in pairs), structural,
                      tuple(reshaped), tuple(key for key in own if key not in pairs and key not in reshaped),
                      tuple(key for key in given if key not in used))


def _reshaped(own_left: list[str], given_left: list[str]) -> dict[str, str]:
    """Unpaired tensors that are the same tensor in another shape (spec key -> file key): the same name, or
    else the same role (weight, bias, ...) in the same order among the unpaired ones (a new classifier head)."""
    pairs = {key: key for key in own_left if key in given_left}
    for role in {key.rsplit(".", 1)[-1] for key in own_left}:
        mine = [key for key in own_left if key.rsplit(".", 1)[-1] == role and key not in pairs]
        theirs = [key for key in given_left if key.rsplit(".", 1)[-1] == role and key not in pairs.values()]
        pairs.update(zip(mine, theirs) if len(mine) == len(theirs) else ())
    return pairs


def freeze_through(model: nn.Module, layer: str) -> list[str]:
    """Freeze every parameter registered up to and including `layer`'s (a spec name, dotted for nested
    ones: layer4, layer4.1, rblock1.body.conv1); return the frozen parameters' names."""
    names = [name for name, _ in model.named_parameters()]
    inside = [i for i, name in enumerate(names) if name.startswith(layer + ".")]
    if not inside:
        layers = list(dict.fromkeys(name.split(".")[0] for name in names))
        raise TrainError(f"--freeze {layer}: expected the name of a layer with parameters; got none by that name",
                         f"the spec's layers with parameters are: {', '.join(layers)}")
    frozen = names[:inside[-1] + 1]
    parameters = dict(model.named_parameters())
    for name in frozen:
        parameters[name].requires_grad_(False)
    return frozen


def hold_frozen_batchnorm(model: nn.Module) -> int:
    """Batchnorm layers whose parameters are all frozen stay in eval mode in training; return how many."""
    held = 0
    for module in model.modules():
        weights = list(module.parameters(recurse=False))
        frozen = weights and not any(weight.requires_grad for weight in weights)
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and frozen:
            module.register_forward_pre_hook(_normalise_with_running_statistics)
            held += 1
    return held


def _normalise_with_running_statistics(module: nn.Module, inputs) -> None:
    module.training = False  # model.train() sets it back before every epoch; each forward pass undoes that
