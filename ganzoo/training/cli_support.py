"""What ``ganzoo train`` does between parsing flags and running the :class:`Trainer`."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Callable

import torch

from ..config import from_dict, override
from ..errors import ConfigError, TrainingError, UsageError
from ..hub import CHECKPOINTS_DIR
from .checkpoint import latest_checkpoint
from .options import TrainerOptions, split_overrides
from .trainer import Trainer

__all__ = ["run_training", "saved_run"]


def saved_run(out: str | os.PathLike[str]) -> dict[str, Any]:
    """The run record (plugin, config, options …) of the latest checkpoint in ``out``."""
    path = latest_checkpoint(Path(out) / CHECKPOINTS_DIR)
    if path is None:
        raise UsageError(f"--resume: {out} has no checkpoint to resume from (drop --resume to start a new run)")
    try:
        state = torch.load(path / "state.pt", map_location="cpu", weights_only=True)
    except Exception as err:
        raise TrainingError(f"cannot read {path / 'state.pt'} ({type(err).__name__}); use an older checkpoint") from err
    return state["run"]


def run_training(plugin: str, data: str, out: str | os.PathLike[str], *, overrides: dict[str, Any],
                 flags: dict[str, Any], lr: float | None = None, resume: bool = False, tag: str | None = None,
                 command: str | None = None,
                 callbacks: dict[str, list[Callable[[Trainer], None]]] | None = None) -> Trainer:
    """Build the model and options from flags (or from the run being resumed) and train.

    Args:
        plugin: the plugin id.
        data: dataset folder or ``builtin:<name>``.
        out: the run folder.
        overrides: ``--set`` / ``--config`` pairs; bare keys go to the plugin config or the trainer options
            (``model.KEY`` / ``trainer.KEY`` force a side).
        flags: trainer options given as their own flags (``max_steps``, ``batch_size`` …; None = not given).
        lr: the config's learning rate.
        resume: continue the run in ``out`` with its saved config and options (flags given now win, and the
            trainer reports each difference).
        tag, command: what the card records.
        callbacks: :class:`Trainer` callbacks.

    Returns:
        the finished :class:`Trainer` (``step``, ``stopped_by``, ``is_main`` …).

    Raises:
        ConfigError: an unknown key (the valid ones are named) or a wrong type.
        UsageError: no ``--max-steps``/``--epochs`` for a new run; nothing to resume.
    """
    from ..registry import get_plugin

    spec = get_plugin(plugin)
    config_cls = spec.load_config_class()
    model_over, trainer_over = split_overrides(overrides, config_cls)
    if lr is not None:
        if "lr" not in {f.name for f in dataclasses.fields(config_cls)}:
            raise ConfigError(f"{plugin}'s config has no 'lr' field; use --set with one of its fields")
        model_over["lr"] = lr
    trainer_over.update({k: v for k, v in flags.items() if v is not None})
    impl = spec.load_impl()
    if resume:
        run = saved_run(out)
        if run["plugin"] != spec.name:
            raise UsageError(f"--resume: {out} is a {run['plugin']} run, not {spec.name}")
        config = override(from_dict(config_cls, run["config"], source=f"{out} checkpoint"), model_over,
                          source="--set")
        saved = dict(run["options"])
        if "max_steps" in trainer_over or "epochs" in trainer_over:  # a length given now replaces the run's
            saved.pop("max_steps", None)
            saved.pop("epochs", None)
        options = TrainerOptions.from_dict({**saved, **trainer_over}, source="--set")
        command = run.get("command") or command
        tag = tag or run.get("tag")
    else:
        config = override(config_cls(), model_over, source="--set")
        options = TrainerOptions.from_dict({**dict(impl.train_defaults), **trainer_over},
                                           source="--set")
        if options.max_steps is None and options.epochs is None:
            raise UsageError("give --max-steps N or --epochs E")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(options.seed)
        model = impl.build(config)
    trainer = Trainer(model, data, out, options, resume=resume, command=command, tag=tag, callbacks=callbacks)
    trainer.fit()
    return trainer
