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
networks; the resume capsule (:mod:`ganzoo.train.checkpoint`) which also refreshes the model folder; a
progress bar, CSV/JSONL/TensorBoard metrics and preview grids on the main process; SIGTERM/SIGINT → finish
the step, checkpoint, stop; a non-finite loss → stop, naming the loss and step, keeping the last checkpoint.

Nothing here knows a plugin by name.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import platform
import signal
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader

from .. import __version__
from ..config import to_dict
from ..errors import ConfigError, DataError, TrainingError, UsageError
from ..hub import CARD_NAME, CHECKPOINTS_DIR, CONFIG_NAME
from ..model import GanModel
from . import rng as train_rng
from .checkpoint import latest_checkpoint, load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .loggers import MetricLogger
from .options import TrainerOptions
from .sampler import ResumableDistributedSampler

__all__ = ["Trainer", "train", "lr_lambda"]

logger = logging.getLogger(__name__)


def lr_lambda(schedule: str, total_steps: int, *, decay_start: float | None = None,
              warmup_steps: int = 0) -> Callable[[int], float]:
    """The LR multiplier at a step: constant, linear decay to 0 after ``decay_start`` (pix2pix/CycleGAN), or cosine."""
    if decay_start is None:
        start = total_steps // 2
    elif decay_start < 1:
        start = int(decay_start * total_steps)
    else:
        start = int(decay_start)

    def fn(step: int) -> float:
        warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0
        if schedule == "constant":
            return warm
        if schedule == "linear_decay":
            # CycleGAN: lr constant for n_epochs, then 1 - (e - n_epochs) / (n_epochs_decay + 1)
            if step < start:
                return warm
            return warm * max(0.0, 1.0 - (step - start) / float(max(1, total_steps - start) + 1))
        if schedule == "cosine":
            return warm * 0.5 * (1.0 + math.cos(math.pi * min(1.0, step / max(1, total_steps))))
        raise ConfigError(f"unknown lr_schedule {schedule!r}")

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
        name = f"{name}, {torch.get_num_threads()} threads"
    return f"{accelerator.num_processes} × {dev.type} ({name})"


class Trainer:
    """Train one :class:`GanModel` on one dataset into a run folder.

    Args:
        model: the model (fresh from :func:`ganzoo.build` or loaded).
        data: dataset folder (or ``builtin:<name>``).
        out: the run folder; it becomes a model folder with ``checkpoints/`` inside.
        options: :class:`TrainerOptions`.
        resume: continue from ``out/checkpoints/latest``.
        command: the command line to record in the card (default: ``sys.argv``).
        tag: the card's tag (default: from the folder name).
        callbacks: ``{"on_step_end" | "on_sample" | "on_checkpoint" | "on_train_end": [fn(trainer)]}``.
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
        self.last_losses: dict[str, float] = {}
        self.history: list[dict[str, float]] = []
        self._signal: int | None = None
        self._has_halves = callable(getattr(self.impl, "discriminator_loss", None)) and callable(
            getattr(self.impl, "generator_loss", None))

    def add_callback(self, event: str, fn: Callable[["Trainer"], None]) -> None:
        """Run ``fn(trainer)`` on ``event`` (``on_step_end``, ``on_sample``, ``on_checkpoint``, ``on_train_end``)."""
        self.callbacks.setdefault(event, []).append(fn)

    def _fire(self, event: str) -> None:
        for fn in self.callbacks.get(event, []):
            fn(self)

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
        parent = self.out.parent
        if not parent.exists():
            raise UsageError(f"Cannot create {self.out}: the folder {parent} does not exist")

    def _setup(self) -> None:
        from accelerate import Accelerator
        from accelerate.utils import DistributedDataParallelKwargs

        opts = self.opts
        self.accelerator = acc = Accelerator(
            mixed_precision=opts.mixed_precision,
            kwargs_handlers=[DistributedDataParallelKwargs(broadcast_buffers=True)],
        )
        self.is_main = acc.is_main_process
        self.rank, self.world = acc.process_index, acc.num_processes
        if self.is_main:
            self._check_out()
        acc.wait_for_everyone()
        # identical seeds on every rank: same initial weights (DDP broadcasts rank 0's anyway), same data order
        from accelerate.utils import set_seed

        set_seed(opts.seed)

        # data
        try:
            self.dataset = self.impl.make_dataset(self.model, self.data, split="train")
        except FileNotFoundError as err:
            raise DataError(str(err)) from err
        if hasattr(self.dataset, "set_seed"):
            self.dataset.set_seed(opts.seed)
        self.sampler = ResumableDistributedSampler(self.dataset, num_replicas=self.world, rank=self.rank,
                                                   shuffle=True, seed=opts.seed, drop_last=True)
        per_rank = self.sampler.num_samples
        if per_rank < opts.batch_size:
            raise DataError(f"{self.data} has {len(self.dataset)} items: too few for a batch of {opts.batch_size} "
                            f"per process × {self.world} process(es); lower --batch-size")
        self.batches_per_epoch = per_rank // opts.batch_size
        per_step = opts.d_steps * opts.grad_accum
        if opts.max_steps is not None:
            self.max_steps = opts.max_steps
        elif opts.epochs is not None:
            self.max_steps = max(1, math.ceil(opts.epochs * self.batches_per_epoch / per_step))
        else:
            raise UsageError("give --max-steps or --epochs")

        # networks on the device; DDP-wrap the trainable ones
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
        self.owned: dict[str, set[int]] = {k: {id(p) for g in o.param_groups for p in g["params"]}
                                           for k, o in optimizers.items()}
        self.wrapped: dict[str, nn.Module] = {}
        for name, module in self.raw.items():
            if any(p.requires_grad for p in module.parameters()):
                wrapped = acc.prepare_model(module, device_placement=True)
                if opts.compile:
                    wrapped = torch.compile(wrapped)
                self.wrapped[name] = wrapped
                model.components[name] = wrapped  # the plugin's losses call model.G: the DDP/compiled form
        self.optimizers = {k: acc.prepare_optimizer(o) for k, o in optimizers.items()}
        from torch.optim.lr_scheduler import LambdaLR

        fn = lr_lambda(opts.lr_schedule, self.max_steps, decay_start=opts.decay_start, warmup_steps=opts.warmup_steps)
        self.schedulers = {k: LambdaLR(o.optimizer if hasattr(o, "optimizer") else o, fn) for k, o in self.optimizers.items()}

        # EMA of the inference networks
        self.ema: dict[str, Any] = {}
        if opts.ema_decay is not None:
            from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

            for name in model.plugin.inference:
                if name in self.raw:
                    self.ema[name] = AveragedModel(self.raw[name], multi_avg_fn=get_ema_multi_avg_fn(opts.ema_decay),
                                                   use_buffers=True)

        if self.resume:
            self._load_capsule()
        self.metrics = MetricLogger(self.out / "logs", resume=self.resume) if self.is_main else None

    # -- resume -------------------------------------------------------------------------------------------

    def _run_record(self) -> dict[str, Any]:
        return {
            "plugin": self.model.plugin.name,
            "config": to_dict(self.model.config),
            "options": self.opts.to_dict(),
            "data": self.data,
            "world_size": self.world,
            "max_steps": self.max_steps,
            "command": self.command,
            "tag": self.tag,
        }

    def _load_capsule(self) -> None:
        path = latest_checkpoint(self.out / CHECKPOINTS_DIR)
        assert path is not None
        weights, state = load_checkpoint(path)
        run = state["run"]
        if run["plugin"] != self.model.plugin.name:
            raise TrainingError(f"{path} is a {run['plugin']} run, not {self.model.plugin.name}")
        # report flags that differ from the run being resumed; refuse a changed horizon for a decaying schedule
        saved_opts = run["options"]
        now = self.opts.to_dict()
        ignore = {"progress", "resume"}
        diffs = {k: (saved_opts.get(k), v) for k, v in now.items() if k not in ignore and saved_opts.get(k) != v}
        if self.opts.lr_schedule != "constant" and run["max_steps"] != self.max_steps:
            raise TrainingError(f"--resume: the run's {self.opts.lr_schedule} schedule was planned over {run['max_steps']} "
                                f"steps; resuming with {self.max_steps} would change its horizon. Keep "
                                f"--max-steps {run['max_steps']} (or start a new run)")
        if to_dict(self.model.config) != run["config"]:
            changed = [k for k, v in run["config"].items() if to_dict(self.model.config).get(k) != v]
            raise TrainingError(f"--resume: the model config differs from the run's in {changed}; resume without "
                                f"changing model options")
        if diffs and self.is_main:
            logger.warning("resuming with changed options: %s",
                           ", ".join(f"{k}: {a!r} → {b!r}" for k, (a, b) in diffs.items()))
        if run.get("world_size") != self.world and self.is_main:
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
                ema.n_averaged.fill_(int(state["ema_n_averaged"].get(name, 0)))
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
            logger.info("resumed %s at step %d", path, self.step)

    def _gather(self, obj: Any) -> list[Any]:
        if self.world == 1:
            return [obj]
        import torch.distributed as dist

        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def save_checkpoint(self) -> Path | None:
        """Write the resume capsule and refresh the model folder (collective: call on every rank)."""
        rngs = self._gather(rng_state())
        plugin_states = self._gather(self.impl.state_dict())
        path = None
        if self.is_main:
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
                "run": self._run_record(),
            }
            path = save_checkpoint(self.out / CHECKPOINTS_DIR, self.step, weights, state, keep_last=self.opts.keep_last)
            self.save_model_folder()
            self._fire("on_checkpoint")
        self.accelerator.wait_for_everyone()
        return path

    # -- the model folder ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def raw_components(self) -> Iterator[GanModel]:
        """The model with its plain (unwrapped) networks — for previews and saving on one process."""
        saved = dict(self.model.components.items())
        for name, module in self.raw.items():
            self.model.components[name] = module
        try:
            yield self.model
        finally:
            for name, module in saved.items():
                self.model.components[name] = module

    def card_block(self) -> dict[str, Any]:
        opts = self.opts
        global_batch = opts.batch_size * self.world * opts.grad_accum
        elapsed = self.wall_time + (time.perf_counter() - self._t0)
        trained = {
            "command": self.command or f"ganzoo train {self.model.plugin.name} --data {self.data} --out {self.out}",
            "data": self.data,
            "steps": self.step,
            "max_steps": self.max_steps,
            "epochs": round(self.step * opts.d_steps * opts.grad_accum / max(1, self.batches_per_epoch), 3),
            "global_batch_size": global_batch,
            "batch_size_per_process": opts.batch_size,
            "processes": self.world,
            "grad_accum": opts.grad_accum,
            "d_steps": opts.d_steps,
            "mixed_precision": opts.mixed_precision,
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
                          pin_memory=self.accelerator.device.type == "cuda",
                          persistent_workers=False)

    def _batches(self) -> Iterator[dict[str, Any]]:
        while True:
            loader = self._loader()
            for batch in loader:
                self.batch_in_epoch += 1
                yield self._to_device(batch)
            self.epoch += 1
            self.batch_in_epoch = 0

    def _to_device(self, batch: Any) -> Any:
        dev = self.accelerator.device
        if isinstance(batch, dict):
            return {k: self._to_device(v) for k, v in batch.items()}
        if isinstance(batch, torch.Tensor):
            t = batch.to(dev, non_blocking=True)
            if self.opts.channels_last and t.dim() == 4:
                t = t.contiguous(memory_format=torch.channels_last)
            return t
        return batch

    def _run_phase(self, key: str, fn: Callable[..., dict[str, torch.Tensor]], micro: list[dict[str, Any]],
                   phase_id: str, totals: dict[str, torch.Tensor], weight: float = 1.0) -> None:
        """One optimiser update: freeze what the optimiser does not own, accumulate over micro-batches, step."""
        owned = self.owned[key] if key != "all" else set().union(*self.owned.values())
        flags = []
        for module in self.raw.values():
            for p in module.parameters():
                flags.append((p, p.requires_grad))
                if p.requires_grad and id(p) not in owned:
                    p.requires_grad_(False)
        opts = [self.optimizers[key]] if key != "all" else list(self.optimizers.values())
        try:
            for o in opts:
                o.zero_grad(set_to_none=True)
            for k, mb in enumerate(micro):
                last = k == len(micro) - 1
                with contextlib.ExitStack() as stack:
                    for name, w in self.wrapped.items():
                        is_owned = any(id(p) in owned for p in self.raw[name].parameters())
                        if hasattr(w, "no_sync") and (not is_owned or not last):
                            stack.enter_context(w.no_sync())
                    with self.accelerator.autocast(), train_rng.step_noise(self.opts.seed, self.step, f"{phase_id}.{k}",
                                                                            rank=self.rank, world=self.world):
                        losses = fn(self.model, mb) if key != "all" else fn(self.model, mb, self.step)
                    self._check_finite(losses)
                    objective = [v.float() for v in losses.values() if isinstance(v, torch.Tensor) and v.requires_grad]
                    if not objective:
                        raise TrainingError(f"{self.model.plugin.name}: no loss returned by {phase_id} requires grad "
                                            f"(got {list(losses)}); return the terms to minimise as attached tensors")
                    total = torch.stack(objective).sum() / len(micro)
                    self.accelerator.backward(total)
                for name, v in losses.items():  # the logged value is the mean over micro-batches (and D updates)
                    v = v.detach().float() * (weight / len(micro))
                    totals[name] = totals.get(name, 0.0) + v
            if self.opts.max_grad_norm is not None:
                params = [p for m in self.raw.values() for p in m.parameters() if id(p) in owned and p.grad is not None]
                self.accelerator.clip_grad_norm_(params, self.opts.max_grad_norm)
            for o in opts:
                o.step()
        finally:
            for p, flag in flags:
                p.requires_grad_(flag)

    def _check_finite(self, losses: dict[str, torch.Tensor]) -> None:
        values = [v.detach().float().reshape(()) for v in losses.values() if isinstance(v, torch.Tensor)]
        if values and not bool(torch.isfinite(torch.stack(values)).all()):
            bad = next(k for k, v in losses.items() if isinstance(v, torch.Tensor) and not torch.isfinite(v.detach()).all())
            raise _NonFinite(bad, float(losses[bad].detach().float().reshape(-1)[0]))

    def train_one_step(self, batches: Iterator[dict[str, Any]]) -> dict[str, float]:
        """Run one training step (the D updates and the G update) and return the step's losses."""
        opts = self.opts
        totals: dict[str, torch.Tensor] = {}
        step_batches = [[next(batches) for _ in range(opts.grad_accum)] for _ in range(opts.d_steps if self._has_halves else 1)]
        if self._has_halves:
            order = tuple(getattr(self.impl, "phase_order", ("D", "G")))
            for phase in order:
                if phase == "D":
                    for i, micro in enumerate(step_batches):
                        self._run_phase("D", self.impl.discriminator_loss, micro, f"D{i}", totals,
                                        weight=1.0 / len(step_batches))
                else:
                    self._run_phase("G", self.impl.generator_loss, step_batches[-1], "G", totals)
        else:
            self._run_phase("all", self.impl.train_step, step_batches[0], "step", totals)
        for s in self.schedulers.values():
            s.step()
        if self.ema:
            for name, ema in self.ema.items():
                if self.step + 1 <= opts.ema_start:
                    ema.module.load_state_dict(self.raw[name].state_dict())
                else:
                    ema.update_parameters(self.raw[name])
        self.step += 1
        return {k: float(v) for k, v in totals.items()}

    def preview(self, name: str | None = None) -> Path | None:
        """Write a preview (sample grid, translations, audio or video) to ``samples/`` (main process)."""
        if not self.is_main:
            return None
        from ..sampling import preview

        folder = self.out / "samples"
        folder.mkdir(parents=True, exist_ok=True)
        with self.raw_components() as model:
            was = model.training
            model.eval()
            try:
                path = preview(model, self.dataset, folder / (name or f"step-{self.step:08d}"), n=self.opts.sample_n, seed=0)
            finally:
                model.train(was)
        if self.metrics is not None and path is not None and path.suffix == ".png":
            self.metrics.log_image("samples", path, self.step)
        self._fire("on_sample")
        return path

    def _install_signals(self) -> list[tuple[int, Any]]:
        previous = []

        def handler(signum: int, frame: Any) -> None:
            self._signal = signum

        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                previous.append((sig, signal.signal(sig, handler)))
            except ValueError:  # not the main thread
                pass
        return previous

    def _should_stop(self) -> bool:
        flag = self._signal is not None
        if self.world > 1:
            t = torch.tensor([1.0 if flag else 0.0], device=self.accelerator.device)
            import torch.distributed as dist

            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            flag = bool(t.item() > 0)
        return flag

    def fit(self) -> GanModel:
        """Run the training; returns the model (its folder is ``out``). Check ``stopped_by`` after a signal."""
        self._t0 = time.perf_counter()
        self._setup()
        self._t0 = time.perf_counter()
        opts = self.opts
        previous = self._install_signals()
        from tqdm.auto import tqdm

        bar = tqdm(total=self.max_steps, initial=self.step, disable=not (self.is_main and opts.progress),
                   unit="step", dynamic_ncols=True, desc=f"train {self.model.plugin.name}")
        batches = self._batches()
        try:
            while self.step < self.max_steps:
                if self._should_stop():
                    self.stopped_by = signal.Signals(self._signal).name if self._signal else "signal"
                    break
                try:
                    losses = self.train_one_step(batches)
                except _NonFinite as err:
                    last = latest_checkpoint(self.out / CHECKPOINTS_DIR)
                    keep = f"the last good checkpoint is {last}" if last else "no checkpoint was written yet"
                    raise TrainingError(f"loss '{err.name}' is {err.value} at step {self.step + 1}: training "
                                        f"stopped; {keep} (lower the learning rate, or check the data)") from None
                self.last_losses = losses
                bar.update(1)
                if self.is_main and (self.step % max(1, opts.log_every) == 0 or self.step == self.max_steps):
                    lr = {f"lr_{k}": s.get_last_lr()[0] for k, s in self.schedulers.items()}
                    row = {**losses, **lr, "epoch": self.epoch}
                    self.history.append({"step": self.step, **row})
                    assert self.metrics is not None
                    self.metrics.log(self.step, row)
                    bar.set_postfix({k: f"{v:.3g}" for k, v in list(losses.items())[:6]}, refresh=False)
                self._fire("on_step_end")
                if opts.sample_every and self.step % opts.sample_every == 0 and self.step < self.max_steps:
                    self.preview()
                if opts.checkpoint_every and self.step % opts.checkpoint_every == 0 and self.step < self.max_steps:
                    self.save_checkpoint()
            self.save_checkpoint()  # the end of the run, or a signal: either way a resumable capsule
            if self.stopped_by is None:
                self.preview("final")
        finally:
            bar.close()
            for sig, prev in previous:
                signal.signal(sig, prev)
            if getattr(self, "metrics", None) is not None:
                self.metrics.close()
        self.wall_time += time.perf_counter() - self._t0
        self._fire("on_train_end")
        for name, module in self.raw.items():  # hand back the plain networks, not DDP/compiled wrappers
            self.model.components[name] = module
        return self.model.eval()


class _NonFinite(Exception):
    def __init__(self, name: str, value: float) -> None:
        self.name, self.value = name, value


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
          command: str | None = None, tag: str | None = None, seed: int | None = None, **options: Any) -> GanModel:
    """Train ``model`` (a :class:`GanModel` or a plugin id) on ``data`` into ``out``; see :class:`Trainer`.

    ``options`` are :class:`TrainerOptions` fields (``max_steps``, ``batch_size``, ``mixed_precision`` …).
    """
    from ..api import build

    impl_defaults: dict[str, Any] = {}
    if isinstance(model, str):
        model = build(model, seed=seed if seed is not None else 0)
    impl_defaults = dict(getattr(model.impl, "train_defaults", {}) or {})
    if seed is not None:
        options["seed"] = seed
    merged = {**impl_defaults, **{k: v for k, v in options.items() if v is not None}}
    opts = TrainerOptions.from_dict(merged)
    trainer = Trainer(model, data, out, opts, resume=resume, command=command, tag=tag)
    return trainer.fit()
