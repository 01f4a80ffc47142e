"""Reading images robustly: any mode (grey, RGBA, palette, 16-bit) to float CHW in [-1, 1], and back to PNG."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError

__all__ = ["IMAGE_EXTENSIONS", "list_images", "open_image", "to_tensor", "save_image_grid", "save_image",
           "tensor_to_pil"]

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def list_images(root: str | os.PathLike[str], *, recursive: bool = True) -> tuple[list[Path], int]:
    """Image files under ``root`` (sorted) and the number of other files that were skipped."""
    root = Path(root)
    if not root.exists():
        raise DataError(f"No such data folder: {root}")
    if not root.is_dir():
        raise DataError(f"{root} is a file; give the folder that holds the images")
    files, skipped = [], 0
    walker = root.rglob("*") if recursive else root.iterdir()
    for p in walker:
        if p.is_dir() or p.name.startswith("."):
            continue
        if p.suffix.lower() in IMAGE_EXTENSIONS:
            files.append(p)
        else:
            skipped += 1
    return sorted(files), skipped


def open_image(path: str | os.PathLike[str], channels: int) -> Any:
    """Open an image as a PIL image with ``channels`` channels (1: "L", 3: "RGB").

    * the EXIF orientation is applied (photos from phones are stored sideways);
    * RGBA, LA and palette images with transparency are composited on white (the emoji/clip-art convention);
    * 16-bit images are scaled to 8 bits by the 16-bit range (65535 → 255), as a viewer shows them; 32-bit
      integer and float images by their own range (their scale is not standard).

    Raises:
        DataError: the file is not a readable image (the path is named).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as opened:  # closed also when decoding fails (a truncated file)
            opened.load()
            img = ImageOps.exif_transpose(opened)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as err:
        raise DataError(f"{path} is not a readable image ({err.__class__.__name__}: {err}); remove or replace "
                        f"it") from err
    if img.mode.startswith("I;16"):
        arr = np.asarray(img, dtype=np.float64) / 257.0
        img = Image.fromarray(arr.round().clip(0, 255).astype(np.uint8), mode="L")
    elif img.mode in ("I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
        if img.mode == "I" and lo >= 0 and hi <= 255:
            pass  # 8-bit values held as 32-bit integers
        elif img.mode == "I" and lo >= 0 and hi <= 65535:
            arr = arr / 257.0  # a 16-bit image PIL opened as 32-bit integers
        elif img.mode == "F" and lo >= 0 and hi <= 1:
            arr = arr * 255.0
        else:
            arr = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        img = Image.fromarray(arr.round().clip(0, 255).astype(np.uint8), mode="L")
    if img.mode in ("P", "PA"):
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "La", "RGBa"):
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img.convert("RGBA"))
    if channels == 1:
        return img.convert("L")
    if channels == 3:
        return img.convert("RGB")
    raise DataError(f"channels must be 1 or 3, got {channels}")


def to_tensor(img: Any) -> Any:
    """PIL image → float tensor CHW in [-1, 1]."""
    import torch

    arr = np.asarray(img, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr.transpose(2, 0, 1).copy()).div_(127.5).sub_(1.0)


def tensor_to_pil(t: Any) -> Any:
    """One image tensor CHW in [-1, 1] → PIL image (grey for 1 channel)."""
    from PIL import Image

    arr = ((t.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(dtype=__import__("torch").uint8).numpy()
    if arr.shape[0] == 1:
        return Image.fromarray(arr[0], mode="L")
    return Image.fromarray(arr.transpose(1, 2, 0), mode="RGB")


def _check_out_path(path: str | os.PathLike[str]) -> Path:
    """``path``, with its missing parent folders created (as ``mkdir -p`` would)."""
    from ..files import make_output_dir

    path = Path(path)
    make_output_dir(path.parent if str(path.parent) else Path("."), what=f"folder of {path.name}")
    return path


def save_image(t: Any, path: str | os.PathLike[str]) -> Path:
    """Save one image tensor CHW in [-1, 1] (atomically; the format from the suffix; missing folders created)."""
    from ..files import atomic_write

    path = _check_out_path(path)
    img = tensor_to_pil(t)
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG"}.get(path.suffix.lower(), "PNG")
    with atomic_write(path) as f:
        img.save(f, format=fmt)
    return path


def save_image_grid(images: Any, path: str | os.PathLike[str], *, nrow: int | None = None, padding: int = 2) -> Path:
    """Save a batch NCHW in [-1, 1] as one grid image (``nrow`` per row, default ≈ √N), atomically."""
    import math

    from torchvision.utils import make_grid

    if images.ndim != 4:
        raise DataError(f"expected a batch of images NCHW, got shape {tuple(images.shape)}")
    n = images.shape[0]
    nrow = nrow or max(1, int(math.ceil(math.sqrt(n))))
    grid = make_grid(images.detach().float().cpu().clamp(-1, 1), nrow=nrow, padding=padding, pad_value=1.0)
    if images.shape[1] == 1:
        grid = grid[:1]
    return save_image(grid, path)
