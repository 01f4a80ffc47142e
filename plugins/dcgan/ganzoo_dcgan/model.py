"""DCGAN — Radford, Metz & Chintala, "Unsupervised Representation Learning with Deep Convolutional
Generative Adversarial Networks", 2015 (arXiv 1511.06434).

The paper's architecture guidelines (§3), all kept here:

* no pooling: strided convolutions in D, fractionally-strided (transposed) convolutions in G;
* batch norm in both networks, except on G's output layer and D's input layer;
* no fully connected hidden layers: z is projected to a 4×4 map by the first transposed convolution, and
  D's last convolution reduces 4×4 to one logit;
* ReLU in G (tanh on the output), LeakyReLU with slope 0.2 in D;
* weights ~ N(0, 0.02); Adam, lr 0.0002, β1 = 0.5; minibatch 128; images scaled to [-1, 1].

The 64×64 layout of the paper's LSUN model (4×4×1024 → … → 64×64×3) is ``image_size=64, ngf=128``; the common
PyTorch-example width is ``ngf=64``. Other powers of two add or remove one up/down stage per factor of two.
Loss: the standard GAN loss — D classifies real → 1, generated → 0; G uses the non-saturating form
(maximise log D(G(z))), as in the paper's code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ganzoo.config import ImageConfig
from ganzoo.convert import Converted
from ganzoo.errors import UsageError
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel
from ganzoo.nn import gan_loss, init_weights

__all__ = ["DCGANConfig", "Generator", "Discriminator", "DCGAN"]


@dataclass
class DCGANConfig(ImageConfig):
    """DCGAN hyper-parameters; the defaults are the paper's (64×64 RGB)."""

    # architecture
    image_size: int = field(default=64, metadata={"help": "output side in pixels, a power of two ≥ 8"})
    channels: int = field(default=3, metadata={"help": "image channels (1 grey, 3 RGB)"})
    nz: int = field(default=100, metadata={"help": "latent dimension (the paper: 100, uniform or normal)"})
    ngf: int = field(default=64, metadata={"help": "G width: channels of its last hidden layer"})
    ndf: int = field(default=64, metadata={"help": "D width: channels of its first layer"})
    # optimisation (the paper's: Adam 2e-4, beta1 0.5)
    lr: float = field(default=2e-4, metadata={"help": "Adam learning rate for G and D"})
    beta1: float = field(default=0.5, metadata={"help": "Adam beta1 (0.9 'resulted in training oscillation')"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2"})
    gan_mode: str = field(default="vanilla", metadata={"help": "adversarial loss: vanilla (paper), lsgan or hinge"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.image_size < 8 or self.image_size & (self.image_size - 1):
            raise ValueError(f"image_size must be a power of two ≥ 8, got {self.image_size}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        for key in ("nz", "ngf", "ndf"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be positive, got {getattr(self, key)}")
        if self.gan_mode not in ("vanilla", "lsgan", "hinge"):
            raise ValueError(f"gan_mode must be vanilla, lsgan or hinge, got {self.gan_mode!r}")


def _n_stages(image_size: int) -> int:
    # 4×4 → image_size in log2(image_size) - 2 doublings
    return int(math.log2(image_size)) - 2


class Generator(nn.Module):
    """z (N, nz, 1, 1) → image (N, C, S, S) in [-1, 1].

    The layout of the PyTorch DCGAN tutorial (the most copied DCGAN), so its checkpoints load key for key:
    ``main.0`` ConvT(nz → ngf·2^(n-1), 4, 1, 0), ``main.1`` BN, ReLU, then per doubling ConvT(4, 2, 1) + BN + ReLU
    (``main.3``, ``main.4`` …), and ``main.3n`` ConvT(ngf → C) + tanh; no biases. ``in_dim`` widens the input
    (the conditional DCGAN feeds z concatenated with a one-hot label).
    """

    def __init__(self, cfg: DCGANConfig, in_dim: int | None = None) -> None:
        super().__init__()
        n = _n_stages(cfg.image_size)
        ch = cfg.ngf * 2 ** (n - 1)
        # project z to a 4×4 map (the paper's "project and reshape", as a transposed convolution)
        layers: list[nn.Module] = [nn.ConvTranspose2d(in_dim or cfg.nz, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch),
                                   nn.ReLU(True)]
        for _ in range(n - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        # output layer: no batch norm, tanh
        layers += [nn.ConvTranspose2d(ch, cfg.channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class Discriminator(nn.Module):
    """image (N, C, S, S) → logits (N,) (``in_channels`` widens the input: image + label maps)."""

    def __init__(self, cfg: DCGANConfig, in_channels: int | None = None) -> None:
        super().__init__()
        n = _n_stages(cfg.image_size)
        ch = cfg.ndf
        # input layer: no batch norm
        layers: list[nn.Module] = [nn.Conv2d(in_channels or cfg.channels, ch, 4, 2, 1, bias=False),
                                   nn.LeakyReLU(0.2, True)]
        for _ in range(n - 1):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2, True)]
            ch *= 2
        layers += [nn.Conv2d(ch, 1, 4, 1, 0, bias=False)]  # 4×4 → 1×1 logit (sigmoid lives in the loss)
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).flatten()


class DCGAN(GanImpl):
    """build / losses / sample for DCGAN (components ``G`` and ``D``)."""

    #: trainer defaults a run starts from (the paper's minibatch is 128)
    train_defaults: dict[str, Any] = {"batch_size": 128}

    def build(self, config: DCGANConfig) -> GanModel:
        g, d = Generator(config), Discriminator(config)
        init_weights(g, "normal", 0.02)
        init_weights(d, "normal", 0.02)
        return self.new_model(config, {"G": g, "D": d})

    # -- the seed's alternating algorithm -----------------------------------------------------------------

    def _fake(self, model: GanModel, n: int, device: torch.device) -> torch.Tensor:
        # noise from the trainer's step generator: the same for a global batch on any number of processes
        return model.G(self.noise(n, (model.config.nz, 1, 1), device=device))

    def discriminator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """D step with G fixed: real → 1, generated → 0."""
        real = batch["image"]
        with torch.no_grad():
            fake = self._fake(model, real.shape[0], real.device)
        mode = model.config.gan_mode
        real_logits, fake_logits = model.D(real), model.D(fake)
        return {
            "d_real": gan_loss(real_logits, True, mode),
            "d_fake": gan_loss(fake_logits, False, mode),
            "D(x)": torch.sigmoid(real_logits.detach().float()).mean(),
            "D(G(z))": torch.sigmoid(fake_logits.detach().float()).mean(),
        }

    def generator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """G step with D fixed: make D score the samples as real (non-saturating loss)."""
        real = batch["image"]
        fake = self._fake(model, real.shape[0], real.device)
        return {"g_adv": gan_loss(model.D(fake), True, model.config.gan_mode, for_discriminator=False)}

    # -- sampling -----------------------------------------------------------------------------------------

    def latent(self, model: GanModel, n: int, *, seed: int | None = None) -> torch.Tensor:
        """Latent codes z ~ N(0, I) of shape (n, nz), reproducible for a seed on every device."""
        return self.noise(n, (model.config.nz,), seed=seed, device=model.device)

    def generate(self, model: GanModel, z: torch.Tensor, *, condition: Any = None, batch_size: int = 256) -> torch.Tensor:
        """Images for latent codes ``z`` (n, nz), in batches."""
        if condition is not None:
            raise UsageError("dcgan is unconditional: it takes no condition")
        z = z.reshape(z.shape[0], model.config.nz, 1, 1).to(model.device)
        return torch.cat([model.G(chunk) for chunk in z.split(batch_size)])

    # sample() is the core's: latent(n, seed) then generate (GanImpl.sample); options: batch_size

    def discriminate(self, model: GanModel, images: torch.Tensor, *, condition: Any = None) -> torch.Tensor:
        """D's logits for images (n, C, S, S) → (n,) (used by discriminator rejection sampling)."""
        if condition is not None:
            raise UsageError("dcgan is unconditional: its discriminator takes no condition")
        return model.D(images.to(model.device))

    # -- converting foreign checkpoints -----------------------------------------------------------------------

    def convert(self, state_dict: dict[str, torch.Tensor], *, source: str, **options: Any) -> Converted:
        """Convert a generator in the PyTorch DCGAN tutorial's layout (``main.0.weight`` [nz, ngf·2^k, 4, 4] …).

        nz, ngf, the image size (from the number of transposed convolutions) and the channels are read from the
        shapes; ``options`` set other config fields (and win over what is read). See :mod:`ganzoo_dcgan.convert`.

        Raises:
            WeightsError: not a tutorial-layout generator (a discriminator is named as such), or a layout that
                does not fit.
            UsageError / ConfigError: an unknown option or an impossible config.
        """
        from .convert import convert_tutorial_generator

        return convert_tutorial_generator(state_dict, source=source, config_class=DCGANConfig, options=options)
