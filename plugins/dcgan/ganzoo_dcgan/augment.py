"""DiffAugment — Zhao, Liu, Lin, Zhu & Han, "Differentiable Augmentation for Data-Efficient GAN Training",
NeurIPS 2020 (arXiv 2006.10738).

With few training images, D memorises them and G's gradients turn into noise (here: D(x) → 0.97 on the 4,500
OpenCV digits after ~40 epochs, and the samples get worse from there on). DiffAugment applies the *same* random,
differentiable transformations to every image D sees — real ones in D's step, generated ones in both steps — so D
cannot memorise pixels while G still gets gradients through the transformation. Policies (the paper's):

* ``color``: brightness ± 0.5, saturation × [0, 2], contrast × [0.5, 1.5], per image;
* ``translation``: shift by an integer in [−⌊S/8⌉, ⌊S/8⌉] pixels along each axis, per image;
* ``cutout``: one square of side ⌊S/2⌉ at a random position, per image.

One departure, for images that are mostly background: translation and cutout fill with −1 (black, the
background of ``[-1, 1]`` digit images) where the paper's code fills with 0 (mid-grey for ``[-1, 1]`` images).
Random draws come from :func:`ganzoo.training.rng.draw`: the trainer's step noise during training (so a resumed
run draws what an uninterrupted one does), the global RNG otherwise.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

__all__ = ["POLICIES", "parse_policy", "diff_augment"]

#: The transformations a policy may name, applied in this order.
POLICIES = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125  # the paper's: shifts up to 1/8 of the side
CUTOUT_RATIO = 0.5  # the paper's: a square of half the side
FILL = -1.0  # background of [-1, 1] images (the paper's code: 0)


def parse_policy(policy: str) -> tuple[str, ...]:
    """The transformations named by a comma-separated policy (``""``: none), in :data:`POLICIES` order.

    Raises:
        ValueError: an unknown name (the known ones are listed).
    """
    names = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [p for p in names if p not in POLICIES]
    if unknown:
        raise ValueError(f"unknown DiffAugment transformation(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(POLICIES)} (comma-separated), or '' for none")
    return tuple(p for p in POLICIES if p in names)


def _uniform(n: int, k: int, x: torch.Tensor) -> torch.Tensor:
    from ganzoo.training import rng

    return rng.draw(torch.rand, n, (k,), x.device).to(x.dtype)


def _color(x: torch.Tensor) -> torch.Tensor:
    u = _uniform(x.shape[0], 3, x)[:, :, None, None, None]
    x = x + (u[:, 0] - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (u[:, 1] * 2) + mean
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (u[:, 2] + 0.5) + mean


def _grid(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n, _, h, w = x.shape
    return torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                          torch.arange(w, device=x.device), indexing="ij")


def _translation(x: torch.Tensor) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * TRANSLATION_RATIO + 0.5), int(w * TRANSLATION_RATIO + 0.5)
    u = _uniform(n, 2, x)
    ty = (u[:, 0] * (2 * sh + 1)).long().clamp(max=2 * sh) - sh  # uniform integers in [-sh, sh]
    tx = (u[:, 1] * (2 * sw + 1)).long().clamp(max=2 * sw) - sw
    gb, gy, gx = _grid(x)
    # read through a one-pixel border of FILL: every index that leaves the image lands on it
    gy = (gy + ty[:, None, None] + 1).clamp(0, h + 1)
    gx = (gx + tx[:, None, None] + 1).clamp(0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1], value=FILL)
    return padded.permute(0, 2, 3, 1)[gb, gy, gx].permute(0, 3, 1, 2)


def _cutout(x: torch.Tensor) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * CUTOUT_RATIO + 0.5), int(w * CUTOUT_RATIO + 0.5)
    u = _uniform(n, 2, x)
    oy = (u[:, 0] * (h + 1 - ch % 2)).long()  # the centre's range of the paper's code
    ox = (u[:, 1] * (w + 1 - cw % 2)).long()
    gb, gy, gx = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(ch, device=x.device),
                                torch.arange(cw, device=x.device), indexing="ij")
    gy = (gy + oy[:, None, None] - ch // 2).clamp(0, h - 1)
    gx = (gx + ox[:, None, None] - cw // 2).clamp(0, w - 1)
    keep = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    keep[gb, gy, gx] = 0
    keep = keep[:, None]
    return x * keep + FILL * (1 - keep)


_OPS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"color": _color, "translation": _translation,
                                                           "cutout": _cutout}


def diff_augment(x: torch.Tensor, policy: str | tuple[str, ...]) -> torch.Tensor:
    """Apply a DiffAugment policy to a batch of images (N, C, H, W) in [-1, 1]; differentiable in ``x``.

    Args:
        x (`Tensor`): the images D is about to see (real or generated).
        policy (`str` or `tuple[str, ...]`): ``"translation"``, ``"translation,cutout"``, ``"color,translation,cutout"``
            …; empty: ``x`` unchanged.

    Returns:
        `Tensor`: the transformed images, same shape and dtype.

    Raises:
        ValueError: an unknown transformation name.

    Example:
        ```python
        >>> x = torch.rand(4, 1, 32, 32) * 2 - 1
        >>> diff_augment(x, "translation,cutout").shape
        torch.Size([4, 1, 32, 32])
        ```
    """
    for name in parse_policy(policy) if isinstance(policy, str) else policy:
        x = _OPS[name](x)
    return x
