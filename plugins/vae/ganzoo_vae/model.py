"""VAE — Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014 (arXiv 1312.6114).

The paper's facts, and where they live here:

* **model**: prior p(z) = N(0, I); decoder p_θ(x|z) an MLP (``G``); approximate posterior q_φ(z|x) =
  N(μ(x), diag σ²(x)), an MLP (``E``) that outputs μ and log σ² (Appendix C.2).
* **reparameterisation** (§2.4, Eq. 10 with L = 1): z = μ + σ ⊙ ε, ε ~ N(0, I), so the Monte-Carlo estimate of
  the bound is differentiable in φ (:meth:`VAE.train_step`; ε from the trainer's step noise).
* **objective** — the ELBO (Eq. 10, the SGVB estimator B):
  ``L(x) = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z))`` with the KL in closed form (Appendix B):
  ``−KL = ½ Σ_j (1 + log σ_j² − μ_j² − σ_j²)`` (:func:`gaussian_kl`). The loss is ``nll + β·KL`` averaged over the
  minibatch; β = 1 is the paper's bound, β ≠ 1 the β-VAE weighting (Higgins et al. 2017): ``beta``.
* **likelihood** (Appendix C): ``"bernoulli"`` for binary-ish data — G outputs per-pixel logits, log p(x|z) =
  Σ x log y + (1 − x) log(1 − y) with pixel intensities x ∈ [0, 1] (the MNIST model; :func:`bernoulli_nll`);
  ``"gaussian"`` for real-valued data — G outputs a mean (sigmoid-constrained to (0, 1), as for Frey Face)
  and a log-variance per pixel (:func:`gaussian_nll`), bounded below by ``min_logvar`` (a smooth bound: on
  digits the background is exactly 0, and an unbounded variance there collapses to 0, the likelihood to +∞).
* **networks** (§5): one hidden layer in encoder and decoder, 500 units for MNIST, tanh (Appendix C);
  latent sizes 2…200 were tried — 20 here (``nz``).
* **optimisation** (§5): minibatch M = 100, L = 1 sample per datapoint, Adagrad with a global step size from
  {0.01, 0.02, 0.1} (0.02 here: ``lr``), parameters initialised ~ N(0, 0.01).

Choices where the paper leaves freedom, and why:

* Images are in [-1, 1] in the zoo; the encoder and the likelihood see the intensities (x + 1)/2 ∈ [0, 1], as in
  the paper, and G's mean image μ_x ∈ [0, 1] is returned as 2μ_x − 1. ``sample()`` decodes z ~ N(0, I) to the decoder's **mean** image (no pixel noise),
  the usual way VAE samples are shown; ``sample(condition=images)`` reconstructs from the posterior mean μ(x)
  (deterministic).
* The paper's weight decay (a N(0, I) prior on the parameters, about 1/N per datapoint) is off by default
  (``weight_decay`` turns it on).
* Measured on the digits (4,500 training images, 1,500 steps of 100): the paper's setup (tanh, Adagrad 0.02)
  reached an ELBO of −97.5 nats per image, but some prior samples decode to grey or white backgrounds; with
  ``activation=relu, optimizer=adam, lr=1e-3``: −82.8 nats and uniformly blurry digits (the "stable but blurry"
  of the seed).
* Logged: ``nll`` and ``kl_term`` (β·KL, the minimised terms), ``kl`` and ``elbo`` (per image, in nats).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.errors import UsageError
from ganzoo.config import ImageConfig
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel
from ganzoo.nn import init_weights

__all__ = ["VAEConfig", "Encoder", "Decoder", "VAE", "gaussian_kl", "bernoulli_nll", "gaussian_nll"]

logger = logging.getLogger(__name__)


@dataclass
class VAEConfig(ImageConfig):
    """VAE hyper-parameters; the defaults are the paper's MNIST model (28×28 grey)."""

    image_size: int = field(default=28, metadata={"help": "image side in pixels (flattened for the MLPs); MNIST: 28"})
    channels: int = field(default=1, metadata={"help": "image channels (1 grey, 3 RGB)"})
    nz: int = field(default=20, metadata={"help": "latent dimension (the paper tries 2…200 on MNIST)"})
    hidden: int = field(default=500, metadata={"help": "units of the hidden layer of encoder and decoder (MNIST: 500)"})
    activation: Literal["tanh", "relu"] = field(default="tanh", metadata={"help": "hidden activation (paper: tanh)"})
    likelihood: Literal["bernoulli", "gaussian"] = field(
        default="bernoulli", metadata={"help": "p(x|z): bernoulli (MNIST) or gaussian with a per-pixel variance"})
    min_logvar: float = field(
        default=-6.0, metadata={"help": "gaussian likelihood: lower bound of each pixel's log-variance (pixels "
                                        "constant in the data would otherwise send it to −∞)"})
    beta: float = field(default=1.0, metadata={"help": "weight of the KL term (1: the ELBO; ≠ 1: β-VAE)"})
    optimizer: Literal["adagrad", "adam"] = field(default="adagrad", metadata={"help": "adagrad (paper) or adam"})
    lr: float = field(default=0.02, metadata={"help": "step size (paper: Adagrad, from {0.01, 0.02, 0.1}; ~1e-3 with adam)"})
    weight_decay: float = field(default=0.0, metadata={"help": "L2 on the parameters (the paper's N(0, I) prior ≈ 1/N)"})
    init_std: float = field(default=0.01, metadata={"help": "weights ~ N(0, init_std) (paper: 0.01)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.image_size < 2:
            raise ValueError(f"image_size must be ≥ 2, got {self.image_size}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        for key in ("nz", "hidden"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be ≥ 1, got {getattr(self, key)}")
        if self.beta < 0:
            raise ValueError(f"beta must be ≥ 0, got {self.beta}")
        for key in ("lr", "init_std"):
            if not getattr(self, key) > 0:
                raise ValueError(f"{key} must be > 0, got {getattr(self, key)}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be ≥ 0, got {self.weight_decay}")

    @property
    def pixels(self) -> int:
        return self.channels * self.image_size * self.image_size


# -- the ELBO's terms (per image, in nats) ---------------------------------------------------------------


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) per row (N,), in closed form: ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²)."""
    mu, logvar = mu.float(), logvar.float()
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def bernoulli_nll(logits: torch.Tensor, target01: torch.Tensor) -> torch.Tensor:
    """−log p(x|z) per image (N,) for Bernoulli pixels with these logits; targets are intensities in [0, 1]."""
    return F.binary_cross_entropy_with_logits(logits.float(), target01.float(), reduction="none").flatten(1).sum(1)


def gaussian_nll(mean: torch.Tensor, logvar: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """−log N(x; mean, diag exp(logvar)) per image (N,)."""
    mean, logvar, target = mean.float(), logvar.float(), target.float()
    per_pixel = 0.5 * (math.log(2 * math.pi) + logvar + (target - mean).pow(2) * torch.exp(-logvar))
    return per_pixel.flatten(1).sum(1)


# -- networks ---------------------------------------------------------------------------------------------


def _act(name: str) -> nn.Module:
    return nn.Tanh() if name == "tanh" else nn.ReLU(inplace=True)


class Encoder(nn.Module):
    """image (N, C, S, S) → (μ, log σ²), each (N, nz): q(z|x)."""

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        self.nz = cfg.nz
        self.main = nn.Sequential(nn.Linear(cfg.pixels, cfg.hidden), _act(cfg.activation),
                                  nn.Linear(cfg.hidden, 2 * cfg.nz))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.main((x.flatten(1) + 1) * 0.5)  # pixel intensities in [0, 1], as the paper's MLPs read
        return h[:, :self.nz], h[:, self.nz:]


class Decoder(nn.Module):
    """z (N, nz) → the mean image in [-1, 1], or with ``params=True`` the likelihood's parameters:
    Bernoulli logits (N, C, S, S), or Gaussian (mean logits, log-variance)."""

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        self.shape = (cfg.channels, cfg.image_size, cfg.image_size)
        self.gaussian = cfg.likelihood == "gaussian"
        self.min_logvar = cfg.min_logvar
        out = cfg.pixels * (2 if self.gaussian else 1)
        self.main = nn.Sequential(nn.Linear(cfg.nz, cfg.hidden), _act(cfg.activation), nn.Linear(cfg.hidden, out))

    def forward(self, z: torch.Tensor, params: bool = False) -> Any:
        a = self.main(z)
        n = z.shape[0]
        if self.gaussian:
            mean_logits, raw = a.chunk(2, dim=1)
            if params:  # a smooth lower bound on log σ²
                logvar = self.min_logvar + F.softplus(raw - self.min_logvar)
                return mean_logits.view(n, *self.shape), logvar.view(n, *self.shape)
            a = mean_logits
        a = a.view(n, *self.shape)
        if params:
            return a
        return torch.tanh(0.5 * a)  # 2·sigmoid − 1: the mean image (Bernoulli probabilities / Gaussian mean)


# -- helpers shared with the auto-encoder's interface -------------------------------------------------------


def _check_images(model: GanModel, images: Any, what: str = "condition") -> torch.Tensor:
    cfg = model.config
    shape = (cfg.channels, cfg.image_size, cfg.image_size)
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise UsageError(f"{model.plugin.name}: {what} must be a float image batch (N, {', '.join(map(str, shape))}) "
                         f"in [-1, 1], got {type(images).__name__}"
                         + (f" of dtype {images.dtype}" if isinstance(images, torch.Tensor) else ""))
    if images.dim() != 4 or tuple(images.shape[1:]) != shape:
        raise UsageError(f"{model.plugin.name}: {what} must have shape (N, {', '.join(map(str, shape))}), got "
                         f"{tuple(images.shape)} (resize the images to {cfg.image_size}×{cfg.image_size})")
    return images.to(model.device)


class VAE(GanImpl):
    """build / train_step / sample for the VAE (components ``G`` = decoder p(x|z), ``E`` = encoder q(z|x))."""

    #: the paper's minibatch
    train_defaults: dict[str, Any] = {"batch_size": 100}
    latent_distribution = "normal"

    def build(self, config: VAEConfig) -> GanModel:
        e, g = Encoder(config), Decoder(config)
        init_weights(e, "normal", config.init_std)
        init_weights(g, "normal", config.init_std)
        return self.new_model(config, {"G": g, "E": e})

    def configure_optimizers(self, model: GanModel) -> dict[str, torch.optim.Optimizer]:
        """One optimiser (Adagrad as in the paper, or Adam) over encoder and decoder: one objective."""
        cfg = model.config
        params = list(model.E.parameters()) + list(model.G.parameters())
        if cfg.optimizer == "adagrad":
            return {"G": torch.optim.Adagrad(params, lr=cfg.lr, weight_decay=cfg.weight_decay)}
        return {"G": torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)}

    def elbo_terms(self, model: GanModel, images: torch.Tensor, eps: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-image −log p(x|z) and KL(q(z|x) ‖ N(0, I)) for z = μ + σ ⊙ ``eps`` (all (N,))."""
        mu, logvar = model.E(images)
        z = mu + torch.exp(0.5 * logvar) * eps.to(mu.dtype)
        target = (images.float() + 1) / 2
        out = model.G(z, params=True)
        if isinstance(out, tuple):
            nll = gaussian_nll(torch.sigmoid(out[0].float()), out[1], target)
        else:
            nll = bernoulli_nll(out, target)
        return {"nll": nll, "kl": gaussian_kl(mu, logvar)}

    def train_step(self, model: GanModel, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        """Maximise the ELBO (one z per image): minimise mean(nll + β·KL)."""
        x = batch["image"]
        eps = self.noise(x.shape[0], (model.config.nz,), device=x.device)
        t = self.elbo_terms(model, x, eps)
        nll, kl = t["nll"].mean(), t["kl"].mean()
        return {
            "nll": nll,
            "kl_term": model.config.beta * kl,
            "kl": kl.detach(),
            "elbo": -(nll + kl).detach(),
        }

    # -- the two halves -----------------------------------------------------------------------------------

    def encode(self, model: GanModel, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The posterior q(z|x): (μ, log σ²), each (N, nz), for images (N, C, S, S) in [-1, 1]."""
        return model.E(_check_images(model, images, "images"))

    def decode(self, model: GanModel, z: torch.Tensor) -> torch.Tensor:
        """The decoder's mean image (N, C, S, S) in [-1, 1] for codes (N, nz)."""
        z = torch.as_tensor(z, dtype=torch.float32).to(model.device)
        if z.dim() != 2 or z.shape[1] != model.config.nz:
            raise UsageError(f"codes must have shape (n, {model.config.nz}), got {tuple(z.shape)}")
        return model.G(z)

    # -- sampling -----------------------------------------------------------------------------------------

    def latent(self, model: GanModel, n: int, *, seed: int | None = None) -> torch.Tensor:
        """z ~ N(0, I) (the prior), (n, nz), reproducible for a seed on every device."""
        return self.noise(n, (model.config.nz,), seed=seed, device=model.device)

    def generate(self, model: GanModel, z: torch.Tensor, *, condition: Any = None, batch_size: int = 256) -> torch.Tensor:
        """Decode codes ``z`` (n, nz), in batches."""
        if condition is not None:
            raise UsageError("vae.generate decodes codes; it takes no condition")
        z = torch.as_tensor(z, dtype=torch.float32)
        return torch.cat([self.decode(model, chunk) for chunk in z.split(batch_size)])

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               batch_size: int = 256) -> torch.Tensor:
        """``n`` images (default 64): decoder means for z ~ N(0, I); or, with ``condition=images``
        (N, C, S, S), their reconstructions from the posterior mean."""
        if condition is not None:
            x = _check_images(model, condition)
            if n is not None and n != x.shape[0]:
                raise UsageError(f"n={n} but {x.shape[0]} images were given to reconstruct: leave n out")
            return torch.cat([model.G(model.E(chunk)[0]) for chunk in x.split(batch_size)])
        n = 64 if n is None else n
        return self.generate(model, self.latent(model, n, seed=seed), batch_size=batch_size)

    def preview(self, model: GanModel, dataset: Any, stem: Path, *, n: int = 64, seed: int = 0) -> Path:
        """Samples, then a row of training images and a row of their reconstructions."""
        import numpy as np
        from torch.utils.data import default_collate

        from ganzoo.data.images import save_image_grid

        k = min(8, len(dataset))
        idx = np.linspace(0, len(dataset) - 1, k).round().astype(int).tolist()
        real = default_collate([dataset[i] for i in idx])["image"].to(model.device)
        samples, recon = model.sample(n, seed=seed), model.sample(condition=real)
        blank = torch.ones(((-n) % 8, *samples.shape[1:]), device=samples.device)
        fill = torch.ones((8 - k, *samples.shape[1:]), device=samples.device)
        return save_image_grid(torch.cat([samples, blank, real, fill, recon, fill]), Path(stem).with_suffix(".png"),
                               nrow=8)

    def translate(self, model: GanModel, image: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        """``ganzoo sample vae-digits --input img.png``: the reconstruction, resized back to the input's size."""
        s = model.config.image_size
        _, h, w = image.shape
        x = image[None].float().to(model.device)
        if (h, w) != (s, s):
            x = F.interpolate(x, size=(s, s), mode="bilinear", antialias=True, align_corners=False)
        y = model.sample(condition=x.clamp(-1, 1))
        if (h, w) != (s, s):
            y = F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False).clamp(-1, 1)
        return y[0].cpu()
