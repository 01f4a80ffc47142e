"""Sampling utilities for every task (core, not per plugin): fixed-seed grids, latent interpolation (lerp and
slerp), truncation, class/condition sweeps, and input|output grids for translation models.

They rely on two optional plugin hooks (see :class:`ganzoo.GanImpl`):

* ``latent(model, n, seed=) -> z`` — the generator's input noise, ``z ~ N(0, I)`` unless the plugin says otherwise
  with ``latent_distribution = "uniform"``;
* ``generate(model, z, condition=None) -> images`` — images for given codes.

Everything is seeded: the same call gives the same pixels on every device.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .errors import UsageError

__all__ = ["lerp", "slerp", "interpolate", "truncated_latent", "sample_truncated", "condition_sweep", "num_classes",
           "supports_latent"]


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear interpolation between rows of ``a`` and ``b`` at fractions ``t`` (broadcast over the last dims)."""
    t = t.reshape(-1, *([1] * (a.dim() - 1)))
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation (White 2016, "Sampling Generative Networks"): keeps codes at the norm a Gaussian
    prior expects, where lerp passes through the low-density centre. Falls back to lerp for parallel vectors."""
    shape = a.shape
    a2, b2 = a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)
    t = t.reshape(-1, 1)
    an, bn = a2 / a2.norm(dim=1, keepdim=True).clamp_min(eps), b2 / b2.norm(dim=1, keepdim=True).clamp_min(eps)
    omega = torch.acos((an * bn).sum(dim=1, keepdim=True).clamp(-1 + eps, 1 - eps))
    so = torch.sin(omega)
    out = torch.where(so.abs() < 1e-4, a2 + (b2 - a2) * t,
                      (torch.sin((1 - t) * omega) / so) * a2 + (torch.sin(t * omega) / so) * b2)
    return out.reshape(shape)


def supports_latent(model: Any) -> bool:
    """Whether the plugin exposes its latent space (``latent`` + ``generate``)."""
    return model.impl.supports("latent")


def _need_latent(model: Any, what: str) -> None:
    if not supports_latent(model):
        raise UsageError(f"{model.plugin.name} does not expose a latent space (latent/generate), so {what} is not "
                         f"available for it")


def num_classes(model: Any) -> int | None:
    """The number of class labels of a label-conditional model (None otherwise)."""
    from .config import ConditionalConfig

    cfg = model.config
    return int(cfg.num_classes) if isinstance(cfg, ConditionalConfig) and cfg.label_conditioned else None


def _generate(model: Any, z: torch.Tensor, condition: Any) -> torch.Tensor:
    impl = model.impl
    if condition is None:
        return impl.generate(model, z)
    return impl.generate(model, z, condition=condition)


@torch.no_grad()
def interpolate(model: Any, *, rows: int = 4, steps: int = 8, seed: int = 0, method: str = "slerp",
                condition: Any = None) -> torch.Tensor:
    """``rows`` interpolations of ``steps`` images each between pairs of random codes: a (rows·steps, …) batch
    to save with ``nrow=steps``. A conditional model keeps one label per row (``condition`` of length ``rows``,
    default labels 0, 1, …)."""
    _need_latent(model, "interpolation")
    if method not in ("lerp", "slerp"):
        raise UsageError(f"method must be lerp or slerp, got {method!r}")
    if rows < 1 or steps < 2:
        raise UsageError("interpolation needs rows ≥ 1 and steps ≥ 2")
    ends = model.impl.latent(model, 2 * rows, seed=seed)
    a, b = ends[:rows], ends[rows:]
    t = torch.linspace(0, 1, steps, device=ends.device)
    fn = slerp if method == "slerp" else lerp
    z = torch.cat([fn(a[i:i + 1].expand(steps, *a.shape[1:]), b[i:i + 1].expand(steps, *b.shape[1:]), t)
                   for i in range(rows)])
    cond = None
    k = num_classes(model)
    if condition is not None or k is not None:
        labels = torch.as_tensor(condition if condition is not None else [i % (k or 1) for i in range(rows)])
        if labels.shape[0] != rows:
            raise UsageError(f"give one condition per row: {rows} rows, {labels.shape[0]} conditions")
        cond = labels.repeat_interleave(steps, dim=0).to(ends.device)
    return _generate(model, z, cond)


def truncated_latent(model: Any, n: int, psi: float, *, seed: int = 0) -> torch.Tensor:
    """Codes from the prior truncated to ``|z_i| ≤ psi`` by resampling the entries outside (the truncation trick,
    Brock et al. 2019, BigGAN §3.1): trades variety for fidelity as ``psi`` shrinks."""
    _need_latent(model, "truncation")
    if model.impl.latent_distribution != "normal":
        raise UsageError(f"truncation needs a Gaussian latent; {model.plugin.name}'s is "
                         f"{model.impl.latent_distribution}")
    if not psi > 0:
        raise UsageError(f"truncation psi must be > 0, got {psi}")
    z = model.impl.latent(model, n, seed=seed)
    g = torch.Generator().manual_seed(seed + 1)
    for _ in range(1000):
        bad = z.abs() > psi
        if not bad.any():
            break
        z = torch.where(bad, torch.randn(z.shape, generator=g).to(z.device), z)
    else:  # pragma: no cover - only for absurdly small psi
        z = z.clamp(-psi, psi)
    return z


@torch.no_grad()
def sample_truncated(model: Any, n: int, psi: float, *, seed: int = 0, condition: Any = None) -> torch.Tensor:
    """``n`` samples from truncated codes (see :func:`truncated_latent`)."""
    return _generate(model, truncated_latent(model, n, psi, seed=seed), condition)


@torch.no_grad()
def condition_sweep(model: Any, *, per_class: int = 8, seed: int = 0, labels: list[int] | None = None) -> torch.Tensor:
    """A row per label, ``per_class`` samples each; with a latent space, column j shares one code across rows, so
    the rows differ only by the condition. Save with ``nrow=per_class``."""
    k = num_classes(model)
    if k is None:
        raise UsageError(f"{model.plugin.name} is not class-conditional: there is no label to sweep")
    labels = list(range(k)) if labels is None else list(labels)
    bad = [x for x in labels if not 0 <= x < k]
    if bad:
        raise UsageError(f"labels {bad} are out of range: {model.plugin.name} has classes 0..{k - 1}")
    y = torch.tensor(labels).repeat_interleave(per_class)
    if supports_latent(model):
        z = model.impl.latent(model, per_class, seed=seed)
        z = z.repeat(len(labels), *([1] * (z.dim() - 1)))
        return _generate(model, z, y.to(z.device))
    return model.sample(len(y), condition=y, seed=seed)


def grid_rows(n: int) -> int:
    """The default number of images per grid row for ``n`` images (≈ √n)."""
    return max(1, int(math.ceil(math.sqrt(n))))
