"""Checkpoints: written atomically, read with `weights_only` (a file cannot run code), checked for fit.

A checkpoint is a dict of tensors and plain values: model, optimizer and scheduler
state, RNG states, the position in training (epoch, step), the metrics so far,
the resolved settings and the spec's text. It replaces the previous one only once
completely on disk (temporary file, fsync, rename), so a kill during a save
leaves the last checkpoint readable.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Callable

from .errors import CheckpointError, TrainError

CHECKPOINT_FILE = "checkpoint.pt"
FORMAT = "netspec-checkpoint"
VERSION = 2  # 2: "rng" holds one random state per rank
# every key `_Run._save` writes: a reader finds them all, or is told which is missing
REQUIRED_KEYS = ("spec_name", "spec_text", "settings", "model", "optimizer", "scheduler", "rng", "epoch", "step",
                 "partial", "partial_seconds", "history", "classes", "mean", "std", "input_shape", "world_size")
REQUIRED_SETTINGS = ("dataset", "seed", "limit_train", "limit_test", "config")
_KINDS = {"settings": dict, "model": dict, "optimizer": dict, "scheduler": dict, "rng": list, "history": list,
          "classes": list, "mean": list, "std": list}
_TEMPORARY = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")  # what mkstemp makes below: .NAME.XXXXXXXX.tmp


def write_atomically(path: Path, content: bytes | Callable[[IO[bytes]], None]) -> None:
    """Write `content` (bytes, or a function writing to a file) to `path` so readers see all of it or none.

    A full disk or an unwritable folder is a TrainError; the previous file stays as it was.
    """
    temporary = None
    try:
        remove_stale_temporaries(path.parent, path.name)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.fchmod(descriptor, 0o666 & ~_umask())  # mkstemp's 0600 would outlive the rename; follow the umask
        with os.fdopen(descriptor, "wb") as file:
            content(file) if callable(content) else file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        raise TrainError(f"cannot write {path}: {error.strerror or error}",
                         "choose an --out you can write to, or free some disk space (earlier files are intact; "
                         "continue with --resume)") from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)  # already renamed away when all went well
    _sync_directory(path.parent)


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def remove_stale_temporaries(folder: Path, name: str | None = None) -> None:
    """Delete what an earlier save killed half-way left behind (`.checkpoint.pt.XXXXXXXX.tmp`): of `name`
    only, or every such file in `folder` (at the start of a run, before any save of its own)."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return  # the write that follows reports an unusable folder
    for entry in entries:
        if _TEMPORARY.fullmatch(entry.name) and (name is None or entry.name.startswith(f".{name}.")):
            entry.unlink(missing_ok=True)


def _sync_directory(folder: Path) -> None:
    # the rename itself is durable only once the directory entry is on disk
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some platforms cannot open directories; the rename is still atomic
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def save_checkpoint(path: Path, state: dict) -> None:
    import torch

    write_atomically(path, lambda file: torch.save({"format": FORMAT, "version": VERSION, **state}, file))


def load_checkpoint(path: Path) -> dict:
    """Read a netspec checkpoint safely; CheckpointError says what is wrong with a bad one."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}", "give the checkpoint.pt that `netspec train` wrote in --out")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        unsafe = python_object_in(error)
        if unsafe:
            raise CheckpointError(f"{path}: {refusal(unsafe)}", "load only checkpoints written by `netspec train`") \
                from None
        raise _corrupt(path, re.sub(r"\s+", " ", str(error).partition("WeightsUnpickler error:")[2]).strip()) from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as error:
        raise _corrupt(path, str(error).splitlines()[0] if str(error) else type(error).__name__) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: expected a netspec checkpoint; this is some other file "
                              "(a bare state_dict or another tool's checkpoint)")
    if state.get("version") != VERSION:
        raise CheckpointError(f"{path}: expected checkpoint format version {VERSION}; got {state.get('version')}")
    _require_keys(path, state)
    return state


def python_object_in(error: Exception) -> str | None:
    """The Python object a weights-only load refused, or None when the file failed for another reason.

    torch has worded this refusal several ways ("GLOBAL x was not an allowed global", "Trying to load
    unsupported GLOBAL x whose module ...", "Unsupported global: GLOBAL x"); every one names the GLOBAL.
    """
    found = re.search(r"GLOBAL\s+([\w.]+)", str(error)) if isinstance(error, pickle.UnpicklingError) else None
    return found.group(1) if found else None


def refusal(unsafe: str) -> str:
    return (f"refusing to load: it holds a Python object ({unsafe}) besides tensors and plain values, "
            "and loading it could run code")


def _require_keys(path: Path, state: dict) -> None:
    missing = [key for key in REQUIRED_KEYS if key not in state]
    if not missing:
        mistyped = [f"{key} (a {kind.__name__}, got a {type(state[key]).__name__})" for key, kind in _KINDS.items()
                    if not isinstance(state[key], kind)]
        if mistyped:
            raise CheckpointError(f"{path}: expected a netspec checkpoint; these entries have the wrong type: "
                                  f"{', '.join(mistyped)}", "use the checkpoint.pt that `netspec train` wrote")
        missing = [f"settings.{key}" for key in REQUIRED_SETTINGS if key not in state["settings"]]
    if missing:
        raise CheckpointError(f"{path}: expected a complete netspec checkpoint; it lacks {', '.join(missing)}",
                              "use the checkpoint.pt that `netspec train` wrote, unedited, or train again")


def _corrupt(path: Path, reason: str) -> CheckpointError:
    return CheckpointError(f"{path}: expected a checkpoint written by `netspec train`; the file is truncated or "
                           f"corrupt ({reason.split('. ')[0] or 'unreadable'})", "use an intact copy, or train again")


def load_model_weights(model, state: dict, path: Path) -> None:
    """Load the checkpoint's weights into `model`, or say which tensors do not fit the spec."""
    expected = model.state_dict()
    given = state.get("model", {})
    missing = [key for key in expected if key not in given]
    unexpected = [key for key in given if key not in expected]
    reshaped = [f"{key} {list(given[key].shape)} (spec: {list(value.shape)})"
                for key, value in expected.items() if key in given and given[key].shape != value.shape]
    if missing or unexpected or reshaped:
        problems = [f"{label}: {', '.join(items[:4])}{' ...' if len(items) > 4 else ''}"
                    for label, items in (("missing", missing), ("not in the spec", unexpected),
                                         ("other shape", reshaped)) if items]
        raise CheckpointError(f"{path}: the checkpoint does not fit this spec's network "
                              f"(it was saved for '{state.get('spec_name', '?')}'); " + "; ".join(problems),
                              "pass the spec the checkpoint was trained from")
    model.load_state_dict(given)


def check_writable(out: Path) -> None:
    """Create --out and prove a file can be written there, before any training time is spent."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise TrainError(f"cannot write to --out {out}: {error.strerror or error}",
                         "choose a folder you can write to") from None
    remove_stale_temporaries(out)
    write_atomically(out / ".write-test", b"ok")
    (out / ".write-test").unlink()
