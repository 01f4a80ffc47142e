"""Weight initialisation used across the GAN literature."""

from __future__ import annotations

from torch import nn

__all__ = ["init_weights"]


def init_weights(module: nn.Module, init_type: str = "normal", gain: float = 0.02) -> nn.Module:
    """Initialise convolution/linear weights and norm layers in place; returns ``module``.

    ``"normal"`` is the DCGAN/pix2pix/CycleGAN scheme: conv and linear weights ~ N(0, gain), biases 0,
    BatchNorm/affine-norm weights ~ N(1, gain) and biases 0. ``"xavier"``, ``"kaiming"`` and ``"orthogonal"``
    are the usual alternatives (gain as in the reference code).
    """
    if init_type not in ("normal", "xavier", "kaiming", "orthogonal"):
        raise ValueError(f"init_type must be normal, xavier, kaiming or orthogonal, got {init_type!r}")

    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                          nn.ConvTranspose3d, nn.Linear)):
            if init_type == "normal":
                nn.init.normal_(m.weight, 0.0, gain)
            elif init_type == "xavier":
                nn.init.xavier_normal_(m.weight, gain=gain)
            elif init_type == "kaiming":
                nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in")
            else:
                nn.init.orthogonal_(m.weight, gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm, nn.InstanceNorm2d)):
            if getattr(m, "weight", None) is not None:
                nn.init.normal_(m.weight, 1.0, gain)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)

    module.apply(_init)
    return module
