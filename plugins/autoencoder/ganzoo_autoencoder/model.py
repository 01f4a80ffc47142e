"""Auto-encoder — the baseline the GAN story contrasts with (the classic reference for MLP auto-encoders of
digits is Hinton & Salakhutdinov, "Reducing the Dimensionality of Data with Neural Networks", Science 2006).

What it is: an encoder ``E`` (image → code) and a decoder ``G`` (code → image), trained together on one
objective, reconstruction: ``L = Σ_pixels ℓ(x, G(E(x)))``. Nothing in that objective says what the decoder
should do with a code that no training image maps to, so an auto-encoder is not, by itself, a generator: the
decoder "only reaches the blue dots" (the training codes).

How it generates here (``sample()``, stated in the card): codes are drawn from a Gaussian ``N(m, C)`` fitted to
the training images' codes, and decoded. The Gaussian's moments live in the decoder as buffers
(``G.code_mean``, ``G.code_moment2`` = E[z zᵀ], ``G.code_batches``), saved in ``G.safetensors`` with the weights,
so a loaded model samples exactly as the trained one. They are updated at every training step from the batch's
codes, like batch norm's running statistics: a cumulative average for the first ``1/code_momentum`` batches,
then an exponential moving average with ``code_momentum`` (the encoder drifts while it trains, so old codes
are forgotten). :meth:`AutoEncoder.fit_prior` refits them exactly from a dataset after training. The
covariance is ``E[z zᵀ] − m mᵀ``, sampled through its eigendecomposition (exact for a singular C too).

Choices, and why:

* MLP encoder/decoder with one hidden layer of 500 units and a 20-d code — the layout of the ``vae`` plugin
  (Kingma & Welling's MNIST model). ReLU by default: no paper fixes it, and it reconstructed better in our digit
  runs (60.5 vs 77.7 nats per image after 1,500 steps); ``activation=tanh`` gives the VAE paper's units. Train
  the two with the same ``activation`` and they differ only in their objective.
* Reconstruction loss ``loss="bce"`` (default): per-pixel cross-entropy with pixel intensities in [0, 1] as
  targets, summed over pixels — the VAE's Bernoulli likelihood without the KL term; ``"mse"``: squared error.
  The decoder's output is a sigmoid, rescaled to the zoo's [-1, 1] as 2σ − 1 (= tanh(a/2)); the encoder reads
  pixel intensities (x + 1)/2 ∈ [0, 1] (with [-1, 1] inputs the all-background pixels add a large constant to
  every pre-activation, which saturated the tanh units within the first 100 steps in our runs).
* Adam, lr 1e-3, minibatch 100; weights ~ N(0, 0.01) as in the vae plugin.
* ``sample(condition=images)`` returns reconstructions G(E(x)); ``encode``/``decode`` expose both halves;
  ``latent``/``generate`` give interpolation between codes of the fitted Gaussian.
"""

from __future__ import annotations

import logging
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
from ganzoo.nn import init_weights, unwrap

__all__ = ["AutoEncoderConfig", "Encoder", "Decoder", "AutoEncoder", "reconstruction_loss"]

logger = logging.getLogger(__name__)


@dataclass
class AutoEncoderConfig(ImageConfig):
    """Auto-encoder hyper-parameters (the layout of the vae plugin's MNIST model, 28×28 grey)."""

    image_size: int = field(default=28, metadata={"help": "image side in pixels (flattened for the MLPs)"})
    channels: int = field(default=1, metadata={"help": "image channels (1 grey, 3 RGB)"})
    code_dim: int = field(default=20, metadata={"help": "dimension of the code between encoder and decoder"})
    hidden: int = field(default=500, metadata={"help": "units of the hidden layer of E and of G"})
    activation: Literal["tanh", "relu"] = field(default="relu", metadata={"help": "hidden activation (the vae paper "
                                                                                   "uses tanh)"})
    loss: Literal["bce", "mse"] = field(
        default="bce", metadata={"help": "reconstruction loss summed over pixels: bce (cross-entropy on [0,1] "
                                         "intensities) or mse"})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate (E and G together)"})
    beta1: float = field(default=0.9, metadata={"help": "Adam beta1"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2"})
    code_momentum: float = field(
        default=0.01, metadata={"help": "weight of each new batch in the running moments of the codes (the "
                                        "fitted Gaussian sample() draws from)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.image_size < 2:
            raise ValueError(f"image_size must be ≥ 2, got {self.image_size}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        for key in ("code_dim", "hidden"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be ≥ 1, got {getattr(self, key)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not 0.0 < self.code_momentum <= 1.0:
            raise ValueError(f"code_momentum must be in (0, 1], got {self.code_momentum}")

    @property
    def pixels(self) -> int:
        return self.channels * self.image_size * self.image_size


def _act(name: str) -> nn.Module:
    return nn.Tanh() if name == "tanh" else nn.ReLU(inplace=True)


class Encoder(nn.Module):
    """image (N, C, S, S) → code (N, code_dim)."""

    def __init__(self, cfg: AutoEncoderConfig) -> None:
        super().__init__()
        self.main = nn.Sequential(nn.Linear(cfg.pixels, cfg.hidden), _act(cfg.activation),
                                  nn.Linear(cfg.hidden, cfg.code_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main((x.flatten(1) + 1) * 0.5)  # pixel intensities in [0, 1], as the paper's MLPs read


class Decoder(nn.Module):
    """code (N, code_dim) → image logits; holds the running moments of the training codes (buffers)."""

    def __init__(self, cfg: AutoEncoderConfig) -> None:
        super().__init__()
        self.shape = (cfg.channels, cfg.image_size, cfg.image_size)
        self.main = nn.Sequential(nn.Linear(cfg.code_dim, cfg.hidden), _act(cfg.activation),
                                  nn.Linear(cfg.hidden, cfg.pixels))
        d = cfg.code_dim
        # the fitted Gaussian: N(0, I) until training codes arrive
        self.register_buffer("code_mean", torch.zeros(d))
        self.register_buffer("code_moment2", torch.eye(d))
        self.register_buffer("code_batches", torch.zeros(()))

    def forward(self, z: torch.Tensor, logits: bool = False) -> torch.Tensor:
        """Images in [-1, 1] (2·sigmoid − 1), or with ``logits=True`` the pre-sigmoid outputs (N, C, S, S).

        (The loss asks for logits through ``forward`` so that DDP sees the call and syncs gradients.)
        """
        a = self.main(z).view(z.shape[0], *self.shape)
        return a if logits else torch.tanh(0.5 * a)

    @torch.no_grad()
    def update_code_stats(self, z: torch.Tensor, momentum: float) -> None:
        """Fold a batch of codes (N, d) into the running first and second moments."""
        z = z.detach().float()
        n = torch.tensor(float(z.shape[0]), device=z.device)
        s1, s2 = z.sum(0), z.T @ z
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            for t in (n, s1, s2):  # every process folds in the global batch, so the buffers stay identical
                torch.distributed.all_reduce(t)
        w = max(momentum, 1.0 / (float(self.code_batches) + 1.0))
        self.code_mean.mul_(1 - w).add_(s1 / n, alpha=w)
        self.code_moment2.mul_(1 - w).add_(s2 / n, alpha=w)
        self.code_batches.add_(1)

    def code_gaussian(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The fitted Gaussian's mean (d,) and covariance (d, d), in float64 on the CPU."""
        m = self.code_mean.detach().double().cpu()
        cov = self.code_moment2.detach().double().cpu() - torch.outer(m, m)
        return m, 0.5 * (cov + cov.T)


def reconstruction_loss(logits: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-image reconstruction loss (N,), summed over pixels; ``target`` is in [-1, 1]."""
    t01 = (target.float() + 1) / 2
    if kind == "bce":
        per_pixel = F.binary_cross_entropy_with_logits(logits.float(), t01, reduction="none")
    elif kind == "mse":
        per_pixel = (torch.sigmoid(logits.float()) - t01) ** 2
    else:
        raise ValueError(f"loss must be bce or mse, got {kind!r}")
    return per_pixel.flatten(1).sum(1)


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


def reconstruction_preview(model: GanModel, dataset: Any, stem: Path, *, n: int, seed: int) -> Path:
    """A preview grid: ``n`` samples, then a row of dataset images and a row of their reconstructions."""
    import numpy as np
    from torch.utils.data import default_collate

    from ganzoo.data.images import save_image_grid

    k = min(8, len(dataset))
    idx = np.linspace(0, len(dataset) - 1, k).round().astype(int).tolist()
    real = default_collate([dataset[i] for i in idx])["image"].to(model.device)
    samples = model.sample(n, seed=seed)
    recon = model.sample(condition=real, seed=seed)
    width = 8
    pad = (-n) % width  # full rows of samples, then inputs and reconstructions on rows of their own
    blank = torch.ones((pad, *samples.shape[1:]), device=samples.device)
    fill = torch.ones((width - k, *samples.shape[1:]), device=samples.device)
    grid = torch.cat([samples, blank, real, fill, recon, fill])
    return save_image_grid(grid, stem.with_suffix(".png"), nrow=width)


def resize_translate(model: GanModel, image: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    """Reconstruct one image (C, H, W) of any size: resized to the model's size and back (``ganzoo sample --input``)."""
    s = model.config.image_size
    _, h, w = image.shape
    x = image[None].float().to(model.device)
    if (h, w) != (s, s):
        x = F.interpolate(x, size=(s, s), mode="bilinear", antialias=True, align_corners=False)
    y = model.sample(condition=x.clamp(-1, 1), seed=kwargs.get("seed"))
    if (h, w) != (s, s):
        y = F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False).clamp(-1, 1)
    return y[0].cpu()


class AutoEncoder(GanImpl):
    """build / train_step / sample for the auto-encoder (components ``G`` = decoder, ``E`` = encoder)."""

    train_defaults: dict[str, Any] = {"batch_size": 100}
    #: codes come from the fitted Gaussian, not N(0, I): truncation (which assumes N(0, I)) does not apply
    latent_distribution = "fitted_gaussian"

    def build(self, config: AutoEncoderConfig) -> GanModel:
        e, g = Encoder(config), Decoder(config)
        init_weights(e, "normal", 0.01)
        init_weights(g, "normal", 0.01)
        return self.new_model(config, {"G": g, "E": e})

    def configure_optimizers(self, model: GanModel) -> dict[str, torch.optim.Optimizer]:
        """One Adam over encoder and decoder: a single objective, no adversary."""
        cfg = model.config
        params = list(model.E.parameters()) + list(model.G.parameters())
        return {"G": torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))}

    def train_step(self, model: GanModel, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        """Minimise the reconstruction loss; fold the batch's codes into the decoder's fitted Gaussian."""
        x = batch["image"]
        z = model.E(x)
        if model.training:
            unwrap(model.G).update_code_stats(z, model.config.code_momentum)
        rec = reconstruction_loss(model.G(z, logits=True), x, model.config.loss).mean()
        return {"recon": rec, "code_norm": z.detach().float().norm(dim=1).mean()}

    # -- the two halves -----------------------------------------------------------------------------------

    def encode(self, model: GanModel, images: torch.Tensor) -> torch.Tensor:
        """Codes (N, code_dim) of images (N, C, S, S) in [-1, 1]."""
        return model.E(_check_images(model, images, "images"))

    def decode(self, model: GanModel, z: torch.Tensor) -> torch.Tensor:
        """Images (N, C, S, S) in [-1, 1] for codes (N, code_dim)."""
        z = torch.as_tensor(z, dtype=torch.float32).to(model.device)
        if z.dim() != 2 or z.shape[1] != model.config.code_dim:
            raise UsageError(f"codes must have shape (n, {model.config.code_dim}), got {tuple(z.shape)}")
        return model.G(z)

    # -- the fitted Gaussian ------------------------------------------------------------------------------

    @torch.no_grad()
    def fit_prior(self, model: GanModel, images: Any, *, batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
        """Refit the code Gaussian exactly to the codes of ``images`` (a tensor (N, C, S, S) or a dataset of
        ``{"image"}`` items); returns its mean and covariance. Save the model afterwards to keep it."""
        if isinstance(images, torch.Tensor):
            chunks = list(images.split(batch_size))
        else:
            from torch.utils.data import DataLoader

            chunks = [b["image"] for b in DataLoader(images, batch_size=batch_size, shuffle=False)]
        codes = torch.cat([self.encode(model, c).double() for c in chunks])
        g = unwrap(model.G)
        g.code_mean.copy_(codes.mean(0))
        g.code_moment2.copy_(codes.T @ codes / codes.shape[0])
        g.code_batches.fill_(max(float(g.code_batches), 1.0))
        return g.code_gaussian()

    def latent(self, model: GanModel, n: int, *, seed: int | None = None) -> torch.Tensor:
        """``n`` codes from the Gaussian fitted to the training codes, reproducible for a seed."""
        mean, cov = unwrap(model.G).code_gaussian()
        evals, evecs = torch.linalg.eigh(cov)
        root = evecs * evals.clamp_min(0).sqrt()  # root @ rootᵀ = cov, also when cov is singular
        eps = self.noise(n, (mean.shape[0],), seed=seed, device="cpu").double()
        return (mean + eps @ root.T).float().to(model.device)

    def generate(self, model: GanModel, z: torch.Tensor, *, condition: Any = None, batch_size: int = 256) -> torch.Tensor:
        """Decode codes ``z`` (n, code_dim), in batches."""
        if condition is not None:
            raise UsageError("autoencoder.generate decodes codes; it takes no condition")
        z = torch.as_tensor(z, dtype=torch.float32)
        return torch.cat([self.decode(model, chunk) for chunk in z.split(batch_size)])

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               batch_size: int = 256) -> torch.Tensor:
        """``n`` images (default 64) decoded from codes drawn from the fitted Gaussian; or, with
        ``condition=images`` (N, C, S, S), their reconstructions G(E(x))."""
        if condition is not None:
            x = _check_images(model, condition)
            if n is not None and n != x.shape[0]:
                raise UsageError(f"n={n} but {x.shape[0]} images were given to reconstruct: leave n out")
            return torch.cat([model.G(model.E(chunk)) for chunk in x.split(batch_size)])
        n = 64 if n is None else n
        return self.generate(model, self.latent(model, n, seed=seed), batch_size=batch_size)

    def preview(self, model: GanModel, dataset: Any, stem: Path, *, n: int = 64, seed: int = 0) -> Path:
        """Samples, then a row of training images and a row of their reconstructions."""
        return reconstruction_preview(model, dataset, Path(stem), n=n, seed=seed)

    def translate(self, model: GanModel, image: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        """``ganzoo sample autoencoder-digits --input img.png``: the reconstruction, at the input's size."""
        return resize_translate(model, image, **kwargs)

