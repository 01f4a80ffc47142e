"""From options to a finished run: what ``ganzoo train`` and :func:`ganzoo.train` do around the :class:`Trainer`.

Both resolve a run the same way: the plugin config from its defaults — or from the run being resumed — with
the model options given; the trainer options from the plugin's ``train_defaults`` — or the run's own — with the
trainer options given; the model built under ``seed``. The card then records the command that repeats the run
(the one typed, or the equivalent ``ganzoo train`` command: see :mod:`ganzoo.training.run_folder`).
"""

from __future__ import annotations

import dataclasses
import os
import shlex
from typing import Any, Callable

import torch

from ..config import from_dict, override
from ..errors import ConfigError, UsageError
from ..model import GanModel
from .capsule import saved_run
from .options import TrainerOptions, split_overrides
from .trainer import Trainer

__all__ = ["run_training", "train", "saved_run"]

Callbacks = dict[str, list[Callable[[Trainer], None]]]


def _options(defaults: dict[str, Any], run: dict[str, Any] | None, given: dict[str, Any], source: str
             ) -> TrainerOptions:
    """The run's options (resuming) or the plugin's defaults, with ``given`` on top; a length given now replaces
    the run's."""
    base = dict(run["options"]) if run is not None else dict(defaults)
    if run is not None and ("max_steps" in given or "epochs" in given):
        base.pop("max_steps", None)
        base.pop("epochs", None)
    return TrainerOptions.from_dict({**base, **given}, source=source)


def _check_plugin(run: dict[str, Any], name: str, out: Any) -> None:
    if run.get("plugin") != name:
        raise UsageError(f"--resume: {out} is a {run.get('plugin')} run, not {name}")


def _recorded_command(command: str | None, run: dict[str, Any] | None, changed: bool) -> str | None:
    """The command the card records: the run's first one while a resume changes nothing, else the one given;
    None (the card then shows the equivalent command) when it cannot repeat the run on its own."""
    if run is not None:
        command = None if changed else (run.get("command") or command)
    if command is not None:
        try:
            words = shlex.split(command)
        except ValueError:
            return None
        if "--config" in words or any(w.startswith("--config=") for w in words):  # a file the card does not hold
            return None
    return command


def run_training(plugin: str, data: str, out: str | os.PathLike[str], *, overrides: dict[str, Any],
                 flags: dict[str, Any], lr: float | None = None, resume: bool = False, tag: str | None = None,
                 command: str | None = None, callbacks: Callbacks | None = None) -> Trainer:
    """Build the model and options from flags (or from the run being resumed) and train.

    Args:
        plugin: the plugin id.
        data: dataset folder or ``builtin:<name>``.
        out: the run folder (created with its parents).
        overrides: ``--set`` / ``--config`` pairs; bare keys go to the plugin config or the trainer options
            (``model.KEY`` / ``trainer.KEY`` force a side).
        flags: trainer options given as their own flags (``max_steps``, ``batch_size`` …; None = not given).
        lr: the config's learning rate.
        resume: continue the run in ``out`` with its saved config and options (flags given now win, and the
            trainer reports each difference).
        tag, command: what the card records (``command``: the command line as typed).
        callbacks: :class:`Trainer` callbacks.

    Returns:
        the finished :class:`Trainer` (``step``, ``stopped_by``, ``is_main`` …).

    Raises:
        ConfigError: an unknown key (the valid ones are named) or a wrong type.
        UsageError: no ``--max-steps``/``--epochs`` for a new run; nothing to resume; ``out`` busy or not
            writable.
        TrainingError: see :class:`Trainer`.

    Example:
        >>> trainer = run_training("dcgan", "builtin:digits", "runs/smoke", overrides={"image_size": 32},
        ...                        flags={"max_steps": 200, "batch_size": 32})  # doctest: +SKIP
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
    run = saved_run(out) if resume else None
    if run is not None:
        _check_plugin(run, spec.name, out)
        config = override(from_dict(config_cls, run["config"], source=f"{out} checkpoint"), model_over,
                          source="--set")
        tag = tag or run.get("tag")
    else:
        config = override(config_cls(), model_over, source="--set")
    options = _options(impl.train_defaults, run, trainer_over, "--set")
    if run is None and options.max_steps is None and options.epochs is None:
        raise UsageError("give --max-steps N or --epochs E")
    command = _recorded_command(command, run, changed=bool(model_over or trainer_over))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(options.seed)
        model = impl.build(config)
    trainer = Trainer(model, data, out, options, resume=resume, command=command, tag=tag, callbacks=callbacks)
    trainer.fit()
    return trainer


def train(model: GanModel | str, data: str | os.PathLike[str], *, out: str | os.PathLike[str], resume: bool = False,
          command: str | None = None, tag: str | None = None, seed: int | None = None,
          callbacks: Callbacks | None = None, **options: Any) -> GanModel:
    """Train ``model`` (a :class:`GanModel` or a plugin id) on ``data`` into ``out``; see :class:`Trainer`.

    Args:
        model: a built or loaded model, or a plugin id (built with ``seed`` and the model options given here).
        data: the dataset folder in the task's format, or ``builtin:<name>``.
        out: the run folder (becomes a model folder; created with its parents).
        resume: continue the run in ``out`` (with its own config and options; those given here win).
        command: the command line the card records (default: the equivalent ``ganzoo train`` command).
        tag: the card's tag (default: the run's, else from the folder name).
        seed: seeds the weights (for a plugin id), data order, augmentation and noise.
        callbacks: :class:`Trainer` callbacks.
        **options: :class:`TrainerOptions` fields (``max_steps``, ``batch_size``, ``mixed_precision`` …) and, for a
            plugin id, its config fields; ``lr`` sets the config's learning rate of a built model too.

    Returns:
        `GanModel`: the trained model, in eval mode.

    Raises:
        ConfigError: an unknown option (the valid ones are named) or a wrong type.
        UsageError: ``out`` holds another run, has nothing to resume, is busy or cannot be written.
        TrainingError: see :class:`Trainer`.

    Example:
        >>> import ganzoo
        >>> model = ganzoo.train("dcgan", "builtin:digits", out="runs/smoke", max_steps=200, batch_size=32,
        ...                      image_size=32, channels=1)  # doctest: +SKIP
    """
    from ..registry import get_plugin

    if seed is not None:
        options["seed"] = seed
    options = {k: v for k, v in options.items() if v is not None}
    spec = get_plugin(model) if isinstance(model, str) else model.plugin
    cls = spec.load_config_class()
    model_over, trainer_over = split_overrides(options, cls, source="train()")
    run = saved_run(out) if resume else None
    if run is not None:
        _check_plugin(run, spec.name, out)
        tag = tag or run.get("tag")
    started_from = None
    if isinstance(model, str):
        config = override(from_dict(cls, run["config"], source=f"{out} checkpoint") if run else cls(), model_over,
                          source="train()")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(trainer_over.get("seed", run["options"]["seed"] if run else 0)))
            model = spec.load_impl().build(config)
    else:
        if set(model_over) - {"lr"}:
            raise ConfigError(f"train(): {sorted(set(model_over) - {'lr'})} are model options of an already built "
                              f"model; pass them to ganzoo.build({spec.name!r}, …) instead")
        if model_over:
            model.config = override(model.config, model_over, source="train()")
        if run is None:
            started_from = (f"{model.name} (loaded)" if model.name else
                            "a model given to ganzoo.train(); the command's --seed rebuilds it only if it came from "
                            "ganzoo.build with that seed")
    opts = _options(model.impl.train_defaults, run, trainer_over, "train()")
    command = _recorded_command(command, run, changed=bool(model_over or trainer_over))
    trainer = Trainer(model, data, out, opts, resume=resume, command=command, tag=tag, callbacks=callbacks)
    trainer.started_from = started_from
    return trainer.fit()
