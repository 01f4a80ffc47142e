"""StackGAN — Zhang, Xu, Li, Zhang, Wang, Huang & Metaxas, "StackGAN: Text to Photo-realistic Image Synthesis
with Stacked Generative Adversarial Networks", ICCV 2017 (arXiv 1612.03242).

The paper's facts, and where they live here:

* **conditioning augmentation** (§3.1, :class:`CondAug`): from the condition embedding φ_t a fully connected
  layer gives μ(φ_t) and a diagonal σ(φ_t) (here as log σ²); the generator sees ĉ = μ + σ ⊙ ε, ε ~ N(0, I),
  N_g = 128 dims (``cond_dim``), and G's loss gets ``λ · KL(N(μ, σ²) ‖ N(0, I))`` with λ = 1 (``kl_weight``).
  Each stage has its own CA layer.
* **stage I** (§3.2): G1 (the paper's G0) concatenates ĉ0 with z (N_z = 100, ``nz``), a fully connected layer makes
  a 4×4 map, up-sampling blocks (nearest-neighbour ×2, 3×3 stride-1 conv, batch norm, ReLU; the last conv
  without BN, tanh) reach S×S = ``image_size // 4`` (:class:`StageIGenerator`; channels 8·ngf at 4×4 for the
  64×64 model, halving per block). D1 (D0) down-samples the image with 4×4 stride-2 convs + BN + LeakyReLU(0.2)
  (the first without BN) to 4×4 (M_d = 4); φ_t is compressed by a fully connected layer to N_d = 128
  (``d_cond_dim``), replicated over the 4×4 map, concatenated, passed through a 1×1 conv (+ BN + LeakyReLU)
  and a fully connected layer with one output (here a 4×4 convolution: the same map) (:class:`CondDiscriminator`).
* **stage II** (§3.3): G2 (G) takes the stage-I image (no noise z: "the randomness has already been preserved
  by s0") and its own ĉ; the image is down-sampled (down-sampling blocks) to M_g × M_g (16 for 64 → 256),
  ĉ is replicated over it and concatenated, a 3×3 conv joins them, residual blocks (3×3 convs, BN, ReLU; 4 for
  the 256 model, 2 for 128: ``res_blocks``) refine, and up-sampling blocks reach 4S × 4S
  (:class:`StageIIGenerator`). D2 (D) has more down-sampling blocks, the same conditional head.
* **matching-aware discriminators** (§3, following Reed et al. 2016): positives are real images with their
  own condition; negatives are generated images with their condition **and real images with a mismatched
  condition** (``d_wrong``). Here the mismatched condition is a different class, drawn uniformly among the
  other K − 1. D's loss weighs the two negative terms ``1 − wrong_weight`` and ``wrong_weight`` (0.5 each by
  default, so positives and negatives weigh the same — the paper gives no weights).
* **losses**: the GAN loss of Eq. (3)/(5) as binary cross-entropy, G non-saturating (maximise log D(G(…))).
* **training** (§4): stage I first with stage II fixed, then stage II with stage I fixed; Adam, lr 2e-4
  (halved every 100 of 600 epochs: use the trainer's ``lr_schedule`` for a decay), minibatch 64; β1 = 0.5
  (the DCGAN setting the authors' code uses).

Mapping onto the zoo's one trainer (a ``stage`` field, two commands)::

    ganzoo train stackgan --data data/digits/train --out runs/stackgan-s1 --set image_size=32 --set channels=1 …
    ganzoo train stackgan --data data/digits/train --out runs/stackgan-digits --set stage=2 \\
        --set stage1_from=runs/stackgan-s1 …(the same architecture options)

``stage=1`` optimises G1/D1 only. ``stage=2`` first loads G1 and D1 from the ``stage1_from`` model folder (read
through :func:`ganzoo.hub.load_model_folder`: sha256-verified safetensors, nothing executed; its architecture
options must match), freezes them, and optimises G2/D2; G1 runs in eval mode (its batch-norm statistics fixed).
Every model folder holds all four networks. ``sample(n, condition=labels, stage=1|2)``; the default stage is the
one the model was trained to.

Choices, and why:

* **the condition**: the paper's φ_t is a fixed, pre-trained text embedding. Here φ is the one-hot class label
  (fixed, not learned, like φ_t); the CA layer on a one-hot input learns a per-class μ and σ, and D's
  compression layer a per-class embedding. So the digits model is label-conditioned, not text-conditioned.
* **resolutions for digits**: stage I at 8×8, stage II at 32×32 (``image_size=32``), the paper's 4× step.
  8×8 still shows which digit, its slant and weight (scikit-learn's 8×8 digits are classified at ~98 %), so
  stage I decides *what* is drawn and stage II has the paper's job: adding the stroke detail an 8×8 sketch
  lacks. 32×32 is also the other digit models' output size and cheap on a CPU. Real images for D1 are the
  32×32 training images average-pooled 4× (area down-sampling), as the paper's D0 sees 64×64 versions.
* **general sizes**: stage I has log2(S/4) up-blocks; stage II's encoder has min(2, log2(S/4)) down-blocks
  (M_g = 16 for S = 64 as in the paper, 4 for S = 8), then log2(4S/M_g) up-blocks; D2's channels double per
  block up to 8·ndf2.
* **initialisation** (not in the paper): Kaiming-normal (fan-in) conv/linear weights, batch-norm scales ~ N(1, 0.02).
  With N(0, 0.02) weights the signal shrinks ~10× per layer in a fresh network, so an untrained stage II in
  eval mode would give the same flat image for every input.
* measured on the digits (image_size 32, ngf 64, ndf 64, ngf2 32, ndf2 32, res_blocks 2): after 1,000 stage-I
  steps and only 300 stage-II steps (batch 64), the 32×32 samples are legible digits of the asked class in most
  rows; the digit classifier agrees with the label for 38 % of them (chance: 10 %).
* ``latent()`` returns all of a sample's noise, [z, ε1, ε2] ~ N(0, I) (nz + 2·cond_dim): interpolation and
  truncation then act on the CA noise too, and ``sample(seed=s)`` equals ``generate(latent(seed=s))``.
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

from ganzoo.errors import ConfigError, GanzooError, UsageError
from ganzoo.config import ConditionalConfig
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel
from ganzoo.nn import gan_loss, init_weights

__all__ = ["StackGANConfig", "CondAug", "StageIGenerator", "StageIIGenerator", "CondDiscriminator", "StackGAN",
           "gaussian_kl", "check_labels"]

logger = logging.getLogger(__name__)

#: config fields that fix stage I's networks: a stage1_from folder must agree on them
STAGE1_KEYS = ("image_size", "channels", "num_classes", "nz", "cond_dim", "d_cond_dim", "ngf", "ndf")


def _log2(x: int) -> int:
    return round(math.log2(x))


@dataclass
class StackGANConfig(ConditionalConfig):
    """StackGAN hyper-parameters; defaults are the paper's 64 → 256 model (3 channels)."""

    image_size: int = field(default=256, metadata={"help": "stage-II side (a power of two ≥ 32); stage I is a "
                                                           "quarter of it (paper: 256, stage I 64)"})
    channels: int = field(default=3, metadata={"help": "image channels (1 grey, 3 RGB)"})
    num_classes: int = field(default=10, metadata={"help": "number of class labels (the condition; one-hot φ)"})
    stage: Literal[1, 2] = field(default=1, metadata={"help": "which stage to train: 1 (G1/D1) or 2 (G2/D2 on a "
                                                              "fixed stage I from stage1_from)"})
    stage1_from: str | None = field(default=None, metadata={"help": "stage=2: model folder of a trained stage-I "
                                                                    "run (its G1, D1 are loaded and frozen)"})
    nz: int = field(default=100, metadata={"help": "noise dimension N_z of stage I (paper: 100)"})
    cond_dim: int = field(default=128, metadata={"help": "N_g: dimension of the augmented condition ĉ (paper: 128)"})
    d_cond_dim: int = field(default=128, metadata={"help": "N_d: the condition's width inside D (paper: 128)"})
    ngf: int = field(default=128, metadata={"help": "stage-I G width: its 4×4 map has ngf·2^(blocks−1) channels "
                                                    "(paper: 8·128 = 1024 for 64×64)"})
    ndf: int = field(default=64, metadata={"help": "stage-I D width: channels of its first down-block (paper: 64)"})
    ngf2: int = field(default=128, metadata={"help": "stage-II G width: its encoder ends at ngf2·2^downs channels"})
    ndf2: int = field(default=64, metadata={"help": "stage-II D width: channels of its first down-block"})
    res_blocks: int = field(default=4, metadata={"help": "residual blocks in stage-II G (paper: 4 for 256, 2 for 128)"})
    kl_weight: float = field(default=1.0, metadata={"help": "λ: weight of the CA KL term in G's loss (paper: 1)"})
    wrong_weight: float = field(default=0.5, metadata={"help": "weight of the mismatched-condition term in D's loss "
                                                               "(the generated-image term gets 1 − it)"})
    lr: float = field(default=2e-4, metadata={"help": "Adam learning rate for G and D (paper: 2e-4)"})
    beta1: float = field(default=0.5, metadata={"help": "Adam beta1"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.image_size < 32 or self.image_size & (self.image_size - 1):
            raise ValueError(f"image_size must be a power of two ≥ 32 (stage I is image_size/4 ≥ 8), got "
                             f"{self.image_size}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be ≥ 2 (mismatched pairs need another class), got {self.num_classes}")
        for key in ("nz", "cond_dim", "d_cond_dim", "ngf", "ndf", "ngf2", "ndf2"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be ≥ 1, got {getattr(self, key)}")
        if self.ngf < 2:
            raise ValueError(f"ngf must be ≥ 2, got {self.ngf}")
        if self.res_blocks < 0:
            raise ValueError(f"res_blocks must be ≥ 0, got {self.res_blocks}")
        if self.kl_weight < 0 or not 0.0 <= self.wrong_weight <= 1.0:
            raise ValueError("kl_weight must be ≥ 0 and wrong_weight in [0, 1]")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.stage == 2 and not self.stage1_from:
            raise ValueError("stage=2 trains stage II on a fixed, trained stage I: give stage1_from=<the model folder "
                             "of a stage-1 run>")

    @property
    def stage1_size(self) -> int:
        return self.image_size // 4


# -- building blocks ---------------------------------------------------------------------------------------


def _up(cin: int, cout: int) -> nn.Sequential:
    """Up-sampling block: nearest ×2, 3×3 stride-1 conv, BN, ReLU."""
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, 1, 1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def _down(cin: int, cout: int, bn: bool = True) -> nn.Sequential:
    """Down-sampling block: 4×4 stride-2 conv, BN (not on the first), LeakyReLU(0.2)."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, 2, 1, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


class ResBlock(nn.Module):
    """x + [3×3 conv, BN, ReLU, 3×3 conv, BN](x), then ReLU."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, 1, 1, bias=False), nn.BatchNorm2d(ch), nn.ReLU(inplace=True),
                                  nn.Conv2d(ch, ch, 3, 1, 1, bias=False), nn.BatchNorm2d(ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class CondAug(nn.Module):
    """Conditioning augmentation: φ (N, K) → ĉ = μ + σ ⊙ ε, with μ and log σ² from one linear layer."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.out_dim = out_dim
        self.fc = nn.Linear(in_dim, 2 * out_dim)

    def forward(self, phi: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.fc(phi)
        mu, logvar = h[:, :self.out_dim], h[:, self.out_dim:]
        return mu + torch.exp(0.5 * logvar) * eps.to(mu.dtype), mu, logvar


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) averaged over the batch (summed over dimensions)."""
    mu, logvar = mu.float(), logvar.float()
    return (0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)).mean()


class StageIGenerator(nn.Module):
    """G1: (z (N, nz), φ (N, K), ε (N, N_g)) → (S×S image in [-1, 1], μ, log σ²)."""

    def __init__(self, cfg: StackGANConfig) -> None:
        super().__init__()
        n_up = _log2(cfg.stage1_size // 4)
        ch = cfg.ngf * 2 ** (n_up - 1)
        self.ca = CondAug(cfg.num_classes, cfg.cond_dim)
        self.fc = nn.Sequential(nn.Linear(cfg.nz + cfg.cond_dim, ch * 16, bias=False), nn.BatchNorm1d(ch * 16),
                                nn.ReLU(inplace=True))
        self.ch = ch
        blocks = []
        for _ in range(n_up):
            blocks.append(_up(ch, max(1, ch // 2)))
            ch = max(1, ch // 2)
        self.up = nn.Sequential(*blocks)
        self.out = nn.Sequential(nn.Conv2d(ch, cfg.channels, 3, 1, 1), nn.Tanh())

    def forward(self, z: torch.Tensor, phi: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, ...]:
        c, mu, logvar = self.ca(phi, eps)
        h = self.fc(torch.cat([c, z.to(c.dtype)], dim=1)).view(z.shape[0], self.ch, 4, 4)
        return self.out(self.up(h)), mu, logvar


class StageIIGenerator(nn.Module):
    """G2: (stage-I image (N, C, S, S), φ, ε) → (4S×4S image in [-1, 1], μ, log σ²)."""

    def __init__(self, cfg: StackGANConfig) -> None:
        super().__init__()
        s = cfg.stage1_size
        n_down = min(2, _log2(s // 4))
        m_g = s // 2 ** n_down
        n_up = _log2(4 * s // m_g)
        self.ca = CondAug(cfg.num_classes, cfg.cond_dim)
        enc: list[nn.Module] = []
        ch = cfg.channels
        for i in range(n_down):
            enc.append(_down(ch, cfg.ngf2 * 2 ** (i + 1), bn=i > 0))
            ch = cfg.ngf2 * 2 ** (i + 1)
        self.encode = nn.Sequential(*enc)
        self.joint = nn.Sequential(nn.Conv2d(ch + cfg.cond_dim, ch, 3, 1, 1, bias=False), nn.BatchNorm2d(ch),
                                   nn.ReLU(inplace=True))
        self.res = nn.Sequential(*[ResBlock(ch) for _ in range(cfg.res_blocks)])
        floor = max(1, cfg.ngf2 // 4)
        ups = []
        for _ in range(n_up):
            nxt = max(floor, ch // 2)
            ups.append(_up(ch, nxt))
            ch = nxt
        self.up = nn.Sequential(*ups)
        self.out = nn.Sequential(nn.Conv2d(ch, cfg.channels, 3, 1, 1), nn.Tanh())

    def forward(self, image: torch.Tensor, phi: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, ...]:
        c, mu, logvar = self.ca(phi, eps)
        h = self.encode(image)
        c_map = c[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])
        h = self.res(self.joint(torch.cat([h, c_map.to(h.dtype)], dim=1)))
        return self.out(self.up(h)), mu, logvar


class CondDiscriminator(nn.Module):
    """D1/D2: (image (N, C, R, R), φ (N, K)) → logit (N,): down-blocks to 4×4, the compressed condition replicated
    and concatenated, a 1×1 conv, one output over the 4×4 map."""

    def __init__(self, cfg: StackGANConfig, size: int, width: int, max_mult: int) -> None:
        super().__init__()
        n_down = _log2(size // 4)
        layers: list[nn.Module] = []
        ch = cfg.channels
        for i in range(n_down):
            nxt = width * min(2 ** i, max_mult)
            layers.append(_down(ch, nxt, bn=i > 0))
            ch = nxt
        self.features = nn.Sequential(*layers)
        self.compress = nn.Linear(cfg.num_classes, cfg.d_cond_dim)
        self.joint = nn.Sequential(nn.Conv2d(ch + cfg.d_cond_dim, ch, 1, 1, 0, bias=False), nn.BatchNorm2d(ch),
                                   nn.LeakyReLU(0.2, inplace=True))
        self.out = nn.Conv2d(ch, 1, 4, 1, 0)

    def forward(self, image: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
        h = self.features(image)
        c = self.compress(phi.to(h.dtype))[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])
        return self.out(self.joint(torch.cat([h, c], dim=1))).flatten()


# -- conditions -------------------------------------------------------------------------------------------


def check_labels(num_classes: int, condition: Any, n: int | None, *, name: str = "stackgan") -> torch.Tensor:
    """Validate class labels: an int, or an integer tensor/list of shape (N,) in [0, K); returns int64 (N,).

    Raises:
        UsageError: a non-integer dtype, a wrong shape, labels out of range, or ``n`` ≠ N.
    """
    if isinstance(condition, str):
        raise UsageError(f"{name}: class labels must be integers, got the string {condition!r}")
    try:
        t = condition if isinstance(condition, torch.Tensor) else torch.as_tensor(condition)
    except (TypeError, ValueError, RuntimeError) as err:
        raise UsageError(f"{name}: cannot read the labels as a tensor ({err})") from None
    if t.dtype == torch.bool or t.is_floating_point() or t.is_complex():
        raise UsageError(f"{name}: class labels must be integers 0..{num_classes - 1}, got a {t.dtype} tensor")
    if t.dim() == 0:
        t = t.reshape(1).repeat(n or 1)
    if t.dim() != 1:
        hint = " (one-hot rows? pass .argmax(1))" if t.dim() == 2 and t.shape[-1] == num_classes else ""
        raise UsageError(f"{name}: class labels must have shape (N,), got {tuple(t.shape)}{hint}")
    if t.numel() == 0:
        raise UsageError(f"{name}: no labels given")
    bad = t[(t < 0) | (t >= num_classes)]
    if bad.numel():
        shown = ", ".join(str(int(v)) for v in bad.unique()[:5])
        raise UsageError(f"{name}: labels {shown} are out of range: this model has classes 0..{num_classes - 1}")
    if n is not None and n != t.shape[0]:
        raise UsageError(f"{name}: n={n} but {t.shape[0]} labels were given: give one label per sample, or leave n out")
    return t.long()


# -- the implementation -----------------------------------------------------------------------------------


class StackGAN(GanImpl):
    """build / stage-wise losses / sample for StackGAN (components ``G1``, ``D1`` = stage I; ``G2``, ``D2`` = stage II)."""

    #: the paper's minibatch
    train_defaults: dict[str, Any] = {"batch_size": 64}
    latent_distribution = "normal"

    def build(self, config: StackGANConfig) -> GanModel:
        s = config.stage1_size
        nets = {
            "G1": StageIGenerator(config),
            "D1": CondDiscriminator(config, s, config.ndf, max_mult=8),
            "G2": StageIIGenerator(config),
            "D2": CondDiscriminator(config, 4 * s, config.ndf2, max_mult=8),
        }
        for net in nets.values():
            init_weights(net, "kaiming")
        return self.new_model(config, nets)

    # -- stage-wise training ----------------------------------------------------------------------------------

    def _load_stage1(self, model: GanModel) -> None:
        """Copy G1 and D1 from the ``stage1_from`` model folder (verified safetensors) into ``model``."""
        from ganzoo.config import to_dict
        from ganzoo.hub import load_model_folder

        cfg: StackGANConfig = model.config
        src = cfg.stage1_from
        try:
            other = load_model_folder(src, components=["G1", "D1"], where=f"stage1_from={src}")
        except GanzooError as err:
            raise ConfigError(f"stage1_from: {err}") from None
        if other.plugin.name != "stackgan":
            raise ConfigError(f"stage1_from={src} is a {other.plugin.name} model, not a stackgan stage-I run")
        mine, theirs = to_dict(cfg), to_dict(other.config)
        differ = [k for k in STAGE1_KEYS if mine[k] != theirs[k]]
        if differ:
            detail = ", ".join(f"{k}={theirs[k]} (here {mine[k]})" for k in differ)
            raise ConfigError(f"stage1_from={src} was built with {detail}: use the same stage-I options for stage 2")
        for name in ("G1", "D1"):
            model.components[name].load_state_dict(other.components[name].state_dict())
        logger.info("stage 2: loaded G1 and D1 from %s (frozen)", src)

    def configure_optimizers(self, model: GanModel) -> dict[str, torch.optim.Optimizer]:
        """Adam for the current stage's G and D only; the other stage's networks are frozen. Stage 2 first loads
        stage I from ``stage1_from``."""
        cfg: StackGANConfig = model.config
        if cfg.stage == 2:
            self._load_stage1(model)
        g_name, d_name = ("G1", "D1") if cfg.stage == 1 else ("G2", "D2")
        for name, net in model.components.items():
            net.requires_grad_(name in (g_name, d_name))
        betas = (cfg.beta1, cfg.beta2)
        return {"G": torch.optim.Adam(model.components[g_name].parameters(), lr=cfg.lr, betas=betas),
                "D": torch.optim.Adam(model.components[d_name].parameters(), lr=cfg.lr, betas=betas)}

    def _phi(self, model: GanModel, labels: torch.Tensor) -> torch.Tensor:
        return F.one_hot(labels.long(), model.config.num_classes).float()

    def _noise(self, model: GanModel, n: int, device: torch.device) -> torch.Tensor:
        cfg: StackGANConfig = model.config
        return self.noise(n, (cfg.nz + 2 * cfg.cond_dim,), device=device)

    def _forward(self, model: GanModel, codes: torch.Tensor, phi: torch.Tensor, stage: int,
                 train_stage1: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(stage-I image, μ, log σ² of the active stage's CA, stage-II image or None) for codes [z, ε1, ε2]."""
        cfg: StackGANConfig = model.config
        z, e1, e2 = codes.split([cfg.nz, cfg.cond_dim, cfg.cond_dim], dim=1)
        if stage == 1:
            img1, mu, logvar = model.G1(z, phi, e1)
            return img1, mu, logvar, None
        g1 = model.G1
        was = g1.training
        if not train_stage1:
            g1.eval()  # stage I is fixed in stage 2: its batch-norm statistics too
        try:
            with torch.no_grad():
                img1 = g1(z, phi, e1)[0]
        finally:
            g1.train(was)
        img2, mu, logvar = model.G2(img1, phi, e2)
        return img1, mu, logvar, img2

    def _real(self, model: GanModel, images: torch.Tensor) -> torch.Tensor:
        # stage I's D sees the real images at S×S: 4×4 average pooling (area down-sampling)
        return F.avg_pool2d(images, 4) if model.config.stage == 1 else images

    def mismatched_labels(self, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
        """For each label, a different class drawn uniformly among the other K − 1 (the mismatched condition)."""
        shift = 1 + self.randint(num_classes - 1, labels.shape[0], device=labels.device)
        return (labels.long() + shift) % num_classes

    def discriminator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Matching-aware D step: (real, y) → real; (G(z, ĉ(y)), y) and (real, y_wrong) → fake."""
        cfg: StackGANConfig = model.config
        stage = cfg.stage
        real, labels = self._real(model, batch["image"]), batch["label"]
        n = real.shape[0]
        phi = self._phi(model, labels)
        with torch.no_grad():
            img1, _, _, img2 = self._forward(model, self._noise(model, n, real.device), phi, stage, train_stage1=False)
        fake = img1 if stage == 1 else img2
        wrong = self.mismatched_labels(labels, cfg.num_classes)
        d = model.D1 if stage == 1 else model.D2
        real_l, fake_l, wrong_l = d(real, phi), d(fake, phi), d(real, self._phi(model, wrong))
        w = cfg.wrong_weight
        return {
            "d_real": gan_loss(real_l, True, "vanilla"),
            "d_fake": (1 - w) * gan_loss(fake_l, False, "vanilla"),
            "d_wrong": w * gan_loss(wrong_l, False, "vanilla"),
            "D(x|y)": torch.sigmoid(real_l.detach().float()).mean(),
            "D(G|y)": torch.sigmoid(fake_l.detach().float()).mean(),
            "D(x|y')": torch.sigmoid(wrong_l.detach().float()).mean(),
        }

    def generator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """G step with D fixed: make D accept (G(z, ĉ(y)), y); plus λ·KL of the stage's conditioning augmentation."""
        cfg: StackGANConfig = model.config
        stage = cfg.stage
        labels = batch["label"]
        n = labels.shape[0]
        phi = self._phi(model, labels)
        img1, mu, logvar, img2 = self._forward(model, self._noise(model, n, labels.device), phi, stage,
                                               train_stage1=False)
        d = model.D1 if stage == 1 else model.D2
        logits = d(img1 if stage == 1 else img2, phi)
        return {"g_adv": gan_loss(logits, True, "vanilla", for_discriminator=False),
                "kl": cfg.kl_weight * gaussian_kl(mu, logvar)}

    # -- sampling ---------------------------------------------------------------------------------------------

    def _stage(self, model: GanModel, stage: Any) -> int:
        if stage is None:
            return int(model.config.stage)
        if isinstance(stage, bool) or stage not in (1, 2):
            raise UsageError(f"stage must be 1 (the {model.config.stage1_size}×{model.config.stage1_size} stage-I "
                             f"image) or 2 (the {model.config.image_size}×{model.config.image_size} stage-II image), "
                             f"got {stage!r}")
        if stage == 2 and model.config.stage == 1:
            logger.warning("this model was trained to stage 1 only: its stage-II generator is untrained")
        return int(stage)

    def latent(self, model: GanModel, n: int, *, seed: int | None = None) -> torch.Tensor:
        """All of a sample's noise [z, ε1, ε2] ~ N(0, I), (n, nz + 2·cond_dim), reproducible for a seed."""
        cfg: StackGANConfig = model.config
        return self.noise(n, (cfg.nz + 2 * cfg.cond_dim,), seed=seed, device=model.device)

    def generate(self, model: GanModel, z: torch.Tensor, *, condition: Any = None, stage: int | None = None,
                 batch_size: int = 256) -> torch.Tensor:
        """Images for codes ``z`` (as :meth:`latent` returns them) and one label per code, at the given stage."""
        cfg: StackGANConfig = model.config
        stage = self._stage(model, stage)
        z = torch.as_tensor(z, dtype=torch.float32).to(model.device)
        width = cfg.nz + 2 * cfg.cond_dim
        if z.dim() != 2 or z.shape[1] != width:
            raise UsageError(f"codes must have shape (n, {width}) = [z, ε1, ε2], got {tuple(z.shape)}")
        if condition is None:
            raise UsageError("stackgan needs class labels: condition=(n,) integers")
        labels = check_labels(cfg.num_classes, condition, z.shape[0]).to(model.device)
        phi = self._phi(model, labels)
        out = []
        for zc, pc in zip(z.split(batch_size), phi.split(batch_size)):
            img1, _, _, img2 = self._forward(model, zc, pc, stage, train_stage1=model.G1.training)
            out.append(img1 if stage == 1 else img2)
        return torch.cat(out)

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               stage: int | None = None, batch_size: int = 256) -> torch.Tensor:
        """Images for class labels ``condition`` (N,) — without labels, ``n`` (default 64) images with labels
        0, 1, …, K−1, 0, … — at ``stage`` 1 (S×S) or 2 (4S×4S; default: the stage the model was trained to)."""
        cfg: StackGANConfig = model.config
        if condition is None:
            n = 64 if n is None else n
            labels = torch.arange(n) % cfg.num_classes
        else:
            labels = check_labels(cfg.num_classes, condition, n)
        return self.generate(model, self.latent(model, labels.shape[0], seed=seed), condition=labels, stage=stage,
                             batch_size=batch_size)

    def discriminate(self, model: GanModel, images: torch.Tensor, *, condition: Any = None) -> torch.Tensor:
        """The logits (n,) of the discriminator of the images' stage (by size) for (image, label) pairs."""
        cfg: StackGANConfig = model.config
        if condition is None:
            raise UsageError("stackgan's discriminators judge (image, label) pairs: give condition= (one per image)")
        labels = check_labels(cfg.num_classes, condition, images.shape[0]).to(model.device)
        size = images.shape[-1]
        if size not in (cfg.stage1_size, cfg.image_size):
            raise UsageError(f"images must be {cfg.stage1_size}×{cfg.stage1_size} (stage I) or "
                             f"{cfg.image_size}×{cfg.image_size} (stage II), got {tuple(images.shape)}")
        d = model.D1 if size == cfg.stage1_size else model.D2
        return d(images.to(model.device), self._phi(model, labels))

    def preview(self, model: GanModel, dataset: Any, stem: Path, *, n: int = 64, seed: int = 0) -> Path:
        """A row per class; stage 1: the S×S images (shown 4× enlarged); stage 2: stage-I | stage-II pairs."""
        from ganzoo.data.images import save_image_grid

        cfg: StackGANConfig = model.config
        k = cfg.num_classes
        per = max(1, n // k) if cfg.stage == 1 else max(1, n // (2 * k))
        labels = torch.arange(k).repeat_interleave(per)
        codes = self.latent(model, per, seed=seed).repeat(k, 1)  # rows differ only by their label
        phi = self._phi(model, labels.to(model.device))
        img1, _, _, img2 = self._forward(model, codes, phi, cfg.stage, train_stage1=model.G1.training)
        big1 = F.interpolate(img1, scale_factor=4, mode="nearest")
        if img2 is None:
            return save_image_grid(big1, Path(stem).with_suffix(".png"), nrow=per)
        pairs = torch.stack([big1, img2], dim=1).flatten(0, 1)
        return save_image_grid(pairs, Path(stem).with_suffix(".png"), nrow=2 * per)
