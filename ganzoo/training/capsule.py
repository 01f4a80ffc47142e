"""The resume capsule: what a checkpoint holds, and how a run is restored from it bit for bit.

A capsule is everything the next step depends on: the networks (and their EMA copies), the optimisers, the LR
schedulers, the fp16 grad scaler, every RNG state of every process, the data position (epoch and batch within
it), the plugin's own training state (image pools …) and the run record (plugin, config, options, data, world
size, command), from which ``--resume`` rebuilds the run. :mod:`.checkpoint` puts it on disk.

Restoring tries the checkpoints newest first: a damaged one (unreadable ``state.pt``, missing keys, a truncated
weight file, weights that do not fit the model) is skipped with a warning that names the file, and the previous
one is used; when none is usable the error names the newest one's fault. A checkpoint of another plugin or
config, or a schedule horizon that would change, is refused (nothing is changed) rather than skipped.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .. import __version__
from ..config import to_dict
from ..errors import TrainingError, UsageError
from ..folder import CHECKPOINTS_DIR
from .checkpoint import CheckpointDamaged, load_checkpoint, read_state, resume_candidates, set_rng_state

if TYPE_CHECKING:  # pragma: no cover
    from .trainer import Trainer

__all__ = ["run_record", "capture", "restore", "saved_run"]

logger = logging.getLogger(__name__)


def run_record(t: "Trainer") -> dict[str, Any]:
    """The run as ``--resume`` needs it: plugin, config, options, data, world size, horizon, command, tag."""
    return {
        "plugin": t.model.plugin.name,
        "config": to_dict(t.model.config),
        "options": t.opts.to_dict(),
        "data": t.data,
        "dataset_len": len(t.dataset),
        "world_size": t.world,
        "global_batch_size": t.opts.batch_size * t.world * t.opts.grad_accum,
        "max_steps": t.max_steps,
        "command": t.command,
        "tag": t.tag,
        "started_from": t.started_from,
    }


def capture(t: "Trainer", rngs: list[Any], plugin_states: list[Any], replicas: list[Any] | None
            ) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    """``(weights, state)`` of the trainer now (main process), given what every process contributed.

    Args:
        t: the trainer.
        rngs: every process's :func:`~ganzoo.training.checkpoint.rng_state`, by rank.
        plugin_states: every process's ``impl.state_dict()``, by rank.
        replicas: every process's parameter digests (DDP), or None.
    """
    weights = {n: m.state_dict() for n, m in t.raw.items()}
    for n, ema in t.ema.items():
        weights[f"{n}_ema"] = ema.module.state_dict()
    scaler = t.accelerator.scaler
    state = {
        "version": __version__,
        "step": t.step,
        "epoch": t.epoch,
        "batch_in_epoch": t.batch_in_epoch,
        "wall_time": t.wall_time + (time.perf_counter() - t._t0),
        "optimizers": {k: o.state_dict() for k, o in t.optimizers.items()},
        "schedulers": {k: s.state_dict() for k, s in t.schedulers.items()},
        "scaler": scaler.state_dict() if scaler is not None else None,
        "ema_n_averaged": {n: int(e.n_averaged.item()) for n, e in t.ema.items()},
        "rng": rngs,
        "plugin_state": plugin_states,
        "replicas": replicas,
        "run": run_record(t),
    }
    return weights, state


def saved_run(out: str | os.PathLike[str]) -> dict[str, Any]:
    """The run record (plugin, config, options …) of the newest readable checkpoint in ``out``.

    Args:
        out: the run folder.

    Returns:
        `dict`: the record :func:`run_record` wrote.

    Raises:
        UsageError: ``out`` has no checkpoint.
        TrainingError: no checkpoint's ``state.pt`` can be read (the newest one's fault is named), or the
            ``latest`` pointer escapes the run folder.
    """
    folder = Path(out) / CHECKPOINTS_DIR
    candidates = resume_candidates(folder)
    if not candidates:
        raise UsageError(f"--resume: {out} has no checkpoint to resume from (drop --resume to start a new run)")
    damaged: list[CheckpointDamaged] = []
    for path in candidates:
        try:
            return read_state(path)["run"]
        except CheckpointDamaged as err:
            damaged.append(err)
    raise _none_usable(out, damaged)


def _none_usable(out: Any, damaged: list[CheckpointDamaged]) -> TrainingError:
    first = damaged[0]
    older = (f"; the {len(damaged) - 1} older checkpoint(s) are damaged too" if len(damaged) > 1
             else "; there is no older checkpoint to fall back to")
    return TrainingError(f"cannot resume {out}: {first.file} {first.reason}{older}. Restore the file from a "
                         f"backup, or start a new run with another --out")


def _check_same_run(t: "Trainer", path: Path, run: dict[str, Any]) -> None:
    """Refuse what would make the resumed run another run; warn about what only changes it from here on."""
    if not isinstance(run, dict) or not {"plugin", "config", "options", "max_steps"} <= set(run):
        raise CheckpointDamaged(path, path / "state.pt", "holds an incomplete run record")
    if run["plugin"] != t.model.plugin.name:
        raise TrainingError(f"--resume: {path} is a {run['plugin']} run, not {t.model.plugin.name}")
    now_config = to_dict(t.model.config)
    # fields a plugin added after the run started ("added_later") ran at their default, which reproduces the old run
    run_config = {**{f.name: f.default for f in dataclasses.fields(t.model.config)
                     if f.metadata.get("added_later") and f.name not in run["config"]}, **run["config"]}
    if now_config != run_config:
        changed = sorted(k for k in set(run_config) | set(now_config) if run_config.get(k) != now_config.get(k))
        raise TrainingError(f"--resume: the model config differs from the run's in {', '.join(changed)}; resume "
                            f"without changing model options (or start a new run with another --out)")
    if t.opts.lr_schedule != "constant" and run["max_steps"] != t.max_steps:
        raise TrainingError(f"--resume: the run's {t.opts.lr_schedule} schedule was planned over {run['max_steps']} "
                            f"steps; resuming with {t.max_steps} would change its horizon. Keep "
                            f"--max-steps {run['max_steps']} (or start a new run)")
    if not t.is_main:
        return
    saved_opts, now = run["options"], t.opts.to_dict()
    diffs = {k: (saved_opts.get(k), v) for k, v in now.items() if k != "progress" and saved_opts.get(k) != v}
    if diffs:
        logger.warning("resuming with changed options: %s",
                       ", ".join(f"{k}: {a!r} → {b!r}" for k, (a, b) in diffs.items()))
    if run.get("data") != t.data:
        logger.warning("resuming on other data (%s, the run used %s)", t.data, run.get("data"))
    if run.get("dataset_len", len(t.dataset)) != len(t.dataset):
        logger.warning("the data has %d items, the run had %d: its position in the epoch no longer matches",
                       len(t.dataset), run["dataset_len"])
    if run.get("world_size") != t.world:
        logger.warning("resuming a %s-process run on %s processes: the data order changes from here on",
                       run.get("world_size"), t.world)


def _check_complete(t: "Trainer", path: Path, weights: dict[str, dict[str, torch.Tensor]],
                    state: dict[str, Any]) -> None:
    """Raise :class:`CheckpointDamaged` unless the checkpoint holds everything the trainer restores."""
    for name, module in t.raw.items():
        file = path / f"{name}.safetensors"
        if name not in weights:
            raise CheckpointDamaged(path, file, "is missing")
        have, want = weights[name], module.state_dict()
        missing = [k for k in want if k not in have]
        extra = [k for k in have if k not in want]
        if missing or extra:
            what = f"lacks {', '.join(missing[:3])}" if missing else f"has unexpected {', '.join(extra[:3])}"
            raise CheckpointDamaged(path, file, what + (" …" if len(missing or extra) > 3 else ""))
        bad = [k for k in want if tuple(have[k].shape) != tuple(want[k].shape)]
        if bad:
            raise CheckpointDamaged(path, file, f"holds {bad[0]} of shape {tuple(have[bad[0]].shape)}, the model's "
                                                f"is {tuple(want[bad[0]].shape)}")
    for key, own in (("optimizers", t.optimizers), ("schedulers", t.schedulers)):
        lacking = [k for k in own if k not in state[key]]
        if lacking:
            raise CheckpointDamaged(path, path / "state.pt", f"lacks the {key[:-1]} state of {', '.join(lacking)}")


def _apply(t: "Trainer", path: Path, weights: dict[str, dict[str, torch.Tensor]], state: dict[str, Any]) -> None:
    for name, module in t.raw.items():
        module.load_state_dict(weights[name], strict=True)
    for name, ema in t.ema.items():
        key = f"{name}_ema"
        if key in weights:
            ema.module.load_state_dict(weights[key], strict=True)
            ema.n_averaged.fill_(int(state.get("ema_n_averaged", {}).get(name, 0)))
        else:
            logger.warning("%s has no %s: the EMA starts from the current weights", path, key)
            ema.module.load_state_dict(t.raw[name].state_dict())
    for k, opt in t.optimizers.items():
        opt.load_state_dict(state["optimizers"][k])
    for k, sch in t.schedulers.items():
        sch.load_state_dict(state["schedulers"][k])
    if state.get("scaler") is not None and t.accelerator.scaler is not None:
        t.accelerator.scaler.load_state_dict(state["scaler"])
    rngs = state["rng"]
    set_rng_state(rngs[t.rank] if t.rank < len(rngs) else rngs[0])
    plugin_states = state.get("plugin_state") or [{}]
    t.impl.load_state_dict(plugin_states[t.rank] if t.rank < len(plugin_states) else plugin_states[0])
    t.step = int(state["step"])
    t.epoch = int(state["epoch"])
    t.batch_in_epoch = int(state["batch_in_epoch"])
    t.wall_time = float(state.get("wall_time", 0.0))
    t.started_from = t.started_from or state["run"].get("started_from")


def restore(t: "Trainer") -> Path:
    """Restore the trainer from the newest usable checkpoint of its run folder (every process does).

    Returns:
        `Path`: the checkpoint restored.

    Raises:
        UsageError: there is no checkpoint.
        TrainingError: no checkpoint is usable (the newest one's fault is named), or the checkpoint belongs to
            another plugin or config, or the LR schedule's horizon would change.
    """
    candidates = resume_candidates(t.out / CHECKPOINTS_DIR)
    if not candidates:
        raise UsageError(f"--resume: {t.out} has no checkpoint to resume from")
    damaged: list[CheckpointDamaged] = []
    for path in candidates:
        try:
            weights, state = load_checkpoint(path)
            _check_same_run(t, path, state["run"])
            _check_complete(t, path, weights, state)
            try:
                _apply(t, path, weights, state)
            except (RuntimeError, ValueError, KeyError, IndexError, TypeError) as err:
                # what a later candidate restores replaces everything this one may have set
                raise CheckpointDamaged(path, path / "state.pt",
                                        f"does not fit the model ({type(err).__name__}: {str(err)[:120]})") from err
        except CheckpointDamaged as err:
            damaged.append(err)
            continue
        if damaged and t.is_main:
            logger.warning("%s is damaged (%s %s): resuming from the previous checkpoint, %s, instead",
                           damaged[0].path, damaged[0].file.name, damaged[0].reason, path.name)
        if t.is_main:
            logger.info("resumed %s at step %d of %d", path, t.step, t.max_steps)
        return path
    raise _none_usable(t.out, damaged)
