"""The ResNet image-to-image generator of CycleGAN (Zhu et al. 2017, appendix 7.2; after Johnson et al. 2016).

Paper names: ``c7s1-64, d128, d256, R256 × n, u128, u64, c7s1-3`` — a 7×7 stem, two stride-2 downsamplings,
``n_blocks`` residual blocks at 1/4 resolution (9 for 256² training images, 6 for 128²), two fractionally-strided
upsamplings and a 7×7 output convolution with tanh. Reflection padding everywhere except the implicit zero
padding of the stride-2 (transposed) convolutions.

**Layout (kept identical to the original code, so its checkpoints load with their own keys).** One
``nn.Sequential`` named ``model``; with ``n_blocks = n`` its indices are::

    0 ReflectionPad2d(3)  1 Conv7×7(C_in→ngf)  2 norm  3 ReLU
    4 Conv3×3 s2 (ngf→2ngf)  5 norm  6 ReLU      7 Conv3×3 s2 (2ngf→4ngf)  8 norm  9 ReLU
    10 … 9+n   ResnetBlock(4ngf)                (each: conv_block = Sequential, see ResnetBlock)
    10+n ConvT3×3 s2 p1 op1 (4ngf→2ngf)  11+n norm  12+n ReLU
    13+n ConvT (2ngf→ngf)                14+n norm  15+n ReLU
    16+n ReflectionPad2d(3)  17+n Conv7×7(ngf→C_out, always with bias)  18+n Tanh

so the 9-block network's output convolution is ``model.26`` (``model.23`` with 6 blocks). Convolutions before
a norm layer have a bias only under instance norm (:func:`ganzoo.nn.norm.conv_bias`). Parameters with
``ngf=64, n_blocks=9``: 11,378,179 (48 tensors); ``n_blocks=6``: 7,837,699.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from .norm import NormKind, conv_bias, norm_layer

__all__ = ["ResnetBlock", "ResnetGenerator", "infer_resnet_config"]


class ResnetBlock(nn.Module):
    """``x + F(x)`` with ``F`` = pad, conv3×3, norm, ReLU, [dropout 0.5], pad, conv3×3, norm (``conv_block``).

    Indices of ``conv_block``: 0 pad, 1 conv, 2 norm, 3 ReLU, [4 dropout], then pad, conv, norm — so the second
    convolution is ``conv_block.5`` without dropout and ``conv_block.6`` with it (dropout shows in the keys).
    """

    def __init__(self, dim: int, norm: NormKind | str = "instance", use_dropout: bool = False) -> None:
        super().__init__()
        bias = conv_bias(norm)
        first: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), norm_layer(norm, dim),
                                  nn.ReLU(True)]
        noise: list[nn.Module] = [nn.Dropout(0.5)] if use_dropout else []
        second: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), norm_layer(norm, dim)]
        self.conv_block = nn.Sequential(*first, *noise, *second)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """ResNet generator: image (N, C_in, H, W) in [-1, 1] → image (N, C_out, H, W) in [-1, 1].

    Args:
        input_nc: input channels.
        output_nc: output channels.
        ngf: width of the first layer (64 in the paper).
        n_blocks: residual blocks (9: ``resnet_9blocks``, 6: ``resnet_6blocks``).
        norm: ``"instance"`` (CycleGAN), ``"batch"`` or ``"none"``.
        use_dropout: dropout 0.5 inside each residual block (off for CycleGAN).

    H and W must be multiples of :attr:`stride` (4) and at least 8: reflection padding needs the 1/4-resolution
    maps to be at least 2×2.
    """

    #: total downsampling factor: sides must be multiples of it
    stride: int = 4
    #: smallest side the network accepts (reflection padding of the residual blocks needs ≥ 2 px at 1/4 scale)
    min_side: int = 8

    def __init__(self, input_nc: int = 3, output_nc: int = 3, ngf: int = 64, n_blocks: int = 9,
                 norm: NormKind | str = "instance", use_dropout: bool = False) -> None:
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be ≥ 0, got {n_blocks}")
        bias = conv_bias(norm)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, bias=bias),
                                   norm_layer(norm, ngf), nn.ReLU(True)]
        ch = ngf
        for _ in range(2):  # d128, d256
            layers += [nn.Conv2d(ch, ch * 2, 3, stride=2, padding=1, bias=bias), norm_layer(norm, ch * 2), nn.ReLU(True)]
            ch *= 2
        layers += [ResnetBlock(ch, norm, use_dropout) for _ in range(n_blocks)]
        for _ in range(2):  # u128, u64
            layers += [nn.ConvTranspose2d(ch, ch // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                       norm_layer(norm, ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def infer_resnet_config(state: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """Read a :class:`ResnetGenerator`'s constructor arguments from an (original-layout) state dict.

    Returns ``None`` when the keys are not a ResNet generator's (no 7×7 stem at ``model.1.weight``). The result
    still has to be checked against the built network (:func:`ganzoo.nn.norm.check_layout`): this reads the
    keys that decide the architecture, not every key.

    Rules: ``ngf``/``input_nc`` from ``model.1.weight`` [ngf, C_in, 7, 7]; ``n_blocks`` = number of
    ``model.<i>.conv_block.1.weight``; dropout when ``conv_block.6.weight`` exists (the second convolution moves
    from index 5 to 6); norm: ``model.2.weight`` → batch, a bias on ``model.4`` without norm weights → instance,
    neither → none; ``output_nc`` from the output convolution ``model.<17+n>.weight``.
    """
    stem = state.get("model.1.weight")
    if stem is None or stem.dim() != 4 or tuple(stem.shape[2:]) != (7, 7):
        return None
    ngf, input_nc = int(stem.shape[0]), int(stem.shape[1])
    n_blocks = 0
    while f"model.{10 + n_blocks}.conv_block.1.weight" in state:
        n_blocks += 1
    use_dropout = "model.10.conv_block.6.weight" in state
    if "model.2.weight" in state:
        norm = "batch"
    elif "model.4.bias" in state:
        norm = "instance"
    else:
        norm = "none"
    out = state.get(f"model.{17 + n_blocks}.weight")
    if out is None or out.dim() != 4:
        return None
    return {"input_nc": input_nc, "output_nc": int(out.shape[0]), "ngf": ngf, "n_blocks": n_blocks, "norm": norm,
            "use_dropout": use_dropout}
