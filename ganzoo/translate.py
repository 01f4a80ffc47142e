"""Translating image files and folders with an image-conditioned model (``ganzoo sample NAME --input PATH``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .data.images import list_images, open_image, save_image, to_tensor
from .errors import DataError, UsageError

__all__ = ["translate_image", "translate_path"]


def _input_channels(model: Any) -> int:
    cfg = model.config
    return int(getattr(cfg, "input_channels", getattr(cfg, "channels", 3)))


@torch.no_grad()
def translate_image(model: Any, image: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    """Translate one image (C, H, W) in [-1, 1] of any size; the output has the input's size.

    The image is padded (reflection) up to a multiple of the network's stride (``impl.size_multiple``), translated,
    and cropped back. A plugin with its own rules implements ``impl.translate(model, image, **kwargs)``.
    """
    impl = model.impl
    if callable(getattr(impl, "translate", None)):
        return impl.translate(model, image, **kwargs)
    mult = int(getattr(impl, "size_multiple", lambda m: 1)(model) if callable(getattr(impl, "size_multiple", None))
               else getattr(impl, "size_multiple", 1))
    _, h, w = image.shape
    ph, pw = (-h) % mult, (-w) % mult
    x = image[None].to(model.device)
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    y = model.sample(condition=x, **kwargs)
    return y[0, :, :h, :w].cpu()


def translate_path(model: Any, src: Path, dst: Path, *, batch_size: int = 16, seed: int | None = 0,
                   **kwargs: Any) -> Path:
    """Translate an image file (→ file ``dst``) or a folder (→ folder ``dst``, same names, PNG)."""
    from tqdm.auto import tqdm

    src, dst = Path(src), Path(dst)
    channels = _input_channels(model)
    if src.is_file():
        out = translate_image(model, to_tensor(open_image(src, channels)), seed=seed, **kwargs)
        if dst.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            raise UsageError(f"output {dst} needs an image suffix (.png or .jpg) for a single input image")
        return save_image(out, dst)
    if not src.exists():
        raise UsageError(f"No such input: {src}")
    files, skipped = list_images(src)
    if not files:
        raise DataError(f"{src} holds no images to translate")
    if dst.suffix:
        raise UsageError(f"{dst} looks like a file; give an output folder for an input folder")
    dst.mkdir(parents=True, exist_ok=True)
    bad = []
    for f in tqdm(files, desc=f"translate {src.name}", unit="img"):
        try:
            image = to_tensor(open_image(f, channels))
        except DataError:
            bad.append(f.name)
            continue
        out = translate_image(model, image, seed=seed, **kwargs)
        rel = f.relative_to(src).with_suffix(".png")
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        save_image(out, dst / rel)
    if bad:
        import logging

        logging.getLogger(__name__).warning("skipped %d unreadable file(s): %s", len(bad), ", ".join(bad[:5]))
    return dst
