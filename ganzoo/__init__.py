"""ganzoo: a GAN model zoo.

Plugins (entry points in the group ``ganzoo.plugins``) each provide one GAN variant behind one interface —
build, train, sample — with model cards, and weights pushed to and pulled from the Hugging Face Hub as
safetensors.

    >>> import ganzoo
    >>> ganzoo.list_models()                        # pretrained models (offline, no torch import)
    >>> model = ganzoo.load("dcgan-digits")         # eval-mode GanModel, verified weights
    >>> images = model.sample(16, seed=0)           # float NCHW in [-1, 1]
    >>> fresh = ganzoo.build("dcgan", image_size=64)

Importing ``ganzoo`` does not import torch; the heavy parts load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from .api import build, load, pull, push_to_hub, train  # noqa: E402
from .errors import *  # noqa: E402,F401,F403
from .errors import __all__ as _error_names  # noqa: E402
from .plugin import TASKS, Plugin, Task  # noqa: E402
from .registry import list_models, list_plugins  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from .impl import GanImpl
    from .model import GanModel

__all__ = [
    "__version__",
    "Plugin",
    "Task",
    "TASKS",
    "list_plugins",
    "list_models",
    "load",
    "build",
    "train",
    "push_to_hub",
    "pull",
    "GanModel",
    "GanImpl",
    *_error_names,
]

_LAZY = {"GanModel": ".model", "GanImpl": ".impl"}  # torch-backed names, imported on first access


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")
