"""Domain Transfer Network — Taigman, Polyak & Wolf, "Unsupervised Cross-Domain Image Generation", ICLR 2017
(arXiv 1611.02200), its digit experiment (SVHN → MNIST, §5.1), implemented from the paper.

G = g∘f maps a source-domain image x ∈ S to the target domain T. f is a fixed, pretrained encoder (in the paper
a digit classifier trained on SVHN, the source domain); only g and D are trained.

=========  ==================  ================================================================================
ganzoo     paper               role
=========  ==================  ================================================================================
``f``      f                   fixed encoder: 4 conv layers (64, 128, 256, 128 filters), each followed by max
                               pooling and ReLU, 32×32 → a 128-d code; a linear classifier ``f.head`` on top
                               is only used to pretrain it (and to check it)
``g``      g                   decoder: 4 transposed convolutions, batch norm + ReLU, tanh output, code → 32×32
``D``      D (D₁, D₂, D₃)      4 convolutions (batch norm, ReLU) with 3 logits: D₁ "G(x) of a source x",
                               D₂ "G(x) of a target x", D₃ "a real target image"
=========  ==================  ================================================================================

Losses (paper eq. 2–7): L_D = −E_s log D₁(G(x)) − E_t log D₂(G(x)) − E_t log D₃(x);
L_GANG = −E_s log D₃(G(x)) − E_t log D₃(G(x)); L_CONST = Σ_s d(f(x), f(G(x))) (f-constancy on source images);
L_TID = Σ_t d₂(x, G(x)) (targets map to themselves); L_TV = Σ ((z_{i,j+1} − z_{ij})² + (z_{i+1,j} − z_{ij})²)^{B/2}
with B = 1 on G's outputs for source images. G minimises L_GANG + α·L_CONST + β·L_TID + γ·L_TV. d and d₂ are the
mean squared error (the digit experiment). The digit weights of §5.1: α = β = 15, γ = 0 (no smoothing needed).

f's inputs have the source's channels; target images and G's outputs (grey for MNIST-like targets) are repeated
to them (or averaged, for a grey source), as the paper feeds MNIST digits to the SVHN-trained f.

Reading of the paper where it is not explicit (named in the cards): f's fourth pooling is a global max over its
4×4 map (so the code is 128-d, as the paper says); the code is divided by its root mean square over f's
pretraining images (a constant stored with f), so α weighs the f-constancy MSE against unit-scale codes — the
raw ReLU codes of our f have an RMS near 10, which would multiply α by ~100; g's fourth transposed convolution
is its output layer (tanh, no batch norm), D's fourth convolution its 3-logit output (no batch norm); g and D
follow DCGAN's widths and N(0, 0.02) initialisation (the paper refers to Radford et al. for details); the
optimiser is DCGAN's Adam 2e-4, β = (0.5, 0.999) with one D update per G update (the paper states neither).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.config import TranslationConfig
from ganzoo.errors import IntegrityError, UsageError
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel
from ganzoo.nn import init_weights
from ganzoo.translate import SizeRule, check_image_batch, fit, run_translator, unfit

__all__ = ["DTNConfig", "DTN", "Encoder", "Decoder", "TernaryDiscriminator", "ENCODERS", "encoder_path",
           "total_variation"]

logger = logging.getLogger(__name__)

WEIGHTS = Path(__file__).resolve().parent / "weights"

#: Pretrained encoders shipped with the plugin: name → file, sha256 and the architecture it fits. The weights are
#: trained by ``scripts/train_dtn_encoder.py`` (``weights/README.md`` records the command, data and accuracy).
ENCODERS: dict[str, dict[str, Any]] = {
    "print-digits": {
        "file": "print-digits-encoder.safetensors",
        "sha256": "c0c8e7ce9d3b0c6bf86d2bd0f765b1c802ce859ee1ae3195a7635ee44df7c69a",
        "f_dims": (64, 128, 256, 128), "input_channels": 3, "num_classes": 10,
        "about": "digit classifier trained on the source domain of data/digits-print2hand (printed digits in 18 "
                 "typefaces, random colours; scripts/fetch_fonts.py)",
    },
}


@dataclass
class DTNConfig(TranslationConfig):
    """DTN hyper-parameters; the defaults are the paper's digit experiment (32×32 RGB source → grey target)."""

    image_size: int = field(default=32, metadata={"help": "image side: the digit networks are built for 32"})
    load_size: int | None = field(default=None, metadata={"help": "resize before a random crop (None: no jitter)"})
    flip: bool = field(default=False, metadata={"help": "random horizontal flips (off: digits are not symmetric)"})
    input_channels: int = field(default=3, metadata={"help": "channels of source images (f's input)"})
    output_channels: int = field(default=1, metadata={"help": "channels of target images (g's output)"})
    # networks
    encoder: str = field(default="print-digits", metadata={"help": "the fixed pretrained f: a shipped encoder "
                                                                   "(print-digits) or none (random; tests only)"})
    f_dims: tuple[int, int, int, int] = field(default=(64, 128, 256, 128), metadata={"help": "f's conv widths"})
    num_classes: int = field(default=10, metadata={"help": "classes of f's pretraining head"})
    g_dim: int = field(default=64, metadata={"help": "g width: its layers have 8·, 4·, 2·g_dim filters"})
    d_dim: int = field(default=64, metadata={"help": "D width: its layers have 1·, 2·, 4·d_dim filters"})
    # objective (the paper's digit experiment)
    alpha: float = field(default=15.0, metadata={"help": "weight of L_CONST (f-constancy on source images)"})
    beta: float = field(default=15.0, metadata={"help": "weight of L_TID (identity on target images)"})
    gamma: float = field(default=0.0, metadata={"help": "weight of L_TV (total variation of G's outputs)"})
    distance: Literal["mse"] = field(default="mse", metadata={"help": "d and d₂: mean squared error"})
    # optimisation
    lr: float = field(default=2e-4, metadata={"help": "Adam learning rate of g and D"})
    beta1: float = field(default=0.5, metadata={"help": "Adam beta1"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2"})
    init_gain: float = field(default=0.02, metadata={"help": "std of g's and D's N(0, σ) init"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.image_size != 32:
            raise ValueError(f"image_size must be 32: f pools 32 → 4 → a code and g draws 32×32 from it (the "
                             f"paper's digit networks); got {self.image_size}")
        if self.input_channels not in (1, 3) or self.output_channels not in (1, 3):
            raise ValueError("input_channels and output_channels must be 1 or 3")
        if self.encoder != "none" and self.encoder not in ENCODERS:
            raise ValueError(f"unknown encoder {self.encoder!r}: use one of {', '.join(ENCODERS)} or none")
        if self.encoder != "none":
            spec = ENCODERS[self.encoder]
            want = {"f_dims": tuple(spec["f_dims"]), "input_channels": spec["input_channels"],
                    "num_classes": spec["num_classes"]}
            have = {"f_dims": tuple(self.f_dims), "input_channels": self.input_channels,
                    "num_classes": self.num_classes}
            if want != have:
                diff = ", ".join(f"{k}={want[k]}" for k in want if want[k] != have[k])
                raise ValueError(f"the {self.encoder} encoder was trained with {diff}; set those or encoder=none")
        if min(self.f_dims) < 1 or self.g_dim < 1 or self.d_dim < 1:
            raise ValueError("f_dims, g_dim and d_dim must be ≥ 1")
        if min(self.alpha, self.beta, self.gamma) < 0:
            raise ValueError("alpha, beta and gamma must be ≥ 0")


# -- networks ------------------------------------------------------------------------------------------------------


class Encoder(nn.Module):
    """f: four conv layers, each followed by max pooling and ReLU (the last pool global) → a ``f_dims[-1]`` code.

    ``head`` (a linear classifier) pretrains f on the source domain's labels; the DTN uses :meth:`forward`.
    """

    def __init__(self, channels: int = 3, dims: tuple[int, ...] = (64, 128, 256, 128), num_classes: int = 10) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = channels
        for i, d in enumerate(dims):
            pool = nn.AdaptiveMaxPool2d(1) if i == len(dims) - 1 else nn.MaxPool2d(2)
            layers += [nn.Conv2d(c, d, 3, 1, 1), pool, nn.ReLU(inplace=True)]
            c = d
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(c, num_classes)
        self.channels = channels
        # the code's root mean square over the pretraining images, set after pretraining: f(x) is divided by it so
        # the f-constancy loss (MSE on codes) weighs α against unit-scale codes whatever f's raw ReLU scale is
        self.register_buffer("scale", torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).flatten(1) / self.scale

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (the pretraining task)."""
        return self.head(self.body(x).flatten(1))


class Decoder(nn.Module):
    """g: code (N, d) → 4×4 → 8×8 → 16×16 → 32×32 by transposed convolutions (BN + ReLU; tanh output)."""

    def __init__(self, code_dim: int, channels: int, dim: int = 64) -> None:
        super().__init__()
        w = (dim * 8, dim * 4, dim * 2)
        self.main = nn.Sequential(
            nn.ConvTranspose2d(code_dim, w[0], 4, 1, 0, bias=False), nn.BatchNorm2d(w[0]), nn.ReLU(True),
            nn.ConvTranspose2d(w[0], w[1], 4, 2, 1, bias=False), nn.BatchNorm2d(w[1]), nn.ReLU(True),
            nn.ConvTranspose2d(w[1], w[2], 4, 2, 1, bias=False), nn.BatchNorm2d(w[2]), nn.ReLU(True),
            nn.ConvTranspose2d(w[2], channels, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.main(code[:, :, None, None] if code.dim() == 2 else code)


class TernaryDiscriminator(nn.Module):
    """D: 32×32 → 3 logits (0: G of a source image, 1: G of a target image, 2: a real target image)."""

    def __init__(self, channels: int, dim: int = 64) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(channels, dim, 4, 2, 1, bias=False), nn.BatchNorm2d(dim), nn.ReLU(True),
            nn.Conv2d(dim, dim * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(dim * 2), nn.ReLU(True),
            nn.Conv2d(dim * 2, dim * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(dim * 4), nn.ReLU(True),
            nn.Conv2d(dim * 4, 3, 4, 1, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).flatten(1)


def total_variation(z: torch.Tensor, exponent: float = 1.0) -> torch.Tensor:
    """The paper's L_TV per image, averaged: mean over pixels of ((Δx)² + (Δy)²)^(B/2) (B = ``exponent``)."""
    dx = z[..., :-1, 1:] - z[..., :-1, :-1]
    dy = z[..., 1:, :-1] - z[..., :-1, :-1]
    return (dx.pow(2) + dy.pow(2) + 1e-8).pow(exponent / 2).mean()


def encoder_path(name: str) -> Path:
    """The shipped weights file of encoder ``name``, its sha256 checked.

    Raises:
        IntegrityError: the file's hash differs from the pinned one (a damaged or replaced file).
        UsageError: the file is missing (an incomplete installation).
    """
    from ganzoo.hub import sha256_file

    spec = ENCODERS[name]
    path = WEIGHTS / spec["file"]
    if not path.is_file():
        raise UsageError(f"the {name} encoder's weights ({path.name}) are missing from the ganzoo-dtn installation; "
                         f"reinstall it (or train them: python scripts/train_dtn_encoder.py)")
    digest = sha256_file(path)
    if digest != spec["sha256"]:
        raise IntegrityError(f"{path.name} has sha256 {digest}, expected {spec['sha256']}: reinstall ganzoo-dtn")
    return path


# -- the implementation ---------------------------------------------------------------------------------------------


def _to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Images as ``channels`` channels: grey repeated to RGB, RGB averaged to grey."""
    if x.shape[1] == channels:
        return x
    if x.shape[1] == 1:
        return x.expand(-1, channels, -1, -1)
    return x.mean(dim=1, keepdim=True)


class DTN(GanImpl):
    """build / losses / sample for the Domain Transfer Network (components ``f`` (fixed), ``g``, ``D``)."""

    def build(self, config: DTNConfig) -> GanModel:
        f = Encoder(config.input_channels, tuple(config.f_dims), config.num_classes)
        if config.encoder != "none" and f.head.weight.device.type != "meta":  # a meta build only checks shapes
            from safetensors.torch import load_file

            f.load_state_dict(load_file(str(encoder_path(config.encoder))), strict=True)
        g = Decoder(config.f_dims[-1], config.output_channels, config.g_dim)
        d = TernaryDiscriminator(config.output_channels, config.d_dim)
        init_weights(g, "normal", config.init_gain)
        init_weights(d, "normal", config.init_gain)
        f.requires_grad_(False)  # fixed: never trained, and the trainer never unfreezes it
        f.eval()
        return self.new_model(config, {"f": f, "g": g, "D": d})

    def configure_optimizers(self, model: GanModel) -> dict[str, torch.optim.Optimizer]:
        """Adam over g (G's only trainable part) and over D."""
        cfg = model.config
        betas = (cfg.beta1, cfg.beta2)
        return {"G": torch.optim.Adam(model.g.parameters(), lr=cfg.lr, betas=betas),
                "D": torch.optim.Adam(model.D.parameters(), lr=cfg.lr, betas=betas)}

    def _f(self, model: GanModel, x: torch.Tensor) -> torch.Tensor:
        return model.f(_to_channels(x, model.config.input_channels))

    def _G(self, model: GanModel, x: torch.Tensor) -> torch.Tensor:
        return model.g(self._f(model, x))

    # -- training -----------------------------------------------------------------------------------------------

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """L_D: D₁ on G(source), D₂ on G(target), D₃ on real targets (three-way cross-entropy), G fixed."""
        s, t = batch["A"], batch["B"]
        with torch.no_grad():
            fake_s, fake_t = self._G(model, s), self._G(model, t)
        ls, lt, lr = model.D(fake_s), model.D(fake_t), model.D(t)
        cls = lambda logits, k: F.cross_entropy(logits, torch.full((logits.shape[0],), k, device=logits.device))  # noqa: E731
        return {"d_src_fake": cls(ls, 0), "d_tgt_fake": cls(lt, 1), "d_real": cls(lr, 2)}

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """L_GANG + α·L_CONST + β·L_TID (+ γ·L_TV), D and f fixed."""
        cfg = model.config
        s, t = batch["A"], batch["B"]
        code_s = self._f(model, s)
        fake_s = model.g(code_s)
        fake_t = self._G(model, t)
        real = lambda logits: F.cross_entropy(logits, torch.full((logits.shape[0],), 2, device=logits.device))  # noqa: E731
        losses = {"g_gan_src": real(model.D(fake_s)), "g_gan_tgt": real(model.D(fake_t)),
                  "const": cfg.alpha * F.mse_loss(self._f(model, fake_s), code_s.detach()),
                  "tid": cfg.beta * F.mse_loss(fake_t, t)}
        if cfg.gamma > 0:
            losses["tv"] = cfg.gamma * total_variation(fake_s)
        return losses

    # -- sampling -----------------------------------------------------------------------------------------------

    def size_rule(self, model: GanModel) -> SizeRule:
        """f and g work at 32×32: inputs are resized to 32² and outputs back to the input's size."""
        return SizeRule("resize", 1, size=model.config.image_size)

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               batch_size: int = 64) -> torch.Tensor:
        """Translate source-domain images ``condition`` (N, input_channels, H, W) in [-1, 1] to the target domain.

        The output has ``output_channels`` channels and the input's size. DTN translates one way only.

        Raises:
            UsageError: no or malformed ``condition`` (e.g. the wrong channel count).
        """
        cfg = model.config
        name = model.name or "dtn"
        if condition is None:
            raise UsageError(f"{name} translates source-domain images: pass condition=<images (N, "
                             f"{cfg.input_channels}, H, W) in [-1, 1]> (CLI: --input FILE|DIR)")
        x = check_image_batch(condition, cfg.input_channels, name=name)
        if n is not None and n != x.shape[0]:
            raise UsageError(f"n={n} but condition holds {x.shape[0]} images; drop n for translation")
        rule = self.size_rule(model)
        xf, size = fit(x.to(model.device), rule, name=name)
        with torch.no_grad():
            y = run_translator(nn.Sequential(model.f, model.g), xf, mode="eval", batch_size=batch_size)
        return unfit(y, rule, size)
