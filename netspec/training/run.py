"""`netspec.train`: one run from a spec to a trained, checkpointed, evaluated network."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from ..check import Report, check, check_as_trained
from ..spec import Spec
from .checkpoint import CHECKPOINT_FILE, load_checkpoint, load_model_weights, save_checkpoint
from .data import Dataset
from .errors import Diverged, OutOfMemory, TrainError, is_out_of_memory
from .holdout import BEST_FILE, BestSoFar, final_split, require_validation, with_validation
from .fit import check_input_shape
from .imagefolder import open_dataset
from .loop import EpochState, Schedule, Step, evaluate, make_optimizer
from .metrics import Evaluation, write_evaluation, write_metrics
from .pictures import plot_confusion, plot_curves
from .pipeline import EpochBatches, Preprocess, channel_stats, stats_sample, steps_per_epoch, stream_seed
from .steplog import StepLog, open_writer
from .transfer import freeze_through, hold_frozen_batchnorm, init_from
from .progress import Progress
from .distributed import start_runtime
from .resume import prepare_out, settings_record
from .runtime import Runtime
from .settings import IMAGE_FOLDER, Settings, resolve


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
        """The finished network's accuracy on the test split (on val/ for a folder without test/)."""
        return self.evaluation.accuracy if self.evaluation is not None else None


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
    ...                        data_dir="../shared/datasets/mnist", epochs=1, out="runs/resnet_mini")
    >>> result.test_acc, result.checkpoint
    (0.9871, PosixPath('runs/resnet_mini/checkpoint.pt'))
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
    size = runtime.from_main(lambda: check_input_shape(report, settings.dataset, settings.config.resize,
                                                        settings.data_dir))
    progress = Progress(enabled=settings.progress and runtime.is_main)
    checkpoint_path = settings.out / CHECKPOINT_FILE
    resumed = runtime.from_main(lambda: prepare_out(checkpoint_path, settings, report, runtime.world_size))
    data = runtime.node_main_first(lambda: open_dataset(settings, (report.graph.input_shape[0], *size),
                                                         runtime.device))
    data = with_validation(data, settings.val_fraction, settings.seed)  # the same held-out images at any limit
    data = data.limited(settings.limit_train, settings.limit_test)
    require_validation(data, settings.config.schedule.kind, settings.early_stopping)
    progress.note(f"{report.spec.name} on {runtime.describe(settings.config.batch_size)}: {settings.describe()}; "
                  f"data from {data.source}")
    for note in data.notes if runtime.is_main else ():
        progress.note(note)
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
        self._transfer(settings)
        torch.manual_seed(stream_seed(settings.seed, -1, -1, runtime.rank))  # but each rank its own dropout masks
        self.optimizer = make_optimizer(self.model, self.config, runtime)
        shard = len(runtime.shard(torch.arange(len(data.train_images))))
        self.drop_single = any(node.kind == "batchnorm" for node in report.graph.nodes)
        self.steps_per_epoch = steps_per_epoch(shard, self.config.batch_size, self.drop_single)
        self.schedule = Schedule(self.optimizer, self.config, self.steps_per_epoch)
        stats = (channel_stats(stats_sample(data.train_images)) if self.config.normalize
                 else ([0.0] * data.image_shape[0], [1.0] * data.image_shape[0]))
        self.mean, self.std = map(tuple, stats)
        self.size = size
        self.history: list[dict] = []
        self.best = BestSoFar(settings.early_stopping)
        replica = runtime.data_parallel(self.model)
        self.step = Step(torch.compile(replica) if settings.compile else replica, self.optimizer,
                         self.schedule, self.config.label_smoothing, runtime)

    def _transfer(self, settings: Settings) -> None:
        """--init (a new run only: a resumed one has its own weights), --freeze and the spec's trainable: false."""
        if settings.init is not None and not settings.resume:
            self.progress.note(init_from(self.model, settings.init).render())
        if settings.freeze is not None:
            frozen = freeze_through(self.model, settings.freeze)
            self.progress.note(f"--freeze {settings.freeze}: {len(frozen)} parameter tensors frozen, "
                               f"{frozen[0]} to {frozen[-1]}")
        hold_frozen_batchnorm(self.model)

    def go(self, resumed: dict | None) -> TrainResult:
        epoch, state, seconds = 0, EpochState.fresh(self.runtime.device), 0.0
        if resumed is not None:
            epoch, state, seconds = self._restore(resumed)
        self.steps = StepLog(self._writer(epoch * self.steps_per_epoch + state.next_step), self.steps_per_epoch,
                             resumed.get("step_losses") if resumed else None)
        try:
            return self._epochs(epoch, state, seconds)
        finally:
            self.steps.close()

    def _writer(self, first_step: int):
        wanted = self.settings.tensorboard and self.runtime.is_main
        writer = open_writer(self.settings.out, wanted, first_step)
        if wanted and writer is None:
            self.progress.note("no TensorBoard event files: the tensorboard package is not installed "
                               "(pip install tensorboard, or pass --no-tensorboard to silence this)")
        return writer

    def _epochs(self, epoch: int, state: EpochState, seconds: float) -> TrainResult:
        train_prep = Preprocess(self.mean, self.std, self.size, self.config.augment)
        with _StopOnSignal(self.progress) as stop:
            while epoch < self.config.epochs:
                batches = EpochBatches(self.data.train_images, self.data.train_labels, self.config.batch_size,
                                       self.settings.seed, epoch, self.runtime, train_prep, self.drop_single)
                self.progress.start_epoch(f"epoch {epoch + 1}/{self.config.epochs}", len(batches),
                                          self.config.batch_size, state.next_step)
                started = time.perf_counter()
                self.steps.start_epoch(state.totals)
                self.step.run_epoch(batches, state, lambda step, loss: self._on_step(epoch, step, loss, state),
                                    lambda: stop.agreed(self.runtime))
                totals = self.runtime.sum_across_ranks(state.totals).tolist()  # the epoch's one host sync
                self.steps.flush()
                seconds += time.perf_counter() - started
                self._raise_if_diverged(epoch, state)
                if stop.received is not None and state.next_step < len(batches):
                    self._save(epoch, state, seconds)
                    return self._result(stop.received)
                self._finish_epoch(epoch, totals, seconds)
                epoch, state, seconds = epoch + 1, EpochState.fresh(self.runtime.device), 0.0
                if stop.received is not None:
                    return self._result(stop.received)
                if self.best.should_stop(epoch):
                    self._stopped_early(epoch)
                    break
        return self._result(None, final=True)

    def _stopped_early(self, epoch: int) -> None:
        self.progress.note(f"early stopping: no better validation accuracy for {self.best.patience} epochs "
                           f"(the best, {self.best.accuracy:.2%}, was epoch {self.best.epoch}; "
                           f"{self.settings.out / BEST_FILE} holds it)")

    def _on_step(self, epoch: int, step: int, loss: torch.Tensor, state: EpochState) -> None:
        self.steps.record(epoch * self.steps_per_epoch + step, state.totals, self.schedule.lr)
        if self.progress.due():  # the only host syncs inside an epoch, a few per second at most
            self._raise_if_diverged(epoch, state)
            self.progress.show(step, loss.item())
            self.steps.flush()

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
        validation = self._validate()
        self.schedule.after_epoch(validation.loss if validation else None)
        row = {"epoch": epoch + 1, "train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1),
               **({"val_loss": validation.loss, "val_acc": validation.accuracy} if validation else {}),
               "lr": self.schedule.lr, "seconds": round(seconds, 3),
               "images_per_second": round(seen / max(seconds, 1e-9), 1)}
        self.history.append(row)
        improved = self.best.update(epoch + 1, row.get("val_acc"))
        self._save(epoch + 1, EpochState.fresh(torch.device("cpu")), 0.0, best=improved)
        if self.runtime.is_main:  # metrics.jsonl last: a new line means everything of that epoch is on disk
            self.steps.epoch(row)
            plot_curves(self.settings.out, self.history, self.steps.losses, self._title())
            write_metrics(self.settings.out, self.history)
        judged = (f" | val loss {row['val_loss']:.4f} acc {row['val_acc']:.2%}" + " (best)" * improved
                  if validation else "")
        self.progress.end_epoch(f"epoch {epoch + 1}/{self.config.epochs}: train loss {row['train_loss']:.4f} "
                                f"acc {row['train_acc']:.2%}{judged} | {seconds:.1f} s, "
                                f"{row['images_per_second']:,.0f} img/s")

    def _validate(self) -> Evaluation | None:
        if self.data.val_labels is None or not len(self.data.val_labels):
            return None
        return self._evaluate("val", self.data.val_images, self.data.val_labels)

    def _evaluate(self, split: str, images, labels: torch.Tensor) -> Evaluation:
        prep = Preprocess(self.mean, self.std, self.size)
        evaluation = evaluate(self.model, images, labels, prep, max(4 * self.config.batch_size, 512),
                              self.data.classes, self.runtime)
        return replace(evaluation, split=split)

    def _title(self) -> str:
        data = self.settings.data_dir.name if self.settings.dataset == IMAGE_FOLDER else self.settings.dataset
        return f"{self.report.spec.name} on {data}"

    def _save(self, epoch: int, state: EpochState, seconds: float, best: bool = False) -> None:
        weights_sha256 = self.runtime.agreed_weights(self.model)  # every rank calls these two collectives
        partial = self.runtime.sum_across_ranks(state.totals).cpu()  # the epoch so far, over all ranks
        rng = self.runtime.gather(self._rng_state())  # one state per rank: each draws its own dropout masks
        if not self.runtime.is_main:
            return
        checkpoint = {
            "spec_name": self.report.spec.name, "spec_text": self.report.spec.source,
            "variant": self.report.spec.variant_record(),
            "settings": settings_record(self.settings), "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(), "scheduler": self.schedule.state_dict(), "rng": rng,
            "epoch": epoch, "step": state.next_step, "partial": partial, "partial_seconds": seconds,
            "history": self.history, "classes": list(self.data.classes), "mean": list(self.mean),
            "std": list(self.std), "input_shape": list(self.report.graph.input_shape),
            "world_size": self.runtime.world_size, "weights_sha256": weights_sha256,
            "step_losses": self.steps.losses}
        save_checkpoint(self.checkpoint_path, checkpoint)
        if best:  # the same content: eval, predict and export read best.pt like any checkpoint
            save_checkpoint(self.settings.out / BEST_FILE, checkpoint)

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
        self.best = BestSoFar.from_history(self.history, self.settings.early_stopping)
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
        split, images, labels = final_split(self.data)
        if final and len(labels):  # the test split's first and only use
            evaluation = self._evaluate(split, images, labels)
            if self.runtime.is_main:
                write_evaluation(self.settings.out, evaluation)
                plot_confusion(self.settings.out, evaluation, self._title())
                self.steps.final(split, evaluation.loss, evaluation.accuracy, len(self.history))
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
