"""Read trained weights into a built network: a `netspec train` checkpoint or a plain state dict.

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
