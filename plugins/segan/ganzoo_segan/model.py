"""SEGAN — Pascual, Bonafonte & Serrà, "SEGAN: Speech Enhancement Generative Adversarial Network",
Interspeech 2017 (arXiv 1703.09452), after the authors' TensorFlow code (santi-pdp/segan, MIT).

Code names → paper names:

* ``G`` — the generator G(z, x̃): noisy waveform x̃ (and noise z at the bottleneck) → enhanced waveform
  (:class:`~ganzoo_segan.nets.SEGANGenerator`: 11 strided convolutions down, 11 transposed convolutions up = 22
  layers, kernel 31, stride 2, PReLU, skip connections).
* ``D`` — the discriminator D(x, x̃) on 2-channel pairs: (clean x, noisy x̃) is real, (G(z, x̃), x̃) is fake
  (:class:`~ganzoo_segan.nets.SEGANDiscriminator`, virtual batch norm, LeakyReLU 0.3).

Objective (least squares, eqs. 2–3; the authors' code without the ½ factors):
``L_D = E[(D(x, x̃) − 1)²] + E[D(G(z, x̃), x̃)²]`` and ``L_G = E[(D(G(z, x̃), x̃) − 1)²] + λ·mean|G(z, x̃) − x|``,
λ = ``l1_weight`` = 100. RMSprop, lr 2e-4 for both. Every waveform (clean and noisy, in training and at test)
goes through the pre-emphasis filter ``y[n] = x[n] − 0.95·x[n−1]``; outputs are de-emphasised. Training
windows: 16,384 samples (≈ 1 s at 16 kHz) every 8,192 (50 % overlap).

Inference over a file of any length (a departure in the authors' favour: their ``clean()`` concatenates
non-overlapping windows, which leaves seams): the pre-emphasised signal is cut into windows with 50 % overlap
(padded by a hop at both ends, so every sample is covered twice), each window is enhanced, weighted by a
periodic Hann window and overlap-added, normalised by the summed weights, and de-emphasised once over the
whole signal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from ganzoo.config import AudioConfig
from ganzoo.data.audio import de_emphasis, pre_emphasis
from ganzoo.errors import ConfigError, UsageError
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel, make_generator
from ganzoo.nn import gan_loss

from .nets import SEGANDiscriminator, SEGANGenerator, init_weights

__all__ = ["SEGANConfig", "SEGAN", "enhance"]

logger = logging.getLogger(__name__)

PAPER_CHANNELS = (16, 32, 32, 64, 64, 128, 128, 256, 256, 512, 1024)


@dataclass
class SEGANConfig(AudioConfig):
    """SEGAN hyper-parameters; the defaults are the paper's (16 kHz, 16,384-sample windows, full width)."""

    sample_rate: int = field(default=16000, metadata={"help": "sample rate in Hz (the paper: 16 kHz)"})
    segment_length: int = field(default=16384,
        metadata={"help": "window in samples (2**14), a multiple of 2**len(g_channels)"})
    # networks
    g_channels: tuple[int, ...] = field(default=PAPER_CHANNELS,
        metadata={"help": "G encoder channels per layer (decoder mirrors)"})
    d_channels: tuple[int, ...] = field(default=PAPER_CHANNELS, metadata={"help": "D channels per layer"})
    kernel_size: int = field(default=31, metadata={"help": "filter width of every strided (transposed) convolution"})
    z_channels: int = field(default=1024,
        metadata={"help": "latent noise channels at G's bottleneck (0: no z, the SEAE ablation)"})
    d_norm: Literal["vbn", "batch", "none"] = field(default="vbn",
        metadata={"help": "D's normalisation: virtual batch norm (paper), batch norm, none"})
    init: Literal["normal", "glorot"] = field(default="normal",
        metadata={"help": "conv weights ~ truncated N(0, init_std) (the authors') or Glorot normal"})
    init_std: float = field(default=0.02, metadata={"help": "σ of the 'normal' initialisation"})
    # objective and optimiser
    l1_weight: float = field(default=100.0, metadata={"help": "λ of the L1 term in G's loss"})
    preemph: float = field(default=0.95, metadata={"help": "pre-emphasis coefficient (0: off)"})
    lr: float = field(default=2e-4, metadata={"help": "RMSprop learning rate (G, and D unless lr_d is set)"})
    lr_d: float | None = field(default=None, metadata={"help": "D's RMSprop learning rate (null: lr)"})
    rms_alpha: float = field(default=0.9,
        metadata={"help": "RMSprop smoothing constant (TensorFlow's default decay 0.9)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("g_channels", "d_channels"):
            chans = getattr(self, key)
            if not chans or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in chans):
                raise ConfigError(f"{key} must be a non-empty list of positive integers, got {chans!r}")
        stride = 2 ** max(len(self.g_channels), len(self.d_channels))
        if self.segment_length % stride:
            raise ConfigError(f"segment_length ({self.segment_length}) must be a multiple of "
                              f"2**{stride.bit_length() - 1} = {stride} (one halving per layer)")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ConfigError(f"kernel_size must be a positive odd integer, got {self.kernel_size}")
        if self.z_channels < 0:
            raise ConfigError(f"z_channels must be ≥ 0, got {self.z_channels}")
        if not 0.0 <= self.preemph < 1.0:
            raise ConfigError(f"preemph must be in [0, 1), got {self.preemph}")
        for key in ("l1_weight", "lr", "lr_d"):
            if getattr(self, key) is not None and getattr(self, key) < 0:
                raise ConfigError(f"{key} must be ≥ 0, got {getattr(self, key)}")
        if not 0.0 < self.rms_alpha < 1.0:
            raise ConfigError(f"rms_alpha must be in (0, 1), got {self.rms_alpha}")
        if self.init_std <= 0:
            raise ConfigError(f"init_std must be > 0, got {self.init_std}")


class SEGAN(GanImpl):
    """SEGAN as a ganzoo plugin: ``sample(condition=noisy)`` enhances waveforms of any length."""

    # the authors' train_segan.sh uses batches of 100; the paper reports an effective batch of 400 over GPUs
    train_defaults = {"batch_size": 100}

    def build(self, config: SEGANConfig) -> GanModel:
        g = SEGANGenerator(config.g_channels, config.kernel_size, config.z_channels)
        d = SEGANDiscriminator(config.d_channels, config.segment_length, config.kernel_size, config.d_norm)
        std = config.init_std if config.init == "normal" else None
        init_weights(g, std)
        init_weights(d, std)
        return self.new_model(config, {"G": g, "D": d})

    def configure_optimizers(self, model: GanModel) -> dict[str, torch.optim.Optimizer]:
        cfg = model.config
        lr_d = cfg.lr if cfg.lr_d is None else cfg.lr_d
        return {"G": torch.optim.RMSprop(model.G.parameters(), lr=cfg.lr, alpha=cfg.rms_alpha),
                "D": torch.optim.RMSprop(model.D.parameters(), lr=lr_d, alpha=cfg.rms_alpha)}

    # -- training --------------------------------------------------------------------------------------------

    def _pair(self, model: GanModel, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        coeff = model.config.preemph
        return pre_emphasis(batch["clean"], coeff)[:, None], pre_emphasis(batch["noisy"], coeff)[:, None]

    def _z(self, model: GanModel, noisy: torch.Tensor, seed: int | None = None) -> torch.Tensor | None:
        g = model.G
        if not g.z_channels:
            return None
        return self.noise(noisy.shape[0], g.z_shape(noisy.shape[-1]), seed=seed, device=noisy.device)

    def _fake_logits(self, model: GanModel, fake: torch.Tensor, noisy: torch.Tensor,
                     ref: list | None) -> torch.Tensor:
        pair = torch.cat([fake, noisy], dim=1)
        return model.D(pair) if ref is None else model.D(pair, ref=ref, ref_size=pair.shape[0])

    def _real_logits(self, model: GanModel, clean: torch.Tensor, noisy: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """D on the real pairs, and (with VBN) their statistics: the reference batch of the step, as in the
        authors' code. The real batch is its own reference, so its mixed statistics are its own."""
        real = torch.cat([clean, noisy], dim=1)
        if model.config.d_norm == "vbn":
            return model.D(real, return_stats=True)
        return model.D(real), None

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        clean, noisy = self._pair(model, batch)
        with torch.no_grad():
            fake = model.G(noisy, self._z(model, noisy))
        d_real, ref = self._real_logits(model, clean, noisy)
        d_fake = self._fake_logits(model, fake, noisy, ref)
        return {"d_real": gan_loss(d_real, True, "lsgan"), "d_fake": gan_loss(d_fake, False, "lsgan"),
                "D(x)": d_real.detach().mean(), "D(G(z))": d_fake.detach().mean()}

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        clean, noisy = self._pair(model, batch)
        fake = model.G(noisy, self._z(model, noisy))
        ref = None
        if model.config.d_norm == "vbn":
            with torch.no_grad():
                _, ref = self._real_logits(model, clean, noisy)
        d_fake = self._fake_logits(model, fake, noisy, ref)
        return {"g_adv": gan_loss(d_fake, True, "lsgan", for_discriminator=False),
                "g_l1": model.config.l1_weight * (fake - clean).abs().mean()}

    # -- inference -------------------------------------------------------------------------------------------

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               batch_size: int = 16, overlap: float = 0.5) -> torch.Tensor:
        """Enhance noisy waveforms: ``condition`` (N, T) or (T,) in [-1, 1] at ``config.sample_rate``, any T ≥ 1.

        Args:
            batch_size: windows per forward pass.
            overlap: overlap of consecutive windows (0.5: a window every half window; 0.75 …); Hann-weighted.

        Returns: (N, T) enhanced waveforms in [-1, 1]. Silent rows (all zeros) come back silent.
        """
        x = _as_waveforms(condition)
        if n is not None and n != x.shape[0]:
            raise UsageError(f"n={n} but the condition holds {x.shape[0]} waveform(s); leave n out")
        return enhance(model, x, seed=seed, batch_size=batch_size, overlap=overlap)


def _as_waveforms(condition: Any) -> torch.Tensor:
    if isinstance(condition, np.ndarray):
        condition = torch.from_numpy(np.ascontiguousarray(condition))
    if not isinstance(condition, torch.Tensor):
        raise UsageError(f"condition must be a waveform tensor (N, T) or (T,), got {type(condition).__name__}")
    x = condition.detach().float()
    if x.dim() == 1:
        x = x[None]
    if x.dim() == 3 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 2 or x.shape[-1] < 1:
        raise UsageError(f"condition must be mono waveforms (N, T) or (T,), got shape {tuple(condition.shape)}; "
                         f"enhance each channel of a multi-channel recording separately")
    if not torch.isfinite(x).all():
        raise UsageError("condition holds NaN or infinite samples")
    peak = float(x.abs().max())
    if peak > 1.0 + 1e-6:
        raise UsageError(f"condition must be in [-1, 1] (peak {peak:.3g}); scale it down first")
    return x


@torch.no_grad()
def enhance(model: GanModel, x: torch.Tensor, *, seed: int | None = 0, batch_size: int = 16,
            overlap: float = 0.5) -> torch.Tensor:
    """Windowed, Hann-weighted overlap-add enhancement of waveforms (N, T) of any length (see the module doc)."""
    if not 0.0 <= overlap < 1.0:
        raise UsageError(f"overlap must be in [0, 1), got {overlap}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UsageError(f"batch_size must be a positive integer, got {batch_size!r}")
    cfg, g = model.config, model.G
    w = int(cfg.segment_length)
    hop = max(1, int(round(w * (1.0 - overlap))))
    device = next(g.parameters()).device
    n, t = x.shape
    y = pre_emphasis(x.to(device), cfg.preemph)
    # overlapping windows: pad a hop on both sides, so every sample lies under windows whose weights sum to ~1
    lead = hop if hop < w else 0
    frames = max(1, -(-(t + 2 * lead - w) // hop) + 1)
    total = (frames - 1) * hop + w
    padded = torch.nn.functional.pad(y, (lead, total - t - lead))
    chunks = padded.unfold(-1, w, hop)  # (N, frames, W)
    flat = chunks.reshape(-1, 1, w)
    z = None
    if g.z_channels:
        z = torch.randn((flat.shape[0],) + g.z_shape(w), generator=make_generator(seed)).to(device) \
            if seed is not None else torch.randn((flat.shape[0],) + g.z_shape(w), device=device)
    outs = []
    for i in range(0, flat.shape[0], batch_size):
        outs.append(g(flat[i:i + batch_size], None if z is None else z[i:i + batch_size])[:, 0])
    enhanced = torch.cat(outs).reshape(n, frames, w)
    window = torch.hann_window(w, periodic=True, device=device) if hop < w else torch.ones(w, device=device)
    acc = torch.zeros(n, total, device=device)
    norm = torch.zeros(total, device=device)
    for k in range(frames):
        acc[:, k * hop:k * hop + w] += enhanced[:, k] * window
        norm[k * hop:k * hop + w] += window
    out = (acc / norm.clamp_min(1e-3))[:, lead:lead + t]
    out = de_emphasis(out, cfg.preemph).clamp(-1.0, 1.0)
    silent = x.abs().amax(dim=1) == 0
    if silent.any():
        out[silent.to(out.device)] = 0.0
    return out
