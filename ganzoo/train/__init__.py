"""The shared adversarial trainer (accelerate): :class:`Trainer`, :func:`train`, :class:`TrainerOptions`.

Imports are lazy so that plugins can use ``ganzoo.train.rng`` without pulling in accelerate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .options import TrainerOptions
    from .trainer import Trainer, train

__all__ = ["Trainer", "TrainerOptions", "train"]

_LAZY = {"Trainer": ".trainer", "train": ".trainer", "TrainerOptions": ".options"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'ganzoo.train' has no attribute {name!r}")
