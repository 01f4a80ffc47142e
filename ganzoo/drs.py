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
discriminator (load it with ``components="all"``) can be sampled this way. For conditional models (cGAN,
StackGAN) ``D(x | c)`` estimates ``p_data(x | c) / p_g(x | c)``, so each condition's samples are accepted by D's
verdict on that condition: the result keeps the requested conditions, sample for sample.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch

from .errors import UsageError
from .explore import num_classes

__all__ = ["DRSResult", "rejection_sample", "calibrate", "default_condition"]

logger = logging.getLogger(__name__)


@dataclass
class DRSResult:
    """Accepted samples and how many were drawn to get them.

    ``condition`` holds the condition of each returned sample (``None`` for unconditional models); when fewer
    than ``n`` samples were accepted within ``max_draws``, only the filled slots are returned, in order.
    ``gamma`` and ``max_logit`` are those of the first condition; ``per_condition`` lists, for each distinct
    condition, its ``gamma``, ``max_logit`` (the bound D̃*), ``drawn`` and ``accepted``.
    """

    samples: torch.Tensor
    drawn: int
    accepted: int
    gamma: float
    max_logit: float
    condition: torch.Tensor | None = None
    per_condition: list[dict[str, Any]] | None = None

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


def _sample(model: Any, k: int, seed: int, condition: torch.Tensor | None) -> torch.Tensor:
    if condition is None:
        return model.sample(k, seed=seed)
    return model.sample(k, seed=seed, condition=condition)


def default_condition(model: Any, n: int, condition: Any = None) -> torch.Tensor | None:
    """The per-sample conditions DRS uses: ``condition`` as a tensor of ``n`` rows (one value is repeated), or,
    for a class-conditional model given none, balanced labels ``i % K`` (what ``ganzoo eval`` draws too).

    Raises:
        UsageError: a conditional model that takes attribute vectors was given no condition, or the number of
            conditions is neither 1 nor ``n``.
    """
    if condition is None:
        if model.task.conditioning != "label":
            return None
        k = num_classes(model)
        if k is None:
            raise UsageError(f"{model.plugin.name} is conditioned on attribute vectors: give condition= "
                             f"(one vector, or one per sample) for rejection sampling")
        return torch.arange(n) % int(k)
    cond = torch.as_tensor(condition)
    if cond.ndim == 0:
        cond = cond.reshape(1)
    if cond.shape[0] == 1 and n > 1:
        cond = cond.expand(n, *cond.shape[1:]).clone()
    if cond.shape[0] != n:
        raise UsageError(f"give one condition or one per sample ({n}), got {cond.shape[0]}")
    return cond


@torch.no_grad()
def calibrate(model: Any, real: torch.Tensor, *, real_condition: Any = None, n_fake: int | None = None,
              seed: int = 0, steps: int = 500) -> tuple[float, float]:
    """Fit ``a·logit + b`` by logistic regression on D's logits for held-out real vs generated images.

    For a conditional model pass the real images' conditions as ``real_condition``: D judges (image, condition)
    pairs, and the generated images are drawn for the same conditions.

    Returns:
        ``(a, b)``: apply as ``a * D(x) + b``.
    """
    n_fake = n_fake or real.shape[0]
    if real_condition is not None:
        real_condition = torch.as_tensor(real_condition)
        fake_condition = real_condition[torch.arange(n_fake) % real_condition.shape[0]]
    else:
        fake_condition = default_condition(model, n_fake)
        if fake_condition is not None:
            raise UsageError(f"{model.plugin.name} is conditional: give real_condition= (the real images' conditions)")
    fake = _sample(model, n_fake, seed + 10_000, fake_condition)
    x = torch.cat([_logits(model, real, real_condition), _logits(model, fake, fake_condition)])
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
def rejection_sample(model: Any, n: int, *, condition: Any = None, seed: int = 0, percentile: float = 80.0,
                     burn_in: int = 1000, batch_size: int = 256, max_draws: int | None = None,
                     calibration: tuple[float, float] | None = None, eps: float = 1e-6) -> DRSResult:
    """Draw ``n`` samples accepted by discriminator rejection sampling.

    Args:
        model: a loaded model whose discriminator is loaded (``ganzoo.load(name, components="all")``) and whose
            plugin implements ``discriminate``.
        n: accepted samples wanted.
        condition: for conditional models, one condition (label / attribute vector) for all ``n`` or one per
            sample; class-conditional models default to balanced labels ``i % K``. Each distinct condition is
            sampled from ``p_g(x | c)`` and accepted by ``D(x | c)``, so sample ``i`` has condition ``i``.
        seed: seeds the proposals and the acceptance draws.
        percentile: γ is set so that this percentile of F on the burn-in batch is accepted with probability ½.
        burn_in: proposals used to estimate ``D̃*`` and γ (also candidates); for conditional models ``D̃*_c`` and
            ``γ_c`` are estimated per distinct condition, on ``max(burn_in / #conditions, min(burn_in, 200))``
            proposals each.
        max_draws: stop after this many proposals (default ``200 · n + burn_in``).
        calibration: ``(a, b)`` from :func:`calibrate`; without it D's raw logits are used.

    Raises:
        UsageError: the plugin has no ``discriminate``, its discriminator was not loaded, or the condition does
            not fit the model.
    """
    if not model.impl.supports("discriminate"):
        raise UsageError(f"{model.plugin.name} has no discriminate(): discriminator rejection sampling needs one")
    loaded = getattr(model, "loaded_components", None)
    if loaded is not None and all(c in model.plugin.inference for c in loaded):
        raise UsageError("the discriminator is not loaded: use ganzoo.load(name, components='all') for rejection "
                         "sampling")
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise UsageError(f"n must be a positive integer, got {n!r}")
    cond = default_condition(model, n, condition)
    a, b = calibration or (1.0, 0.0)
    g = torch.Generator().manual_seed(seed)
    max_draws = max_draws or 200 * n + burn_in
    if cond is None:
        groups: list[tuple[torch.Tensor | None, torch.Tensor]] = [(None, torch.arange(n))]
    else:
        values, inverse = torch.unique(cond, dim=0, return_inverse=True)
        groups = [(values[i], (inverse == i).nonzero().flatten()) for i in range(values.shape[0])]

    def propose(k: int, s: int, c: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        cs = None if c is None else c.unsqueeze(0).expand(k, *c.shape).clone()
        x = _sample(model, k, s, cs)
        return x, a * _logits(model, x, cs, batch_size=batch_size) + b

    # D(x | c) estimates log p_data(x | c) / p_g(x | c): its bound D̃*_c and the shift γ_c are per condition (a
    # global bound would starve the conditions D scores lower). The burn-in is shared out over the conditions.
    per_group = max(-(-burn_in // len(groups)), min(burn_in, 200))
    out: torch.Tensor | None = None
    filled = torch.zeros(n, dtype=torch.bool)
    drawn = accepted_total = 0
    stats: list[dict[str, Any]] = []
    s = seed
    for c, slots in groups:
        x0, l0 = propose(per_group, s, c)
        s += 1
        d_max = float(l0.max())

        def f_of(logit: torch.Tensor) -> torch.Tensor:
            delta = logit - d_max
            return delta - torch.log1p(-torch.exp(delta - eps).clamp(max=1 - 1e-7))

        gamma = float(torch.quantile(f_of(l0), percentile / 100.0))
        budget = max(per_group, max_draws * len(slots) // n)
        accepted: list[torch.Tensor] = []
        count = group_drawn = 0
        pending = [(x0, l0)]
        while count < len(slots) and (group_drawn < budget or pending):
            if pending:
                x, logit = pending.pop()
            else:
                x, logit = propose(batch_size, s, c)
                s += 1
            group_drawn += x.shape[0]
            d_max = max(d_max, float(logit.max()))
            p = torch.sigmoid(f_of(logit) - gamma)
            keep = torch.rand(x.shape[0], generator=g) < p
            if keep.any():
                accepted.append(x[keep.to(x.device)].cpu())
                count += int(keep.sum())
        drawn += group_drawn
        accepted_total += count
        stats.append({"condition": None if c is None else c.tolist(), "gamma": gamma, "max_logit": d_max,
                      "drawn": group_drawn, "accepted": count})
        if accepted:
            got = torch.cat(accepted)[:len(slots)]
            if out is None:
                out = torch.empty((n, *got.shape[1:]), dtype=got.dtype)
            out[slots[:got.shape[0]]] = got
            filled[slots[:got.shape[0]]] = True
    if not bool(filled.all()):
        what = "" if cond is None else " (some conditions fell short)"
        logger.warning("rejection sampling accepted %d of %d wanted after %d proposals%s",
                       int(filled.sum()), n, drawn, what)
    samples = out[filled] if out is not None else torch.empty(0)
    return DRSResult(samples, drawn, accepted_total, stats[0]["gamma"], stats[0]["max_logit"],
                     None if cond is None else cond[filled], stats)
