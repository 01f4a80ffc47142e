"""SEGAN's networks: the 1-D fully convolutional encoder–decoder generator and the pair discriminator with
virtual batch normalisation, as in the authors' TensorFlow code (santi-pdp/segan: ``generator.py``
``AEGenerator``, ``discriminator.py``, ``bnorm.py``, ``ops.py``).

Facts taken from that code (implemented here from them, not copied):

* G encoder: ``len(channels)`` strided convolutions (kernel 31, stride 2, "same" padding, no bias), each followed by
  a PReLU with one slope per channel initialised at 0. The pre-activation output of every encoder layer but the
  last is kept as a skip connection.
* Bottleneck: noise ``z ~ N(0, 1)`` with ``z_channels`` channels is concatenated (``[z, h]``) to the code
  (8 × 1024 for the paper's 16,384-sample windows).
* G decoder: mirrored transposed convolutions (kernel 31, stride 2, no bias) down to 1 channel; after each but
  the last, a PReLU and then the matching skip concatenated on the channel axis; ``tanh`` at the output.
* D: the same strided stack over the 2-channel pair ``[clean or enhanced, noisy]``, each convolution followed by
  virtual batch norm and LeakyReLU(0.3); then a 1×1 convolution to one channel and a fully connected layer to one
  logit. Weights ~ truncated N(0, 0.02); VBN γ ~ N(1, 0.02), β = 0.
* VBN as the authors implement it (after Salimans et al. 2016): statistics over (batch, time) are mixed
  ``1/(B+1)`` from the batch at hand and ``B/(B+1)`` from a reference batch, where the reference is the real
  (clean, noisy) batch of the same step.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

__all__ = ["SEGANGenerator", "SEGANDiscriminator", "VirtualBatchNorm1d", "init_weights"]

Stats = tuple[torch.Tensor, torch.Tensor]


def _same_padding(kernel: int) -> int:
    return (kernel - 1) // 2


class SEGANGenerator(nn.Module):
    """Noisy waveform (B, 1, T) [+ z] → enhanced waveform (B, 1, T); T a multiple of ``2 ** len(channels)``.

    Args:
        channels: the encoder's output channels per layer (the paper: 16, 32, 32, 64, 64, 128, 128, 256, 256, 512,
            1024); the decoder mirrors them.
        kernel_size: the filter width (31).
        z_channels: channels of the latent noise at the bottleneck (the paper: as many as the code, 1024); 0: none.
    """

    def __init__(self, channels: Sequence[int], kernel_size: int = 31, z_channels: int = 1024) -> None:
        super().__init__()
        self.channels, self.kernel_size, self.z_channels = tuple(channels), int(kernel_size), int(z_channels)
        pad = _same_padding(kernel_size)
        self.enc = nn.ModuleList()
        self.enc_act = nn.ModuleList()
        c_in = 1
        for c in self.channels:
            self.enc.append(nn.Conv1d(c_in, c, kernel_size, stride=2, padding=pad, bias=False))
            self.enc_act.append(nn.PReLU(c, init=0.0))
            c_in = c
        dec_out = list(self.channels[:-1][::-1]) + [1]
        skips = list(self.channels[:-1][::-1]) + [0]
        self.dec = nn.ModuleList()
        self.dec_act = nn.ModuleList()
        c_in = self.channels[-1] + self.z_channels
        for c, s in zip(dec_out, skips):
            # (L - 1)·2 - 2·pad + k + 1 = 2L for odd k: the length doubles exactly, as TF's "SAME" transposed conv
            self.dec.append(nn.ConvTranspose1d(c_in, c, kernel_size, stride=2, padding=pad, output_padding=1,
                                               bias=False))
            if s:
                self.dec_act.append(nn.PReLU(c, init=0.0))
            c_in = c + s

    @property
    def stride(self) -> int:
        """The factor the encoder shrinks time by: inputs are a multiple of it."""
        return 2 ** len(self.channels)

    def z_shape(self, length: int) -> tuple[int, int]:
        """The shape of one item's latent noise for an input of ``length`` samples: (z_channels, length / stride)."""
        return self.z_channels, length // self.stride

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        if x.shape[-1] % self.stride:
            raise ValueError(f"input length {x.shape[-1]} is not a multiple of {self.stride}")
        skips = []
        h = x
        for i, (conv, act) in enumerate(zip(self.enc, self.enc_act)):
            h = conv(h)
            if i < len(self.enc) - 1:
                skips.append(h)  # the authors keep the pre-activation output
            h = act(h)
        if self.z_channels:
            if z is None:
                z = torch.randn((h.shape[0], self.z_channels, h.shape[-1]), device=h.device, dtype=h.dtype)
            h = torch.cat([z.to(h.dtype), h], dim=1)
        for i, conv in enumerate(self.dec):
            h = conv(h)
            if i < len(self.dec) - 1:
                h = torch.cat([self.dec_act[i](h), skips[-(i + 1)]], dim=1)
        return torch.tanh(h)


class VirtualBatchNorm1d(nn.Module):
    """Virtual batch norm over (batch, time) per channel; see the module docstring for the reference mixing."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))  # γ, initialised ~ N(1, 0.02) by init_weights
        self.bias = nn.Parameter(torch.zeros(channels))   # β

    def forward(self, x: torch.Tensor, ref: Stats | None = None, ref_size: int = 1) -> tuple[torch.Tensor, Stats]:
        """Normalise ``x``; with ``ref`` (mean, mean square of the reference batch of ``ref_size`` items) the
        statistics are mixed as the authors do. Returns the output and the statistics this batch contributes
        as a reference (its own, when ``ref`` is None)."""
        mean = x.mean(dim=(0, 2), keepdim=True)
        mean_sq = (x * x).mean(dim=(0, 2), keepdim=True)
        own = (mean, mean_sq)
        if ref is not None:
            new = 1.0 / (ref_size + 1.0)
            mean, mean_sq = new * mean + (1.0 - new) * ref[0], new * mean_sq + (1.0 - new) * ref[1]
        std = torch.sqrt(self.eps + (mean_sq - mean * mean).clamp_min(0.0))
        out = (x - mean) / std * self.weight[None, :, None] + self.bias[None, :, None]
        return out, own


class SEGANDiscriminator(nn.Module):
    """The pair (B, 2, T) = [clean or enhanced, noisy] → one least-squares logit per item (B,).

    Args:
        channels: per-layer channels (the paper: G's encoder widths).
        length: the window length T the fully connected head is sized for.
        kernel_size: the filter width (31).
        norm: ``"vbn"`` (the paper), ``"batch"`` (ordinary batch norm) or ``"none"``.
    """

    def __init__(self, channels: Sequence[int], length: int, kernel_size: int = 31, norm: str = "vbn") -> None:
        super().__init__()
        self.channels, self.norm = tuple(channels), norm
        pad = _same_padding(kernel_size)
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        c_in = 2
        for c in self.channels:
            self.convs.append(nn.Conv1d(c_in, c, kernel_size, stride=2, padding=pad, bias=False))
            if norm == "vbn":
                self.norms.append(VirtualBatchNorm1d(c))
            elif norm == "batch":
                self.norms.append(nn.BatchNorm1d(c))
            else:
                self.norms.append(nn.Identity())
            c_in = c
        self.act = nn.LeakyReLU(0.3)
        self.to_one = nn.Conv1d(c_in, 1, 1, bias=False)  # the authors' conv1d helper has no bias by default
        self.fc = nn.Linear(length // 2 ** len(self.channels), 1)

    def forward(self, pair: torch.Tensor, ref: list[Stats] | None = None, ref_size: int = 1,
                return_stats: bool = False) -> torch.Tensor | tuple[torch.Tensor, list[Stats]]:
        """Logits (B,); with VBN, ``ref`` is the statistics list a reference pass returned (``return_stats``)."""
        h = pair
        stats: list[Stats] = []
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            h = conv(h)
            if isinstance(norm, VirtualBatchNorm1d):
                h, own = norm(h, None if ref is None else ref[i], ref_size)
                stats.append(own)
            else:
                h = norm(h)
            h = self.act(h)
        logits = self.fc(self.to_one(h).flatten(1))[:, 0]
        return (logits, stats) if return_stats else logits


def _trunc_normal_(t: torch.Tensor, mean: float, std: float) -> None:
    nn.init.trunc_normal_(t, mean=mean, std=std, a=mean - 2 * std, b=mean + 2 * std)  # TF's truncation at 2σ


@torch.no_grad()
def init_weights(module: nn.Module, std: float | None = 0.02) -> None:
    """The authors' initialisation: convolutions ~ truncated N(0, ``std``) (None: Glorot normal, fan-aware),
    VBN γ ~ N(1, 0.02), the fully connected head Glorot-uniform with zero bias, PReLU slopes 0 (set at build)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)):
            if std is None:
                nn.init.xavier_normal_(m.weight)
            else:
                _trunc_normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, VirtualBatchNorm1d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            bound = math.sqrt(6.0 / (m.in_features + m.out_features))
            nn.init.uniform_(m.weight, -bound, bound)
            nn.init.zeros_(m.bias)
