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

The original's other options keep their layouts too: ``padding_type`` of the residual blocks (``"reflect"``,
``"replicate"``, or ``"zero"``, which has no padding layer, so a block's convolutions sit at ``conv_block.0`` and
``.3``), instance norm with affine parameters (``norm_affine``) and a bias on every convolution (``conv_bias``).
:func:`infer_resnet_config` reads all of them from a state dict's keys and shapes.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from .norm import NormKind, conv_bias, norm_layer

__all__ = ["PADDING_TYPES", "ResnetBlock", "ResnetGenerator", "infer_resnet_config", "infer_norm"]

_bias = conv_bias


PADDING_TYPES: tuple[str, ...] = ("reflect", "replicate", "zero")


def _conv3(dim: int, padding_type: str, bias: bool) -> list[nn.Module]:
    if padding_type == "zero":
        return [nn.Conv2d(dim, dim, 3, padding=1, bias=bias)]
    pad = nn.ReflectionPad2d(1) if padding_type == "reflect" else nn.ReplicationPad2d(1)
    return [pad, nn.Conv2d(dim, dim, 3, bias=bias)]


class ResnetBlock(nn.Module):
    """``x + F(x)`` with ``F`` = pad, conv3×3, norm, ReLU, [dropout 0.5], pad, conv3×3, norm (``conv_block``).

    Indices of ``conv_block``: 0 pad, 1 conv, 2 norm, 3 ReLU, [4 dropout], then pad, conv, norm — so the second
    convolution is ``conv_block.5`` without dropout and ``conv_block.6`` with it (dropout shows in the keys).
    ``padding_type="zero"`` pads inside the convolutions instead (no pad layers: convolutions at 0 and 3, or 4).
    """

    def __init__(self, dim: int, norm: NormKind | str = "instance", use_dropout: bool = False, *,
                 padding_type: str = "reflect", norm_affine: bool = False, bias: bool | None = None) -> None:
        super().__init__()
        if padding_type not in PADDING_TYPES:
            raise ValueError(f"padding_type must be one of {', '.join(PADDING_TYPES)}, got {padding_type!r}")
        bias = conv_bias(norm, bias)
        first: list[nn.Module] = [*_conv3(dim, padding_type, bias), norm_layer(norm, dim, affine=norm_affine),
                                  nn.ReLU(True)]
        noise: list[nn.Module] = [nn.Dropout(0.5)] if use_dropout else []
        second: list[nn.Module] = [*_conv3(dim, padding_type, bias), norm_layer(norm, dim, affine=norm_affine)]
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
        padding_type: padding of the residual blocks' convolutions: ``"reflect"`` (CycleGAN), ``"replicate"``,
            ``"zero"``.
        norm_affine: instance norm with learnt scale and shift.
        conv_bias: a bias on the convolutions that feed a norm layer (default: the original's rule).

    H and W must be multiples of :attr:`stride` (4) and at least 8: reflection padding needs the 1/4-resolution
    maps to be at least 2×2.
    """

    #: total downsampling factor: sides must be multiples of it
    stride: int = 4
    #: smallest side the network accepts (reflection padding of the residual blocks needs ≥ 2 px at 1/4 scale)
    min_side: int = 8

    def __init__(self, input_nc: int = 3, output_nc: int = 3, ngf: int = 64, n_blocks: int = 9,
                 norm: NormKind | str = "instance", use_dropout: bool = False, *, padding_type: str = "reflect",
                 norm_affine: bool = False, conv_bias: bool | None = None) -> None:
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be ≥ 0, got {n_blocks}")
        bias = _bias(norm, conv_bias)

        def nl(c: int) -> nn.Module:
            return norm_layer(norm, c, affine=norm_affine)

        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, bias=bias), nl(ngf),
                                   nn.ReLU(True)]
        ch = ngf
        for _ in range(2):  # d128, d256
            layers += [nn.Conv2d(ch, ch * 2, 3, stride=2, padding=1, bias=bias), nl(ch * 2), nn.ReLU(True)]
            ch *= 2
        layers += [ResnetBlock(ch, norm, use_dropout, padding_type=padding_type, norm_affine=norm_affine,
                               bias=conv_bias) for _ in range(n_blocks)]
        for _ in range(2):  # u128, u64
            layers += [nn.ConvTranspose2d(ch, ch // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                       nl(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def infer_norm(state: Mapping[str, torch.Tensor], norm_key: str, conv_key: str) -> dict[str, Any]:
    """Read a norm layer's kind from its entries (``norm_key`` = its prefix, ``conv_key`` = the convolution
    before it): running statistics **and** a scale → batch norm (batch norm is told apart by its running
    statistics, not by the presence of ``weight``); a scale without statistics → instance norm with affine
    parameters; statistics without a scale → instance norm (the 2018 CycleGAN files' stray statistics); nothing
    → instance norm if the convolution has a bias, else none (the original's bias rule).

    Returns:
        `dict`: ``norm``, ``norm_affine`` and ``conv_bias`` (``None`` when the bias follows the original's rule).
    """
    has_stats = f"{norm_key}.running_mean" in state
    scale = state.get(f"{norm_key}.weight")
    has_scale = scale is not None and scale.dim() == 1
    has_bias = f"{conv_key}.bias" in state
    if has_stats and has_scale:
        norm, affine = "batch", False
    elif has_scale:
        norm, affine = "instance", True
    elif has_stats:
        norm, affine = "instance", False
    else:
        norm, affine = ("instance" if has_bias else "none"), False
    return {"norm": norm, "norm_affine": affine, "conv_bias": None if has_bias == conv_bias(norm) else has_bias}


def infer_resnet_config(state: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """Read a :class:`ResnetGenerator`'s constructor arguments from an (original-layout) state dict.

    Returns ``None`` when the keys are not a ResNet generator's (no 7×7 stem at ``model.1.weight``). The result
    still has to be checked against the built network (:func:`ganzoo.nn.norm.check_layout`): this reads the
    keys that decide the architecture, not every key.

    Rules: ``ngf``/``input_nc`` from ``model.1.weight`` [ngf, C_in, 7, 7]; ``n_blocks`` = number of
    ``model.<i>.conv_block`` from 10 on. Inside the first block, the two convolutions are found by their shapes
    (4-D weights, not 1-D norm scales) rather than assumed positions: the first at index 0 means zero padding
    (no pad layer), at 1 a pad layer (reflect: the original's; replicate looks the same, ``--set
    padding_type=replicate`` says so); a gap of one more index than norm + ReLU + pad take means a dropout
    layer. Norm kind, affine instance norm and the bias rule: :func:`infer_norm` on ``model.2``/``model.1``;
    ``output_nc`` from the output convolution ``model.<17+n>.weight``.
    """
    stem = state.get("model.1.weight")
    if stem is None or stem.dim() != 4 or tuple(stem.shape[2:]) != (7, 7):
        return None
    ngf, input_nc = int(stem.shape[0]), int(stem.shape[1])
    n_blocks = 0
    while any(k.startswith(f"model.{10 + n_blocks}.conv_block.") for k in state):
        n_blocks += 1
    padding_type, use_dropout = "reflect", False
    if n_blocks:
        convs = sorted(int(k.split(".")[3]) for k, v in state.items()
                       if k.startswith("model.10.conv_block.") and k.endswith(".weight") and v.dim() == 4)
        if len(convs) != 2:
            return None
        first, second = convs
        padding_type = "zero" if first == 0 else "reflect"
        gap = second - first  # norm + ReLU (+ the second conv's pad layer) without dropout
        use_dropout = gap == (3 if padding_type == "zero" else 4) + 1
    out = state.get(f"model.{17 + n_blocks}.weight")
    if out is None or out.dim() != 4:
        return None
    return {"input_nc": input_nc, "output_nc": int(out.shape[0]), "ngf": ngf, "n_blocks": n_blocks,
            "use_dropout": use_dropout, "padding_type": padding_type, **infer_norm(state, "model.2", "model.1")}
