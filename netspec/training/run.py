"""`netspec.train`: one run from a spec to a trained, checkpointed, evaluated network."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..check import Report, check, check_as_trained
from ..spec import Spec
from .checkpoint import CHECKPOINT_FILE, check_writable, load_checkpoint, load_model_weights, save_checkpoint
from .data import CLASSES, IMAGE_SHAPES, Dataset, load_dataset
from .errors import CheckpointError, Diverged, OutOfMemory, TrainError, is_out_of_memory
from .loop import EpochState, Schedule, Step, evaluate, make_optimizer
from .metrics import Evaluation, plot_curves, write_evaluation, write_metrics
from .pipeline import EpochBatches, Preprocess, channel_stats, steps_per_epoch, stream_seed
from .progress import Progress
from .distributed import refuse_other_world_size, start_runtime
from .runtime import Runtime
from .settings import Settings, require_dataset, resolve


@dataclass
class TrainResult:
    """What a run produced. `stopped_by` is "SIGINT" or "SIGTERM" when a signal ended it early."""

    out: Path
    checkpoint: Path
    history: list[dict]
    evaluation: Evaluation | None
    stopped_by: str | None = None
    settings: Settings | None = field(default=None, repr=False)
    is_main: bool = True  # False on the other ranks of a data-parallel run, which write nothing

    @property
    def test_acc(self) -> float | None:
        return self.history[-1]["test_acc"] if self.history else None


def train(spec: Spec | str | Path, dataset: str = "mnist", **overrides: Any) -> TrainResult:
    """Train the network a spec describes; write checkpoints, metrics and curves to `out`.

    Settings come from the spec's `train:` section; keyword arguments override them
    (`epochs`, `batch_size`, `lr`, `optimizer`, `schedule`, any other `train:` key) and
    set the run (`out`, `data_dir`, `device`, `seed`, `resume`, `limit_train`,
    `limit_test`, `compile`, `download`, `progress`). `overrides` and `scale` pick the
    network as in `netspec.load` and are kept in the checkpoint, so `--resume`, `evaluate`,
    `predict` and `export` rebuild it without them. Raises SpecError for a bad spec
    and TrainError (with a hint) for anything else the caller can fix.

    >>> result = netspec.train("specs/resnet_mini.yaml", dataset="mnist",
    ...                        data_dir="../shared/datasets/mnist", epochs=1, out="runs/resnet")
    >>> result.test_acc, result.checkpoint
    (0.9871, PosixPath('runs/resnet/checkpoint.pt'))
    """
    variant = {"overrides": overrides.pop("overrides", None), "scale": overrides.pop("scale", None)}
    report = check(spec, **variant).raise_for_errors()
    settings = resolve(report.spec.train, dataset, report.spec.name, overrides)
    if settings.resume and (settings.out / CHECKPOINT_FILE).exists():  # at the checkpoint's scale and overrides
        saved = load_checkpoint(settings.out / CHECKPOINT_FILE).get("variant")
        report = check_as_trained(spec, saved, settings.out / CHECKPOINT_FILE, **variant).raise_for_errors()
        settings = resolve(report.spec.train, dataset, report.spec.name, overrides)
    runtime = start_runtime(settings.device, settings.sync_batchnorm)  # a rank of torchrun's group, or alone
    with runtime.session():
        return _train(report, settings, runtime)


def _train(report: Report, settings: Settings, runtime: Runtime) -> TrainResult:
    # before --out or data are touched; rank 0 decides, so a refusal is printed once
    size = runtime.from_main(lambda: check_input_shape(report, settings.dataset, settings.config.resize))
    progress = Progress(enabled=settings.progress and runtime.is_main)
    checkpoint_path = settings.out / CHECKPOINT_FILE
    resumed = runtime.from_main(lambda: _prepare_out(checkpoint_path, settings, report, runtime.world_size))
    data = runtime.node_main_first(lambda: load_dataset(settings.dataset, settings.data_dir, settings.download))
    data = data.limited(settings.limit_train, settings.limit_test)
    progress.note(f"{report.spec.name} on {runtime.describe(settings.config.batch_size)}: {settings.describe()}; "
                  f"data from {data.source}")
    try:
        return _Run(report, settings, runtime, data.to(runtime.device), size, progress).go(resumed)
    except RuntimeError as error:  # torch.OutOfMemoryError is one too
        if not is_out_of_memory(error):
            raise
        raise _out_of_memory(report, settings, runtime) from None
    except ValueError as error:
        if "Expected more than 1 value per channel" not in str(error):
            raise
        raise TrainError(f"batchnorm cannot train on a batch of one image ({error})",
                         "train on at least 2 images (--limit-train) with --batch-size at least 2") from None


def check_input_shape(report: Report, dataset: str, resize: int | None) -> tuple[int, int]:
    """The spec must take the dataset's images (after `resize`) and give one score per class."""
    require_dataset(dataset)  # evaluate() reaches here without resolve()
    channels, height, width = IMAGE_SHAPES[dataset]
    size = (resize, resize) if resize else (height, width)
    arriving = (channels, *size)
    expected = tuple(report.graph.input_shape)
    if arriving != expected:
        after = f" after resize to {resize}" if resize else ""
        raise TrainError(f"{report.spec.file}: the spec expects input {list(expected)}; {dataset} images are "
                         f"{list(arriving)}{after}", _input_hint(dataset, channels, expected))
    classes = len(CLASSES[dataset])
    if tuple(report.graph.output_shape or ()) != (classes,):
        raise TrainError(f"{report.spec.file}: expected the network to output [{classes}] ({dataset} has "
                         f"{classes} classes); it outputs {list(report.graph.output_shape or ())}",
                         "end the spec with a linear layer of that many outputs")
    return size


def _input_hint(dataset: str, channels: int, expected: tuple[int, ...]) -> str:
    if channels != expected[0]:
        fits = [name for name, shape in IMAGE_SHAPES.items() if shape[0] == expected[0]]
        return (f"{dataset} has {channels} channel{'s' * (channels != 1)}: train this spec on "
                f"{' or '.join(fits) or 'a dataset with that many channels'}, or change its `input`")
    if expected[1] == expected[2]:
        return f"set `resize: {expected[1]}` in the spec's train: section, or change its `input`"
    return "change the spec's `input` to the dataset's image size (resize makes square images only)"


def _prepare_out(path: Path, settings: Settings, report: Report, world_size: int) -> dict | None:
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
    saved, now = state.get("settings", {}), settings_record(settings)
    changed = sorted(key for key in now if saved.get(key) != now[key])
    if changed:
        raise CheckpointError(f"{path}: --resume must keep the run's settings; changed: {', '.join(changed)}",
                              "drop the flags that differ, or start a new run in another --out")
    return state


def settings_record(settings: Settings) -> dict:
    """The settings a resumed run must share with the run it continues."""
    return {"dataset": settings.dataset, "seed": settings.seed, "limit_train": settings.limit_train,
            "limit_test": settings.limit_test, "config": settings.config.model_dump()}


class _StopOnSignal:
    """First Ctrl-C or SIGTERM: finish the step, checkpoint, stop. A second Ctrl-C aborts at once."""

    def __init__(self, progress: Progress):
        self.progress, self.signalled, self.received, self.previous = progress, None, None, {}

    def __enter__(self) -> "_StopOnSignal":
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self.previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, frame) -> None:
        if self.signalled is not None and number == signal.SIGINT:
            raise KeyboardInterrupt
        self.signalled = signal.Signals(number).name
        self.progress.note(f"\n{self.signalled}: stopping after this step and writing a checkpoint "
                           "(Ctrl-C again aborts without one)")

    def agreed(self, runtime: Runtime) -> bool:
        """Stop now if any rank was signalled: every rank must stop after the same step."""
        self.received = runtime.first_signal(self.signalled)
        return self.received is not None


class _Run:
    def __init__(self, report: Report, settings: Settings, runtime: Runtime, data: Dataset,
                 size: tuple[int, int], progress: Progress):
        self.report, self.settings, self.runtime, self.data, self.progress = report, settings, runtime, data, progress
        self.config = settings.config
        self.checkpoint_path = settings.out / CHECKPOINT_FILE
        torch.manual_seed(settings.seed)
        self.model = build_model(report, runtime)  # the same initial weights on every rank
        torch.manual_seed(stream_seed(settings.seed, -1, -1, runtime.rank))  # but each rank its own dropout masks
        self.optimizer = make_optimizer(self.model, self.config, runtime)
        shard = len(runtime.shard(torch.arange(len(data.train_images))))
        self.drop_single = any(node.kind == "batchnorm" for node in report.graph.nodes)
        self.schedule = Schedule(self.optimizer, self.config,
                                 steps_per_epoch(shard, self.config.batch_size, self.drop_single))
        stats = (channel_stats(data.train_images) if self.config.normalize
                 else ([0.0] * data.image_shape[0], [1.0] * data.image_shape[0]))
        self.mean, self.std = map(tuple, stats)
        self.size = size
        self.history: list[dict] = []
        replica = runtime.data_parallel(self.model)
        self.step = Step(torch.compile(replica) if settings.compile else replica, self.optimizer,
                         self.schedule, self.config.label_smoothing, runtime)

    def go(self, resumed: dict | None) -> TrainResult:
        epoch, state, seconds = 0, EpochState.fresh(self.runtime.device), 0.0
        if resumed is not None:
            epoch, state, seconds = self._restore(resumed)
        train_prep = Preprocess(self.mean, self.std, self.size, self.config.augment)
        with _StopOnSignal(self.progress) as stop:
            while epoch < self.config.epochs:
                batches = EpochBatches(self.data.train_images, self.data.train_labels, self.config.batch_size,
                                       self.settings.seed, epoch, self.runtime, train_prep, self.drop_single)
                self.progress.start_epoch(f"epoch {epoch + 1}/{self.config.epochs}", len(batches),
                                          self.config.batch_size, state.next_step)
                started = time.perf_counter()
                self.step.run_epoch(batches, state, lambda step, loss: self._on_step(epoch, step, loss, state),
                                    lambda: stop.agreed(self.runtime))
                totals = self.runtime.sum_across_ranks(state.totals).tolist()  # the epoch's one host sync
                seconds += time.perf_counter() - started
                self._raise_if_diverged(epoch, state)
                if stop.received is not None and state.next_step < len(batches):
                    self._save(epoch, state, seconds)
                    return self._result(stop.received)
                self._finish_epoch(epoch, totals, seconds)
                epoch, state, seconds = epoch + 1, EpochState.fresh(self.runtime.device), 0.0
                if stop.received is not None:
                    return self._result(stop.received)
        return self._result(None, final=True)

    def _on_step(self, epoch: int, step: int, loss: torch.Tensor, state: EpochState) -> None:
        if self.progress.due():  # the only host syncs inside an epoch, a few per second at most
            self._raise_if_diverged(epoch, state)
            self.progress.show(step, loss.item())

    def _raise_if_diverged(self, epoch: int, state: EpochState) -> None:
        bad = int(state.first_bad_step.item())
        if bad < 0:
            return
        kept = (f"the last good checkpoint is {self.checkpoint_path}" if self.checkpoint_path.exists()
                else "no checkpoint had been written yet")
        raise Diverged(f"the training loss became NaN or infinite at epoch {epoch + 1}, step {bad + 1}; "
                       f"stopped without saving those weights ({kept})",
                       "lower the learning rate (--lr or train.lr), or warm it up (schedule: {kind: onecycle})")

    def _finish_epoch(self, epoch: int, totals: list[float], seconds: float) -> None:
        loss_sum, correct, seen = totals
        evaluation = self._evaluate()
        self.schedule.after_epoch(evaluation.loss)
        row = {"epoch": epoch + 1, "train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1),
               "test_loss": evaluation.loss, "test_acc": evaluation.accuracy, "lr": self.schedule.lr,
               "seconds": round(seconds, 3), "images_per_second": round(seen / max(seconds, 1e-9), 1)}
        self.history.append(row)
        self._save(epoch + 1, EpochState.fresh(torch.device("cpu")), 0.0)
        if self.runtime.is_main:  # metrics.jsonl last: a new line means everything of that epoch is on disk
            plot_curves(self.settings.out, self.history, f"{self.report.spec.name} on {self.settings.dataset}")
            write_metrics(self.settings.out, self.history)
        self.progress.end_epoch(f"epoch {epoch + 1}/{self.config.epochs}: train loss {row['train_loss']:.4f} "
                                f"acc {row['train_acc']:.2%} | test loss {row['test_loss']:.4f} "
                                f"acc {row['test_acc']:.2%} | {seconds:.1f} s, {row['images_per_second']:,.0f} img/s")

    def _evaluate(self) -> Evaluation:
        prep = Preprocess(self.mean, self.std, self.size)
        return evaluate(self.model, self.data.test_images, self.data.test_labels, prep,
                        max(4 * self.config.batch_size, 512), self.data.classes, self.runtime)

    def _save(self, epoch: int, state: EpochState, seconds: float) -> None:
        weights_sha256 = self.runtime.agreed_weights(self.model)  # every rank calls these two collectives
        partial = self.runtime.sum_across_ranks(state.totals).cpu()  # the epoch so far, over all ranks
        rng = self.runtime.gather(self._rng_state())  # one state per rank: each draws its own dropout masks
        if not self.runtime.is_main:
            return
        save_checkpoint(self.checkpoint_path, {
            "spec_name": self.report.spec.name, "spec_text": self.report.spec.source,
            "variant": self.report.spec.variant_record(),
            "settings": settings_record(self.settings), "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(), "scheduler": self.schedule.state_dict(), "rng": rng,
            "epoch": epoch, "step": state.next_step, "partial": partial, "partial_seconds": seconds,
            "history": self.history, "classes": list(self.data.classes), "mean": list(self.mean),
            "std": list(self.std), "input_shape": list(self.report.graph.input_shape),
            "world_size": self.runtime.world_size, "weights_sha256": weights_sha256})

    def _rng_state(self) -> dict[str, torch.Tensor]:
        rng = {"torch": torch.get_rng_state()}
        if self.runtime.is_cuda:
            rng["cuda"] = torch.cuda.get_rng_state(self.runtime.device)
        return rng

    def _restore(self, saved: dict) -> tuple[int, EpochState, float]:
        load_model_weights(self.model, saved, self.checkpoint_path)
        self.optimizer.load_state_dict(saved["optimizer"])
        self.schedule.load_state_dict(saved["scheduler"])
        rng = saved["rng"][self.runtime.rank]  # the world size is the saved one (checked before)
        torch.set_rng_state(rng["torch"])
        if self.runtime.is_cuda and "cuda" in rng:
            torch.cuda.set_rng_state(rng["cuda"], self.runtime.device)
        self.history = list(saved["history"])
        self.mean, self.std = tuple(saved["mean"]), tuple(saved["std"])
        state = EpochState.fresh(self.runtime.device)
        # the saved counters cover every rank: the main rank carries them on, the others restart from zero
        state.totals = saved["partial"].to(self.runtime.device) * float(self.runtime.is_main)
        state.next_step = saved["step"]
        where = f"epoch {saved['epoch'] + 1}" + (f", step {saved['step'] + 1}" if saved["step"] else "")
        self.progress.note(f"resuming from {self.checkpoint_path} at {where}")
        return saved["epoch"], state, saved["partial_seconds"]

    def _result(self, stopped_by: str | None, final: bool = False) -> TrainResult:
        evaluation = None
        if final and self.data.test_images.numel():
            evaluation = self._evaluate()
            if self.runtime.is_main:
                write_evaluation(self.settings.out, evaluation)
            self.progress.note(evaluation.render())
        if stopped_by:
            self.progress.note(f"stopped by {stopped_by}; checkpoint written to {self.checkpoint_path}; "
                               "continue with --resume")
        return TrainResult(self.settings.out, self.checkpoint_path, self.history, evaluation, stopped_by,
                           self.settings, self.runtime.is_main)


def build_model(report: Report, runtime: Runtime) -> torch.nn.Module:
    from ..builder import build

    return build(report).to(runtime.device, memory_format=torch.channels_last)


def _out_of_memory(report: Report, settings: Settings, runtime: Runtime) -> OutOfMemory:
    batch, optimizer = settings.config.batch_size, settings.config.optimizer
    estimate = report.training_memory_bytes(batch, optimizer)
    message = (f"out of memory on {runtime.device} at batch {batch}; the checker estimates "
               f"{estimate / 2**30:.2f} GiB for training at this batch")
    hint = "lower --batch-size"
    if runtime.is_cuda:
        total = torch.cuda.get_device_properties(runtime.device).total_memory
        fixed = report.training_memory_bytes(1, optimizer) - report.activation_bytes
        fitting = int((0.6 * total - fixed) // max(report.activation_bytes, 1))
        suggested = 1 << max(fitting, 1).bit_length() - 1
        message += f" (the device has {total / 2**30:.1f} GiB)"
        hint = f"try --batch-size {min(suggested, max(batch // 2, 1))}"
    return OutOfMemory(message, hint)
