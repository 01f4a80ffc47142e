"""Discriminator rejection sampling — Azadi et al., "Discriminator Rejection Sampling", ICLR 2019 (arXiv 1810.06758).

The seed's "structured learning" point: a discriminator judges whole objects, so it can also *pick* among them.
With an optimal D, ``p_data(x) / p_g(x) = exp(D̃(x))`` where ``D̃`` is D's logit; accepting a generated ``x`` with
probability ``exp(D̃(x) - D̃*)`` (``D̃*`` = the largest logit) samples ``p_data`` exactly. In practice (§3.2):

1. **calibrate** D: a logistic regression on D's logits, fitted on held-out real vs generated images, makes the
   logits honest log-density ratios (the paper fine-tunes D's last layer on held-out data; a 1-D logistic
   re-fit of the logit is the same for a final linear layer);
2. **burn in** ``D̃*`` on a first batch of samples, and raise it whenever a larger logit is seen;
3. accept with probability ``σ(F(x))``, ``F(x) = D̃(x) − D̃* − log(1 − exp(D̃(x) − D̃* − ε)) − γ``: the log
   keeps the acceptance well-conditioned, and ``γ`` shifts it — set at a percentile of F on the burn-in batch
   (the paper's "dynamic γ" picks the 95th or 80th percentile: accepting about that top share more often).

Any model whose plugin implements ``discriminate(model, images, condition=None) -> logits`` and ships its
discriminator (load it with ``components="all"``) can be sampled this way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch

from .errors import UsageError

__all__ = ["DRSResult", "rejection_sample", "calibrate"]

logger = logging.getLogger(__name__)


@dataclass
class DRSResult:
    """Accepted samples and how many were drawn to get them."""

    samples: torch.Tensor
    drawn: int
    accepted: int
    gamma: float
    max_logit: float

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / max(1, self.drawn)


def _logits(model: Any, images: torch.Tensor, condition: Any = None, batch_size: int = 256) -> torch.Tensor:
    impl = model.impl
    out = []
    for i in range(0, images.shape[0], batch_size):
        chunk = images[i:i + batch_size].to(model.device)
        cond = None if condition is None else condition[i:i + batch_size]
        logit = impl.discriminate(model, chunk) if cond is None else impl.discriminate(model, chunk, condition=cond)
        out.append(logit.detach().float().reshape(chunk.shape[0], -1).mean(dim=1).cpu())
    return torch.cat(out)


@torch.no_grad()
def calibrate(model: Any, real: torch.Tensor, *, n_fake: int | None = None, seed: int = 0,
              steps: int = 500) -> tuple[float, float]:
    """Fit ``a·logit + b`` by logistic regression on D's logits for held-out real vs generated images.

    Returns:
        ``(a, b)``: apply as ``a * D(x) + b``.
    """
    n_fake = n_fake or real.shape[0]
    fake = model.sample(n_fake, seed=seed + 10_000)
    x = torch.cat([_logits(model, real), _logits(model, fake)])
    y = torch.cat([torch.ones(real.shape[0]), torch.zeros(n_fake)])
    mu, sd = float(x.mean()), float(x.std().clamp_min(1e-6))
    xs = (x - mu) / sd
    w = torch.zeros(2, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        with torch.enable_grad():
            loss = torch.nn.functional.binary_cross_entropy_with_logits(w[0] * xs + w[1], y)
            loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    a = float(w[0]) / sd
    return a, float(w[1]) - a * mu


@torch.no_grad()
def rejection_sample(model: Any, n: int, *, seed: int = 0, percentile: float = 80.0, burn_in: int = 1000,
                     batch_size: int = 256, max_draws: int | None = None, calibration: tuple[float, float] | None = None,
                     eps: float = 1e-6) -> DRSResult:
    """Draw ``n`` samples accepted by discriminator rejection sampling.

    Args:
        model: a loaded model whose discriminator is loaded (``ganzoo.load(name, components="all")``) and whose
            plugin implements ``discriminate``.
        n: accepted samples wanted.
        seed: seeds the proposals and the acceptance draws.
        percentile: γ is set so that this percentile of F on the burn-in batch is accepted with probability ½.
        burn_in: proposals used to estimate ``D̃*`` and γ (also candidates).
        max_draws: stop after this many proposals (default ``200 · n + burn_in``).
        calibration: ``(a, b)`` from :func:`calibrate`; without it D's raw logits are used.

    Raises:
        UsageError: the plugin has no ``discriminate`` or its discriminator was not loaded.
    """
    if not callable(getattr(model.impl, "discriminate", None)):
        raise UsageError(f"{model.plugin.name} has no discriminate(): discriminator rejection sampling needs one")
    loaded = getattr(model, "loaded_components", None)
    if loaded is not None and all(c in model.plugin.inference for c in loaded):
        raise UsageError("the discriminator is not loaded: use ganzoo.load(name, components='all') for rejection sampling")
    if n <= 0:
        raise UsageError(f"n must be a positive integer, got {n}")
    a, b = calibration or (1.0, 0.0)
    g = torch.Generator().manual_seed(seed)
    max_draws = max_draws or 200 * n + burn_in

    def propose(k: int, s: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = model.sample(k, seed=s)
        return x, a * _logits(model, x, batch_size=batch_size) + b

    x0, l0 = propose(burn_in, seed)
    d_max = float(l0.max())

    def f_of(logit: torch.Tensor) -> torch.Tensor:
        delta = logit - d_max
        return delta - torch.log1p(-torch.exp(delta - eps).clamp(max=1 - 1e-7))

    gamma = float(torch.quantile(f_of(l0), percentile / 100.0))
    accepted: list[torch.Tensor] = []
    drawn, count, s = 0, 0, seed + 1
    pending = [(x0, l0)]
    while count < n and drawn < max_draws:
        x, logit = pending.pop() if pending else propose(batch_size, s)
        s += 1
        drawn += x.shape[0]
        if float(logit.max()) > d_max:
            d_max = float(logit.max())
        p = torch.sigmoid(f_of(logit) - gamma)
        keep = torch.rand(x.shape[0], generator=g) < p
        if keep.any():
            accepted.append(x[keep.to(x.device)].cpu())
            count += int(keep.sum())
    if count < n:
        logger.warning("rejection sampling accepted %d of %d wanted after %d proposals", count, n, drawn)
    samples = torch.cat(accepted)[:n] if accepted else torch.empty(0)
    return DRSResult(samples, drawn, count, gamma, d_max)
