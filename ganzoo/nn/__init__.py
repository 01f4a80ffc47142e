"""Shared building blocks: initialisation, adversarial losses (and, as plugins need them, PatchGAN D,
ResNet and U-Net generators, norms)."""

from .init import init_weights
from .losses import GanMode, gan_loss, gradient_penalty, minimax_generator_loss

__all__ = ["init_weights", "GanMode", "gan_loss", "gradient_penalty", "minimax_generator_loss"]
