"""The U-Net generator of pix2pix (Isola et al. 2017, §3.2.1 and appendix 6.1.1).

Paper names: encoder ``C64-C128-C256-C512-C512-C512-C512-C512``, decoder ``CD512-CD512-CD512-C512-C256-C128-C64``
with skip connections between mirrored layers (``Ck``: conv-norm-ReLU with k filters; ``CDk`` adds dropout 0.5);
4×4 convolutions with stride 2 throughout, LeakyReLU 0.2 in the encoder, ReLU in the decoder, no norm on the
first encoder layer, tanh output. ``num_downs`` = 8 halvings (``unet_256``: a 256² input reaches 1×1) or 7
(``unet_128``).

**Layout (kept identical to the original code, so its checkpoints load with their own keys).** The network is
nested :class:`UnetSkipBlock` s, built from the innermost outwards; each block's layers are one ``nn.Sequential``
named ``model`` and the next block sits inside it. Indices in a block's ``model``:

* outermost: ``0`` down-conv (C_in→ngf), ``1`` sub-block, ``2`` ReLU, ``3`` ConvT (2ngf→C_out, with bias), ``4`` Tanh;
* middle:    ``0`` LeakyReLU, ``1`` down-conv, ``2`` norm, ``3`` sub-block, ``4`` ReLU, ``5`` ConvT (2·inner→outer),
  ``6`` norm, [``7`` Dropout(0.5)] — dropout is appended last, so it does not show in the keys;
* innermost: ``0`` LeakyReLU, ``1`` down-conv, ``2`` ReLU, ``3`` ConvT (inner→outer), ``4`` norm (no norm on the
  bottleneck itself).

Keys therefore nest as ``model.model.1.model.3.model.3. …``. Every non-outermost block returns
``cat([x, block(x)], 1)`` — the skip path first. Convolutions have a bias only under instance norm (and the
outermost ConvT always), the outermost down-conv never under batch norm. Widths from the innermost block out:
``ngf·8`` for the innermost and the ``num_downs - 5`` middle blocks with dropout, then ``ngf·4, ngf·2, ngf``.
Parameters with ``ngf=64, num_downs=8``: 54,413,955 (82 state-dict entries with the BatchNorm buffers);
``num_downs=7``: 41,828,995.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from .norm import NormKind, conv_bias
from .norm import norm_layer as _norm_layer
from .resnet import infer_norm

__all__ = ["UnetSkipBlock", "UnetGenerator", "infer_unet_config"]


class UnetSkipBlock(nn.Module):
    """One level of the U-Net: down-conv → ``submodule`` → up-conv, with the skip concatenation (not outermost).

    Args:
        outer_nc: channels this block returns to its parent (before the skip concatenation).
        inner_nc: channels of this block's downsampled map.
        input_nc: channels coming in (default ``outer_nc``; the outermost block takes the image channels).
        submodule: the next block inwards (``None`` for the innermost).
        outermost / innermost: position flags.
        norm: norm kind; use_dropout: dropout 0.5 after the up path (middle blocks only).
        norm_affine: instance norm with learnt scale and shift; bias: the convolutions' bias (default: the
            original's rule, :func:`ganzoo.nn.norm.conv_bias`).
    """

    def __init__(self, outer_nc: int, inner_nc: int, input_nc: int | None = None, submodule: nn.Module | None = None,
                 *, outermost: bool = False, innermost: bool = False, norm: NormKind | str = "batch",
                 use_dropout: bool = False, norm_affine: bool = False, bias: bool | None = None) -> None:
        super().__init__()
        self.outermost = outermost
        bias = conv_bias(norm, bias)

        def norm_layer(kind: str, c: int) -> nn.Module:
            return _norm_layer(kind, c, affine=norm_affine)

        input_nc = outer_nc if input_nc is None else input_nc
        down = nn.Conv2d(input_nc, inner_nc, 4, stride=2, padding=1, bias=bias)
        # LeakyReLU out of place: the original's in-place version rewrites x before the skip concatenation, which
        # is harmless only because the parent applies ReLU next (ReLU∘LeakyReLU = ReLU); out of place is equal.
        if outermost:
            assert submodule is not None
            layers: list[nn.Module] = [down, submodule, nn.ReLU(True),
                                       nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1), nn.Tanh()]
        elif innermost:
            layers = [nn.LeakyReLU(0.2), down, nn.ReLU(True),
                      nn.ConvTranspose2d(inner_nc, outer_nc, 4, stride=2, padding=1, bias=bias),
                      norm_layer(norm, outer_nc)]
        else:
            assert submodule is not None
            layers = [nn.LeakyReLU(0.2), down, norm_layer(norm, inner_nc), submodule, nn.ReLU(True),
                      nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1, bias=bias),
                      norm_layer(norm, outer_nc)]
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """U-Net generator: image (N, C_in, H, W) in [-1, 1] → image (N, C_out, H, W) in [-1, 1].

    Args:
        input_nc / output_nc: image channels in and out.
        num_downs: number of halvings (8: ``unet_256``, 7: ``unet_128``); at least 5.
        ngf: width of the first layer (64 in the paper).
        norm: ``"batch"`` (pix2pix), ``"instance"`` or ``"none"``.
        use_dropout: dropout 0.5 in the ``num_downs - 5`` innermost decoder layers (pix2pix's noise source).
        norm_affine: instance norm with learnt scale and shift.
        conv_bias: a bias on the convolutions (default: the original's rule, only under instance norm).

    H and W must be multiples of :attr:`stride` ``= 2**num_downs``.
    """

    def __init__(self, input_nc: int = 3, output_nc: int = 3, num_downs: int = 8, ngf: int = 64,
                 norm: NormKind | str = "batch", use_dropout: bool = True, *, norm_affine: bool = False,
                 conv_bias: bool | None = None) -> None:
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"num_downs must be ≥ 5 (four outer levels + the bottleneck), got {num_downs}")
        self.num_downs = num_downs
        kw: dict[str, Any] = {"norm": norm, "norm_affine": norm_affine, "bias": conv_bias}
        block = UnetSkipBlock(ngf * 8, ngf * 8, innermost=True, **kw)
        for _ in range(num_downs - 5):
            block = UnetSkipBlock(ngf * 8, ngf * 8, submodule=block, use_dropout=use_dropout, **kw)
        for mult in (4, 2, 1):
            block = UnetSkipBlock(ngf * mult, ngf * mult * 2, submodule=block, **kw)
        self.model = UnetSkipBlock(output_nc, ngf, input_nc, block, outermost=True, **kw)

    @property
    def stride(self) -> int:
        """Total downsampling factor: sides must be multiples of it."""
        return 2 ** self.num_downs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def infer_unet_config(state: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """Read a :class:`UnetGenerator`'s constructor arguments from an (original-layout) state dict.

    Returns ``None`` when the keys are not a U-Net's (no outermost down-conv ``model.model.0.weight`` of shape
    [ngf, C_in, 4, 4]). Dropout cannot be read from the keys (it is appended after the last norm): the result
    has no ``use_dropout``; pix2pix models are trained with it.

    Rules: ``ngf``/``input_nc`` from ``model.model.0.weight``; ``output_nc`` from the outermost ConvT
    ``model.model.3.weight`` [2ngf, C_out, 4, 4]; ``num_downs`` = the nesting depth (follow ``…model.3.`` while a
    sub-block's down-conv ``…model.3.model.1.weight`` exists); norm kind, affine instance norm and the bias
    rule from the second level (:func:`ganzoo.nn.resnet.infer_norm` on ``model.model.1.model.2`` and its
    down-conv ``model.model.1.model.1``).
    """
    first = state.get("model.model.0.weight")
    last = state.get("model.model.3.weight")
    if first is None or last is None or first.dim() != 4 or tuple(first.shape[2:]) != (4, 4) or last.dim() != 4:
        return None
    prefix, depth = "model.model.1.", 2
    if prefix + "model.1.weight" not in state:
        return None
    while f"{prefix}model.3.model.1.weight" in state:
        prefix += "model.3."
        depth += 1
    return {"input_nc": int(first.shape[1]), "output_nc": int(last.shape[1]), "ngf": int(first.shape[0]),
            "num_downs": depth, **infer_norm(state, "model.model.1.model.2", "model.model.1.model.1")}
