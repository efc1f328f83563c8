"""Read trained weights into a built network: a `netspec train` checkpoint, a plain state dict, or a
foreign model's state dict (torchvision's) paired with the spec's tensors by structure.

Files are read with torch.load(weights_only=True), so a checkpoint cannot run code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .exporters.errors import ExportError

if TYPE_CHECKING:
    import torch.nn as nn

HINT = "pass a checkpoint written by `netspec train`, or a file from torch.save(model.state_dict(), path)"


def load_weights(model: "nn.Module", checkpoint: str | Path) -> "nn.Module":
    """Load the weights in `checkpoint` into `model` (every tensor must fit); return the model."""
    state = read_state_dict(checkpoint)
    expected = model.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    misshapen = [f"{key} {tuple(state[key].shape)} (the spec's is {tuple(value.shape)})"
                 for key, value in expected.items() if key in state and state[key].shape != value.shape]
    if missing or unexpected or misshapen:
        problems = ([f"missing {_few(missing)}"] if missing else []) + \
                   ([f"unexpected {_few(unexpected)}"] if unexpected else []) + \
                   ([f"wrong shape {_few(misshapen)}"] if misshapen else [])
        raise ExportError(f"checkpoint {checkpoint}: expected the weights of this spec's network; got "
                          + "; ".join(problems), "use the checkpoint trained from this spec (same layers and names)")
    model.load_state_dict(state, strict=True)
    return model


def read_state_dict(checkpoint: str | Path) -> dict:
    """The state dict in `checkpoint`: the file itself, or its "model" entry."""
    import torch

    path = Path(checkpoint)
    if not path.is_file():
        raise ExportError(f"checkpoint: expected a file; got '{checkpoint}' (no such file)", HINT)
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for truncated, foreign or unsafe files
        from .training.checkpoint import python_object_in, refusal

        if python_object_in(exc):
            raise ExportError(f"checkpoint {checkpoint}: {refusal(python_object_in(exc))}", HINT) from None
        raise ExportError(f"checkpoint {checkpoint}: cannot be read as a torch file ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''})", HINT) from None
    if isinstance(content, dict) and isinstance(content.get("model"), dict):
        content = content["model"]
    if not isinstance(content, dict) or not content or \
            not all(isinstance(value, torch.Tensor) for value in content.values()):
        raise ExportError(f"checkpoint {checkpoint}: expected a state dict (names -> tensors) or a dict with "
                          f"a 'model' state dict; got {type(content).__name__}", HINT)
    return content


def _few(items: list[str], limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


class StructureMismatch(ExportError):
    """Tensors of two state dicts that `match_by_structure` could not pair.

    `unpaired_target` and `unpaired_source` list them as "key (shape)", in registration order.
    """

    def __init__(self, unpaired_target: list[str], unpaired_source: list[str]):
        self.unpaired_target, self.unpaired_source = unpaired_target, unpaired_source
        parts = ([f"{len(unpaired_target)} of the spec's tensors unpaired ({_few(unpaired_target)})"]
                 if unpaired_target else []) + \
                ([f"{len(unpaired_source)} of the source's unpaired ({_few(unpaired_source)})"]
                 if unpaired_source else [])
        super().__init__("expected every tensor of the spec's network to pair, in order and with the same shape, "
                         "with one of the source's; got " + "; ".join(parts),
                         "the source must be the same architecture (compare `netspec check` with the source "
                         "model's print()); strict=False pairs what fits, e.g. all but a new classifier head")


def match_by_structure(target_state: dict, source_state: dict, *, strict: bool = True) -> dict[str, str]:
    """Pair each key of `target_state` (a spec's network) with a key of `source_state` (e.g. torchvision's).

    Names are ignored: both dicts are read in registration order (as `state_dict()` returns
    them) and tensors pair in that order when their shapes are equal, dimensions of size 1
    aside (a Linear's (out, in) weight pairs with a 1x1 conv's (out, in, 1, 1)). First the
    longest in-order pairing of tensors with the same role (the last name part: weight, bias,
    running_mean...) and shape, among tensors of modules without submodules; then, among the
    tensors left, the longest in-order pairing by shape alone. So a tensor that a container
    registers before its children (ConvNeXt's CNBlock puts `layer_scale` ahead of the block
    that it scales) pairs with the spec's layer that comes after them.

    Tensors left unpaired on either side raise StructureMismatch (listing them); with
    strict=False they are left out of the result instead (a new classifier head keeps its
    own initial weights).
    """
    targets, sources = list(target_state), list(source_state)
    signature = {("t", key): _signature(value) for key, value in target_state.items()} | \
                {("s", key): _signature(value) for key, value in source_state.items()}
    pairs = _pair_in_order(_leaf_owned(targets), _leaf_owned(sources),
                           lambda t, s: t.rsplit(".", 1)[-1] == s.rsplit(".", 1)[-1]
                           and signature["t", t] == signature["s", s])
    left_t = [key for key in targets if key not in pairs]
    used = set(pairs.values())
    left_s = [key for key in sources if key not in used]
    pairs |= _pair_in_order(left_t, left_s, lambda t, s: signature["t", t] == signature["s", s])
    if strict and len(pairs) < max(len(targets), len(sources)):
        used = set(pairs.values())
        raise StructureMismatch([f"{key} {tuple(target_state[key].shape)}" for key in targets if key not in pairs],
                                [f"{key} {tuple(source_state[key].shape)}" for key in sources if key not in used])
    return {key: pairs[key] for key in targets if key in pairs}


def load_by_structure(model: "nn.Module", source_state: dict, *, strict: bool = True) -> dict[str, str]:
    """Copy `source_state`'s tensors into `model` as `match_by_structure` pairs them; return the pairing."""
    import torch

    own = model.state_dict()
    pairs = match_by_structure(own, source_state, strict=strict)
    with torch.no_grad():
        for key, source_key in pairs.items():
            own[key].copy_(source_state[source_key].reshape(own[key].shape))
    return pairs


def _leaf_owned(keys: list[str]) -> list[str]:
    """The keys whose module has no submodule with tensors: their place in the order is their place in the forward."""
    owners = {key.rpartition(".")[0] for key in keys}
    containers = {parent for owner in owners for parent in _ancestors(owner)}
    return [key for key in keys if key.rpartition(".")[0] not in containers]


def _ancestors(owner: str) -> list[str]:
    parts = owner.split(".") if owner else []
    return [".".join(parts[:depth]) for depth in range(len(parts))]


def _signature(tensor) -> tuple[int, ...]:
    return tuple(size for size in tensor.shape if size != 1)


def _pair_in_order(targets: list[str], sources: list[str], fits) -> dict[str, str]:
    """The longest order-preserving pairing of targets with sources where `fits(target, source)`."""
    start = 0  # equal heads and tails pair directly: the whole work when the structures agree
    while start < min(len(targets), len(sources)) and fits(targets[start], sources[start]):
        start += 1
    end = 0
    while end < min(len(targets), len(sources)) - start and fits(targets[-1 - end], sources[-1 - end]):
        end += 1
    pairs = dict(zip(targets[:start], sources[:start]))
    middle_t, middle_s = targets[start:len(targets) - end], sources[start:len(sources) - end]
    pairs |= _longest_common_pairing(middle_t, middle_s, fits)
    pairs |= dict(zip(targets[len(targets) - end:], sources[len(sources) - end:]))
    return pairs


def _longest_common_pairing(targets: list[str], sources: list[str], fits) -> dict[str, str]:
    """Longest common subsequence by dynamic programming; ties keep the earliest pairing."""
    n, m = len(targets), len(sources)
    if not n or not m:
        return {}
    longest = [[0] * (m + 1) for _ in range(n + 1)]  # longest[i][j]: of targets[i:] and sources[j:]
    for i in range(n - 1, -1, -1):
        row, below = longest[i], longest[i + 1]
        for j in range(m - 1, -1, -1):
            row[j] = below[j + 1] + 1 if fits(targets[i], sources[j]) else max(below[j], row[j + 1])
    pairs, i, j = {}, 0, 0
    while i < n and j < m:
        if fits(targets[i], sources[j]) and longest[i][j] == longest[i + 1][j + 1] + 1:
            pairs[targets[i]] = sources[j]
            i, j = i + 1, j + 1
        elif longest[i + 1][j] >= longest[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def recorded_variant(checkpoint: str | Path) -> dict | None:
    """The scale and overrides a `netspec train` checkpoint was trained at; None for a plain state dict."""
    import torch

    try:
        content = torch.load(Path(checkpoint), map_location="cpu", weights_only=True)
    except Exception:  # unreadable: read_state_dict says why when the weights are loaded
        return None
    return content.get("variant") if isinstance(content, dict) else None
