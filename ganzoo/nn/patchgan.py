"""PatchGAN discriminators (Isola et al. 2017, §3.2.2; Zhu et al. 2017, appendix 7.2).

A PatchGAN classifies every overlapping N×N patch of its input as real or fake and outputs the map of logits;
the loss averages over it. With ``n_layers = 3`` (the default, ``basic`` in the original code) each output
logit sees a **70×70** patch and a 256² input gives a **30×30** map. Paper names: ``C64-C128-C256-C512`` then a
1-channel convolution; no norm on ``C64``; LeakyReLU 0.2; 4×4 kernels, stride 2 except the last two layers.
pix2pix's D is conditional: it sees ``cat(input, output)`` (6 channels) with batch norm; CycleGAN's sees one
domain's images (3 channels) with instance norm.

**Layout (identical to the original code).** One ``nn.Sequential`` named ``model``: ``0`` conv (C_in→ndf, bias),
``1`` LeakyReLU; then for each of the ``n_layers`` layers a conv / norm / LeakyReLU triple at indices
``2+3k … 4+3k`` (widths ``ndf·min(2^k, 8)``; stride 2 except the last of them, stride 1); finally a conv to 1
channel (with bias) at index ``2 + 3·n_layers``. Convolutions before a norm have a bias only under instance
norm. Parameters for ``ndf = 64, n_layers = 3``: 2,764,737 (3 channels, instance norm) and 2,768,705
(6 channels, batch norm).

:class:`PixelDiscriminator` is the 1×1 "PixelGAN" variant (``--netD pixel``): three 1×1 convolutions in a
``Sequential`` named ``net`` (``0`` conv, ``2`` conv, ``3`` norm, ``5`` conv); it judges colour statistics only.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from .norm import NormKind, conv_bias, norm_layer

__all__ = ["NLayerDiscriminator", "PixelDiscriminator", "patchgan_receptive_field", "patchgan_min_side",
           "infer_patchgan_config"]


def patchgan_receptive_field(n_layers: int = 3) -> int:
    """Side of the input patch each output logit of an ``n_layers`` PatchGAN sees (70 for 3, 34 for 2, 142 for 4)."""
    strides = [2] * n_layers + [1, 1]  # n_layers - 1 stride-2 convs after the first, then two stride-1 convs
    field, jump = 1, 1
    for s in strides:
        field += 3 * jump  # kernel 4: (4 - 1) input steps of the current jump
        jump *= s
    return field


def patchgan_min_side(n_layers: int = 3) -> int:
    """Smallest input side for which the last normalised map still has 2×2 pixels (24 for ``n_layers = 3``).

    Each stride-2 layer halves the side (rounding down) and the stride-1 layer removes one pixel; instance and
    batch norm in train mode need more than one value per channel and image, so smaller crops fail.
    """
    return 3 * 2 ** n_layers


class NLayerDiscriminator(nn.Module):
    """PatchGAN: images (N, C_in, H, W) → logits (N, 1, H', W') (30×30 for 256² and ``n_layers = 3``).

    Args:
        input_nc: input channels (6 for pix2pix's conditional D on cat(A, B)).
        ndf: width of the first layer (64 in the papers).
        n_layers: stride-2 layers after the first (3 → 70×70 patches).
        norm: ``"batch"`` (pix2pix), ``"instance"`` (CycleGAN) or ``"none"``.
        norm_affine: instance norm with learnt scale and shift (as the generator of the same model).
    """

    def __init__(self, input_nc: int = 3, ndf: int = 64, n_layers: int = 3, norm: NormKind | str = "batch", *,
                 norm_affine: bool = False) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be ≥ 1, got {n_layers}")
        bias = conv_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        width = ndf
        for k in range(1, n_layers + 1):
            nxt = ndf * min(2 ** k, 8)
            stride = 2 if k < n_layers else 1
            layers += [nn.Conv2d(width, nxt, 4, stride=stride, padding=1, bias=bias),
                       norm_layer(norm, nxt, affine=norm_affine), nn.LeakyReLU(0.2, True)]
            width = nxt
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PixelDiscriminator(nn.Module):
    """1×1 PatchGAN ("PixelGAN"): images (N, C_in, H, W) → logits (N, 1, H, W).

    Args:
        input_nc: input channels.
        ndf: width of the first layer.
        norm: norm kind of the middle layer. As in the original, the middle and the last convolution have a bias
            only under instance norm.
    """

    def __init__(self, input_nc: int = 3, ndf: int = 64, norm: NormKind | str = "batch") -> None:
        super().__init__()
        bias = conv_bias(norm)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 1, bias=bias), norm_layer(norm, ndf * 2), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, 1, bias=bias),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def infer_patchgan_config(state: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """Read an :class:`NLayerDiscriminator`'s (``kind="nlayer"``) or :class:`PixelDiscriminator`'s
    (``kind="pixel"``) arguments from an original-layout state dict; ``None`` when it is neither."""
    first = state.get("model.0.weight")
    if first is not None and first.dim() == 4 and tuple(first.shape[2:]) == (4, 4):
        convs = 0  # convolutions after the first sit at 2, 5, 8, …; the last one has 1 output channel
        while f"model.{2 + 3 * convs}.weight" in state:
            convs += 1
        n = convs - 1
        last = state.get(f"model.{2 + 3 * n}.weight")
        if n < 1 or last is None or last.shape[0] != 1:
            return None
        norm = "batch" if "model.3.weight" in state else "instance" if "model.2.bias" in state else "none"
        return {"kind": "nlayer", "input_nc": int(first.shape[1]), "ndf": int(first.shape[0]), "n_layers": n,
                "norm": norm}
    first = state.get("net.0.weight")
    if first is not None and first.dim() == 4 and tuple(first.shape[2:]) == (1, 1):
        norm = "batch" if "net.3.weight" in state else "instance" if "net.2.bias" in state else "none"
        return {"kind": "pixel", "input_nc": int(first.shape[1]), "ndf": int(first.shape[0]), "norm": norm}
    return None
