"""Shared building blocks: initialisation, adversarial losses, the fully connected GANs' maxout layers and
helpers, and the pix2pix/CycleGAN family's networks
(PatchGAN discriminators, ResNet and U-Net generators, norm layers with the original's bias rule, the image
pool). The networks keep the original code's parameter/buffer layout, so its checkpoints map key for key
(see each module's docstring)."""

from .init import init_weights
from .losses import GanMode, gan_loss, gradient_penalty, minimax_generator_loss
from .mlp import Maxout, pixel_marginal_logits, uniform_init, unwrap
from .norm import NORM_KINDS, NormKind, check_layout, clean_norm_state, conv_bias, frozen_norm_stats, norm_layer
from .patchgan import (
    NLayerDiscriminator,
    PixelDiscriminator,
    infer_patchgan_config,
    patchgan_min_side,
    patchgan_receptive_field,
)
from .pool import ImagePool
from .resnet import PADDING_TYPES, ResnetBlock, ResnetGenerator, infer_norm, infer_resnet_config
from .unet import UnetGenerator, UnetSkipBlock, infer_unet_config

__all__ = [
    "init_weights", "Maxout", "uniform_init", "pixel_marginal_logits", "unwrap", "GanMode", "gan_loss", "gradient_penalty", "minimax_generator_loss",
    "NORM_KINDS", "NormKind", "norm_layer", "conv_bias", "clean_norm_state", "check_layout",
    "frozen_norm_stats",
    "NLayerDiscriminator", "PixelDiscriminator", "patchgan_receptive_field", "patchgan_min_side",
    "infer_patchgan_config",
    "ImagePool",
    "PADDING_TYPES", "ResnetBlock", "ResnetGenerator", "infer_resnet_config", "infer_norm",
    "UnetSkipBlock", "UnetGenerator", "infer_unet_config",
]
