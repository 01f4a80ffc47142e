"""StarGAN — Choi, Choi, Kim, Ha, Kim & Choo, "StarGAN: Unified Generative Adversarial Networks for Multi-Domain
Image-to-Image Translation", CVPR 2018 (arXiv 1711.09020), as in the authors' PyTorch code (yunjey/stargan, MIT;
implemented here from the paper and the facts of that code).

Component names → paper / original code:

=========  ====================================  ==========================================================
ganzoo     paper / original code                 role
=========  ====================================  ==========================================================
``G``      G, ``Generator``                      G(x, c): translates image x into the domain of code c
``D``      D = (D_src, D_cls), ``Discriminator``  a PatchGAN critic (D_src) and a domain classifier (D_cls)
=========  ====================================  ==========================================================

G (paper Table 4, ``Generator``): the target domain's code c (one-hot over the domains; with a mask vector, see
below) is tiled to the image size and concatenated to the image as extra channels; 7×7 conv (``g_conv_dim``
filters) → two 4×4 stride-2 convs doubling the width → ``g_repeat_num`` residual blocks (3×3 conv, IN, ReLU, 3×3
conv, IN; identity shortcut) → two 4×4 stride-2 transposed convs halving it → 7×7 conv → tanh. Every conv before
the output has no bias and is followed by instance norm with affine parameters and ReLU.

D (``Discriminator``): ``d_repeat_num`` 4×4 stride-2 convs (``d_conv_dim`` doubling each time, with bias) with
LeakyReLU 0.01 and no normalisation (WGAN-GP needs none); then D_src, a 3×3 conv to one channel (the PatchGAN
real/fake map, 2×2 for 128² inputs and 6 layers) and D_cls, a conv whose kernel covers the whole last map
(``image_size / 2**d_repeat_num``) to one logit per domain. Neither head has a bias.

Objective (paper eq. 1–7 with the WGAN-GP form of §4.3, as ``solver.py``): for D, −D_src(x) + D_src(G(x, c)) +
λ_cls·CE(D_cls(x), c') + λ_gp·(‖∇_x̂ D_src(x̂)‖₂ − 1)² on random interpolates x̂ of real and translated images; for
G, −D_src(G(x, c)) + λ_cls·CE(D_cls(G(x, c)), c) + λ_rec·‖x − G(G(x, c), c')‖₁, where c' is x's own domain and the
targets c are the batch's labels shuffled (as the original: a translation into the image's own domain can
occur). λ_cls = 1, λ_rec = 10, λ_gp = 10; n_critic = 5 (the trainer's ``d_steps``: five D updates on five batches,
then a G update on the fifth); Adam 1e-4 for both, β = (0.5, 0.999); batch 16; lr constant for the first half of
the run, then linearly to 0 (the paper's schedule; the trainer decays every step).

Mask vector (§3.2, ``train_multi``): with ``domain_groups = (n₁, n₂, …)`` the domains are split into consecutive
label sets (datasets) of those sizes. The code given to G is then the one-hot target within its set, zeros for
the other sets, followed by a one-hot mask naming the set; D_cls still outputs every domain's logit, and its
cross-entropy is taken over the logits of the image's own set only. Training targets are shuffled within each set.

Departures from the original code (named in the cards too): instance norm keeps no running statistics (the
original allocates them but never uses them: its G is never put in eval mode, so it always normalises with each
image's own statistics, as here); domains are single labels with a softmax classifier (the RaFD setting) — the
CelebA setting with several binary attributes per image (sigmoid cross-entropy) does not fit the task's
one-folder-per-domain layout; the learning rate decays linearly to 0 every step over the second half, as the
paper says (the original code decays it by ``lr/num_iters_decay`` every 1,000 iterations, which ends at 99.9 % of
the initial rate).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.config import DomainConfig
from ganzoo.errors import UsageError
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel
from ganzoo.translate import SizeRule, check_image_batch, fit, unfit

__all__ = ["StarGANConfig", "StarGAN", "Generator", "Discriminator", "ResidualBlock", "domain_code"]

logger = logging.getLogger(__name__)


@dataclass
class StarGANConfig(DomainConfig):
    """StarGAN hyper-parameters; the defaults are the paper's / the original code's (128² RGB)."""

    image_size: int = field(default=128, metadata={"help": "training image side (a multiple of 2**d_repeat_num)"})
    channels: int = field(default=3, metadata={"help": "image channels (1 grey, 3 RGB)"})
    num_domains: int = field(default=5, metadata={"help": "number of domains (c_dim)"})
    domain_names: tuple[str, ...] = field(
        default=(), metadata={"help": "the domains' names in index order (= the data's folder names)"})
    domain_groups: tuple[int, ...] = field(default=(), metadata={
        "help": "label-set sizes for the mask vector (e.g. [5, 8] for CelebA + RaFD); empty: one label set, no mask"})
    # networks
    g_conv_dim: int = field(default=64, metadata={"help": "G width: filters of its first conv"})
    d_conv_dim: int = field(default=64, metadata={"help": "D width: filters of its first conv"})
    g_repeat_num: int = field(default=6, metadata={"help": "residual blocks in G"})
    d_repeat_num: int = field(default=6, metadata={"help": "stride-2 convs in D"})
    # objective
    lambda_cls: float = field(default=1.0, metadata={"help": "weight of the domain classification losses"})
    lambda_rec: float = field(default=10.0, metadata={"help": "weight of the reconstruction (cycle) L1 loss"})
    lambda_gp: float = field(default=10.0, metadata={"help": "weight of the gradient penalty"})
    # optimisation
    lr: float = field(default=1e-4, metadata={"help": "Adam learning rate of G (g_lr)"})
    lr_d: float = field(default=1e-4, metadata={"help": "Adam learning rate of D (d_lr)"})
    beta1: float = field(default=0.5, metadata={"help": "Adam beta1"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2"})
    # data
    flip: bool = field(default=True, metadata={"help": "random horizontal flips of training images"})

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("g_conv_dim", "d_conv_dim", "d_repeat_num"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be ≥ 1, got {getattr(self, key)}")
        if self.g_repeat_num < 0:
            raise ValueError(f"g_repeat_num must be ≥ 0, got {self.g_repeat_num}")
        side = 2 ** self.d_repeat_num
        if self.image_size % side or self.image_size < side:
            raise ValueError(f"image_size {self.image_size} must be a multiple of 2**d_repeat_num = {side} (D's "
                             f"classifier kernel covers its whole last map); change image_size or d_repeat_num")
        if self.image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 (G's two stride-2 stages), got {self.image_size}")
        groups = tuple(self.domain_groups)
        if groups and (len(groups) < 2 or any(g < 1 for g in groups) or sum(groups) != self.num_domains):
            raise ValueError(f"domain_groups {list(groups)} must be ≥ 2 positive sizes summing to num_domains "
                             f"({self.num_domains}); leave it empty for one label set")
        for key in ("lambda_cls", "lambda_rec", "lambda_gp"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be ≥ 0, got {getattr(self, key)}")

    @property
    def code_dim(self) -> int:
        """Channels of G's domain code: one per domain, plus the mask vector's one per label set."""
        return self.num_domains + (len(self.domain_groups) if self.domain_groups else 0)

    def group_of(self) -> torch.Tensor:
        """The label set of every domain, as a LongTensor (num_domains,) (all 0 without a mask vector)."""
        groups = self.domain_groups or (self.num_domains,)
        return torch.repeat_interleave(torch.arange(len(groups)), torch.tensor(groups))


# -- networks ------------------------------------------------------------------------------------------------------


class ResidualBlock(nn.Module):
    """conv3×3 → IN → ReLU → conv3×3 → IN, plus the input (no biases; instance norm with affine parameters)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False), nn.InstanceNorm2d(dim, affine=True), nn.ReLU(inplace=True),
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False), nn.InstanceNorm2d(dim, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.main(x)


def _conv_in_relu(conv: nn.Module, dim: int) -> list[nn.Module]:
    return [conv, nn.InstanceNorm2d(dim, affine=True), nn.ReLU(inplace=True)]


class Generator(nn.Module):
    """G(x, c): the image with the domain code ``c`` (N, code_dim) tiled as extra channels → the translation."""

    def __init__(self, channels: int, code_dim: int, conv_dim: int = 64, repeat_num: int = 6) -> None:
        super().__init__()
        layers = _conv_in_relu(nn.Conv2d(channels + code_dim, conv_dim, 7, 1, 3, bias=False), conv_dim)
        dim = conv_dim
        for _ in range(2):  # down-sampling
            layers += _conv_in_relu(nn.Conv2d(dim, dim * 2, 4, 2, 1, bias=False), dim * 2)
            dim *= 2
        layers += [ResidualBlock(dim) for _ in range(repeat_num)]  # bottleneck
        for _ in range(2):  # up-sampling
            layers += _conv_in_relu(nn.ConvTranspose2d(dim, dim // 2, 4, 2, 1, bias=False), dim // 2)
            dim //= 2
        layers += [nn.Conv2d(dim, channels, 7, 1, 3, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        tiled = code.to(x.dtype)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return self.main(torch.cat([x, tiled], dim=1))


class Discriminator(nn.Module):
    """PatchGAN critic with an auxiliary domain classifier: x → (D_src map (N, 1, h, w), D_cls logits (N, domains))."""

    def __init__(self, image_size: int, channels: int, num_domains: int, conv_dim: int = 64,
                 repeat_num: int = 6) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, conv_dim, 4, 2, 1), nn.LeakyReLU(0.01)]
        dim = conv_dim
        for _ in range(1, repeat_num):
            layers += [nn.Conv2d(dim, dim * 2, 4, 2, 1), nn.LeakyReLU(0.01)]
            dim *= 2
        self.main = nn.Sequential(*layers)
        self.conv1 = nn.Conv2d(dim, 1, 3, 1, 1, bias=False)  # D_src
        self.conv2 = nn.Conv2d(dim, num_domains, image_size // 2 ** repeat_num, bias=False)  # D_cls

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.main(x)
        return self.conv1(h), self.conv2(h).flatten(1)


def domain_code(config: StarGANConfig, domains: torch.Tensor) -> torch.Tensor:
    """G's code for target ``domains`` (N,): one-hot over the domains (zeros outside the target's label set),
    then, with ``domain_groups``, the mask vector (one-hot over the label sets)."""
    code = F.one_hot(domains, config.num_domains).float()
    if config.domain_groups:
        group = config.group_of().to(domains.device)[domains]
        code = torch.cat([code, F.one_hot(group, len(config.domain_groups)).float()], dim=1)
    return code


# -- the implementation ---------------------------------------------------------------------------------------------


class StarGAN(GanImpl):
    """build / losses / sample for StarGAN (components ``G`` and ``D``)."""

    #: the original: batch 16, 5 critic updates per G update, lr constant then linearly to 0 over the second half
    train_defaults: dict[str, Any] = {"batch_size": 16, "d_steps": 5, "lr_schedule": "linear_decay",
                                      "decay_start": 0.5}

    def build(self, config: StarGANConfig) -> GanModel:
        g = Generator(config.channels, config.code_dim, config.g_conv_dim, config.g_repeat_num)
        d = Discriminator(config.image_size, config.channels, config.num_domains, config.d_conv_dim,
                          config.d_repeat_num)
        return self.new_model(config, {"G": g, "D": d})  # PyTorch's default init, as the original

    def make_dataset(self, model: GanModel, path: Any, *, split: str = "train") -> Any:
        """The task's one-folder-per-domain layout, with random flips when ``flip`` (the original's augmentation)."""
        from pathlib import Path

        if str(path).startswith("builtin:"):
            return model.task.dataset(model.config, path, split=split)
        return model.task.folder_dataset(model.config, Path(path), split=split, augment=True,
                                         flip=model.config.flip)

    # -- training -----------------------------------------------------------------------------------------------

    def _targets(self, model: GanModel, labels: torch.Tensor) -> torch.Tensor:
        """The batch's labels shuffled (within each label set with a mask vector), from the trainer's step noise."""
        cfg = model.config
        group = cfg.group_of().to(labels.device)[labels]
        key = self.noise(labels.shape[0], (), device=labels.device)
        shuffled = torch.argsort(group.double() * 1e6 + key.double().clamp(-1e5, 1e5))  # random order within sets
        ordered = torch.argsort(group, stable=True)  # original order within sets; same set boundaries
        target = torch.empty_like(labels)
        target[ordered] = labels[shuffled]
        return target

    def _cls_loss(self, model: GanModel, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Cross-entropy over the domains of each image's own label set (all domains without a mask vector)."""
        cfg = model.config
        if not cfg.domain_groups:
            return F.cross_entropy(logits, labels)
        group_of = cfg.group_of().to(labels.device)
        own = group_of[None, :] == group_of[labels][:, None]
        return F.cross_entropy(logits.masked_fill(~own, float("-inf")), labels)

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """Critic + classifier step (G fixed): WGAN-GP on real vs translated, CE of D_cls on real images."""
        cfg = model.config
        x, labels = batch["image"], batch["label"]
        target = self._targets(model, labels)
        batch["_target"] = target  # the G step of this batch (the last D update of a step) uses the same targets
        with torch.no_grad():
            fake = model.G(x, domain_code(cfg, target))
        out_src, out_cls = model.D(x)
        fake_src, _ = model.D(fake)
        # x̂ = αx + (1-α)x̃ with α ~ U(0, 1) per image (the normal CDF of the trainer's step noise)
        alpha = 0.5 * (1 + torch.erf(self.noise(x.shape[0], (1, 1, 1), device=x.device) / 2 ** 0.5))
        x_hat = (alpha * x + (1 - alpha) * fake).detach().requires_grad_(True)
        hat_src, _ = model.D(x_hat)
        grad, = torch.autograd.grad(hat_src.sum(), x_hat, create_graph=True)
        gp = ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
        with torch.no_grad():
            acc = (out_cls.argmax(1) == labels).float().mean()
        return {"d_real": -out_src.mean(), "d_fake": fake_src.mean(), "d_cls": cfg.lambda_cls * self._cls_loss(
            model, out_cls, labels), "d_gp": cfg.lambda_gp * gp, "d_cls_acc": acc}

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """G step (D fixed): fool D_src, be classified as the target domain, reconstruct x from G(x, c)."""
        cfg = model.config
        x, labels = batch["image"], batch["label"]
        target = batch.pop("_target", None)
        if target is None:  # a G step without a D step before it (conformance checks)
            target = self._targets(model, labels)
        fake = model.G(x, domain_code(cfg, target))
        out_src, out_cls = model.D(fake)
        rec = model.G(fake, domain_code(cfg, labels))
        return {"g_fake": -out_src.mean(), "g_cls": cfg.lambda_cls * self._cls_loss(model, out_cls, target),
                "g_rec": cfg.lambda_rec * F.l1_loss(rec, x)}

    # -- sampling -----------------------------------------------------------------------------------------------

    def size_rule(self, model: GanModel) -> SizeRule:
        """G is fully convolutional with a total stride of 4: pad to multiples of 4 (≥ 8) and crop back."""
        return SizeRule("pad", 4, min_side=8)

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               domain: Any = None, source_domain: Any = None, batch_size: int = 16) -> torch.Tensor:
        """Translate ``condition`` (N, C, H, W) in [-1, 1], any size, into ``domain``.

        Args:
            n: must equal N when given.
            condition: the images to translate.
            seed: unused (StarGAN's G is deterministic); accepted for the common interface.
            domain: the target: an index, a name from ``domain_names``, or one per image (list or LongTensor).
            source_domain: the images' own domain(s), when known: images asked for their own domain are
                returned unchanged (the identity) instead of going through G.
            batch_size: images per forward pass.

        Raises:
            UsageError: no or malformed ``condition`` (e.g. the wrong channel count), an unknown domain name, an
                index out of range.
        """
        cfg = model.config
        name = model.name or "stargan"
        if condition is None:
            raise UsageError(f"{name} translates images: pass condition=<images (N, {cfg.channels}, H, W) in [-1, 1]> "
                             f"and domain=NAME|INDEX (CLI: --input FILE|DIR --domain NAME|all)")
        x = check_image_batch(condition, cfg.channels, name=name)
        if n is not None and n != x.shape[0]:
            raise UsageError(f"n={n} but condition holds {x.shape[0]} images; drop n for translation")
        task = model.task
        target = task.resolve_domains(cfg, domain, x.shape[0], name=name)
        keep = None
        if source_domain is not None:
            source = task.resolve_domains(cfg, source_domain, x.shape[0], name=name, what="source_domain")
            keep = source == target
            if bool(keep.any()):
                logger.info("%s: %d image(s) asked for their own domain are returned unchanged", name,
                            int(keep.sum()))
        if batch_size < 1:
            raise UsageError(f"batch_size must be ≥ 1, got {batch_size}")
        rule = self.size_rule(model)
        xf, size = fit(x.to(model.device), rule, name=name)
        code = domain_code(cfg, target.to(model.device))
        g = model.G
        with torch.no_grad():
            y = torch.cat([g(xf[i:i + batch_size], code[i:i + batch_size]) for i in range(0, xf.shape[0], batch_size)])
        y = unfit(y, rule, size)
        if keep is not None and bool(keep.any()):
            y = torch.where(keep.to(y.device)[:, None, None, None], x.to(y.device, y.dtype), y)
        return y
