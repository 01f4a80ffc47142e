"""XGAN — Royer, Bousmalis, Gouws, Bertsch, Mosseri, Cole & Murphy, "XGAN: Unsupervised Image-to-Image Translation
for Many-to-Many Mappings" (arXiv 1711.05139), a dual adversarial auto-encoder with a shared embedding.

The authors released no code; this follows the paper's description (see the plugin card for what could and could
not be checked offline, and every departure).

Component names → paper names:

==========  ===============================  ==============================================================
ganzoo      paper                            role
==========  ===============================  ==============================================================
``E``       e1, e2 (last layers shared)      image of a domain → embedding (a ``code_dim`` vector)
``G``       d1, d2 (first layers shared)     embedding → image of a domain
``D``       D1, D2                           real vs translated images, per domain
``D_code``  c_dann                           which domain an embedding came from (domain-adversarial)
``T_head``  (teacher loss)                   embedding → the teacher's features (only trained with ω_teach > 0)
==========  ===============================  ==============================================================

Networks (:mod:`ganzoo.nn.shared_latent`), for ``image_size = 2**k`` (64 in the paper): each encoder has two
domain-specific 4×4 stride-2 convolutions (``ch``, ``2·ch``), then **shared** stride-2 convolutions down to 4×4
and two **shared** fully connected layers to the embedding; each decoder starts with **shared** layers (a 4×4
transposed convolution from the 1×1 embedding and transposed convolutions up to 1/4 of the image side) and ends
with two domain-specific transposed convolutions (the last with tanh). Instance norm and LeakyReLU(0.2) in the
encoders and discriminators, instance norm and ReLU in the decoders.

Objective ``ω_rec·L_rec + ω_dann·L_dann + ω_sem·L_sem + ω_gan·L_gan + ω_teach·L_teach`` (paper §3):

* ``L_rec`` — each auto-encoder reconstructs its domain (squared error);
* ``L_dann`` — ``D_code`` classifies embeddings by domain, the encoders play against it (gradient reversal:
  they maximise its loss; ``dann_mode="flip"``: flipped labels instead);
* ``L_sem`` — semantic consistency, both ways: ``‖e1(x) − e2(d2(e1(x)))‖₁`` (the translation keeps the embedding);
* ``L_gan`` — ``D1``/``D2`` judge translated images against real ones (BCE, non-saturating for the generators);
* ``L_teach`` — optional: the embedding of domain A images predicts a pretrained network's features (here
  EfficientNet-Lite0's ImageNet features, through the linear ``T_head``; the paper's teacher was FaceNet).

Option beyond the paper, for the shared-latent ablation: ``lambda_latent_cycle`` (ComboGAN's latent cycle: the
same distance as ``L_sem`` but with the source embedding as a fixed target). ``share_layers=False`` unties the
shared layers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.config import TranslationConfig
from ganzoo.model import GanModel
from ganzoo.nn import (
    CodeDiscriminator,
    Coupled,
    CoupledDecoder,
    CoupledEncoder,
    conv_block,
    domain_adversarial_loss,
    gan_loss,
    init_weights,
    latent_cycle_loss,
    semantic_consistency_loss,
)
from ganzoo.nn.two_domain import SharedLatentTranslator, unwrapped
from ganzoo.translate import SizeRule

__all__ = ["XGANConfig", "XGAN", "XGANEncoder", "build_encoder", "build_decoder", "build_discriminator",
           "TEACHER_FEATURES"]

#: Width of the teacher's features (EfficientNet-Lite0's pooled features).
TEACHER_FEATURES = 1280


@dataclass
class XGANConfig(TranslationConfig):
    """XGAN hyper-parameters (64² images as in the paper; see the card for which values the paper fixes)."""

    image_size: int = field(default=64, metadata={"help": "image side: a power of two ≥ 16 (the paper: 64)"})
    domain_a: str = field(default="A", metadata={"help": "a name for domain A (cards and messages)"})
    domain_b: str = field(default="B", metadata={"help": "a name for domain B (cards and messages)"})
    # auto-encoders
    ch: int = field(default=32, metadata={"help": "width of the first encoder layer (doubles per stride-2 layer)"})
    code_dim: int = field(default=1024, metadata={"help": "size of the shared embedding"})
    share_layers: bool = field(default=True, metadata={"help": "tie the high-level layers (false: a copy per domain)"})
    # discriminators
    ndf: int = field(default=16, metadata={"help": "width of the first image-discriminator layer"})
    dann_hidden: int = field(default=256, metadata={"help": "width of the code classifier's two hidden layers"})
    # objective
    lambda_rec: float = field(default=1.0, metadata={"help": "ω_rec: auto-encoder reconstruction"})
    lambda_dann: float = field(default=1.0, metadata={"help": "ω_dann: domain-adversarial loss on the embedding"})
    lambda_sem: float = field(default=1.0, metadata={"help": "ω_sem: semantic consistency of the embedding"})
    lambda_gan: float = field(default=1.0, metadata={"help": "ω_gan: adversarial loss of the translations"})
    lambda_teach: float = field(default=0.0, metadata={"help": "ω_teach: teacher loss on domain A (0 = off)"})
    lambda_latent_cycle: float = field(default=0.0, metadata={"help": "ComboGAN latent cycle (not in XGAN; 0 = off)"})
    dann_mode: Literal["reverse", "flip"] = field(
        default="reverse", metadata={"help": "the encoders vs c_dann: gradient reversal or flipped labels"})
    sem_distance: Literal["l1", "l2", "cosine"] = field(
        default="l1", metadata={"help": "distance of the semantic consistency loss"})
    teacher_size: int = field(default=128, metadata={"help": "side the teacher (EfficientNet-Lite0) sees"})
    code_momentum: float = field(default=0.01, metadata={"help": "momentum of the embedding's running statistics"})
    # optimisation
    lr: float = field(default=1e-4, metadata={"help": "Adam learning rate"})
    beta1: float = field(default=0.5, metadata={"help": "Adam beta1"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2"})
    init_gain: float = field(default=0.02, metadata={"help": "std of the N(0, σ) weight init"})

    def __post_init__(self) -> None:
        super().__post_init__()
        s = self.image_size
        if s < 16 or s & (s - 1):
            raise ValueError(f"image_size must be a power of two ≥ 16 (the embedding is reached by stride-2 layers "
                             f"down to 4×4), got {s}")
        for key in ("input_channels", "output_channels"):
            if getattr(self, key) not in (1, 3):
                raise ValueError(f"{key} must be 1 or 3, got {getattr(self, key)}")
        for key in ("ch", "code_dim", "ndf", "dann_hidden", "teacher_size"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be ≥ 1, got {getattr(self, key)}")
        for key in ("lambda_rec", "lambda_dann", "lambda_sem", "lambda_gan", "lambda_teach", "lambda_latent_cycle"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be ≥ 0, got {getattr(self, key)}")
        if not 0 < self.code_momentum <= 1:
            raise ValueError(f"code_momentum must be in (0, 1], got {self.code_momentum}")


def _n_down(cfg: XGANConfig) -> int:
    return int(math.log2(cfg.image_size)) - 2  # stride-2 layers down to 4×4


class XGANEncoder(CoupledEncoder):
    """The two encoders, plus the running mean and variance of the embedding (the prior :meth:`XGAN.latent` draws
    from: XGAN's embedding has no prior of its own)."""

    def __init__(self, front: dict[str, nn.Module], shared: Coupled, code_dim: int) -> None:
        super().__init__(front, shared)
        self.register_buffer("code_mean", torch.zeros(code_dim))
        self.register_buffer("code_var", torch.ones(code_dim))
        self.register_buffer("code_batches", torch.zeros(()))

    @torch.no_grad()
    def update_code_stats(self, codes: torch.Tensor, momentum: float) -> None:
        """Fold a batch of embeddings (both domains) into the running mean and variance."""
        z = codes.detach().float()
        w = max(momentum, 1.0 / (float(self.code_batches) + 1.0))
        self.code_mean.mul_(1 - w).add_(z.mean(0), alpha=w)
        self.code_var.mul_(1 - w).add_(z.var(0, unbiased=False) if z.shape[0] > 1 else torch.zeros_like(z[0]),
                                       alpha=w)
        self.code_batches.add_(1)


def build_encoder(cfg: XGANConfig) -> XGANEncoder:
    """e1, e2: two domain-specific stride-2 convs, then shared stride-2 convs to 4×4 and two shared FC layers."""
    n = _n_down(cfg)
    top = cfg.ch * 2 ** (n - 1)

    def front(channels: int) -> nn.Module:
        return nn.Sequential(conv_block(channels, cfg.ch, 4, 2, 1, act="lrelu2"),
                             conv_block(cfg.ch, 2 * cfg.ch, 4, 2, 1, norm="instance", act="lrelu2"))

    def shared() -> nn.Module:
        layers: list[nn.Module] = []
        c = 2 * cfg.ch
        for _ in range(n - 2):
            layers.append(conv_block(c, 2 * c, 4, 2, 1, norm="instance", act="lrelu2"))
            c *= 2
        assert c == top
        layers += [nn.Flatten(), nn.Linear(top * 16, cfg.code_dim), nn.LeakyReLU(0.2, inplace=True),
                   nn.Linear(cfg.code_dim, cfg.code_dim)]
        return nn.Sequential(*layers)

    return XGANEncoder({"A": front(cfg.input_channels), "B": front(cfg.output_channels)},
                       Coupled(shared, tied=cfg.share_layers), cfg.code_dim)


def build_decoder(cfg: XGANConfig) -> CoupledDecoder:
    """d1, d2: shared layers (1×1 → 4×4, then up to a quarter of the side), then two domain-specific layers."""
    n = _n_down(cfg)
    top = cfg.ch * 2 ** (n - 1)

    def shared() -> nn.Module:
        layers: list[nn.Module] = [nn.Unflatten(1, (cfg.code_dim, 1, 1)),
                                   conv_block(cfg.code_dim, top, 4, 1, 0, norm="instance", transpose=True)]
        c = top
        for _ in range(n - 2):
            layers.append(conv_block(c, c // 2, 4, 2, 1, norm="instance", transpose=True))
            c //= 2
        return nn.Sequential(*layers)

    def back(channels: int) -> nn.Module:
        return nn.Sequential(conv_block(2 * cfg.ch, cfg.ch, 4, 2, 1, norm="instance", transpose=True),
                             conv_block(cfg.ch, channels, 4, 2, 1, act="tanh", transpose=True))

    return CoupledDecoder(Coupled(shared, tied=cfg.share_layers),
                          {"A": back(cfg.input_channels), "B": back(cfg.output_channels)})


def build_discriminator(cfg: XGANConfig) -> CoupledEncoder:
    """D1, D2: 4×4 stride-2 convs (LeakyReLU 0.2, instance norm after the first) to 4×4, then one logit."""
    n = _n_down(cfg)

    def front(channels: int) -> nn.Module:
        layers: list[nn.Module] = [conv_block(channels, cfg.ndf, 4, 2, 1, act="lrelu2")]
        c = cfg.ndf
        for _ in range(n - 1):
            layers.append(conv_block(c, 2 * c, 4, 2, 1, norm="instance", act="lrelu2"))
            c *= 2
        layers += [nn.Flatten(), nn.Linear(c * 16, 1)]
        return nn.Sequential(*layers)

    return CoupledEncoder({"A": front(cfg.input_channels), "B": front(cfg.output_channels)},
                          Coupled(nn.Identity, tied=True))


class XGAN(SharedLatentTranslator):
    """build / losses / sample for XGAN (components ``E``, ``G``, ``D``, ``D_code``, ``T_head``)."""

    #: The embedding has no prior: :meth:`latent` draws from a diagonal Gaussian fitted to the training embeddings.
    latent_distribution = "fitted_gaussian"
    train_defaults: dict[str, Any] = {"batch_size": 8}

    def build(self, config: XGANConfig) -> GanModel:
        nets = {"E": build_encoder(config), "G": build_decoder(config), "D": build_discriminator(config),
                "D_code": CodeDiscriminator(config.code_dim, (config.dann_hidden, config.dann_hidden)),
                "T_head": nn.Linear(config.code_dim, TEACHER_FEATURES)}
        for net in nets.values():
            init_weights(net, "normal", config.init_gain)
        return self.new_model(config, nets)

    def configure_optimizers(self, model: GanModel) -> dict[str, torch.optim.Optimizer]:
        """Adam over E + G (+ T_head with the teacher on) and over D (+ D_code with ω_dann > 0): a network whose
        loss is off is not trained."""
        cfg = model.config
        g = ["E", "G"] + (["T_head"] if cfg.lambda_teach > 0 else [])
        d = ["D"] + (["D_code"] if cfg.lambda_dann > 0 else [])

        def adam(names: list[str]) -> torch.optim.Optimizer:
            params = [p for n in names for p in model.components[n].parameters()]
            return torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))

        return {"G": adam(g), "D": adam(d)}

    def code_shape(self, config: XGANConfig) -> tuple[int, ...]:
        return (config.code_dim,)

    def size_rule(self, model: GanModel) -> SizeRule:
        """The fully connected embedding takes ``image_size``² images: others are resized to it and back."""
        s = model.config.image_size
        return SizeRule("resize", s, size=s)

    def _prior(self, model: GanModel) -> tuple[torch.Tensor, torch.Tensor] | None:
        e = unwrapped(model, "E")
        return e.code_mean.detach(), e.code_var.detach().clamp_min(0).sqrt()

    # -- the teacher ---------------------------------------------------------------------------------------

    def _teacher(self, model: GanModel, x: torch.Tensor) -> torch.Tensor:
        """EfficientNet-Lite0's pooled ImageNet features of ``x`` at ``teacher_size``² (frozen)."""
        from ganzoo.metrics import load_extractor

        net = load_extractor("effnet", x.device).net
        s = model.config.teacher_size
        y = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        if y.shape[-1] != s:
            y = F.interpolate(y, size=(s, s), mode="bilinear", align_corners=False, antialias=y.shape[-1] > s)
        with torch.no_grad():
            return net.forward_head(net.forward_features(y.clamp(-1, 1).contiguous(memory_format=torch.channels_last)),
                                    pre_logits=True).float()

    # -- training -------------------------------------------------------------------------------------------

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """D step: D1/D2 real → 1, translated → 0; c_dann: A embeddings → 1, B embeddings → 0."""
        cfg = model.config
        a, b = batch["A"], batch["B"]
        with torch.no_grad():
            e_a, e_b = model.E(a, "A"), model.E(b, "B")
            ab, ba = model.G(e_a, "B"), model.G(e_b, "A")
        losses = {
            "d_a_real": gan_loss(model.D(a, "A"), True, "vanilla"),
            "d_a_fake": gan_loss(model.D(ba, "A"), False, "vanilla"),
            "d_b_real": gan_loss(model.D(b, "B"), True, "vanilla"),
            "d_b_fake": gan_loss(model.D(ab, "B"), False, "vanilla"),
        }
        if cfg.lambda_dann > 0:
            losses["dann_classifier"] = cfg.lambda_dann * domain_adversarial_loss(
                model.D_code(e_a), model.D_code(e_b), for_classifier=True)
        return losses

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """E/G step: reconstruction, domain-adversarial, semantic consistency, GAN (+ teacher, latent cycle)."""
        cfg = model.config
        a, b = batch["A"], batch["B"]
        e_a, e_b = model.E(a, "A"), model.E(b, "B")
        if model.training:
            unwrapped(model, "E").update_code_stats(torch.cat([e_a, e_b]), cfg.code_momentum)
        ab, ba = model.G(e_a, "B"), model.G(e_b, "A")
        losses = {
            "rec_a": cfg.lambda_rec * F.mse_loss(model.G(e_a, "A"), a),
            "rec_b": cfg.lambda_rec * F.mse_loss(model.G(e_b, "B"), b),
            "gan_a": cfg.lambda_gan * gan_loss(model.D(ba, "A"), True, "vanilla", for_discriminator=False),
            "gan_b": cfg.lambda_gan * gan_loss(model.D(ab, "B"), True, "vanilla", for_discriminator=False),
        }
        if cfg.lambda_dann > 0:
            losses["dann"] = cfg.lambda_dann * domain_adversarial_loss(
                model.D_code(e_a), model.D_code(e_b), for_classifier=False, mode=cfg.dann_mode)
        if cfg.lambda_sem > 0 or cfg.lambda_latent_cycle > 0:
            e_ab, e_ba = model.E(ab, "B"), model.E(ba, "A")
            if cfg.lambda_sem > 0:
                losses["sem_a"] = cfg.lambda_sem * semantic_consistency_loss(e_ab, e_a, cfg.sem_distance)
                losses["sem_b"] = cfg.lambda_sem * semantic_consistency_loss(e_ba, e_b, cfg.sem_distance)
            if cfg.lambda_latent_cycle > 0:
                losses["latent_cycle_a"] = cfg.lambda_latent_cycle * latent_cycle_loss(e_ab, e_a)
                losses["latent_cycle_b"] = cfg.lambda_latent_cycle * latent_cycle_loss(e_ba, e_b)
        if cfg.lambda_teach > 0:
            losses["teach"] = cfg.lambda_teach * F.l1_loss(model.T_head(e_a), self._teacher(model, a))
        return losses
