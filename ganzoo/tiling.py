"""Translating large images within a memory budget: estimate, then one pass, tiles, or a clear refusal.

A 6000² photo through a fully convolutional translator holds tens of GB of activations. Before translating an
image of more than :data:`CHECK_ABOVE_PIXELS` pixels, :func:`estimate_memory` measures what a translation holds
at two small probe sizes (the live outputs of every module, at their peak) and extrapolates linearly in the
pixel count. When the estimate exceeds :func:`memory_budget` (``GANZOO_TRANSLATE_MEMORY`` in GB; else 80 % of the
free GPU memory, or half the RAM up to 8 GiB on CPU), a fully convolutional translator (pad policy, no custom
``translate`` hook) runs on overlapping tiles blended with linear ramps (:func:`translate_tiled`); any other is
refused with a one-line :class:`~ganzoo.errors.DataError` naming the limit and the ``max_side`` (``--max-side``)
that would fit. Smaller images are translated exactly as before.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from .errors import DataError, UsageError
from .translate import _target, size_rule, translate_image

__all__ = ["CHECK_ABOVE_PIXELS", "MemoryModel", "Planner", "downscale", "estimate_memory", "memory_budget",
           "translate_large", "translate_tiled"]

logger = logging.getLogger(__name__)

#: Images up to this many pixels are translated without a memory estimate (the estimate costs two small passes).
CHECK_ABOVE_PIXELS = 1024 * 1024
_GiB = 1024 ** 3


def memory_budget(device: torch.device | str) -> int:
    """The bytes one translation may hold: ``GANZOO_TRANSLATE_MEMORY`` (GB) if set; else 80 % of the free memory of
    a CUDA device, or half the RAM (at most 8 GiB) on CPU.

    Raises:
        UsageError: ``GANZOO_TRANSLATE_MEMORY`` is not a positive number.
    """
    raw = os.environ.get("GANZOO_TRANSLATE_MEMORY", "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not value > 0:
            raise UsageError(f"GANZOO_TRANSLATE_MEMORY must be a positive number of GB, got {raw!r}")
        return int(value * 1e9)
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free * 0.8)
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        ram = 16 * _GiB
    return int(min(8 * _GiB, ram // 2))


@dataclass(frozen=True)
class MemoryModel:
    """Bytes a translation holds at its peak, as ``fixed + per_pixel × H × W`` (input pixels)."""

    fixed: float
    per_pixel: float

    def bytes_for(self, h: int, w: int) -> int:
        """The estimate for an ``h × w`` input."""
        return int(self.fixed + self.per_pixel * h * w)

    def max_pixels(self, budget: int) -> int:
        """The most input pixels that fit in ``budget`` bytes (0 when even the fixed part does not)."""
        room = budget - self.fixed
        return 0 if room <= 0 else int(room / max(self.per_pixel, 1e-9))


def _size(n: float) -> str:
    """Bytes for messages: 23.4 GB, 512 MB, 96 kB."""
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= div or unit == "kB":
            return f"{n / div:.{1 if div == 1e9 else 0}f} {unit}"
    return f"{n:.0f} B"  # pragma: no cover


_MARGIN = 1.6  # what the hooks miss: convolution workspaces, ops between modules, allocator slack (measured)


def _peak_bytes(model: Any, image: torch.Tensor, **kwargs: Any) -> int:
    """Run one translation and return the peak bytes held by live module outputs, plus input and output."""
    import weakref

    live = {"now": 0, "peak": 0}
    seen: set[int] = set()

    def release(ptr: int, nbytes: int) -> None:
        seen.discard(ptr)
        live["now"] -= nbytes

    def track(t: Any) -> None:
        if isinstance(t, torch.Tensor):
            ptr = t.untyped_storage().data_ptr()
            if ptr in seen:
                return
            nbytes = t.untyped_storage().nbytes()
            seen.add(ptr)
            live["now"] += nbytes
            live["peak"] = max(live["peak"], live["now"])
            weakref.finalize(t, release, ptr, nbytes)
        elif isinstance(t, (tuple, list)):
            for x in t:
                track(x)
        elif isinstance(t, dict):
            for x in t.values():
                track(x)

    handles = [m.register_forward_hook(lambda _m, _i, out: track(out)) for m in model.modules()]
    devices = [model.device] if model.device.type == "cuda" else []
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=devices):  # the probe leaves every RNG as it was
            out = translate_image(model, image, **kwargs)
    finally:
        for h in handles:
            h.remove()
    return live["peak"] + image.numel() * image.element_size() + out.numel() * out.element_size()


def estimate_memory(model: Any, channels: int, **kwargs: Any) -> MemoryModel:
    """Measure what translating one image holds in memory, as a :class:`MemoryModel` of the input size.

    Two probe translations of blank images (sides of 64 and 128 px, or the model's stride multiples) are traced:
    the outputs of every module are counted while alive (module hooks and weak references, so a U-Net's skip
    tensors count as long as they are held). The two peaks give the fixed and per-pixel parts; a 60 % margin covers
    what runs outside modules. The RNG state is left untouched.

    Args:
        model: a loaded translator (``GanModel``).
        channels (`int`): the input channels its ``sample`` takes (with ``kwargs``).
        **kwargs: the sampling options the real translation uses (``direction``, ``seed`` …).

    Returns:
        `MemoryModel`: the estimate for any input size.

    Example:
        ```python
        mem = estimate_memory(ganzoo.load("cyclegan"), 3)
        mem.bytes_for(6000, 6000) / 1e9  # GB for a 6000² photo in one pass
        ```
    """
    rule = size_rule(model)
    s1 = _target(64, rule)
    s2 = _target(2 * s1, rule)
    blank = torch.zeros(channels, s1, s1)
    p1 = _peak_bytes(model, blank, **kwargs)
    p2 = _peak_bytes(model, torch.zeros(channels, s2, s2), **kwargs)
    per_pixel = max((p2 - p1) / float(s2 * s2 - s1 * s1), 0.0)
    fixed = max(p1 - per_pixel * s1 * s1, 0.0)
    return MemoryModel(fixed * _MARGIN, per_pixel * _MARGIN)


def downscale(image: torch.Tensor, max_side: int) -> torch.Tensor:
    """Shrink an image (C, H, W) so that its longer side is at most ``max_side`` (bicubic, antialiased); smaller
    images are returned as they are."""
    h, w = int(image.shape[-2]), int(image.shape[-1])
    if max(h, w) <= max_side:
        return image
    scale = max_side / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    return F.interpolate(image[None], size=size, mode="bicubic", align_corners=False, antialias=True)[0].clamp_(-1, 1)


def _tileable(model: Any) -> bool:
    """Tiles give the same network the same kind of input only for fully convolutional pad-policy translators."""
    impl = model.impl
    return size_rule(model).policy == "pad" and not impl.supports("translate")


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


def _ramp(n: int, rise: bool, fall: bool, overlap: int) -> torch.Tensor:
    """Weights along one tile side: linear over ``overlap`` pixels at the sides shared with a neighbour."""
    w = torch.ones(n)
    k = min(overlap, n // 2)
    if k > 0:
        edge = torch.arange(1, k + 1, dtype=torch.float32) / (k + 1)
        if rise:
            w[:k] = edge
        if fall:
            w[n - k:] = edge.flip(0)
    return w


@torch.no_grad()
def translate_tiled(model: Any, image: torch.Tensor, *, tile: int, overlap: int, **kwargs: Any) -> torch.Tensor:
    """Translate one image (C, H, W) as overlapping ``tile × tile`` crops, blended with linear ramps over
    ``overlap`` pixels; the output has the input's size. For fully convolutional translators: each crop is what the
    network would see of the whole image, up to its receptive field at the crop's edges (which the blending hides)
    and per-crop normalisation statistics (instance norm) — close to, not identical with, a whole-image pass."""
    _, h, w = image.shape
    out: torch.Tensor | None = None
    weight = torch.zeros(1, h, w)
    for y0 in _starts(h, tile, overlap):
        for x0 in _starts(w, tile, overlap):
            crop = image[:, y0:y0 + tile, x0:x0 + tile]
            res = translate_image(model, crop, **kwargs).float().cpu()
            th, tw = res.shape[-2:]
            wy = _ramp(th, y0 > 0, y0 + th < h, overlap)
            wx = _ramp(tw, x0 > 0, x0 + tw < w, overlap)
            wt = (wy[:, None] * wx[None, :])[None]
            if out is None:
                out = torch.zeros(res.shape[0], h, w)
            out[:, y0:y0 + th, x0:x0 + tw] += res * wt
            weight[:, y0:y0 + th, x0:x0 + tw] += wt
    assert out is not None
    return out / weight


class Planner:
    """Decides, per image, between one pass, tiles, or a refusal (the memory estimate is measured once)."""

    def __init__(self, model: Any, channels: int, kwargs: dict[str, Any]) -> None:
        self.model, self.channels, self.kwargs = model, channels, kwargs
        self.mem: MemoryModel | None = None
        self.budget: int | None = None

    def large(self, h: int, w: int) -> bool:
        return h * w > CHECK_ABOVE_PIXELS

    def translate(self, image: torch.Tensor, *, name: str) -> torch.Tensor:
        _, h, w = image.shape
        if not self.large(h, w):
            return translate_image(self.model, image, **self.kwargs)
        if self.mem is None:
            self.mem = estimate_memory(self.model, self.channels, **self.kwargs)
            self.budget = memory_budget(self.model.device)
        assert self.budget is not None
        mem, budget = self.mem, self.budget
        need = mem.bytes_for(h, w)
        if need <= budget:
            return translate_image(self.model, image, **self.kwargs)
        label = str(self.model.name or self.model.plugin.name)
        rule = size_rule(self.model)
        side = int(math.sqrt(mem.max_pixels(budget)))
        tile = min(2048, side // rule.multiple * rule.multiple)
        if _tileable(self.model) and tile >= max(64, 4 * rule.multiple):
            overlap = max(rule.multiple, tile // 8)
            n_tiles = len(_starts(h, tile, overlap)) * len(_starts(w, tile, overlap))
            logger.info("%s: %d×%d px needs about %s in one pass (limit %s): translating %d overlapping tiles of %d px",
                        name, w, h, _size(need), _size(budget), n_tiles, tile)
            return translate_tiled(self.model, image, tile=tile, overlap=overlap, **self.kwargs)
        fit_side = max(8, int(side * max(h, w) / math.sqrt(h * w)) // 8 * 8) if side else 0
        why = "it cannot run on tiles (not a fully convolutional pad-policy translator)" if not _tileable(self.model) \
            else "even one tile does not fit"
        hint = (f"downscale it: --max-side {fit_side} (max_side={fit_side} in Python)" if fit_side >= 8
                else "the model does not fit even for a small image")
        raise DataError(f"{name} is {w}×{h} px: translating it with {label} needs about {_size(need)}, over the "
                        f"{_size(budget)} limit (GANZOO_TRANSLATE_MEMORY), and {why}; {hint}")


def translate_large(model: Any, image: torch.Tensor, *, max_side: int | None = None, name: str = "the image",
                    **kwargs: Any) -> torch.Tensor:
    """Translate one image (C, H, W) of any size within the memory budget: downscaled to ``max_side`` when given,
    in one pass when it fits, on tiles when it does not and the translator allows it, else refused.

    Raises:
        DataError: the image needs more memory than :func:`memory_budget` and cannot be tiled (the message names the
            limit and the ``max_side`` that would fit).
    """
    if max_side is not None:
        image = downscale(image, max_side)
    channels = int(model.impl.input_channels(model, **{k: v for k, v in kwargs.items() if k != "seed"}))
    return Planner(model, channels, kwargs).translate(image, name=name)
