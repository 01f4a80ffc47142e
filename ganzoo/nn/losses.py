"""Adversarial losses with the target abstraction of the classic code (no target tensors to build by hand).

``gan_loss(logits, target_is_real, mode)`` covers the losses the zoo's papers use:

* ``"vanilla"`` — the original minimax/non-saturating loss as binary cross-entropy on logits
  (Goodfellow et al. 2014; DCGAN, pix2pix, cGAN, StackGAN);
* ``"lsgan"`` — least squares, targets 1/0 (Mao et al. 2017; CycleGAN, UNIT);
* ``"hinge"`` — hinge loss for D, -D(G(z)) for G (Miyato et al. 2018, projection discriminator);
* ``"wgan"`` — the critic's mean (StarGAN's WGAN-GP, with :func:`gradient_penalty`).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

__all__ = ["GanMode", "gan_loss", "minimax_generator_loss", "gradient_penalty"]

GanMode = Literal["vanilla", "lsgan", "hinge", "wgan"]


def gan_loss(logits: torch.Tensor, target_is_real: bool, mode: GanMode = "vanilla", *,
             for_discriminator: bool = True) -> torch.Tensor:
    """The adversarial loss of ``logits`` (any shape: a PatchGAN map averages over patches) for a target.

    Args:
        logits: raw discriminator outputs (no sigmoid).
        target_is_real: True for real (or for the generator's step), False for generated.
        mode: ``vanilla``, ``lsgan``, ``hinge`` or ``wgan``.
        for_discriminator: hinge differs for D and G; the others ignore it.
    """
    logits = logits.float()  # losses in fp32 under mixed precision
    if mode == "vanilla":
        target = torch.ones_like(logits) if target_is_real else torch.zeros_like(logits)
        return F.binary_cross_entropy_with_logits(logits, target)
    if mode == "lsgan":
        target = torch.ones_like(logits) if target_is_real else torch.zeros_like(logits)
        return F.mse_loss(logits, target)
    if mode == "hinge":
        if for_discriminator:
            return F.relu(1.0 - logits).mean() if target_is_real else F.relu(1.0 + logits).mean()
        return -logits.mean()
    if mode == "wgan":
        return -logits.mean() if target_is_real else logits.mean()
    raise ValueError(f"unknown GAN loss mode {mode!r}; use vanilla, lsgan, hinge or wgan")


def minimax_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The generator's term of the original minimax game, ``E[log(1 - D(G(z)))]`` (minimised; saturates early).

    The non-saturating alternative is ``gan_loss(fake_logits, True, "vanilla")`` (Goodfellow et al. 2014, §3).
    """
    return -F.binary_cross_entropy_with_logits(fake_logits.float(), torch.zeros_like(fake_logits, dtype=torch.float32))


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, *, weight: float = 10.0,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP's penalty ``weight * E[(||∇D(x̂)||₂ - 1)²]`` on random interpolates (Gulrajani et al. 2017)."""
    alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), generator=generator).to(real.device, real.dtype)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    out = critic(x_hat)
    if isinstance(out, (tuple, list)):
        out = out[0]
    grad, = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return weight * ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
