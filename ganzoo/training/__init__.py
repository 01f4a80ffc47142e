"""The shared adversarial trainer (accelerate): :class:`Trainer`, :func:`train`, :class:`TrainerOptions`.

Imports are lazy so that plugins can use ``ganzoo.training.rng`` without pulling in accelerate. The package is
named ``training`` so that ``ganzoo.train`` is only the function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .cli_support import run_training
    from .options import TrainerOptions
    from .trainer import Trainer, train

__all__ = ["Trainer", "TrainerOptions", "train", "run_training"]

_LAZY = {"Trainer": ".trainer", "train": ".trainer", "TrainerOptions": ".options", "run_training": ".cli_support"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'ganzoo.training' has no attribute {name!r}")
