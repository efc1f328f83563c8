"""Resolved settings of one run: the spec's `train:` section with the caller's overrides applied.

Torch-free. Overrides are validated by the same pydantic model as the spec, so a
flag and a spec key accept exactly the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..expr import MAX_MAGNITUDE
from ..train_config import TrainConfig
from .errors import TrainError

DATASETS = ("mnist", "fashion-mnist", "cifar10")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class Settings:
    """Everything a run needs besides the network: what to train on, how, and where to write."""

    dataset: str
    config: TrainConfig
    out: Path
    data_dir: Path | None = None
    device: str = "auto"
    seed: int = 0
    resume: bool = False
    limit_train: int | None = None
    limit_test: int | None = None
    compile: bool = False
    sync_batchnorm: bool = False  # data-parallel runs: batchnorm statistics over every rank's batch
    download: bool = True
    progress: bool = True  # a bar on a terminal, plain lines otherwise; False: silent

    def describe(self) -> str:
        c = self.config
        schedule = c.schedule.kind
        return (f"{self.dataset}: {c.epochs} epoch{'s' * (c.epochs != 1)}, batch {c.batch_size}, "
                f"{c.optimizer} lr {c.lr:g}, schedule {schedule}, seed {self.seed}")


RUN_OPTIONS = {f.name for f in fields(Settings)} - {"dataset", "config"}


def require_dataset(name: str) -> None:
    if name not in DATASETS:
        raise TrainError(f"expected a dataset among {', '.join(DATASETS)}; got '{name}'")


def resolve(spec_train: TrainConfig, dataset: str, spec_name: str, overrides: dict[str, Any]) -> Settings:
    """Apply `overrides` (run options and `train:` keys; None means "not given") to the spec's section."""
    require_dataset(dataset)
    given = {key: value for key, value in overrides.items() if value is not None}
    unknown = sorted(set(given) - RUN_OPTIONS - set(TrainConfig.model_fields))
    if unknown:
        known = sorted(RUN_OPTIONS | set(TrainConfig.model_fields))
        raise TrainError(f"unknown training setting {', '.join(map(repr, unknown))}; expected one of {', '.join(known)}")
    _refuse_huge_integers(given)
    run = {key: value for key, value in given.items() if key in RUN_OPTIONS}
    config = _config(spec_train, {key: value for key, value in given.items() if key not in RUN_OPTIONS})
    if run.get("device", "auto") not in DEVICES:
        raise TrainError(f"expected a device among {', '.join(DEVICES)}; got '{run['device']}'")
    for limit in ("limit_train", "limit_test"):
        if run.get(limit) is not None and run[limit] < 1:
            raise TrainError(f"expected --{limit.replace('_', '-')} to be at least 1; got {run[limit]}")
    run["out"] = Path(run.get("out") or Path("runs") / spec_name)
    if run.get("data_dir") is not None:
        run["data_dir"] = Path(run["data_dir"])
    return Settings(dataset=dataset, config=config, **run)


def _refuse_huge_integers(given: dict[str, Any]) -> None:
    """The bound a spec's and a flag's integers have, for the Python API's keywords too (a seed of 2**70)."""
    for key, value in given.items():
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_MAGNITUDE:
            raise TrainError(f"expected {key} of magnitude at most {MAX_MAGNITUDE:.0e}; got a "
                             f"{len(str(abs(value))):,}-digit integer")


def _config(spec_train: TrainConfig, changes: dict[str, Any]) -> TrainConfig:
    plain = spec_train.model_dump()
    if isinstance(changes.get("schedule"), str):  # `--schedule cosine` keeps the spec's other schedule keys
        changes["schedule"] = {**plain["schedule"], "kind": changes["schedule"]}
    try:
        config = TrainConfig.model_validate({**plain, **changes})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'train'}: {e['msg']}" for e in error.errors())
        raise TrainError(f"invalid training settings: {problems}") from None
    if config.nesterov and config.optimizer == "sgd" and config.momentum <= 0:
        raise TrainError(f"train.nesterov needs momentum > 0; got momentum {config.momentum}",
                         "set train.momentum (0.9 is usual) or nesterov: false")
    return config
