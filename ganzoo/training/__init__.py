"""The shared adversarial trainer (accelerate): :class:`Trainer`, :func:`train`, :class:`TrainerOptions`.

Imports are lazy so that plugins can use ``ganzoo.training.rng`` without pulling in accelerate. The package is
named ``training`` so that ``ganzoo.train`` is only the function.

Modules, each with one reason to change (imports point down this list, never up):

* :mod:`.cli_support` — options → a finished run (``ganzoo train``, :func:`ganzoo.train`);
* :mod:`.trainer` — the loop (:class:`Trainer`): set-up, steps, logging, previews, signals;
* :mod:`.steps` — one optimisation step (freeze/no-sync plans, phases, accumulation, EMA, loss vector);
* :mod:`.capsule` — what a checkpoint holds and how a run is restored from it (with fallback);
* :mod:`.run_folder` — ``--out``: creation, the run lock, the model folder and its card;
* :mod:`.checkpoint` — checkpoints on disk (atomic writes, pointer checks, damage detection);
* :mod:`.sampler`, :mod:`.devices`, :mod:`.schedules`, :mod:`.loggers`, :mod:`.options`, :mod:`.rng` — the data
  feed, accelerate/DDP, LR schedules, metrics files, options, step noise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .cli_support import run_training, train
    from .options import TrainerOptions
    from .trainer import Trainer

__all__ = ["Trainer", "TrainerOptions", "train", "run_training"]

_LAZY = {"Trainer": ".trainer", "train": ".cli_support", "TrainerOptions": ".options", "run_training": ".cli_support"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'ganzoo.training' has no attribute {name!r}")
