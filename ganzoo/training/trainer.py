"""The one adversarial trainer every plugin uses, on accelerate: the training loop.

The loop is the seed's algorithm. Each step:

1. **D step(s), G fixed** — ``d_steps`` times: the plugin's ``discriminator_loss`` (real → 1, generated → 0),
   backward through D only, D's optimiser steps;
2. **G step, D fixed** — the plugin's ``generator_loss`` (make D score the samples high), backward through G
   only, G's optimiser steps.

(A plugin may declare ``phase_order = ("G", "D")`` — CycleGAN's order — or implement ``train_step`` instead:
one objective for all optimisers, for auto-encoders and VAEs.) Losses are ``{name: tensor}``; the objective
of a phase is the sum of the entries that require grad, every entry is logged.

Around the loop: accelerate for devices, DDP (``torchrun`` / ``accelerate launch``) and mixed precision
(:mod:`.devices`); a ``DistributedSampler`` that resumes mid-epoch; gradient accumulation; LR schedules
(:mod:`.schedules`); EMA of the inference networks; the resume capsule (:mod:`.capsule`, on disk:
:mod:`.checkpoint`); the run folder — created, locked for the run, refreshed as a model folder at each
checkpoint (:mod:`.run_folder`); a progress bar, CSV/JSONL/TensorBoard metrics and preview grids on the main
process; SIGTERM/SIGINT → finish the step, checkpoint, stop; a non-finite loss → stop, naming the loss and
step, keeping the last checkpoint. Failures are one-line :mod:`ganzoo.errors`: a full disk or a read-only
folder stops the run with the last checkpoint intact.

Exactness (what the tests check):

* a resumed run is bit-identical to an uninterrupted one on CPU: every RNG, the data position, the step noise
  (:mod:`.rng`) and per-item augmentation (a function of ``(seed, epoch, index)``) are restored or
  stateless, and previews run with the RNG state saved and restored, so they never perturb training;
* the data and noise of a step depend only on the *global* batch: 1 process with batch 8, 2 processes with
  batch 4 and 1 process with 2 accumulated micro-batches of 4 train on the same items and noise (equal up
  to floating-point summation order for networks without batch statistics);
* each epoch uses whole global batches only (``drop_last`` at the size of one optimiser step), so the epoch
  boundary falls at the same step for every such split.

Per-step cost (benchmarks/README.md, "Trainer overhead"): one host sync per step (the non-finite check, fused
with the stop flag in one all-reduce under DDP); losses stay on the device until a log row; the step itself is
planned once (:mod:`.steps`).

Several machines: every process reads the capsule on ``--resume`` and the main process writes ``--out``, so
``--out`` must be on a file system all nodes share (as usual for multi-node checkpoints).

Nothing here knows a plugin by name.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import nn

from ..errors import DataError, GanzooError, TrainingError, UsageError
from ..folder import CHECKPOINTS_DIR
from ..model import GanModel
from . import capsule, run_folder, steps
from . import sampler as data_feed
from .checkpoint import latest_checkpoint, os_error_reason, remove_stale, rng_state, save_checkpoint, set_rng_state
from .devices import gather, make_accelerator, on_main_then_all, param_digest, restore_forward
from .loggers import LossAverager, MetricLogger
from .options import TrainerOptions
from .sampler import ResumableDistributedSampler
from .schedules import lr_lambda, used_lrs

__all__ = ["Trainer", "lr_lambda"]

logger = logging.getLogger(__name__)


class Trainer:
    """Train one :class:`GanModel` on one dataset into a run folder.

    Args:
        model: the model (fresh from :func:`ganzoo.build` or loaded).
        data: dataset folder (or ``builtin:<name>``).
        out: the run folder; it becomes a model folder with ``checkpoints/``, ``logs/`` and ``samples/`` inside.
        options: :class:`TrainerOptions`.
        resume: continue from ``out/checkpoints/latest``.
        command: the command line to record in the card (default: a ``ganzoo train`` line built from the run).
        tag: the card's tag (default: from the folder name).
        callbacks: ``{"on_step_end" | "on_sample" | "on_checkpoint" | "on_train_end": [fn(trainer)]}``.

    Attributes (after :meth:`fit`): ``step``, ``max_steps``, ``epoch``, ``stopped_by`` (``"SIGTERM"``/``"SIGINT"``
    when a signal ended the run early, ``"request"`` after :meth:`request_stop`, else None), ``last_losses``
    (floats), ``history`` (logged rows), ``is_main``, ``rank``, ``world``, ``precision`` (the mixed precision
    in effect), ``replicas_identical`` (under DDP: the trained parameters agreed on every process at the last
    checkpoint), ``started_from`` (recorded in the card: where the initial weights came from, when not from
    ``--seed``).

    Raises:
        UsageError: ``out`` already holds a run (without ``resume``), has nothing to resume, cannot be created,
            or is being trained by another process.
        DataError: the data cannot be read or is too small for one step's batch.
        TrainingError: a non-finite loss (naming the loss and the step), a resume that would change the run or
            finds no usable checkpoint, or a run folder that cannot be written (full disk, read-only).
    """

    def __init__(self, model: GanModel, data: str | os.PathLike[str], out: str | os.PathLike[str],
                 options: TrainerOptions | None = None, *, resume: bool = False, command: str | None = None,
                 tag: str | None = None, callbacks: dict[str, list[Callable[["Trainer"], None]]] | None = None) -> None:
        self.model = model
        self.impl = model.impl
        self.data = str(data)
        self.out = Path(out)
        self.opts = options or TrainerOptions()
        self.resume = resume
        self.command = command
        self.tag = tag or run_folder.tag_from_folder(self.out, model.plugin.name)
        self.started_from: str | None = None
        self.callbacks: dict[str, list[Callable[[Trainer], None]]] = {k: list(v) for k, v in (callbacks or {}).items()}
        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.wall_time = 0.0
        self.stopped_by: str | None = None
        self.history: list[dict[str, float]] = []
        self.is_main, self.rank, self.world = True, 0, 1
        self._t0 = time.perf_counter()
        self._signal: int | None = None
        self._signals_seen = 0
        self._stop_requested = False
        self._last: tuple[tuple[str, ...], torch.Tensor] | None = None
        self._merge_plans: dict[Any, tuple[tuple[str, ...], torch.Tensor | None, torch.Tensor | None]] = {}
        self.replicas_identical: bool | None = None
        self._losses = LossAverager()
        # validate_impl guarantees one of the two (the alternating GAN loop, or one objective)
        self._has_halves = self.impl.supports("adversarial")
        self._lock: run_folder.RunLock | None = None
        self._created: list[Path] = []

    def add_callback(self, event: str, fn: Callable[["Trainer"], None]) -> None:
        """Run ``fn(trainer)`` on ``event`` (``on_step_end``, ``on_sample``, ``on_checkpoint``, ``on_train_end``)."""
        self.callbacks.setdefault(event, []).append(fn)

    def request_stop(self) -> None:
        """Stop after the current step, with a checkpoint, as SIGTERM does (``stopped_by`` is ``"request"``).

        From an ``on_step_end`` callback of a 1-process run the step that is ending is the last; under DDP a
        request from any process stops all of them after the next step (it travels with that step's flags).
        """
        self._stop_requested = True

    def _fire(self, event: str) -> None:
        for fn in self.callbacks.get(event, []):
            fn(self)

    @property
    def last_losses(self) -> dict[str, float]:
        """The losses of the last step (mean over its micro-batches and D updates), as floats."""
        if self._last is None:
            return {}
        names, values = self._last
        return dict(zip(names, values.tolist()))

    # -- setup ------------------------------------------------------------------------------------------

    def _claim_out(self) -> None:
        """Main process: check ``--out``, create it (with parents), lock it for the run, check again under the
        lock (a run may have finished there meanwhile), clear what a crashed run left half-written."""
        run_folder.check_out(self.out, self.resume)
        self._created = run_folder.make_folder(self.out)
        try:
            self._lock = run_folder.RunLock(self.out).acquire(command=self.command)
            run_folder.check_out(self.out, self.resume)
        except BaseException:
            self._release_out(failed=True)
            raise
        remove_stale(self.out / CHECKPOINTS_DIR)

    def _release_out(self, *, failed: bool) -> None:
        """Drop the lock; after a failed start, also remove the folders this run created (when still empty)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if failed:
            run_folder.remove_created(self._created)
        self._created = []

    def _setup(self) -> None:
        opts = self.opts
        self.accelerator = acc = make_accelerator(self.opts.mixed_precision)
        self.is_main = acc.is_main_process
        self.rank, self.world = acc.process_index, acc.num_processes
        if not self.is_main:  # one voice: warnings (skipped files …) and errors come from the main process
            logging.getLogger("ganzoo").setLevel(logging.ERROR)
        self.precision = opts.mixed_precision
        if opts.mixed_precision != "no" and not acc.native_amp:
            self.precision = "no"
            if self.is_main:
                logger.warning("mixed_precision=%s is not available on %s: training in float32 (bf16 works on CPUs)",
                               opts.mixed_precision, acc.device.type)
        on_main_then_all(self.is_main, self.world, self._claim_out)
        acc.wait_for_everyone()
        # identical seeds on every rank: same initial weights (DDP broadcasts rank 0's anyway), same data order
        from accelerate.utils import set_seed

        set_seed(opts.seed)

        # data: whole global batches only, so the epoch boundary falls at the same step for any split of a batch
        try:
            self.dataset = self.impl.make_dataset(self.model, self.data, split="train")
        except FileNotFoundError as err:
            raise DataError(str(err)) from err
        if hasattr(self.dataset, "set_seed"):
            self.dataset.set_seed(opts.seed)
        self.sampler = ResumableDistributedSampler(self.dataset, num_replicas=self.world, rank=self.rank,
                                                   shuffle=True, seed=opts.seed, drop_last=True)
        per_rank = self.sampler.num_samples
        micro = opts.batch_size * opts.grad_accum
        if per_rank < micro:
            raise DataError(f"{self.data} has {len(self.dataset)} items: too few for one step's batch of "
                            f"{opts.batch_size} per process × {opts.grad_accum} accumulated × {self.world} "
                            f"process(es) = {micro * self.world}; lower --batch-size")
        self.groups_per_epoch = per_rank // micro
        self.batches_per_epoch = self.groups_per_epoch * opts.grad_accum  # micro-batches per rank and epoch
        self._groups_per_step = opts.d_steps if self._has_halves else 1
        if opts.max_steps is not None:
            self.max_steps = opts.max_steps
        elif opts.epochs is not None:
            self.max_steps = max(1, math.ceil(opts.epochs * self.groups_per_epoch / self._groups_per_step))
        else:
            raise UsageError("give --max-steps or --epochs")
        self._order = tuple(self.impl.phase_order)  # ('D', 'G') or ('G', 'D'): checked by validate_impl

        # networks on the device
        model = self.model
        model.train()
        model.to(acc.device)
        if opts.channels_last:
            model.to(memory_format=torch.channels_last)
        self.raw: dict[str, nn.Module] = dict(model.components.items())
        optimizers = self.impl.configure_optimizers(model)
        if self._has_halves and not {"G", "D"} <= set(optimizers):
            raise TrainingError(f"{model.plugin.name}: configure_optimizers() must return 'G' and 'D' optimisers for "
                                f"the alternating loop, got {sorted(optimizers)}")

        # EMA copies of the inference networks, made before accelerate patches forward() for mixed precision
        self.ema: dict[str, Any] = {}
        if opts.ema_decay is not None:
            from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

            for name in model.plugin.inference:
                if name in self.raw:
                    self.ema[name] = AveragedModel(self.raw[name], multi_avg_fn=get_ema_multi_avg_fn(opts.ema_decay),
                                                   use_buffers=True)

        # DDP-wrap (and compile) the trainable networks; the plugin's losses call model.G: the wrapped form
        self.wrapped: dict[str, nn.Module] = {}
        for name, module in self.raw.items():
            if any(p.requires_grad for p in module.parameters()):
                wrapped = acc.prepare_model(module, device_placement=True)
                if opts.compile:
                    wrapped = torch.compile(wrapped)
                self.wrapped[name] = wrapped
                model.components[name] = wrapped
        self.optimizers = {k: acc.prepare_optimizer(o) for k, o in optimizers.items()}
        from torch.optim.lr_scheduler import LambdaLR

        fn = lr_lambda(opts.lr_schedule, self.max_steps, decay_start=opts.decay_start, warmup_steps=opts.warmup_steps)
        self.schedulers = {k: LambdaLR(getattr(o, "optimizer", o), fn) for k, o in self.optimizers.items()}
        self._plans = steps.make_plans(self, optimizers)
        self._autocast = acc.autocast if self.precision != "no" else contextlib.nullcontext
        # accelerate's backward() scales for fp16 and serves DeepSpeed/XLA; otherwise it is loss.backward()
        plain = acc.scaler is None and acc.distributed_type.name in ("NO", "MULTI_CPU", "MULTI_GPU")
        self._backward = torch.Tensor.backward if plain else acc.backward

        if self.resume:
            capsule.restore(self)
        self.metrics = None
        if self.is_main:
            try:
                self.metrics = MetricLogger(self.out / "logs", resume_step=self.step if self.resume else None)
            except OSError as err:
                raise self._write_failure(err, f"the metrics in {self.out / 'logs'}") from err

    def replica_digests(self) -> list[dict[str, str]]:
        """sha256 of every trained network's parameters, per process (collective: call on every rank)."""
        mine = {name: param_digest(self.raw[name]) for name in self.wrapped}
        return gather(self.world, mine)

    def save_checkpoint(self) -> Path | None:
        """Write the resume capsule and refresh the model folder (collective: call on every rank).

        Raises:
            TrainingError: the run folder cannot be written (the previous checkpoint stays intact).
        """
        rngs = gather(self.world, rng_state())
        plugin_states = gather(self.world, self.impl.state_dict())
        replicas = self.replica_digests() if self.world > 1 else None
        path = None
        failure: str | None = None
        if self.is_main:
            self.replicas_identical = None if replicas is None else all(r == replicas[0] for r in replicas[1:])
            if self.replicas_identical is False:
                assert replicas is not None
                differ = sorted({k for r in replicas[1:] for k in r if r[k] != replicas[0].get(k)})
                logger.error("the parameters of %s differ between processes at step %d: the replicas have diverged "
                             "(a rank-dependent update outside the optimiser?); the checkpoint holds rank 0's",
                             ", ".join(differ), self.step)
            weights, state = capsule.capture(self, rngs, plugin_states, replicas)
            try:
                path = save_checkpoint(self.out / CHECKPOINTS_DIR, self.step, weights, state,
                                       keep_last=self.opts.keep_last)
                self.save_model_folder()
            except TrainingError as err:
                failure = str(err)
                if self.world == 1:
                    raise
            else:
                self._fire("on_checkpoint")
        if self.world > 1:  # every rank stops with the main process's message, none waits at a barrier
            failure = gather(self.world, failure)[0]
            if failure is not None:
                raise TrainingError(failure)
        self.accelerator.wait_for_everyone()
        return path

    def _write_failure(self, err: OSError, what: str) -> TrainingError:
        reason, fix = os_error_reason(err)
        try:
            last = latest_checkpoint(self.out / CHECKPOINTS_DIR)
        except GanzooError:
            last = None
        kept = f"the last checkpoint {last} is intact" if last else "no checkpoint had been written yet"
        return TrainingError(f"cannot write {what}: {reason}; {kept}. {fix.capitalize()}, then continue with --resume")

    # -- the model folder ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def raw_components(self, *, ema: bool = False) -> Iterator[GanModel]:
        """The model with its plain (unwrapped) networks — for previews and saving on one process; with ``ema``
        the EMA copies stand in for the networks they average."""
        saved = dict(self.model.components.items())
        for name, module in self.raw.items():
            self.model.components[name] = self.ema[name].module if ema and name in self.ema else module
        try:
            yield self.model
        finally:
            for name, module in saved.items():
                self.model.components[name] = module

    def card_block(self) -> dict[str, Any]:
        """The card's ``trained_with`` record: command, data, steps, batch, hardware, wall time …"""
        return run_folder.card_block(self)

    def save_model_folder(self) -> Path:
        """Refresh the run's model folder: weights, config.json and a card re-rendered with the progress so far
        (see :func:`ganzoo.training.run_folder.refresh_model_folder`)."""
        return run_folder.refresh_model_folder(self)

    # -- the loop ----------------------------------------------------------------------------------------

    def train_one_step(self, batches: Iterator[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """Run one training step (the D updates and the G update, or one ``train_step`` update).

        Returns:
            the step's losses as detached 0-d tensors on the device (mean over micro-batches and D updates);
            :attr:`last_losses` gives them as floats.
        """
        names, values = steps.take_step(self, batches)
        return {n: values[i] for i, n in enumerate(names)}

    def _sync_flags(self, values: torch.Tensor) -> tuple[bool, bool]:
        """(stop, non-finite), agreed by every process: one host sync per step."""
        bad = ~torch.isfinite(values).all()
        asked = self._signal is not None or self._stop_requested
        if self.world == 1:
            return asked, bool(bad)
        import torch.distributed as dist

        dev = self.accelerator.device
        flags = torch.stack([torch.tensor(1.0 if asked else 0.0, device=dev), bad.float().to(dev)])
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        stop, nonfinite = flags.tolist()
        return stop > 0, nonfinite > 0

    def _write_log_row(self, bar: Any) -> None:
        if not self.is_main or not self._losses.count:
            self._losses.clear()
            return
        losses = self._losses.pop()
        lr = {f"lr_{k}": v for k, v in used_lrs(self.schedulers).items()}
        row = {**losses, **lr, "epoch": round(self.step * self._groups_per_step / max(1, self.groups_per_epoch), 4)}
        self.history.append({"step": self.step, **row})
        assert self.metrics is not None
        try:
            self.metrics.log(self.step, row)
        except OSError as err:
            raise self._write_failure(err, f"the metrics in {self.out / 'logs'}") from err
        bar.set_postfix({k: f"{v:.3g}" for k, v in list(losses.items())[:6]}, refresh=False)

    def _raise_non_finite(self, names: tuple[str, ...], values: torch.Tensor, bar: Any) -> None:
        mine = [(k, v) for k, v in zip(names, values.tolist()) if not math.isfinite(v)]
        found = [(rank, k, v) for rank, items in enumerate(gather(self.world, mine)) for k, v in items]
        self._write_log_row(bar)  # the metrics show the step that went wrong
        last = latest_checkpoint(self.out / CHECKPOINTS_DIR)
        keep = f"the last good checkpoint is {last} (nothing newer was written)" if last else \
            "no checkpoint had been written yet"
        rank, name, value = found[0] if found else (0, "?", float("nan"))
        where = f" on process {rank}" if self.world > 1 else ""
        raise TrainingError(f"loss '{name}' is {value} at step {self.step}{where}: training stopped; {keep}. "
                            f"Lower the learning rate or check the data, then --resume")

    def preview(self, name: str | None = None) -> Path | None:
        """Write a preview (sample grid, translations, audio or video) to ``samples/`` (main process).

        It uses the EMA networks when there are any (what the model folder loads by default) and runs with the
        RNG states saved and restored, so previews never change the training that follows.

        Raises:
            TrainingError: ``samples/`` cannot be written (full disk, read-only folder).
        """
        if not self.is_main:
            return None
        from ..sampling import preview

        folder = self.out / "samples"
        saved = rng_state()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with self.raw_components(ema=True) as model:
                was = model.training
                model.eval()
                try:
                    stem = folder / (name or f"step-{self.step:08d}")
                    path = preview(model, self.dataset, stem, n=self.opts.sample_n, seed=0)
                finally:
                    model.train(was)
        except OSError as err:
            raise self._write_failure(err, f"a preview in {folder}") from err
        finally:
            set_rng_state(saved)
        if self.metrics is not None and path is not None and path.suffix == ".png":
            self.metrics.log_image("samples", path, self.step)
        self._fire("on_sample")
        return path

    def _install_signals(self) -> list[tuple[int, Any]]:
        previous = []

        def handler(signum: int, frame: Any) -> None:
            self._signals_seen += 1
            if self._signals_seen > 1:  # asked twice: stop now, without the checkpoint
                raise KeyboardInterrupt
            self._signal = signum

        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                previous.append((sig, signal.signal(sig, handler)))
            except ValueError:  # not the main thread
                pass
        return previous

    def _restore_components(self) -> None:
        for name, module in self.raw.items():  # hand back the plain networks, not DDP/compiled wrappers
            restore_forward(module)
            self.model.components[name] = module

    def fit(self) -> GanModel:
        """Run the training; returns the model (its folder is ``out``). Check ``stopped_by`` after a signal."""
        try:
            self._setup()
        except BaseException:
            if hasattr(self, "raw"):
                self._restore_components()
            if getattr(self, "metrics", None) is not None:
                self.metrics.close()
            self._release_out(failed=True)
            raise
        self._t0 = time.perf_counter()
        opts = self.opts
        from tqdm.auto import tqdm

        bar = tqdm(total=self.max_steps, initial=self.step, disable=not (self.is_main and opts.progress),
                   unit="step", dynamic_ncols=True, desc=f"train {self.model.plugin.name}")
        batches = data_feed.batches(self)
        previous = self._install_signals()
        try:
            if self.step >= self.max_steps and self.is_main:
                logger.info("%s is already at step %d of %d", self.out, self.step, self.max_steps)
            while self.step < self.max_steps:
                names, values = steps.take_step(self, batches)
                self._losses.add(names, values)
                stop, nonfinite = self._sync_flags(values)
                if nonfinite:
                    self._raise_non_finite(names, values, bar)
                bar.update(1)
                if self.step % max(1, opts.log_every) == 0 or self.step == self.max_steps or stop:
                    self._write_log_row(bar)
                self._fire("on_step_end")
                if stop or (self._stop_requested and self.world == 1):
                    self.stopped_by = signal.Signals(self._signal).name if self._signal else "request"
                    if not stop:
                        self._write_log_row(bar)
                    break
                if opts.sample_every and self.step % opts.sample_every == 0 and self.step < self.max_steps:
                    self.preview()
                if opts.checkpoint_every and self.step % opts.checkpoint_every == 0 and self.step < self.max_steps:
                    self.save_checkpoint()
            self.save_checkpoint()  # the end of the run, or a signal: either way a resumable capsule
            if self.replicas_identical and self.is_main:
                logger.info("parameters identical on all %d processes", self.world)
            if self.stopped_by is None:
                self.preview("final")
        finally:
            bar.close()
            for sig, prev in previous:
                signal.signal(sig, prev)
            batches.close()
            if getattr(self, "metrics", None) is not None:
                self.metrics.close()
            if hasattr(self, "raw"):
                self._restore_components()
            self._release_out(failed=False)
        self.wall_time += time.perf_counter() - self._t0
        self._fire("on_train_end")
        return self.model.eval()

