"""Synthetic, task-shaped data for tests: in-memory batches and on-disk datasets in every task's layout.

Both come from the task objects (:mod:`ganzoo.tasks`); a plugin's ``example_batch`` hook wins for batches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

__all__ = ["example_batch", "write_dataset"]


def example_batch(model: Any, n: int = 4, *, seed: int = 0) -> dict[str, torch.Tensor]:
    """A batch shaped like the plugin's training data (its ``example_batch`` hook; default: the task's)."""
    return model.impl.example_batch(model, n, seed=seed)


def write_dataset(task: str, root: str | Path, config: Any, *, n: int = 8, seed: int = 0) -> Path:
    """Write a small dataset for ``task`` under ``root`` in the layout the task reads; returns ``root``."""
    from ..tasks import get_task

    return get_task(task).write_dataset(root, config, n=n, seed=seed)
