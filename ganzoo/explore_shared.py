"""Interpolation across domains in the shared latent space of a two-domain translator (UNIT, XGAN, …).

A shared-latent translator encodes images of either domain into one space. So an image of domain A and an image
of domain B have codes in the same space, the straight path between them is a walk from one picture's content to
the other's, and every point of the walk can be decoded into *either* domain:

    row "into A":  a | G_A(z(0)) G_A(z(1/7)) … G_A(z(1)) | b
    row "into B":  a | G_B(z(0)) G_B(z(1/7)) … G_B(z(1)) | b

with ``z(t) = lerp(E_A(a), E_B(b), t)``. The first decoded column is the A image reconstructed (into A) or
translated (into B); the last, the B image translated or reconstructed.

A model takes part when its implementation provides the ``encode_latent`` hook and ``latent`` + ``generate``
(``generate(model, z, domain=…)`` decodes into a domain). :func:`interpolate_domains` returns the grid as a batch;
:func:`write_interpolation` reads two image files and writes the grid (``ganzoo sample NAME --interpolate
--input a.png --input-b b.png``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch

from .errors import UsageError
from .explore import lerp, slerp

__all__ = ["supports_shared_latent", "interpolate_domains", "write_interpolation"]


def supports_shared_latent(model: Any) -> bool:
    """Whether ``model`` encodes images into a latent space it decodes (``encode_latent`` + ``latent``/``generate``)."""
    impl = model.impl
    return impl.supports("encode_latent") and impl.supports("latent")


def _need(model: Any) -> None:
    if not supports_shared_latent(model):
        raise UsageError(f"{model.name or model.plugin.name} does not encode images into a shared latent space "
                         f"(encode_latent + latent/generate): cross-domain interpolation needs a shared-latent "
                         f"translator such as unit or xgan")


def _rgb(x: torch.Tensor) -> torch.Tensor:
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def _fit_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return torch.nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False,
                                           antialias=True).clamp(-1, 1)


@torch.no_grad()
def interpolate_domains(model: Any, image_a: torch.Tensor, image_b: torch.Tensor, *, steps: int = 8,
                        method: str = "lerp", into: Sequence[str] = ("A", "B")) -> torch.Tensor:
    """Decode the path between the codes of an A image and a B image into each domain of ``into``.

    Args:
        model: a loaded shared-latent translator (``unit``, ``xgan`` …).
        image_a: domain A image(s), (C, H, W) or (N, C, H, W) in [-1, 1].
        image_b: as many domain B images.
        steps: decoded points per row (≥ 2), from ``a``'s code to ``b``'s.
        method: ``"lerp"`` (straight line: codes of real images are not on a Gaussian shell) or ``"slerp"``.
        into: the domains to decode into, a row each (``"A"``, ``"B"``, or the config's domain names).

    Returns:
        `torch.Tensor`: ``N · len(into)`` rows of ``steps + 2`` images (``a``, the decoded path, ``b``), as one
        batch (N·len(into)·(steps + 2), C, H, W) to save with ``nrow=steps + 2``; grey domains next to colour
        ones are repeated to RGB; every image has the A image's size.

    Raises:
        UsageError: the model has no shared latent space; ``steps`` < 2; an unknown method or domain; different
            numbers of A and B images; images with the wrong channel count; codes whose dimensions do not match
            (e.g. a fully convolutional model given images of different sizes).

    Example:
        >>> grid = interpolate_domains(model, noto_image, twemoji_image, steps=8)
        >>> save_image_grid(grid, "path.png", nrow=10)
    """
    _need(model)
    if steps < 2:
        raise UsageError(f"interpolation needs steps ≥ 2, got {steps}")
    if method not in ("lerp", "slerp"):
        raise UsageError(f"method must be lerp or slerp, got {method!r}")
    impl = model.impl
    a = image_a[None] if isinstance(image_a, torch.Tensor) and image_a.dim() == 3 else image_a
    b = image_b[None] if isinstance(image_b, torch.Tensor) and image_b.dim() == 3 else image_b
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape[0] != b.shape[0]:
        raise UsageError(f"give as many B images as A images: {a.shape[0]} A, {b.shape[0]} B")
    z_a = impl.encode_latent(model, a, domain="A")
    z_b = impl.encode_latent(model, b, domain="B")
    if z_a.shape[1:] != z_b.shape[1:]:
        raise UsageError(f"code dimensions do not match across domains: the A image's code is {tuple(z_a.shape[1:])}, "
                         f"the B image's {tuple(z_b.shape[1:])}; give images of the same size "
                         f"({tuple(a.shape[-2:])} vs {tuple(b.shape[-2:])})")
    fn = slerp if method == "slerp" else lerp
    t = torch.linspace(0, 1, steps, device=z_a.device)
    size = tuple(a.shape[-2:])
    rows = []
    for i in range(a.shape[0]):
        path = fn(z_a[i:i + 1].expand(steps, *z_a.shape[1:]), z_b[i:i + 1].expand(steps, *z_b.shape[1:]), t)
        for domain in into:
            decoded = _fit_to(impl.generate(model, path, domain=domain).float().cpu(), size)
            ends = (_fit_to(a[i:i + 1].float().cpu(), size), _fit_to(b[i:i + 1].float().cpu(), size))
            rows.append([ends[0], decoded, ends[1]])
    rgb = any(x.shape[1] == 3 for row in rows for x in row)
    return torch.cat([_rgb(x) if rgb else x for row in rows for x in row])


def write_interpolation(model: Any, src_a: str | Path, src_b: str | Path | None, dst: str | Path, *, steps: int = 8,
                        method: str = "lerp", into: Sequence[str] = ("A", "B")) -> Path:
    """Read an A image and a B image, write the grid of :func:`interpolate_domains` to ``dst`` (PNG/JPEG).

    The CLI's ``ganzoo sample NAME --interpolate --input A.png --input-b B.png -o grid.png``.

    Raises:
        UsageError: no B image, an input that is not a file, an output that is not an image file, or any error
            of :func:`interpolate_domains`.
        DataError: an input is not a readable image.
    """
    from .data.images import open_image, save_image_grid, to_tensor

    _need(model)
    if src_b is None:
        raise UsageError("cross-domain interpolation needs two images: --input A_IMAGE (domain A) and --input-b "
                         "B_IMAGE (domain B)")
    dst = Path(dst)
    if dst.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise UsageError(f"write the interpolation grid as .png or .jpg, not {dst.name!r}")
    images = []
    for src, domain in ((Path(src_a), "A"), (Path(src_b), "B")):
        if not src.is_file():
            raise UsageError(f"--interpolate reads one image per domain; {src} is not a file")
        channels = model.impl.input_channels(model, direction="AtoB" if domain == "A" else "BtoA")
        images.append(to_tensor(open_image(src, channels))[None])
    grid = interpolate_domains(model, images[0], images[1], steps=steps, method=method, into=into)
    return save_image_grid(grid, dst, nrow=steps + 2)
