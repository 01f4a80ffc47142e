"""Learning-rate schedules, in optimiser steps: what ``LambdaLR`` calls for ``lr_schedule``."""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from ..errors import ConfigError

__all__ = ["lr_lambda", "used_lrs"]


def lr_lambda(schedule: str, total_steps: int, *, decay_start: float | None = None,
              warmup_steps: int = 0) -> Callable[[int], float]:
    """The LR multiplier of step ``i`` (0-based): what ``LambdaLR`` calls.

    * ``constant``: 1.
    * ``linear_decay``: pix2pix/CycleGAN's ``linear`` policy, in steps instead of epochs. With ``S`` constant
      steps (``decay_start``: a step ≥ 1, a fraction < 1 of the run, default half) and ``T`` steps in all, the
      original rule ``1 - max(0, epoch + epoch_count - n_epochs) / (n_epochs_decay + 1)`` with
      ``epoch_count = 1`` becomes ``1 - max(0, i + 1 - S) / (T - S + 1)``: steps ``0 … S-1`` at the full rate,
      then linearly down to ``1 / (T - S + 1)`` at the last step (the original's last epoch runs at lr/101).
    * ``cosine``: ``(1 + cos(π i / T)) / 2``.

    ``warmup_steps`` multiplies any of them by ``min(1, (i + 1) / warmup_steps)``.

    Args:
        schedule: ``constant``, ``linear_decay`` or ``cosine``.
        total_steps: the run's length in optimiser steps.
        decay_start: where ``linear_decay`` starts (a step ≥ 1, or a fraction < 1 of the run).
        warmup_steps: linear warm-up steps.

    Returns:
        `Callable[[int], float]`: the multiplier of each step.

    Raises:
        ConfigError: an unknown schedule (when the function is called).

    Example:
        >>> fn = lr_lambda("linear_decay", 4)
        >>> [round(fn(i), 3) for i in range(4)]
        [1.0, 1.0, 0.667, 0.333]
    """
    if decay_start is None:
        start = total_steps // 2
    elif decay_start < 1:
        start = int(decay_start * total_steps)
    else:
        start = int(decay_start)
    decay_len = max(0, total_steps - start)

    def fn(step: int) -> float:
        warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0
        if schedule == "constant":
            return warm
        if schedule == "linear_decay":
            return warm * max(0.0, 1.0 - max(0, step + 1 - start) / float(decay_len + 1))
        if schedule == "cosine":
            return warm * 0.5 * (1.0 + math.cos(math.pi * min(1.0, step / max(1, total_steps))))
        raise ConfigError(f"unknown lr_schedule {schedule!r}; use one of constant, linear_decay, cosine")

    return fn


def used_lrs(schedulers: Mapping[str, Any]) -> dict[str, float]:
    """The learning rate each scheduler's optimiser used in the step just taken (``LambdaLR`` has already moved
    on to the next step's)."""
    out = {}
    for k, s in schedulers.items():
        fns = getattr(s, "lr_lambdas", None)
        out[k] = s.base_lrs[0] * fns[0](s.last_epoch - 1) if fns else s.get_last_lr()[0]
    return out
