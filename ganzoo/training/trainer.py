"""The one adversarial trainer every plugin uses (DESIGN.md §6), on accelerate.

The loop is the seed's algorithm. Each step:

1. **D step(s), G fixed** — ``d_steps`` times: the plugin's ``discriminator_loss`` (real → 1, generated → 0),
   backward through D only, D's optimiser steps;
2. **G step, D fixed** — the plugin's ``generator_loss`` (make D score the samples high), backward through G
   only, G's optimiser steps.

(A plugin may declare ``phase_order = ("G", "D")`` — CycleGAN's order — or implement ``train_step`` instead:
one objective for all optimisers, for auto-encoders and VAEs.) Losses are ``{name: tensor}``; the objective
of a phase is the sum of the entries that require grad, every entry is logged.

Around the loop: accelerate for devices, DDP (``torchrun`` / ``accelerate launch``) and mixed precision;
a ``DistributedSampler`` that resumes mid-epoch; gradient accumulation; LR schedules; EMA of the inference
networks; the resume capsule (:mod:`ganzoo.training.checkpoint`) which also refreshes the model folder; a
progress bar, CSV/JSONL/TensorBoard metrics and preview grids on the main process; SIGTERM/SIGINT → finish
the step, checkpoint, stop; a non-finite loss → stop, naming the loss and step, keeping the last checkpoint.

Exactness (what the tests check):

* a resumed run is bit-identical to an uninterrupted one on CPU: every RNG, the data position, the step noise
  (:mod:`ganzoo.training.rng`) and per-item augmentation (a function of ``(seed, epoch, index)``) are restored or
  stateless, and previews run with the RNG state saved and restored, so they never perturb training;
* the data and noise of a step depend only on the *global* batch: 1 process with batch 8, 2 processes with
  batch 4 and 1 process with 2 accumulated micro-batches of 4 train on the same items and noise (equal up
  to floating-point summation order for networks without batch statistics);
* each epoch uses whole global batches only (``drop_last`` at the size of one optimiser step), so the epoch
  boundary falls at the same step for every such split.

Per-step cost (benchmarks/README.md, "Trainer overhead"): one host sync per step (the non-finite check, fused
with the stop flag in one all-reduce under DDP); a step's losses are one vector on the device, averaged there
and read back only every ``log_every`` steps; what to freeze and which DDP wrappers skip their all-reduce is
planned once, not per step; accelerate's optimiser wrapper and ``backward`` are bypassed when they would do
nothing but cost time (no fp16 grad scaler, no DeepSpeed/XLA).

Several machines: every process reads the capsule on ``--resume`` and the main process writes ``--out``, so
``--out`` must be on a file system all nodes share (as usual for multi-node checkpoints).

Nothing here knows a plugin by name.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import platform
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader

from .. import __version__
from ..config import to_dict
from ..errors import ConfigError, DataError, GanzooError, TrainingError, UsageError
from ..hub import CARD_NAME, CHECKPOINTS_DIR, CONFIG_NAME
from ..model import GanModel
from . import rng as train_rng
from .checkpoint import latest_checkpoint, load_checkpoint, remove_stale, rng_state, save_checkpoint, set_rng_state
from .loggers import MetricLogger
from .options import TrainerOptions
from .sampler import ResumableDistributedSampler

__all__ = ["Trainer", "train", "lr_lambda"]

logger = logging.getLogger(__name__)


def lr_lambda(schedule: str, total_steps: int, *, decay_start: float | None = None,
              warmup_steps: int = 0) -> Callable[[int], float]:
    """The LR multiplier of step ``i`` (0-based): what ``LambdaLR`` calls.

    * ``constant``: 1.
    * ``linear_decay``: pix2pix/CycleGAN's ``linear`` policy, in steps instead of epochs. With ``S`` constant
      steps (``decay_start``: a step ≥ 1, a fraction < 1 of the run, default half) and ``T`` steps in all, the
      original rule ``1 - max(0, epoch + epoch_count - n_epochs) / (n_epochs_decay + 1)`` with
      ``epoch_count = 1`` becomes ``1 - max(0, i + 1 - S) / (T - S + 1)``: steps ``0 … S-1`` at the full rate,
      then linearly down to ``1 / (T - S + 1)`` at the last step (the original's last epoch runs at lr/101).
    * ``cosine``: ``(1 + cos(π i / T)) / 2``.

    ``warmup_steps`` multiplies any of them by ``min(1, (i + 1) / warmup_steps)``.
    """
    if decay_start is None:
        start = total_steps // 2
    elif decay_start < 1:
        start = int(decay_start * total_steps)
    else:
        start = int(decay_start)
    decay_len = max(0, total_steps - start)

    def fn(step: int) -> float:
        warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0
        if schedule == "constant":
            return warm
        if schedule == "linear_decay":
            return warm * max(0.0, 1.0 - max(0, step + 1 - start) / float(decay_len + 1))
        if schedule == "cosine":
            return warm * 0.5 * (1.0 + math.cos(math.pi * min(1.0, step / max(1, total_steps))))
        raise ConfigError(f"unknown lr_schedule {schedule!r}; use one of constant, linear_decay, cosine")

    return fn


def _collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    from torch.utils.data import default_collate

    return default_collate(items)


def _hardware(accelerator: Any) -> str:
    dev = accelerator.device
    if dev.type == "cuda":
        name = torch.cuda.get_device_name(dev)
    else:
        name = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        name = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        name = f"{name}, {torch.get_num_threads()} threads per process"
    return f"{accelerator.num_processes} × {dev.type} ({name})"


def _param_digest(module: nn.Module) -> str:
    """sha256 of a module's parameters (names, dtypes, bytes): equal on every DDP replica, or something is wrong."""
    h = hashlib.sha256()
    for name, p in module.named_parameters():
        t = p.detach().to("cpu").contiguous().reshape(-1)
        h.update(f"{name}:{t.dtype}:{tuple(p.shape)};".encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _restore_forward(module: nn.Module) -> None:
    # accelerate's prepare_model wraps forward in autocast under mixed precision (keeping the old one in
    # _original_forward); hand the network back as it came
    d = module.__dict__
    if "_original_forward" not in d:
        return
    original = d.pop("_original_forward")
    if getattr(original, "__self__", None) is module and getattr(original, "__func__", None) is type(module).forward:
        d.pop("forward", None)
    else:
        module.forward = original


@dataclass
class _Plan:
    """What one optimiser update touches, worked out once: the optimisers, the trainable parameters to freeze
    (the other networks'), and the DDP wrappers that must not all-reduce (frozen ones; every micro-batch but
    the last for the trained ones)."""

    optimizers: list[Any]
    steps: list[Callable[[], Any]]
    zero_grads: list[Callable[..., Any]]
    params: list[torch.nn.Parameter]
    freeze: list[torch.nn.Parameter]
    nosync_always: list[Any] = field(default_factory=list)
    nosync_until_last: list[Any] = field(default_factory=list)


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
    checkpoint).

    Raises:
        UsageError: ``out`` already holds a run (without ``resume``), or has nothing to resume.
        DataError: the data cannot be read or is too small for one step's batch.
        TrainingError: a non-finite loss (naming the loss and the step), or a resume that would change the run.
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
        self.tag = tag or _tag_from_folder(self.out, model.plugin.name)
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
        self._log_sums: dict[tuple[str, ...], tuple[torch.Tensor, int]] = {}
        self._log_count = 0
        # validate_impl guarantees one of the two (the alternating GAN loop, or one objective)
        self._has_halves = self.impl.supports("adversarial")

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

    def _check_out(self) -> None:
        ckpt = latest_checkpoint(self.out / CHECKPOINTS_DIR)
        if self.resume:
            if ckpt is None:
                raise UsageError(f"--resume: {self.out} has no checkpoint to resume from "
                                 f"(drop --resume to start a new run there)")
            return
        if ckpt is not None or (self.out / CONFIG_NAME).exists():
            raise UsageError(f"{self.out} already holds a run or model: pass --resume to continue it, or choose "
                             f"another --out (nothing was changed)")
        if self.out.exists() and not self.out.is_dir():
            raise UsageError(f"--out {self.out} is a file; give a folder")
        parent = self.out.parent
        if not parent.exists():
            raise UsageError(f"Cannot create {self.out}: the folder {parent} does not exist")

    def _on_main_then_all(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the main process; if it raises a GanzooError, raise it on every process (no rank is
        left waiting at a barrier for one that failed)."""
        message: str | None = None
        error: GanzooError | None = None
        if self.is_main:
            try:
                fn()
            except GanzooError as err:
                error, message = err, str(err)
        if self.world > 1:
            import torch.distributed as dist

            box = [message]
            dist.broadcast_object_list(box, src=0)
            message = box[0]
        if error is not None:
            raise error
        if message is not None:
            raise UsageError(message)

    def _make_accelerator(self) -> Any:
        from accelerate import Accelerator
        from accelerate.state import AcceleratorState
        from accelerate.utils import DistributedDataParallelKwargs

        # accelerate keeps one process-wide state and refuses a second Accelerator with another precision;
        # a new run (in a notebook, a test session) may ask for one: start its state afresh (the process group,
        # kept in PartialState, stays)
        if getattr(AcceleratorState, "_shared_state", None):
            AcceleratorState._reset_state()
        # without a GPU, accelerate starts torchrun's processes as one gloo group only when told cpu=True
        # (otherwise each process silently trains alone); with one, cpu=False picks it
        has_accelerator = (torch.accelerator.is_available() if hasattr(torch, "accelerator")
                           else torch.cuda.is_available())
        acc = Accelerator(mixed_precision=self.opts.mixed_precision, cpu=not has_accelerator,
                          kwargs_handlers=[DistributedDataParallelKwargs(broadcast_buffers=True)])
        launched = int(os.environ.get("WORLD_SIZE", "1") or 1)
        if launched > 1 and acc.num_processes != launched:
            raise TrainingError(f"launched as {launched} processes (WORLD_SIZE) but accelerate formed a group of "
                                f"{acc.num_processes}; check the launcher's environment (MASTER_ADDR, RANK …)")
        return acc

    def _setup(self) -> None:
        opts = self.opts
        self.accelerator = acc = self._make_accelerator()
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
        self._on_main_then_all(self._check_out)
        if self.is_main:
            remove_stale(self.out / CHECKPOINTS_DIR)
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
        self._plans = self._make_plans(optimizers)
        self._autocast = acc.autocast if self.precision != "no" else contextlib.nullcontext
        # accelerate's backward() scales for fp16 and serves DeepSpeed/XLA; otherwise it is loss.backward()
        plain = acc.scaler is None and acc.distributed_type.name in ("NO", "MULTI_CPU", "MULTI_GPU")
        self._backward = torch.Tensor.backward if plain else acc.backward

        if self.resume:
            self._load_capsule()
        self.metrics = (MetricLogger(self.out / "logs", resume_step=self.step if self.resume else None)
                        if self.is_main else None)

    def _make_plans(self, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, _Plan]:
        owned = {k: {id(p) for g in o.param_groups for p in g["params"]} for k, o in optimizers.items()}
        owned["all"] = set().union(*owned.values()) if owned else set()
        plans = {}
        for key, ids in owned.items():
            opts = list(self.optimizers.values()) if key == "all" else [self.optimizers[key]]
            params = [p for m in self.raw.values() for p in m.parameters() if id(p) in ids]
            freeze = [p for m in self.raw.values() for p in m.parameters() if p.requires_grad and id(p) not in ids]
            # accelerate's optimiser wrapper is needed for the fp16 grad scaler (and XLA); otherwise its step()
            # costs more than Adam on a small network (it probes the file system for optional packages on every
            # call), so the wrapped optimiser is stepped directly
            direct = self.accelerator.scaler is None and self.accelerator.distributed_type.name != "XLA"
            steps = [o.optimizer.step if direct and hasattr(o, "optimizer") else o.step for o in opts]
            zero = [o.optimizer.zero_grad if direct and hasattr(o, "optimizer") else o.zero_grad for o in opts]
            plan = _Plan(opts, steps, zero, params, freeze)
            for name, w in self.wrapped.items():
                if not hasattr(w, "no_sync"):
                    continue
                trained = any(id(p) in ids for p in self.raw[name].parameters())
                (plan.nosync_until_last if trained else plan.nosync_always).append(w)
            plans[key] = plan
        return plans

    # -- resume -------------------------------------------------------------------------------------------

    def _run_record(self) -> dict[str, Any]:
        return {
            "plugin": self.model.plugin.name,
            "config": to_dict(self.model.config),
            "options": self.opts.to_dict(),
            "data": self.data,
            "dataset_len": len(self.dataset),
            "world_size": self.world,
            "global_batch_size": self.opts.batch_size * self.world * self.opts.grad_accum,
            "max_steps": self.max_steps,
            "command": self.command,
            "tag": self.tag,
        }

    def _load_capsule(self) -> None:
        path = latest_checkpoint(self.out / CHECKPOINTS_DIR)
        if path is None:
            raise UsageError(f"--resume: {self.out} has no checkpoint to resume from")
        weights, state = load_checkpoint(path)
        run = state["run"]
        if run["plugin"] != self.model.plugin.name:
            raise TrainingError(f"--resume: {path} is a {run['plugin']} run, not {self.model.plugin.name}")
        now_config = to_dict(self.model.config)
        if now_config != run["config"]:
            changed = sorted(k for k in set(run["config"]) | set(now_config) if run["config"].get(k) != now_config.get(k))
            raise TrainingError(f"--resume: the model config differs from the run's in {', '.join(changed)}; resume "
                                f"without changing model options (or start a new run with another --out)")
        if self.opts.lr_schedule != "constant" and run["max_steps"] != self.max_steps:
            raise TrainingError(f"--resume: the run's {self.opts.lr_schedule} schedule was planned over {run['max_steps']} "
                                f"steps; resuming with {self.max_steps} would change its horizon. Keep "
                                f"--max-steps {run['max_steps']} (or start a new run)")
        if self.is_main:
            saved_opts, now = run["options"], self.opts.to_dict()
            diffs = {k: (saved_opts.get(k), v) for k, v in now.items() if k != "progress" and saved_opts.get(k) != v}
            if diffs:
                logger.warning("resuming with changed options: %s",
                               ", ".join(f"{k}: {a!r} → {b!r}" for k, (a, b) in diffs.items()))
            if run.get("data") != self.data:
                logger.warning("resuming on other data (%s, the run used %s)", self.data, run.get("data"))
            if run.get("dataset_len", len(self.dataset)) != len(self.dataset):
                logger.warning("the data has %d items, the run had %d: its position in the epoch no longer matches",
                               len(self.dataset), run["dataset_len"])
            if run.get("world_size") != self.world:
                logger.warning("resuming a %s-process run on %s processes: the data order changes from here on",
                               run.get("world_size"), self.world)
        for name, module in self.raw.items():
            if name not in weights:
                raise TrainingError(f"{path} has no weights for component {name}")
            module.load_state_dict(weights[name], strict=True)
        for name, ema in self.ema.items():
            key = f"{name}_ema"
            if key in weights:
                ema.module.load_state_dict(weights[key], strict=True)
                ema.n_averaged.fill_(int(state.get("ema_n_averaged", {}).get(name, 0)))
            else:
                logger.warning("%s has no %s: the EMA starts from the current weights", path, key)
                ema.module.load_state_dict(self.raw[name].state_dict())
        for k, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][k])
        for k, sch in self.schedulers.items():
            sch.load_state_dict(state["schedulers"][k])
        if state.get("scaler") is not None and self.accelerator.scaler is not None:
            self.accelerator.scaler.load_state_dict(state["scaler"])
        rngs = state["rng"]
        set_rng_state(rngs[self.rank] if self.rank < len(rngs) else rngs[0])
        plugin_states = state.get("plugin_state") or [{}]
        self.impl.load_state_dict(plugin_states[self.rank] if self.rank < len(plugin_states) else plugin_states[0])
        self.step = int(state["step"])
        self.epoch = int(state["epoch"])
        self.batch_in_epoch = int(state["batch_in_epoch"])
        self.wall_time = float(state.get("wall_time", 0.0))
        if self.is_main:
            logger.info("resumed %s at step %d of %d", path, self.step, self.max_steps)

    def _gather(self, obj: Any) -> list[Any]:
        if self.world == 1:
            return [obj]
        import torch.distributed as dist

        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def replica_digests(self) -> list[dict[str, str]]:
        """sha256 of every trained network's parameters, per process (collective: call on every rank)."""
        mine = {name: _param_digest(self.raw[name]) for name in self.wrapped}
        return self._gather(mine)

    def save_checkpoint(self) -> Path | None:
        """Write the resume capsule and refresh the model folder (collective: call on every rank)."""
        rngs = self._gather(rng_state())
        plugin_states = self._gather(self.impl.state_dict())
        replicas = self.replica_digests() if self.world > 1 else None
        path = None
        if self.is_main:
            self.replicas_identical = None if replicas is None else all(r == replicas[0] for r in replicas[1:])
            if self.replicas_identical is False:
                assert replicas is not None
                differ = sorted({k for r in replicas[1:] for k in r if r[k] != replicas[0].get(k)})
                logger.error("the parameters of %s differ between processes at step %d: the replicas have diverged "
                             "(a rank-dependent update outside the optimiser?); the checkpoint holds rank 0's",
                             ", ".join(differ), self.step)
            weights = {n: m.state_dict() for n, m in self.raw.items()}
            for n, ema in self.ema.items():
                weights[f"{n}_ema"] = ema.module.state_dict()
            scaler = self.accelerator.scaler
            state = {
                "version": __version__,
                "step": self.step,
                "epoch": self.epoch,
                "batch_in_epoch": self.batch_in_epoch,
                "wall_time": self.wall_time + (time.perf_counter() - self._t0),
                "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
                "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
                "scaler": scaler.state_dict() if scaler is not None else None,
                "ema_n_averaged": {n: int(e.n_averaged.item()) for n, e in self.ema.items()},
                "rng": rngs,
                "plugin_state": plugin_states,
                "replicas": replicas,
                "run": self._run_record(),
            }
            path = save_checkpoint(self.out / CHECKPOINTS_DIR, self.step, weights, state, keep_last=self.opts.keep_last)
            self.save_model_folder()
            self._fire("on_checkpoint")
        self.accelerator.wait_for_everyone()
        return path

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
        opts = self.opts
        global_batch = opts.batch_size * self.world * opts.grad_accum
        elapsed = self.wall_time + (time.perf_counter() - self._t0)
        trained = {
            "command": self.command or f"ganzoo train {self.model.plugin.name} --data {self.data} --out {self.out}",
            "data": self.data,
            "dataset_items": len(self.dataset),
            "steps": self.step,
            "max_steps": self.max_steps,
            "epochs": round(self.step * self._groups_per_step / max(1, self.groups_per_epoch), 3),
            "global_batch_size": global_batch,
            "batch_size_per_process": opts.batch_size,
            "processes": self.world,
            "grad_accum": opts.grad_accum,
            "d_steps": opts.d_steps,
            "mixed_precision": self.precision,
            "lr_schedule": opts.lr_schedule,
            "ema_decay": opts.ema_decay,
            "seed": opts.seed,
            "hardware": _hardware(self.accelerator),
            "wall_time_s": round(elapsed, 1),
            "ganzoo_version": __version__,
            "torch_version": torch.__version__,
        }
        return {"trained_with": trained}

    def save_model_folder(self) -> Path:
        """Refresh the run's model folder: weights, config.json and a card re-rendered with the progress so far.

        The trainer owns the card of its run folder: its ganzoo block keeps keys others added (metrics from
        ``ganzoo eval``), the prose is regenerated.
        """
        from ..cards import load_card, make_card
        from ..hub import save_model_folder

        block: dict[str, Any] = {}
        eval_results = None
        if (self.out / CARD_NAME).is_file():
            try:
                old = load_card(self.out / CARD_NAME)
                block = dict(getattr(old.data, "ganzoo", {}) or {})
                eval_results = getattr(old.data, "eval_results", None)
            except Exception:  # a broken card is replaced, never a reason to lose a checkpoint
                block = {}
        block.update(self.card_block())
        block.pop("plugin", None)
        block.pop("tag", None)
        card = make_card(plugin=self.model.plugin, tag=self.tag, ganzoo=block, license=_hub_license(self.model.plugin.license),
                         eval_results=eval_results, load_name=str(self.out))
        with self.raw_components() as model:
            extra = {f"{n}_ema": e.module for n, e in self.ema.items()}
            return save_model_folder(model, self.out, card=card, extra_components=extra)

    # -- the loop ----------------------------------------------------------------------------------------

    def _loader(self) -> DataLoader:
        self.sampler.set_epoch(self.epoch)
        self.sampler.set_start(self.batch_in_epoch * self.opts.batch_size)
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(self.epoch)
        g = torch.Generator()  # workers' base seed comes from here, not from the global RNG
        g.manual_seed(self.opts.seed + self.epoch)
        return DataLoader(self.dataset, batch_size=self.opts.batch_size, sampler=self.sampler, drop_last=True,
                          num_workers=self.opts.num_workers, collate_fn=_collate, generator=g,
                          pin_memory=self.accelerator.device.type == "cuda", persistent_workers=False)

    def _batches(self) -> Iterator[dict[str, Any]]:
        while True:
            if self.batch_in_epoch < self.batches_per_epoch:
                it = iter(self._loader())
                try:
                    while self.batch_in_epoch < self.batches_per_epoch:
                        batch = next(it)
                        self.batch_in_epoch += 1
                        yield self._to_device(batch)
                finally:
                    del it  # shuts the epoch's workers down
            self.epoch += 1
            self.batch_in_epoch = 0

    def _to_device(self, batch: Any) -> Any:
        dev = self.accelerator.device
        if isinstance(batch, dict):
            return {k: self._to_device(v) for k, v in batch.items()}
        if isinstance(batch, (list, tuple)):
            return type(batch)(self._to_device(v) for v in batch)
        if isinstance(batch, torch.Tensor):
            t = batch.to(dev, non_blocking=True)
            if self.opts.channels_last and t.dim() == 4:
                t = t.contiguous(memory_format=torch.channels_last)
            return t
        return batch

    def _run_phase(self, key: str, fn: Callable[..., dict[str, torch.Tensor]], micro: list[dict[str, Any]],
                   phase_id: str, parts: list[tuple[tuple[str, ...], list[torch.Tensor], float]],
                   weight: float = 1.0) -> None:
        """One optimiser update: freeze what the optimiser does not own, accumulate over micro-batches, step.

        Appends ``(names, detached values, scale)`` to ``parts``; :meth:`_merge` turns a step's parts into one
        vector (the per-step bookkeeping is a few tensor ops in all, not a few per loss).
        """
        plan = self._plans[key]
        frozen = [p for p in plan.freeze if p.requires_grad]
        for p in frozen:
            p.requires_grad_(False)
        n = len(micro)
        names: tuple[str, ...] | None = None
        values: list[torch.Tensor] = []
        try:
            for zero_grad in plan.zero_grads:
                zero_grad(set_to_none=True)
            for k, mb in enumerate(micro):
                nosync = plan.nosync_always + (plan.nosync_until_last if k < n - 1 else [])
                with contextlib.ExitStack() if nosync else contextlib.nullcontext() as stack:
                    for w in nosync:
                        stack.enter_context(w.no_sync())
                    with self._autocast(), train_rng.step_noise(
                            self.opts.seed, self.step, phase_id, rank=self.rank, world=self.world, micro=k, accum=n):
                        losses = fn(self.model, mb) if key != "all" else fn(self.model, mb, self.step)
                    objective = [v for v in losses.values() if isinstance(v, torch.Tensor) and v.requires_grad]
                    if not objective:
                        raise TrainingError(f"{self.model.plugin.name}: no loss returned by {phase_id} requires grad "
                                            f"(got {list(losses)}); return the terms to minimise as attached tensors")
                    total = objective[0]
                    for v in objective[1:]:
                        total = total + v
                    if total.dtype != torch.float32:
                        total = total.float()
                    self._backward(total / n if n > 1 else total)
                here = tuple(losses)
                vals = [v.detach() if isinstance(v, torch.Tensor) else torch.tensor(float(v)) for v in losses.values()]
                if names is None:
                    names, values = here, vals
                elif here == names:
                    values = [a + b for a, b in zip(values, vals)]
                else:
                    raise TrainingError(f"{self.model.plugin.name}: {phase_id} returned the losses {list(names)} for "
                                        f"one micro-batch and {list(here)} for another; return the same names")
            if self.opts.max_grad_norm is not None:
                params = [p for p in plan.params if p.grad is not None]
                self.accelerator.clip_grad_norm_(params, self.opts.max_grad_norm)
            for step in plan.steps:
                step()
        finally:
            for p in frozen:
                p.requires_grad_(True)
        assert names is not None
        parts.append((names, values, weight / n))  # logged: the mean over micro-batches and D updates

    def _merge(self, parts: list[tuple[tuple[str, ...], list[torch.Tensor], float]]
               ) -> tuple[tuple[str, ...], torch.Tensor]:
        """The step's losses as one vector by name (a name returned by several phases — each D update — is summed)."""
        key = tuple((names, scale) for names, _, scale in parts)
        plan = self._merge_plans.get(key)
        if plan is None:
            flat = [n for names, _ in key for n in names]
            scales = [scale for names, scale in key for _ in names]
            unique = tuple(dict.fromkeys(flat))
            dev = self.accelerator.device
            weights = None if all(x == 1.0 for x in scales) else torch.tensor(scales, device=dev)
            index = None if len(unique) == len(flat) else torch.tensor([unique.index(n) for n in flat], device=dev)
            plan = self._merge_plans[key] = (unique, weights, index)
        unique, weights, index = plan
        vec = torch.stack([v.float().reshape(()).to(self.accelerator.device) for _, vals, _ in parts for v in vals])
        if weights is not None:
            vec = vec * weights
        if index is not None:
            vec = torch.zeros(len(unique), device=vec.device, dtype=vec.dtype).index_add_(0, index, vec)
        return unique, vec

    def _step(self, batches: Iterator[dict[str, Any]]) -> tuple[tuple[str, ...], torch.Tensor]:
        opts = self.opts
        parts: list[tuple[tuple[str, ...], list[torch.Tensor], float]] = []
        groups = [[next(batches) for _ in range(opts.grad_accum)] for _ in range(self._groups_per_step)]
        if self._has_halves:
            for phase in self._order:
                if phase == "D":
                    for i, micro in enumerate(groups):
                        self._run_phase("D", self.impl.discriminator_loss, micro, f"D{i}", parts,
                                        weight=1.0 / len(groups))
                else:
                    self._run_phase("G", self.impl.generator_loss, groups[-1], "G", parts)
        else:
            self._run_phase("all", self.impl.train_step, groups[0], "step", parts)
        for s in self.schedulers.values():
            s.step()
        if self.ema:
            for name, ema in self.ema.items():
                if self.step + 1 <= opts.ema_start:
                    ema.module.load_state_dict(self.raw[name].state_dict())
                else:
                    ema.update_parameters(self.raw[name])
        self.step += 1
        self._last = self._merge(parts)
        return self._last

    def train_one_step(self, batches: Iterator[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """Run one training step (the D updates and the G update, or one ``train_step`` update).

        Returns:
            the step's losses as detached 0-d tensors on the device (mean over micro-batches and D updates);
            :attr:`last_losses` gives them as floats.
        """
        names, values = self._step(batches)
        return {n: values[i] for i, n in enumerate(names)}

    def _used_lrs(self) -> dict[str, float]:
        # the rates of the step just taken (LambdaLR has already moved on to the next one)
        out = {}
        for k, s in self.schedulers.items():
            fns = getattr(s, "lr_lambdas", None)
            out[k] = s.base_lrs[0] * fns[0](s.last_epoch - 1) if fns else s.get_last_lr()[0]
        return out

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

    def _accumulate_log(self, names: tuple[str, ...], values: torch.Tensor) -> None:
        prev = self._log_sums.get(names)
        self._log_sums[names] = (values, 1) if prev is None else (prev[0] + values, prev[1] + 1)
        self._log_count += 1

    def _write_log_row(self, bar: Any) -> None:
        if not self._log_count or not self.is_main:
            self._log_sums, self._log_count = {}, 0
            return
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        for names, (vec, count) in self._log_sums.items():  # one entry unless the loss names changed
            for n, v in zip(names, vec.tolist()):
                sums[n] = sums.get(n, 0.0) + v
                counts[n] = counts.get(n, 0) + count
        self._log_sums, self._log_count = {}, 0
        losses = {n: sums[n] / counts[n] for n in sums}
        lr = {f"lr_{k}": v for k, v in self._used_lrs().items()}
        row = {**losses, **lr, "epoch": round(self.step * self._groups_per_step / max(1, self.groups_per_epoch), 4)}
        self.history.append({"step": self.step, **row})
        assert self.metrics is not None
        self.metrics.log(self.step, row)
        bar.set_postfix({k: f"{v:.3g}" for k, v in list(losses.items())[:6]}, refresh=False)

    def _raise_non_finite(self, names: tuple[str, ...], values: torch.Tensor, bar: Any) -> None:
        mine = [(k, v) for k, v in zip(names, values.tolist()) if not math.isfinite(v)]
        found = [(rank, k, v) for rank, items in enumerate(self._gather(mine)) for k, v in items]
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
        """
        if not self.is_main:
            return None
        from ..sampling import preview

        folder = self.out / "samples"
        folder.mkdir(parents=True, exist_ok=True)
        saved = rng_state()
        try:
            with self.raw_components(ema=True) as model:
                was = model.training
                model.eval()
                try:
                    path = preview(model, self.dataset, folder / (name or f"step-{self.step:08d}"), n=self.opts.sample_n,
                                   seed=0)
                finally:
                    model.train(was)
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
            _restore_forward(module)
            self.model.components[name] = module

    def fit(self) -> GanModel:
        """Run the training; returns the model (its folder is ``out``). Check ``stopped_by`` after a signal."""
        try:
            self._setup()
        except BaseException:
            if hasattr(self, "raw"):
                self._restore_components()
            raise
        self._t0 = time.perf_counter()
        opts = self.opts
        from tqdm.auto import tqdm

        bar = tqdm(total=self.max_steps, initial=self.step, disable=not (self.is_main and opts.progress),
                   unit="step", dynamic_ncols=True, desc=f"train {self.model.plugin.name}")
        batches = self._batches()
        previous = self._install_signals()
        try:
            if self.step >= self.max_steps and self.is_main:
                logger.info("%s is already at step %d of %d", self.out, self.step, self.max_steps)
            while self.step < self.max_steps:
                names, values = self._step(batches)
                self._accumulate_log(names, values)
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
        self.wall_time += time.perf_counter() - self._t0
        self._fire("on_train_end")
        return self.model.eval()


def _hub_license(spdx: str | None) -> str | None:
    # the Hub's licence ids are lower-case SPDX ids ("apache-2.0", "mit", "cc-by-sa-4.0")
    return spdx.lower() if spdx else None


def _tag_from_folder(out: Path, plugin: str) -> str:
    import re

    name = out.resolve().name.lower()
    if name.startswith(plugin + "-"):
        name = name[len(plugin) + 1:]
    name = re.sub(r"[^a-z0-9_.\-]+", "-", name).strip("-.") or "custom"
    return name if re.match(r"^[a-z0-9]", name) else f"run-{name}"


def train(model: GanModel | str, data: str | os.PathLike[str], *, out: str | os.PathLike[str], resume: bool = False,
          command: str | None = None, tag: str | None = None, seed: int | None = None,
          callbacks: dict[str, list[Callable[[Trainer], None]]] | None = None, **options: Any) -> GanModel:
    """Train ``model`` (a :class:`GanModel` or a plugin id) on ``data`` into ``out``; see :class:`Trainer`.

    Args:
        model: a built or loaded model, or a plugin id (built with ``seed`` and the model options given here).
        data: the dataset folder in the task's format, or ``builtin:<name>``.
        out: the run folder (becomes a model folder).
        resume: continue the run in ``out``.
        seed: seeds the weights (for a plugin id), data order, augmentation and noise.
        **options: :class:`TrainerOptions` fields (``max_steps``, ``batch_size``, ``mixed_precision`` …) and, for a
            plugin id, its config fields; ``lr`` sets the config's learning rate of a built model too.

    Returns:
        `GanModel`: the trained model, in eval mode.

    Raises:
        ConfigError: an unknown option (the valid ones are named) or a wrong type.
    """
    from ..config import from_dict, override
    from ..registry import get_plugin
    from .options import split_overrides

    if seed is not None:
        options["seed"] = seed
    options = {k: v for k, v in options.items() if v is not None}
    spec = get_plugin(model) if isinstance(model, str) else model.plugin
    model_over, trainer_over = split_overrides(options, spec.load_config_class(), source="train()")
    run: dict[str, Any] | None = None
    if resume:  # continue with the run's own config and options (its horizon above all); what is given here wins
        from .cli_support import saved_run

        run = saved_run(out)
    if isinstance(model, str):
        cls = spec.load_config_class()
        config = override(from_dict(cls, run["config"], source=f"{out} checkpoint") if run else cls(), model_over,
                          source="train()")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(trainer_over.get("seed", run["options"]["seed"] if run else 0)))
            model = spec.load_impl().build(config)
    elif model_over:
        if set(model_over) - {"lr"}:
            raise ConfigError(f"train(): {sorted(set(model_over) - {'lr'})} are model options of an already built "
                              f"model; pass them to ganzoo.build({spec.name!r}, …) instead")
        model.config = override(model.config, model_over, source="train()")
    base = dict(model.impl.train_defaults)
    if run is not None:
        base = dict(run["options"])
        if "max_steps" in trainer_over or "epochs" in trainer_over:
            base.pop("max_steps", None)
            base.pop("epochs", None)
    opts = TrainerOptions.from_dict({**base, **trainer_over})
    trainer = Trainer(model, data, out, opts, resume=resume, command=command, tag=tag, callbacks=callbacks)
    return trainer.fit()
