"""The shared adversarial trainer (accelerate): :class:`Trainer`, :func:`train`, :class:`TrainerOptions`.

Imports are lazy so that plugins can use ``ganzoo.train.rng`` without pulling in accelerate.
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
    raise AttributeError(f"module 'ganzoo.train' has no attribute {name!r}")


class _CallableModule(__import__("types").ModuleType):
    """``ganzoo.train`` is both this package and the function :func:`ganzoo.train`: importing a submodule
    (``ganzoo.train.rng`` — which every plugin's ``noise()`` does) makes Python set the package as the attribute
    ``train`` of ``ganzoo``, replacing the function. Calling the package calls the function, so
    ``ganzoo.train(model, data, out=…)`` works either way."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from ..api import train as _train

        return _train(*args, **kwargs)


__import__("sys").modules[__name__].__class__ = _CallableModule
