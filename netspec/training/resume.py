"""Resuming a run: a checkpoint to continue must fit the command that continues it.

Everything that decides which images a run sees and how it learns must be the same;
the data may have moved (--data-dir), and more --epochs extend a finished run whose
schedule does not depend on its length. A refusal names each setting that changed.
"""

from __future__ import annotations

from pathlib import Path

from ..check import Report
from .checkpoint import CHECKPOINT_FILE, check_writable, load_checkpoint
from .distributed import refuse_other_world_size
from .errors import CheckpointError, TrainError
from .settings import Settings


def prepare_out(path: Path, settings: Settings, report: Report, world_size: int) -> dict | None:
    """On the main rank: --out must be writable, and a checkpoint to resume must fit this run."""
    check_writable(settings.out)
    resumed = _resume_state(path, settings, report)
    if resumed is not None:
        refuse_other_world_size(resumed, path, world_size)
    return resumed


def _resume_state(path: Path, settings: Settings, report: Report) -> dict | None:
    if not settings.resume:
        if path.exists():
            raise TrainError(f"{settings.out} already holds a run ({path.name})",
                             "pass --resume to continue it, or choose another --out")
        return None
    if not path.exists():
        raise CheckpointError(f"nothing to resume: no {CHECKPOINT_FILE} in {settings.out}",
                              "start the run without --resume")
    state = load_checkpoint(path)
    if state.get("spec_text") != report.spec.source:
        raise CheckpointError(f"{path} was trained from a different spec text than {report.spec.file}",
                              "resume with the spec the run started from (its text is in the checkpoint)")
    saved, now = _flat(state.get("settings", {})), _flat(settings_record(settings))
    changed = [f"{key} {saved.get(key, '(not set)')!r} -> {now.get(key, '(not set)')!r}"
               for key in sorted(set(saved) | set(now)) if saved.get(key) != now.get(key) and key not in FREE_ON_RESUME
               and not (key == "config.epochs" and _extends(state, settings))]
    if changed:
        raise CheckpointError(f"{path}: --resume must keep the run's settings; changed: {'; '.join(changed)}",
                              "drop the flags that differ, or start a new run in another --out (more --epochs "
                              "extend a run whose schedule is none, step, multistep or plateau)")
    return state


# the data may move between runs, and a fine-tuning run may freeze more or fewer layers; what the data is
# (dataset, limits, validation split) and how the network learns may not change
FREE_ON_RESUME = {"data_dir", "freeze", "init"}  # --init starts a run; a resumed one has its weights


def _extends(state: dict, settings: Settings) -> bool:
    """More epochs than the run had: allowed where the schedule's length does not depend on them."""
    return (settings.config.schedule.kind not in ("cosine", "onecycle")
            and settings.config.epochs > state["settings"]["config"]["epochs"])


def _flat(record: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def settings_record(settings: Settings) -> dict:
    """The settings a resumed run must share with the run it continues (and that eval remembers)."""
    return {"dataset": settings.dataset, "seed": settings.seed, "limit_train": settings.limit_train,
            "limit_test": settings.limit_test, "val_fraction": settings.val_fraction,
            "data_dir": None if settings.data_dir is None else str(settings.data_dir.resolve()),
            "freeze": settings.freeze, "init": None if settings.init is None else str(settings.init),
            "config": settings.config.model_dump()}
