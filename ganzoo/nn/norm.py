"""Normalisation layers of the pix2pix/CycleGAN family, with the original code's bias rule, and the state-dict
clean-up that original checkpoints need.

Three kinds (the original's ``--norm``):

* ``"batch"`` — ``BatchNorm2d(affine=True, track_running_stats=True)`` (eps 1e-5, momentum 0.1): pix2pix;
* ``"instance"`` — ``InstanceNorm2d(affine=False, track_running_stats=False)``: no parameters, no buffers: CycleGAN;
* ``"none"`` — an ``Identity`` that still occupies its index in the ``Sequential`` (so key indices do not move).

**Bias rule** (kept so the parameter layout, hence the checkpoint keys, match the original): a convolution that
feeds a norm layer has a bias only under instance norm (``conv_bias``). Under batch norm the norm's own shift makes
the bias redundant; under ``"none"`` the original also drops it (its test is "is the norm InstanceNorm?"), which
we keep for layout compatibility even though it is an odd choice. Checkpoints from other code bases differ: some
give every convolution a bias whatever the norm, some use instance norm *with* affine parameters
(``InstanceNorm2d(affine=True)``); ``conv_bias(kind, override)`` and ``norm_layer(kind, c, affine=True)`` build
those layouts.

:func:`clean_norm_state` adapts an original state dict to a ganzoo module: it drops the running statistics that
InstanceNorm layers carried in the published 2018 CycleGAN files (``track_running_stats=True`` was the default in
the original code between June and October 2018; the statistics were never used at test time) and fills the
``num_batches_tracked`` counters that files saved before PyTorch 0.4 lack.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Literal, Mapping

import torch
from torch import nn

__all__ = ["NormKind", "NORM_KINDS", "norm_layer", "conv_bias", "clean_norm_state", "check_layout", "frozen_norm_stats"]

NormKind = Literal["batch", "instance", "none"]
NORM_KINDS: tuple[str, ...] = ("batch", "instance", "none")

_STAT_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


def _check_kind(kind: str) -> None:
    if kind not in NORM_KINDS:
        raise ValueError(f"norm must be one of {', '.join(NORM_KINDS)}, got {kind!r}")


def norm_layer(kind: NormKind | str, channels: int, *, affine: bool = False) -> nn.Module:
    """A normalisation layer of ``kind`` for ``channels`` feature maps (see the module docstring).

    Args:
        kind: ``"batch"``, ``"instance"`` or ``"none"``.
        channels: feature maps.
        affine: instance norm with a learnt per-channel scale and shift (``weight``, ``bias``); the original's
            instance norm has none. Batch norm always has them.

    Raises:
        ValueError: ``kind`` is not batch, instance or none.
    """
    _check_kind(kind)
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=True, track_running_stats=True)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=bool(affine), track_running_stats=False)
    return nn.Identity()


def conv_bias(kind: NormKind | str, override: bool | None = None) -> bool:
    """Whether a convolution followed by a ``kind`` norm layer has a bias: ``override`` when given, else the
    original's rule (only under instance norm)."""
    _check_kind(kind)
    return kind == "instance" if override is None else bool(override)


def clean_norm_state(state: Mapping[str, torch.Tensor], module: nn.Module) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Fit an original checkpoint's norm entries to ``module`` (which may live on the meta device).

    * InstanceNorm layers that track no statistics: their ``running_mean``/``running_var``/``num_batches_tracked``
      in ``state`` are dropped (returned in the second value). They are never turned into active statistics:
      the original's test mode never used them (see ``notes/reference-cyclegan-pix2pix.md`` §3).
    * BatchNorm layers: a missing ``num_batches_tracked`` (files saved with PyTorch < 0.4) is filled with 0; the
      counter only matters when ``momentum=None``, which this family never uses.

    Returns:
        `(dict, list[str])`: the cleaned state dict and the keys that were dropped.
    """
    out = dict(state)
    dropped: list[str] = []
    for name, m in module.named_modules():
        prefix = f"{name}." if name else ""
        if isinstance(m, nn.InstanceNorm2d) and getattr(m, "running_mean", None) is None:
            for suffix in _STAT_SUFFIXES:
                key = prefix + suffix
                if key in out:
                    del out[key]
                    dropped.append(key)
        elif isinstance(m, nn.BatchNorm2d) and m.track_running_stats:
            key = prefix + "num_batches_tracked"
            if key not in out and prefix + "running_mean" in out:
                out[key] = torch.tensor(0, dtype=torch.long)
    return out, dropped


def check_layout(state: Mapping[str, torch.Tensor], module: nn.Module) -> str | None:
    """Compare ``state``'s keys and shapes with ``module``'s; ``None`` when they fit, else what differs (one line)."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing[:3])}" + (f" (+{len(missing) - 3} more)" if len(missing) > 3 else ""))
    if unexpected:
        parts.append(f"unexpected {', '.join(unexpected[:3])}"
                     + (f" (+{len(unexpected) - 3} more)" if len(unexpected) > 3 else ""))
    if parts:
        return "; ".join(parts)
    wrong = [f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})" for k, v in expected.items()
             if tuple(state[k].shape) != tuple(v.shape)]
    if wrong:
        return "shape mismatch " + ", ".join(wrong[:3]) + (f" (+{len(wrong) - 3} more)" if len(wrong) > 3 else "")
    return None


@contextlib.contextmanager
def frozen_norm_stats(module: nn.Module) -> Iterator[nn.Module]:
    """Within the block, batch-norm layers in train mode normalise with the batch's statistics but leave their
    running statistics and counters untouched (they are switched to ``track_running_stats=False``).

    Used for pix2pix's test-time "paper" mode (train-mode batch norm on each test image, as the original
    ``test.py`` runs without ``--eval``, without mutating the model) and for the extra no-grad generator pass of
    its discriminator step (so the running statistics advance once per training step, as in the original).
    """
    saved = [(m, m.track_running_stats) for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m, _ in saved:
        m.track_running_stats = False
    try:
        yield module
    finally:
        for m, flag in saved:
            m.track_running_stats = flag
