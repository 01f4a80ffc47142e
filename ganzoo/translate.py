"""Translating images of any size with an image-conditioned model (``model.sample(condition=…)``,
``ganzoo sample NAME --input FILE|DIR``).

Fully convolutional translators accept only some sizes: sides that are multiples of their total stride (4 for
CycleGAN's ResNet, 2**num_downs = 256 for pix2pix's ``unet_256``), and not too small. A plugin states its rule
as a :class:`SizeRule` (hook ``impl.size_rule(model) -> SizeRule``) and its ``sample`` applies it with
:func:`fit` / :func:`unfit`, so every image comes back at its own size. Two policies:

* ``"pad"`` — reflection-pad (symmetrically) up to the next multiple of the stride (and at least ``min_side``),
  translate, crop back. Nothing is resampled, so detail and aspect ratio are kept; the network sees the image
  at its native scale. Replicate padding is used where an image is too small to reflect.
* ``"resize"`` — resize to ``size × size`` (bicubic, antialiased), translate, resize the output back to the
  input's size. This is the original pix2pix/CycleGAN ``test.py`` preprocessing (``load_size = crop_size =
  256``: every test image becomes 256×256 whatever its aspect ratio) and the right choice for networks whose
  receptive field spans the whole training crop (pix2pix's U-Net reaches a 1×1 bottleneck at 256²).

Images smaller than the stride are refused with a :class:`~ganzoo.errors.DataError` under ``"pad"`` (they
would be mostly padding); under ``"resize"`` any size is accepted.

:func:`run_translator` runs a generator in the test-time mode a plugin asks for: ``"eval"`` (deterministic:
running statistics, no dropout) or ``"paper"`` (the original ``test.py`` without ``--eval``: batch-norm
statistics of each test image, dropout active — per image, never batched, so results do not depend on the
batch; a seed makes the dropout reproducible). :func:`translate_path` handles files and folders, batching
images of equal size, with a progress bar.

Large images (more than :data:`ganzoo.tiling.CHECK_ABOVE_PIXELS` pixels) are translated within a memory budget:
in one pass when the measured estimate fits, on overlapping blended tiles when it does not and the translator is
fully convolutional, else refused with a one-line error naming the limit and the ``max_side`` (``--max-side``)
that would fit (see :mod:`ganzoo.tiling`). Smaller images run exactly as before.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal

import torch
import torch.nn.functional as F
from torch import nn

from .data.images import list_images, open_image, save_image, to_tensor
from .errors import DataError, UsageError

__all__ = ["SizeRule", "size_rule", "fit", "unfit", "check_image_batch", "run_translator", "translate_image",
           "translate_path"]

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------------------
# size rules


@dataclass(frozen=True)
class SizeRule:
    """How a translation network handles image sizes (see the module docstring).

    Attributes:
        policy: ``"pad"`` (reflect-pad to a multiple of ``multiple``, crop back) or ``"resize"`` (to ``size``², back).
        multiple: the network's total stride; working sides are multiples of it.
        min_side: the smallest working side (pad policy); at least ``multiple``.
        size: the working side of the resize policy (the training crop, e.g. 256).
    """

    policy: Literal["pad", "resize"]
    multiple: int
    min_side: int = 0
    size: int | None = None

    def __post_init__(self) -> None:
        if self.policy not in ("pad", "resize"):
            raise ValueError(f"size policy must be 'pad' or 'resize', got {self.policy!r}")
        if self.multiple < 1:
            raise ValueError(f"multiple must be ≥ 1, got {self.multiple}")
        if self.policy == "resize" and (self.size is None or self.size % self.multiple):
            raise ValueError(f"the resize policy needs a size that is a multiple of {self.multiple}, got {self.size}")
        object.__setattr__(self, "min_side", max(int(self.min_side), self.multiple))

    def describe(self) -> str:
        """One sentence for cards and errors."""
        if self.policy == "resize":
            return (f"each image is resized (bicubic) to {self.size}×{self.size}, translated, and the result resized "
                    f"back to the input's size")
        return (f"each image is reflection-padded to sides that are multiples of {self.multiple} (at least "
                f"{self.min_side}), translated, and cropped back to its own size; sides under {self.multiple} px are "
                f"refused")

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "multiple": self.multiple, "min_side": self.min_side, "size": self.size}


def size_rule(model: Any) -> SizeRule:
    """The model's :class:`SizeRule` (its ``size_rule`` hook; default: padding to ``impl.size_multiple``)."""
    return model.impl.size_rule(model)


def _target(side: int, rule: SizeRule) -> int:
    return max(rule.min_side, -(-side // rule.multiple) * rule.multiple)


def fit(x: torch.Tensor, rule: SizeRule, *, name: str = "the model") -> tuple[torch.Tensor, tuple[int, int]]:
    """Bring a batch (N, C, H, W) to a size the network accepts; returns it and ``(H, W)`` for :func:`unfit`.

    Raises:
        DataError: under the pad policy, a side is smaller than the network's stride.
    """
    h, w = int(x.shape[-2]), int(x.shape[-1])
    if rule.policy == "resize":
        assert rule.size is not None
        if (h, w) != (rule.size, rule.size):
            x = F.interpolate(x, size=(rule.size, rule.size), mode="bicubic", align_corners=False,
                              antialias=True).clamp_(-1, 1)
        return x, (h, w)
    if min(h, w) < rule.multiple:
        raise DataError(f"the image is {w}×{h} px: smaller than the {rule.multiple}-px stride of {name}; "
                        f"upscale it to at least {rule.multiple} px per side")
    th, tw = _target(h, rule), _target(w, rule)
    if (th, tw) == (h, w):
        return x, (h, w)
    top, left = (th - h) // 2, (tw - w) // 2
    pads = (left, tw - w - left, top, th - h - top)
    reflect_ok = max(pads[0], pads[1]) < w and max(pads[2], pads[3]) < h
    return F.pad(x, pads, mode="reflect" if reflect_ok else "replicate"), (h, w)


def unfit(y: torch.Tensor, rule: SizeRule, size: tuple[int, int]) -> torch.Tensor:
    """Undo :func:`fit` on the network's output: crop the padding off, or resize back to ``size``."""
    h, w = size
    if tuple(y.shape[-2:]) == (h, w):
        return y
    if rule.policy == "resize":
        return F.interpolate(y, size=(h, w), mode="bicubic", align_corners=False, antialias=True).clamp_(-1, 1)
    th, tw = int(y.shape[-2]), int(y.shape[-1])
    top, left = (th - h) // 2, (tw - w) // 2
    return y[..., top:top + h, left:left + w]


def check_image_batch(condition: Any, channels: int, *, name: str = "the model") -> torch.Tensor:
    """Validate ``condition`` as images for a translator: a float tensor (N, C, H, W) or (C, H, W) in [-1, 1].

    Returns:
        `torch.Tensor`: the batch, 4-D.

    Raises:
        UsageError: not a tensor, wrong rank or channel count, integer dtype, or values outside [-1, 1].
    """
    if not isinstance(condition, torch.Tensor):
        raise UsageError(f"{name} translates images: pass condition=<float tensor (N, {channels}, H, W) in [-1, 1]>, "
                         f"got {type(condition).__name__}")
    x = condition[None] if condition.dim() == 3 else condition
    if x.dim() != 4:
        raise UsageError(f"{name}: condition must be images (N, {channels}, H, W), got shape {tuple(condition.shape)}")
    if not x.is_floating_point():
        raise UsageError(f"{name}: condition must be a float tensor in [-1, 1], got {x.dtype} (convert uint8 images "
                         f"with x.float() / 127.5 - 1)")
    if x.shape[1] != channels:
        raise UsageError(f"{name} takes {channels}-channel images, got {x.shape[1]} channels "
                         f"(shape {tuple(x.shape)})")
    if x.numel() and (float(x.min()) < -1.001 or float(x.max()) > 1.001):
        raise UsageError(f"{name}: condition values must be in [-1, 1], got [{float(x.min()):.3g}, "
                         f"{float(x.max()):.3g}] (scale [0, 1] images with 2x - 1)")
    return x


# ---------------------------------------------------------------------------------------------------------
# running a generator in a test-time mode


@contextlib.contextmanager
def _mode(net: nn.Module, mode: str) -> Iterator[None]:
    from .nn.norm import frozen_norm_stats

    states = [(m, m.training) for m in net.modules()]
    try:
        if mode == "eval":
            net.eval()
            yield
        else:
            net.train()
            with frozen_norm_stats(net):
                yield
    finally:
        for m, flag in states:
            m.training = flag


@contextlib.contextmanager
def _seeded(seed: int | None, device: torch.device) -> Iterator[None]:
    if seed is None:
        yield
        return
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(int(seed))
        if devices:
            with torch.cuda.device(device):
                torch.cuda.manual_seed(int(seed))
        yield


def run_translator(net: nn.Module, x: torch.Tensor, *, mode: str = "eval", seed: int | None = None,
                   batch_size: int = 16) -> torch.Tensor:
    """Run generator ``net`` on a batch in a test-time ``mode``; the module's own modes are restored after.

    Args:
        net: the generator.
        x: images (N, C, H, W) the network accepts (see :func:`fit`).
        mode: ``"eval"`` (running statistics, no dropout: deterministic) or ``"paper"`` (the original test mode:
            train-mode norm layers without touching their running statistics, dropout active). With batch norm,
            ``"paper"`` runs one image at a time — its statistics are the image's own, as with the original's
            batch of 1.
        seed: seeds the dropout of ``"paper"`` mode (CPU and the batch's CUDA device; the global RNG is restored).
        batch_size: images per forward pass.
    """
    if mode not in ("eval", "paper"):
        raise UsageError(f"mode must be 'eval' or 'paper', got {mode!r}")
    if batch_size < 1:
        raise UsageError(f"batch_size must be ≥ 1, got {batch_size}")
    per_image = mode == "paper" and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())
    with _mode(net, mode), _seeded(seed if mode == "paper" else None, x.device):
        chunks = x.split(1 if per_image else batch_size)
        return torch.cat([net(c) for c in chunks]) if chunks else x


# ---------------------------------------------------------------------------------------------------------
# files and folders


@torch.no_grad()
def translate_image(model: Any, image: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    """Translate one image (C, H, W) in [-1, 1] of any size; the output has the input's size (the plugin's
    ``translate`` hook: by default its ``size_rule`` around ``sample``)."""
    return model.impl.translate(model, image, **kwargs)


def _translate_group(model: Any, images: list[torch.Tensor], seed: int | None, batch_size: int,
                     **kwargs: Any) -> list[torch.Tensor]:
    impl = model.impl
    if impl.supports("size_rule") and not impl.supports("translate"):
        # sample() fits any size itself: translate equal-sized images as one batch
        options = dict(kwargs, batch_size=batch_size) if "batch_size" in impl.sample_options() else kwargs
        out = model.sample(condition=torch.stack(images).to(model.device), seed=seed, **options).cpu()
        return list(out)
    return [translate_image(model, im, seed=seed, **kwargs) for im in images]


def translate_path(model: Any, src: Path, dst: Path, *, batch_size: int = 16, seed: int | None = 0,
                   max_side: int | None = None, **kwargs: Any) -> Path:
    """Translate an image file (→ file ``dst``) or a folder (→ folder ``dst``, same relative names, PNG).

    Any image mode is read (grey, RGBA composited on white, palette, 16-bit rescaled) and converted to the
    model's input channels; every output has its input's size (after ``max_side``). In a folder, non-image files
    are skipped, unreadable images are skipped with one warning naming them, and images of equal size are
    translated ``batch_size`` at a time, with a progress bar. Images of more than
    :data:`ganzoo.tiling.CHECK_ABOVE_PIXELS` pixels are translated one at a time within the memory budget
    (:func:`ganzoo.tiling.translate_large`).

    Args:
        model: a loaded translator.
        src, dst: an image file and the output file, or a folder and the output folder.
        batch_size (`int`, *optional*): images per forward pass.
        seed (`int`, *optional*): seeds the translation's randomness (dropout of the paper test mode).
        max_side (`int`, *optional*): downscale images whose longer side exceeds this (outputs have that size).
        **kwargs: sampling options (``direction``, ``domain`` …).

    Returns:
        `Path`: ``dst``.

    Raises:
        UsageError: ``src`` is missing, or ``dst`` does not fit (a folder for a file, or the reverse).
        DataError: the single input is not a readable image, a folder holds no image, an image is too small, or
            one is too large for the memory budget and cannot be tiled.

    Example:
        ```python
        translate_path(ganzoo.load("cyclegan"), Path("photos"), Path("out"), max_side=2048)
        ```
    """
    from tqdm.auto import tqdm

    from .tiling import Planner, downscale

    src, dst = Path(src), Path(dst)
    channels = int(model.impl.input_channels(model, **kwargs))
    planner = Planner(model, channels, dict(kwargs, seed=seed))

    def read(path: Path) -> torch.Tensor:
        image = to_tensor(open_image(path, channels))
        if max_side is not None:
            small = downscale(image, max_side)
            if small.shape != image.shape:
                logger.info("%s: downscaled from %d×%d to %d×%d px (max side %d)", path.name, image.shape[-1],
                            image.shape[-2], small.shape[-1], small.shape[-2], max_side)
            image = small
        return image

    if src.is_file():
        if dst.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            raise UsageError(f"output {dst} needs an image suffix (.png or .jpg) for a single input image")
        out = planner.translate(read(src), name=src.name)
        return save_image(out, dst)
    if not src.exists():
        raise UsageError(f"No such input: {src}")
    files, skipped = list_images(src)
    if not files:
        raise DataError(f"{src} holds no images to translate")
    if dst.suffix:
        raise UsageError(f"{dst} looks like a file; give an output folder for an input folder")
    dst.mkdir(parents=True, exist_ok=True)
    bad: list[str] = []
    pending: list[tuple[Path, torch.Tensor]] = []
    bar = tqdm(total=len(files), desc=f"translate {src.name}", unit="img")

    def flush() -> None:
        if not pending:
            return
        outs = _translate_group(model, [im for _, im in pending], seed, batch_size, **kwargs)
        for (f, _), out in zip(pending, outs):
            rel = f.relative_to(src).with_suffix(".png")
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            save_image(out, dst / rel)
        bar.update(len(pending))
        pending.clear()

    try:
        for f in files:
            try:
                image = read(f)
            except DataError:
                bad.append(f.name)
                bar.update(1)
                continue
            if planner.large(image.shape[-2], image.shape[-1]):  # alone, within the memory budget
                flush()
                rel = f.relative_to(src).with_suffix(".png")
                (dst / rel).parent.mkdir(parents=True, exist_ok=True)
                save_image(planner.translate(image, name=f.name), dst / rel)
                bar.update(1)
                continue
            if pending and (pending[0][1].shape != image.shape or len(pending) >= batch_size):
                flush()
            pending.append((f, image))
        flush()
    finally:
        bar.close()
    if bad:
        logger.warning("skipped %d unreadable file(s): %s", len(bad),
                       ", ".join(bad[:5]) + (" …" if len(bad) > 5 else ""))
    if skipped:
        logger.info("skipped %d non-image file(s) in %s", skipped, src)
    return dst
