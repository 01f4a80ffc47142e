"""UNIT — Liu, Breuel & Kautz, "Unsupervised Image-to-Image Translation Networks", NIPS 2017 (arXiv 1703.00848),
as in the authors' code of the paper (mingyuliutw/UNIT, ``src/trainers/cocogan_*.py`` and ``exps/unit/*.yaml``,
CC BY-NC-SA 4.0: read for facts, implemented here from them and the paper).

Component names → paper names → the original code's names:

=========  ============================================  =============================================
ganzoo     paper                                         original code (``COCOResGen`` / ``COCODis``)
=========  ============================================  =============================================
``E``      E1, E2 (last layers shared)                   ``encode_A``, ``encode_B``, ``enc_shared``
``G``      G1, G2 (first layers shared)                  ``dec_shared``, ``decode_A``, ``decode_B``
``D``      D1, D2 (optionally last layers shared)        ``model_A``, ``model_B`` (+ ``model_S``)
=========  ============================================  =============================================

Networks (:mod:`ganzoo.nn.shared_latent`). Encoder of each domain: conv 7×7 stride 1 + LeakyReLU (no norm),
``n_downsample`` × [conv 3×3 stride 2, instance norm, ReLU] (×2 channels each), ``n_enc_res`` residual blocks;
then ``n_enc_shared`` residual blocks **shared by both domains** give the code's mean μ (a ``4·ch``-channel map at
1/4 resolution by default). Decoder: ``n_gen_shared`` **shared** residual blocks, then per domain ``n_gen_res``
residual blocks, ``n_downsample`` × [transposed conv 3×3 stride 2, instance norm, ReLU] and a transposed 1×1 conv
with tanh. Discriminators: ``n_layers_D`` × [conv 3×3 stride 2 + LeakyReLU] (×2 channels each) and a 1×1 conv to a
patch of logits; ``d_shared_layers`` > 0 shares the last layers between the domains (``COCOSharedDis``).

Objective (paper eq. 1–5; the authors' ``gen_update`` / ``dis_update``). The shared code is ``z = μ + η``,
``η ~ N(0, I)`` while training (``q(z|x) = N(μ, I)``; the encoders output μ only), ``z = μ`` at test time.

* VAE: ``λ2·‖G_A(z_a) − a‖₁`` + ``λ1·KL`` per domain, ``KL = mean(μ²)``;
* GAN: ``λ0`` × the non-saturating BCE losses of ``D_A(G_A(z_b))`` and ``D_B(G_B(z_a))``; D: real → 1, translated
  → 0 (the discriminators' loss is weighted by λ0 too, as the authors' code);
* cycle consistency: ``λ4·‖G_A(E_B(G_B(z_a))) − a‖₁`` + ``λ3·KL`` of the re-encoded translation, both ways.

λ0 = 10, λ1 = λ3 = 0.1, λ2 = λ4 = 100 (paper §3 and the authors' configs). Adam lr 1e-4, β = (0.5, 0.999), weight
decay 1e-4; batch 1; conv weights ~ N(0, 0.02). D step, then G step (the authors' ``dis_update``, ``gen_update``).

Option beyond the paper, for the shared-latent ablation: ``lambda_latent_cycle`` (ComboGAN's latent cycle:
``‖E_B(G_B(z_a)) − μ_a‖₁`` with μ_a a fixed target, both ways; 0 = off, the paper). ``share_layers=False`` unties
the shared blocks (the same layers, one copy per domain): UNIT without its shared-latent device.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.config import TranslationConfig
from ganzoo.model import GanModel
from ganzoo.nn import (
    Coupled,
    CoupledDecoder,
    CoupledEncoder,
    ResBlock,
    conv_block,
    gan_loss,
    init_weights,
    kl_unit_variance,
    latent_cycle_loss,
)
from ganzoo.nn.two_domain import SharedLatentTranslator
from ganzoo.translate import SizeRule

__all__ = ["UNITConfig", "UNIT", "build_encoder", "build_decoder", "build_discriminator"]


@dataclass
class UNITConfig(TranslationConfig):
    """UNIT hyper-parameters; the defaults are the paper's / the authors' ``exps/unit`` configs (128² CelebA)."""

    image_size: int = field(default=128, metadata={"help": "training crop side (a multiple of 2**n_downsample)"})
    domain_a: str = field(default="A", metadata={"help": "a name for domain A (cards and messages)"})
    domain_b: str = field(default="B", metadata={"help": "a name for domain B (cards and messages)"})
    # encoders / decoders (COCOResGen: ch 64, n_enc_front_blk 3, n_enc_res_blk 3, shared 1 + 1, n_gen_res_blk 3)
    ch: int = field(default=64, metadata={"help": "width of the first encoder layer"})
    n_downsample: int = field(default=2, metadata={"help": "stride-2 layers per encoder (n_enc_front_blk - 1)"})
    n_enc_res: int = field(default=3, metadata={"help": "domain-specific residual blocks per encoder"})
    n_enc_shared: int = field(default=1, metadata={"help": "residual blocks shared by the encoders (high level)"})
    n_gen_shared: int = field(default=1, metadata={"help": "residual blocks shared by the decoders (high level)"})
    n_gen_res: int = field(default=3, metadata={"help": "domain-specific residual blocks per decoder"})
    share_layers: bool = field(default=True, metadata={"help": "tie the shared blocks (false: one copy per domain)"})
    # discriminators (COCODis: ch 64, 6 layers; COCOSharedDis shares the last ones)
    ndf: int = field(default=64, metadata={"help": "width of the first discriminator layer"})
    n_layers_D: int = field(default=6, metadata={"help": "stride-2 conv layers per discriminator"})
    d_shared_layers: int = field(default=0, metadata={"help": "last discriminator layers shared by the domains"})
    # objective (paper §3: λ0 = 10, λ1 = λ3 = 0.1, λ2 = λ4 = 100)
    lambda_gan: float = field(default=10.0, metadata={"help": "λ0: adversarial losses (G and D)"})
    lambda_kl: float = field(default=0.1, metadata={"help": "λ1: KL of the codes of real images"})
    lambda_recon: float = field(default=100.0, metadata={"help": "λ2: L1 reconstruction within a domain"})
    lambda_kl_cycle: float = field(default=0.1, metadata={"help": "λ3: KL of the re-encoded translations"})
    lambda_cycle: float = field(default=100.0, metadata={"help": "λ4: L1 cycle reconstruction"})
    lambda_latent_cycle: float = field(default=0.0, metadata={"help": "ComboGAN latent cycle (not in UNIT; 0 = off)"})
    # optimisation
    lr: float = field(default=1e-4, metadata={"help": "Adam learning rate"})
    beta1: float = field(default=0.5, metadata={"help": "Adam beta1"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2"})
    weight_decay: float = field(default=1e-4, metadata={"help": "Adam weight decay"})
    init_gain: float = field(default=0.02, metadata={"help": "std of the N(0, σ) conv weight init"})

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("input_channels", "output_channels"):
            if getattr(self, key) not in (1, 3):
                raise ValueError(f"{key} must be 1 or 3, got {getattr(self, key)}")
        for key in ("ch", "ndf", "n_layers_D"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be ≥ 1, got {getattr(self, key)}")
        for key in ("n_downsample", "n_enc_res", "n_enc_shared", "n_gen_shared", "n_gen_res", "d_shared_layers"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be ≥ 0, got {getattr(self, key)}")
        if self.n_enc_shared + self.n_gen_shared == 0 and self.share_layers:
            raise ValueError("share_layers needs shared blocks: set n_enc_shared or n_gen_shared ≥ 1")
        if self.d_shared_layers >= self.n_layers_D:
            raise ValueError(f"d_shared_layers ({self.d_shared_layers}) must be < n_layers_D ({self.n_layers_D})")
        stride = 2 ** self.n_downsample
        if self.image_size % stride or self.image_size < 2 * stride:
            raise ValueError(f"image_size must be a multiple of {stride} (2**n_downsample) and ≥ {2 * stride}, "
                             f"got {self.image_size}")
        if self.image_size < 2 ** self.n_layers_D:
            raise ValueError(f"image_size {self.image_size} is too small for {self.n_layers_D} stride-2 "
                             f"discriminator layers (needs ≥ {2 ** self.n_layers_D}; lower n_layers_D)")
        for key in ("lambda_gan", "lambda_kl", "lambda_recon", "lambda_kl_cycle", "lambda_cycle",
                    "lambda_latent_cycle"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be ≥ 0, got {getattr(self, key)}")


def _code_channels(cfg: UNITConfig) -> int:
    return cfg.ch * 2 ** cfg.n_downsample


def build_encoder(cfg: UNITConfig) -> CoupledEncoder:
    """The two encoders with their last ``n_enc_shared`` residual blocks shared (E1, E2)."""
    top = _code_channels(cfg)

    def front(channels: int) -> nn.Module:
        layers: list[nn.Module] = [conv_block(channels, cfg.ch, 7, 1, 3, act="lrelu")]
        c = cfg.ch
        for _ in range(cfg.n_downsample):
            layers.append(conv_block(c, 2 * c, 3, 2, 1, norm="instance", act="relu"))
            c *= 2
        layers += [ResBlock(c) for _ in range(cfg.n_enc_res)]
        return nn.Sequential(*layers)

    shared = Coupled(lambda: nn.Sequential(*[ResBlock(top) for _ in range(cfg.n_enc_shared)]),
                     tied=cfg.share_layers)
    return CoupledEncoder({"A": front(cfg.input_channels), "B": front(cfg.output_channels)}, shared)


def build_decoder(cfg: UNITConfig) -> CoupledDecoder:
    """The two decoders with their first ``n_gen_shared`` residual blocks shared (G1, G2)."""
    top = _code_channels(cfg)

    def back(channels: int) -> nn.Module:
        layers: list[nn.Module] = [ResBlock(top) for _ in range(cfg.n_gen_res)]
        c = top
        for _ in range(cfg.n_downsample):
            layers.append(conv_block(c, c // 2, 3, 2, 1, norm="instance", act="relu", transpose=True,
                                     output_padding=1))
            c //= 2
        layers.append(conv_block(c, channels, 1, 1, 0, act="tanh", transpose=True))
        return nn.Sequential(*layers)

    shared = Coupled(lambda: nn.Sequential(*[ResBlock(top) for _ in range(cfg.n_gen_shared)]),
                     tied=cfg.share_layers)
    return CoupledDecoder(shared, {"A": back(cfg.input_channels), "B": back(cfg.output_channels)})


def build_discriminator(cfg: UNITConfig) -> CoupledEncoder:
    """D1, D2: stride-2 3×3 convs with LeakyReLU and a 1×1 conv to patch logits; the last ``d_shared_layers``
    (and the classifier) shared when > 0."""
    n_front = cfg.n_layers_D - cfg.d_shared_layers
    top = cfg.ndf * 2 ** (cfg.n_layers_D - 1)

    def front(channels: int) -> nn.Module:
        layers: list[nn.Module] = [conv_block(channels, cfg.ndf, 3, 2, 1, act="lrelu")]
        c = cfg.ndf
        for _ in range(1, n_front):
            layers.append(conv_block(c, 2 * c, 3, 2, 1, act="lrelu"))
            c *= 2
        if cfg.d_shared_layers == 0:
            layers.append(nn.Conv2d(c, 1, 1))
        return nn.Sequential(*layers)

    def shared() -> nn.Module:
        layers: list[nn.Module] = []
        c = cfg.ndf * 2 ** (n_front - 1)
        for _ in range(cfg.d_shared_layers):
            layers.append(conv_block(c, 2 * c, 3, 2, 1, act="lrelu"))
            c *= 2
        if cfg.d_shared_layers:
            assert c == top
            layers.append(nn.Conv2d(c, 1, 1))
        return nn.Sequential(*layers)

    return CoupledEncoder({"A": front(cfg.input_channels), "B": front(cfg.output_channels)},
                          Coupled(shared, tied=True))


class UNIT(SharedLatentTranslator):
    """build / losses / sample for UNIT (components ``E``, ``G``, ``D``)."""

    #: The authors' batch: one image per domain.
    train_defaults: dict[str, Any] = {"batch_size": 1}

    def build(self, config: UNITConfig) -> GanModel:
        nets = {"E": build_encoder(config), "G": build_decoder(config), "D": build_discriminator(config)}
        for net in nets.values():
            init_weights(net, "normal", config.init_gain)
        return self.new_model(config, nets)

    def code_shape(self, config: UNITConfig) -> tuple[int, ...]:
        side = config.image_size // 2 ** config.n_downsample
        return (_code_channels(config), side, side)

    def size_rule(self, model: GanModel) -> SizeRule:
        """Pad to multiples of 2**n_downsample (the encoder's stride) and crop back: any image size."""
        stride = 2 ** model.config.n_downsample
        return SizeRule("pad", stride, min_side=2 * stride)

    def _check_codes(self, model: GanModel, z: Any) -> torch.Tensor:
        # the decoder is fully convolutional: any spatial size, but the channels are the shared space's
        from ganzoo.nn import check_codes

        c = _code_channels(model.config)
        if isinstance(z, torch.Tensor) and z.dim() in (3, 4):
            return check_codes(z, (c, *z.shape[-2:]), name=self._name(model))
        return check_codes(z, self.code_shape(model.config), name=self._name(model))

    # -- training -----------------------------------------------------------------------------------------

    def _sampled(self, mu: torch.Tensor) -> torch.Tensor:
        """z = μ + η, η ~ N(0, I) (the authors' GaussianNoiseLayer, active in training only)."""
        return mu + self.noise(mu.shape[0], tuple(mu.shape[1:]), device=mu.device)

    def _fakes(self, model: GanModel, a: torch.Tensor, b: torch.Tensor) -> dict[str, torch.Tensor]:
        mu_a, mu_b = model.E(a, "A"), model.E(b, "B")
        z_a, z_b = self._sampled(mu_a), self._sampled(mu_b)
        return {"mu_a": mu_a, "mu_b": mu_b, "z_a": z_a, "z_b": z_b,
                "ab": model.G(z_a, "B"), "ba": model.G(z_b, "A")}

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """D step (E, G fixed): real → 1, translated → 0 in each domain, weighted by λ0 as the authors' code."""
        cfg = model.config
        a, b = batch["A"], batch["B"]
        with torch.no_grad():
            f = self._fakes(model, a, b)
        w = cfg.lambda_gan
        return {
            "d_a_real": w * gan_loss(model.D(a, "A"), True, "vanilla"),
            "d_a_fake": w * gan_loss(model.D(f["ba"], "A"), False, "vanilla"),
            "d_b_real": w * gan_loss(model.D(b, "B"), True, "vanilla"),
            "d_b_fake": w * gan_loss(model.D(f["ab"], "B"), False, "vanilla"),
        }

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """E/G step (D fixed): VAE (L1 + KL), GAN, cycle (L1 + KL) both ways; optional latent cycle."""
        cfg = model.config
        a, b = batch["A"], batch["B"]
        f = self._fakes(model, a, b)
        aa, bb = model.G(f["z_a"], "A"), model.G(f["z_b"], "B")
        mu_aba, mu_bab = model.E(f["ab"], "B"), model.E(f["ba"], "A")
        aba, bab = model.G(self._sampled(mu_aba), "A"), model.G(self._sampled(mu_bab), "B")
        losses = {
            "gan_a": cfg.lambda_gan * gan_loss(model.D(f["ba"], "A"), True, "vanilla", for_discriminator=False),
            "gan_b": cfg.lambda_gan * gan_loss(model.D(f["ab"], "B"), True, "vanilla", for_discriminator=False),
            "recon_a": cfg.lambda_recon * F.l1_loss(aa, a),
            "recon_b": cfg.lambda_recon * F.l1_loss(bb, b),
            "kl_a": cfg.lambda_kl * kl_unit_variance(f["mu_a"]),
            "kl_b": cfg.lambda_kl * kl_unit_variance(f["mu_b"]),
            "cycle_a": cfg.lambda_cycle * F.l1_loss(aba, a),
            "cycle_b": cfg.lambda_cycle * F.l1_loss(bab, b),
            "kl_cycle_a": cfg.lambda_kl_cycle * kl_unit_variance(mu_aba),
            "kl_cycle_b": cfg.lambda_kl_cycle * kl_unit_variance(mu_bab),
        }
        if cfg.lambda_latent_cycle > 0:
            losses["latent_cycle_a"] = cfg.lambda_latent_cycle * latent_cycle_loss(mu_aba, f["mu_a"])
            losses["latent_cycle_b"] = cfg.lambda_latent_cycle * latent_cycle_loss(mu_bab, f["mu_b"])
        else:  # logged: how far the re-encoded translations drift from the source codes
            losses["latent_gap"] = (F.l1_loss(mu_aba, f["mu_a"]) + F.l1_loss(mu_bab, f["mu_b"])).detach() / 2
        return losses
