"""Resolved settings of one run: the spec's `train:` section with the caller's overrides applied.

Torch-free. Overrides are validated by the same pydantic model as the spec, so a
flag and a spec key accept exactly the same values.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..expr import MAX_MAGNITUDE
from ..train_config import TrainConfig
from .errors import TrainError

DATASETS = ("mnist", "fashion-mnist", "cifar10")
IMAGE_FOLDER = "imagefolder"  # --dataset imagefolder --data-dir PATH, or --dataset PATH
DEFAULT_VAL_FRACTION = 0.1
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
    val_fraction: float = DEFAULT_VAL_FRACTION  # of train held out for validation, when the dataset has no val split
    early_stopping: int | None = None  # stop after this many epochs without a better validation accuracy
    memory_budget: int | None = None  # MiB of decoded images an image folder may keep in memory (else streamed)
    workers: int | None = None  # decoding processes for image folders (default: up to 8)
    init: Path | None = None  # weights to start from (checkpoint, state_dict or torchvision file)
    freeze: str | None = None  # freeze every layer up to and including this one
    tensorboard: bool = True  # event files in --out/tensorboard when the tensorboard package is installed

    def describe(self) -> str:
        c = self.config
        schedule = c.schedule.kind
        data = self.data_dir if self.dataset == IMAGE_FOLDER else self.dataset
        return (f"{data}: {c.epochs} epoch{'s' * (c.epochs != 1)}, batch {c.batch_size}, "
                f"{c.optimizer} lr {c.lr:g}, schedule {schedule}, seed {self.seed}")


RUN_OPTIONS = {f.name for f in fields(Settings)} - {"dataset", "config"}


def require_dataset(name: str) -> None:
    if name not in DATASETS + (IMAGE_FOLDER,):
        raise _unknown_dataset(name)


def _unknown_dataset(name: str) -> TrainError:
    return TrainError(f"expected a dataset among {', '.join(DATASETS)}, or a folder of class folders; got '{name}'",
                      "a folder is given as --dataset PATH (a path that exists) or --dataset imagefolder "
                      "--data-dir PATH")


def dataset_and_folder(dataset: str, data_dir: str | Path | None) -> tuple[str, Path | None]:
    """`--dataset PATH` is `--dataset imagefolder --data-dir PATH`; a known name keeps its --data-dir."""
    if dataset in DATASETS or dataset == IMAGE_FOLDER:
        if dataset == IMAGE_FOLDER and data_dir is None:
            raise TrainError("expected --data-dir PATH with --dataset imagefolder (the folder of class folders)",
                             "or give the folder itself: --dataset PATH")
        return dataset, None if data_dir is None else Path(data_dir)
    if not (Path(dataset).is_dir() or os.sep in dataset or dataset.startswith(".")):
        raise _unknown_dataset(dataset)
    if data_dir is not None and Path(data_dir) != Path(dataset):
        raise TrainError(f"expected the image folder once; got --dataset {dataset} and --data-dir {data_dir}",
                         "drop --data-dir: --dataset PATH names the folder")
    return IMAGE_FOLDER, Path(dataset)


def resolve(spec_train: TrainConfig, dataset: str, spec_name: str, overrides: dict[str, Any]) -> Settings:
    """Apply `overrides` (run options and `train:` keys; None means "not given") to the spec's section."""
    dataset, folder = dataset_and_folder(dataset, overrides.get("data_dir"))
    given = {key: value for key, value in {**overrides, "data_dir": folder}.items() if value is not None}
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
    _check_run_numbers(run)
    run["out"] = Path(run.get("out") or Path("runs") / spec_name)
    for name in ("data_dir", "init"):
        if run.get(name) is not None:
            run[name] = Path(run[name])
    return Settings(dataset=dataset, config=config, **run)


def _check_run_numbers(run: dict[str, Any]) -> None:
    if not 0 <= run.get("val_fraction", DEFAULT_VAL_FRACTION) < 1:
        raise TrainError(f"expected --val-fraction in [0, 1); got {run['val_fraction']}",
                         "0.1 holds a tenth of the training images out for validation; 0 keeps them all")
    for name in ("early_stopping", "memory_budget", "workers"):
        least = 1 if name == "early_stopping" else 0
        if run.get(name) is not None and run[name] < least:
            raise TrainError(f"expected --{name.replace('_', '-')} to be at least {least}; got {run[name]}")


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
