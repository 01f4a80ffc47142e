"""GAN — Goodfellow, Pouget-Abadie, Mirza, Xu, Warde-Farley, Ozair, Courville & Bengio, "Generative Adversarial
Nets", NeurIPS 2014 (arXiv 1406.2661).

The paper's facts, and where they live here:

* **value function** (Eq. 1): ``min_G max_D E_x[log D(x)] + E_z[log(1 − D(G(z)))]``. D's step maximises it:
  binary cross-entropy with real → 1, generated → 0 (:meth:`GAN.discriminator_loss`).
* **generator loss** (``generator_loss_type``): Algorithm 1 descends ``∇ log(1 − D(G(z)))`` — ``"minimax"``
  (:func:`ganzoo.nn.minimax_generator_loss`). §3 notes that this term saturates early in learning, when D
  rejects samples with confidence (its gradient w.r.t. D's logit is −D(G(z)) → 0), and recommends training G
  to maximise ``log D(G(z))`` instead — ``"non_saturating"`` (the default; ``gan_loss(…, True)``): the same
  fixed point, strong gradients early.
* **k = 1** D step per G step ("we used k = 1, the least expensive option"); the trainer's ``d_steps``
  changes it.
* **networks** (§5): "the generator nets used a mixture of rectifier linear activations and sigmoid
  activations, while the discriminator net used maxout activations. Dropout was applied in training the
  discriminator net", and noise is the input of the bottom layer only. The layer sizes are those of the
  authors' MNIST configuration: G = 100 → 1200 ReLU → 1200 ReLU → 784 sigmoid (:class:`Generator`,
  ``nz``/``g_hidden``/``g_layers``); D = 784 → maxout 240 units × 5 pieces → maxout 240 × 5 → 1 sigmoid unit
  (:class:`Discriminator`, ``d_units``/``d_pieces``/``d_layers``), dropout keeping inputs with p = 0.8
  (``d_input_dropout=0.2``) and hidden units with p = 0.5 (``d_dropout``), with the usual 1/p rescaling.
  A maxout unit is the max over ``d_pieces`` affine pieces (Goodfellow et al. 2013, :class:`Maxout`).
* **noise**: z ~ N(0, I), 100-d (the authors' code draws Gaussian noise by default; the paper only names p_z).
* **initialisation**: weights ~ U(−r, r) with r = 0.05 in G and 0.005 in D, biases 0 (``g_init_range``,
  ``d_init_range``), except G's sigmoid-layer bias, which the authors' code sets from the data's pixel marginals
  (logit of each pixel's mean), so G starts out drawing the mean image (``g_bias_from_data``). The trainer gives
  plugins no data before training, so this is done at the first D step from the first batch (100 images;
  averaged over all processes), and recorded in the buffer ``G.bias_from_data``. It matters: without it the
  paper's SGD recipe collapsed on digits (D(x) → 1, D(G(z)) → 0, one blob for every z, after 2,000 steps);
  with it, the same recipe draws varied digits after 1,500 steps.
* **optimiser** (the MNIST run): SGD with momentum 0.5, lr 0.1, minibatch 100 (``optimizer="sgd"``, the
  default). ``optimizer="adam"`` uses Adam(lr, β1, β2) instead — set ``lr=2e-4`` with it.

Choices where the paper leaves freedom, and why:

* Images are in [-1, 1] (the zoo's convention): G's sigmoid output s is mapped to 2s − 1, computed as
  tanh(a/2), the identical function without the cancellation. D maps its input back to (x + 1)/2, so it
  computes on pixel intensities in [0, 1] exactly as the paper's D did. This matters: with [-1, 1] inputs the
  all-background pixels add −1 × 784 to every pre-activation, and the paper's SGD at lr 0.1 diverged (NaN
  within ~100 steps on digits); with [0, 1] inputs it trains.
* D returns a logit; its sigmoid lives inside the loss (BCE-with-logits), which is the same function with
  better numerics.
* Not reproduced: the original code's learning-rate decay (×1/1.000004 per update, i.e. −4 % over 10⁴ updates)
  and momentum ramp from 0.5 to 0.7 over 250 epochs (use the trainer's ``lr_schedule`` if wanted).
* ``image_size``/``channels`` generalise the 28×28 grey MNIST layout: images are flattened to
  ``channels·image_size²`` inputs and outputs. The default is 28×28 grey, as in the paper.

A stabiliser that needs no change to the recipe: an exponential moving average of G's weights (Karras et al. 2018;
Yazıcı et al. 2019), the trainer's ``--set ema_decay=0.999``, saved as ``G_ema`` (which sampling prefers). SGD at
lr 0.1 keeps G's weights jittering around a good solution; their average draws cleaner digits (on the OpenCV
digits, KID 0.21 → 0.11 against 1,000 training digits after 10,000 steps of one run; the bundled ``gan-digits``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from ganzoo.config import ImageConfig
from ganzoo.errors import UsageError
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel
from ganzoo.nn import Maxout, gan_loss, minimax_generator_loss, pixel_marginal_logits, uniform_init, unwrap

__all__ = ["GANConfig", "Maxout", "Generator", "Discriminator", "GAN", "generator_loss"]

logger = logging.getLogger(__name__)


@dataclass
class GANConfig(ImageConfig):
    """GAN hyper-parameters; the defaults are the paper's MNIST model (28×28 grey)."""

    # data shape
    image_size: int = field(default=28, metadata={"help": "image side in pixels (flattened for the MLPs); MNIST: 28"})
    channels: int = field(default=1, metadata={"help": "image channels (1 grey, 3 RGB)"})
    # generator: z → [Linear + ReLU] × g_layers → Linear + sigmoid
    nz: int = field(default=100, metadata={
        "help": "noise dimension; z ~ N(0, I) feeds G's bottom layer only (paper: 100)"})
    g_hidden: int = field(default=1200, metadata={"help": "units of each rectifier layer of G (paper: 1200)"})
    g_layers: int = field(default=2, metadata={"help": "rectifier layers in G (paper: 2)"})
    # discriminator: [dropout → maxout] × d_layers → dropout → Linear (a logit; the sigmoid is in the loss)
    d_units: int = field(default=240, metadata={"help": "maxout units per D layer (paper: 240)"})
    d_pieces: int = field(default=5, metadata={"help": "affine pieces per maxout unit (paper: 5)"})
    d_layers: int = field(default=2, metadata={"help": "maxout layers in D (paper: 2)"})
    d_input_dropout: float = field(default=0.2, metadata={
        "help": "dropout on D's input (paper: inputs kept with p=0.8)"})
    d_dropout: float = field(default=0.5, metadata={"help": "dropout on D's hidden units (paper: kept with p=0.5)"})
    # objective
    generator_loss_type: Literal["non_saturating", "minimax"] = field(
        default="non_saturating",
        metadata={"help": "G's loss: non_saturating = −log D(G(z)) (§3, used in practice), "
                          "minimax = log(1 − D(G(z))) (Algorithm 1; saturates when D wins)"})
    # optimisation (the MNIST run: SGD lr 0.1, momentum 0.5, batch 100)
    optimizer: Literal["sgd", "adam"] = field(default="sgd", metadata={"help": "sgd (paper, with momentum) or adam"})
    lr: float = field(default=0.1, metadata={
        "help": "learning rate for G and D (paper: 0.1 with SGD; use 2e-4 with adam)"})
    momentum: float = field(default=0.5, metadata={"help": "SGD momentum (paper: 0.5, ramped to 0.7 over 250 epochs)"})
    beta1: float = field(default=0.5, metadata={"help": "Adam beta1 (optimizer=adam only)"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2 (optimizer=adam only)"})
    g_init_range: float = field(default=0.05, metadata={"help": "G's weights ~ U(−r, r) (paper code: 0.05)"})
    d_init_range: float = field(default=0.005, metadata={"help": "D's weights ~ U(−r, r) (paper code: 0.005)"})
    g_bias_from_data: bool = field(
        default=True, metadata={"help": "start G's sigmoid bias at the logit of the pixel means of the first "
                                        "training batch (paper code: from the data's marginals)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.image_size < 2:
            raise ValueError(f"image_size must be ≥ 2, got {self.image_size}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        for key in ("nz", "g_hidden", "g_layers", "d_units", "d_pieces", "d_layers"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be ≥ 1, got {getattr(self, key)}")
        for key in ("d_input_dropout", "d_dropout"):
            if not 0.0 <= getattr(self, key) < 1.0:
                raise ValueError(f"{key} must be in [0, 1), got {getattr(self, key)}")
        for key in ("lr", "g_init_range", "d_init_range"):
            if not getattr(self, key) > 0:
                raise ValueError(f"{key} must be > 0, got {getattr(self, key)}")

    @property
    def pixels(self) -> int:
        """Inputs/outputs of the MLPs: channels × image_size²."""
        return self.channels * self.image_size * self.image_size


class Generator(nn.Module):
    """z (N, nz) → image (N, C, S, S) in [-1, 1]: rectifier layers, then a sigmoid layer (as 2σ − 1)."""

    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        self.shape = (cfg.channels, cfg.image_size, cfg.image_size)
        layers: list[nn.Module] = []
        width = cfg.nz
        for _ in range(cfg.g_layers):
            layers += [nn.Linear(width, cfg.g_hidden), nn.ReLU(inplace=True)]
            width = cfg.g_hidden
        layers.append(nn.Linear(width, cfg.pixels))
        self.main = nn.Sequential(*layers)
        # 1 once the output bias was set from the data's pixel marginals (see GAN.discriminator_loss)
        self.register_buffer("bias_from_data", torch.zeros(()))

    @torch.no_grad()
    def init_output_bias(self, real: torch.Tensor) -> None:
        """Set the sigmoid layer's bias to the logit of each pixel's mean intensity over ``real`` (N, C, S, S) in
        [-1, 1], so that G starts out drawing the data's mean image (the authors' MNIST initialisation)."""
        self.main[-1].bias.copy_(pixel_marginal_logits(real))
        self.bias_from_data.fill_(1.0)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # 2·sigmoid(a) − 1 == tanh(a / 2): the paper's sigmoid output, rescaled to [-1, 1]
        return torch.tanh(0.5 * self.main(z.flatten(1))).view(z.shape[0], *self.shape)


class Discriminator(nn.Module):
    """image (N, C, S, S) → logit (N,): dropout + maxout layers, then one (sigmoid) unit."""

    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = cfg.pixels
        for i in range(cfg.d_layers):
            layers += [nn.Dropout(cfg.d_input_dropout if i == 0 else cfg.d_dropout),
                       Maxout(width, cfg.d_units, cfg.d_pieces)]
            width = cfg.d_units
        layers += [nn.Dropout(cfg.d_dropout), nn.Linear(width, 1)]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # the paper's D reads pixel intensities in [0, 1]: map the zoo's [-1, 1] images back
        return self.main((x.flatten(1) + 1) * 0.5).flatten()


def generator_loss(fake_logits: torch.Tensor, loss_type: str) -> torch.Tensor:
    """G's loss for D's logits on generated images: ``"non_saturating"`` −log D(G(z)) or ``"minimax"``
    log(1 − D(G(z))) (both minimised, both averaged over the batch)."""
    if loss_type == "non_saturating":
        return gan_loss(fake_logits, True, "vanilla", for_discriminator=False)
    if loss_type == "minimax":
        return minimax_generator_loss(fake_logits)
    raise ValueError(f"generator_loss_type must be non_saturating or minimax, got {loss_type!r}")


class GAN(GanImpl):
    """build / losses / sample for the original GAN (components ``G`` and ``D``)."""

    #: the MNIST run's minibatch
    train_defaults: dict[str, Any] = {"batch_size": 100}
    latent_distribution = "normal"

    def build(self, config: GANConfig) -> GanModel:
        g, d = Generator(config), Discriminator(config)
        uniform_init(g, config.g_init_range)
        uniform_init(d, config.d_init_range)
        return self.new_model(config, {"G": g, "D": d})

    def configure_optimizers(self, model: GanModel) -> dict[str, torch.optim.Optimizer]:
        """SGD with momentum (the paper) or Adam, one per network."""
        cfg: GANConfig = model.config

        def make(params: Any) -> torch.optim.Optimizer:
            if cfg.optimizer == "sgd":
                return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum)
            return torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))

        return {"G": make(model.G.parameters()), "D": make(model.D.parameters())}

    # -- the seed's alternating algorithm (Algorithm 1, k = 1) ---------------------------------------------

    def _fake(self, model: GanModel, n: int, device: torch.device) -> torch.Tensor:
        return model.G(self.noise(n, (model.config.nz,), device=device))

    def discriminator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Ascend log D(x) + log(1 − D(G(z))) with G fixed: BCE with real → 1, generated → 0."""
        real = batch["image"]
        g = unwrap(model.G)
        if model.config.g_bias_from_data and g.training and not bool(g.bias_from_data):
            g.init_output_bias(real)  # before G's first update: the first batch's pixel marginals
        with torch.no_grad():
            fake = self._fake(model, real.shape[0], real.device)
        real_logits, fake_logits = model.D(real), model.D(fake)
        return {
            "d_real": gan_loss(real_logits, True, "vanilla"),
            "d_fake": gan_loss(fake_logits, False, "vanilla"),
            "D(x)": torch.sigmoid(real_logits.detach().float()).mean(),
            "D(G(z))": torch.sigmoid(fake_logits.detach().float()).mean(),
        }

    def generator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """G step with D fixed, with the configured generator loss (non-saturating or minimax)."""
        real = batch["image"]
        logits = model.D(self._fake(model, real.shape[0], real.device))
        return {"g_adv": generator_loss(logits, model.config.generator_loss_type)}

    # -- sampling -----------------------------------------------------------------------------------------

    def latent(self, model: GanModel, n: int, *, seed: int | None = None) -> torch.Tensor:
        """Noise z ~ N(0, I) of shape (n, nz), reproducible for a seed on every device."""
        return self.noise(n, (model.config.nz,), seed=seed, device=model.device)

    def generate(self, model: GanModel, z: torch.Tensor, *, condition: Any = None,
                 batch_size: int = 256) -> torch.Tensor:
        """Images for noise ``z`` (n, nz), in batches."""
        if condition is not None:
            raise UsageError("gan is unconditional: it takes no condition "
                             "(use a class-conditional plugin such as cgan)")
        z = torch.as_tensor(z, dtype=torch.float32).to(model.device)
        if z.dim() != 2 or z.shape[1] != model.config.nz:
            raise UsageError(f"z must have shape (n, {model.config.nz}), got {tuple(z.shape)}")
        return torch.cat([model.G(chunk) for chunk in z.split(batch_size)])

    # sample() is the core's: latent(n, seed) then generate (GanImpl.sample); options: batch_size

    def discriminate(self, model: GanModel, images: torch.Tensor, *, condition: Any = None) -> torch.Tensor:
        """D's logits (n,) for images (n, C, S, S) (discriminator rejection sampling)."""
        if condition is not None:
            raise UsageError("gan is unconditional: its discriminator takes no condition")
        return model.D(images.to(model.device))
