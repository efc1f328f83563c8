"""The `train:` section of a spec: training settings that `netspec train` flags override.

Pure pydantic, no torch: the checker validates it with the rest of the spec.
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt

from .kinds.base import Number, PositiveInt


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


ScheduleKind = Literal["none", "step", "multistep", "cosine", "onecycle", "plateau"]
# The numbers' bounds are torch's own (its optimizers and schedulers refuse values outside them), so a
# value `netspec train` would fail on is an error of `netspec check`, located like any other.


class Schedule(_Section):
    """Learning-rate schedule. `plateau` lowers the rate by `factor` when the validation loss stalls (AlexNet's 10x)."""

    kind: ScheduleKind = "none"
    step_size: PositiveInt = Field(10, description="step: epochs between decays")
    milestones: list[PositiveInt] = Field(default_factory=list, description="multistep: epochs to decay at")
    gamma: Number = Field(0.1, gt=0, description="step/multistep: decay factor")
    factor: Number = Field(0.1, gt=0, lt=1, description="plateau: decay factor")
    patience: StrictInt = Field(2, ge=0, description="plateau: epochs without improvement before decaying")
    max_lr: Optional[Number] = Field(None, gt=0, description="onecycle: peak rate (default: lr)")
    warmup: Number = Field(0.25, ge=0, lt=1, description="onecycle: fraction of steps spent warming up")


def _kind_alone(value):
    """`schedule: cosine`, as the README writes it, is `schedule: {kind: cosine}`."""
    return {"kind": value} if isinstance(value, str) else value


def _schedule_json_schema(schema: dict) -> None:
    reference = dict(schema)
    schema.clear()
    schema["anyOf"] = [reference, {"enum": list(ScheduleKind.__args__)}]


class Augment(_Section):
    random_crop_padding: StrictInt = Field(0, ge=0, description="pad then randomly crop back (0: off)")
    horizontal_flip: StrictBool = False
    random_resized_crop: Optional[Number] = Field(
        None, gt=0, le=1, description="crop a random part of this fraction of the area or more (0.08: ImageNet's), "
                                      "aspect 3/4 to 4/3, scaled back to the input size (None: off)")


class TrainConfig(_Section):
    """Defaults for `netspec train`; every field can be overridden by a flag."""

    optimizer: Literal["sgd", "adam", "adamw"] = "sgd"
    lr: Number = Field(0.01, gt=0)
    momentum: Number = Field(0.9, ge=0, lt=1)
    nesterov: StrictBool = False
    weight_decay: Number = Field(0.0, ge=0)
    epochs: PositiveInt = 10
    batch_size: PositiveInt = 128
    schedule: Annotated[Schedule, BeforeValidator(_kind_alone)] = Field(
        default_factory=Schedule, json_schema_extra=_schedule_json_schema,
        description="a kind alone (`schedule: cosine`) or a mapping with the kind's settings")
    label_smoothing: Number = Field(0.0, ge=0.0, lt=1.0)
    augment: Augment = Field(default_factory=Augment)
    resize: Optional[PositiveInt] = Field(None, description="resize images to this square size (seed 001: 224)")
    normalize: StrictBool = Field(True, description="subtract the dataset mean, divide by its std")
