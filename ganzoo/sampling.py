"""Sampling utilities for every task (core, not per plugin): previews, grids and writers for each modality."""

from __future__ import annotations

import logging
import wave
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data.images import save_image_grid

__all__ = ["preview", "write_wav", "write_gif", "translation_grid"]

logger = logging.getLogger(__name__)


def write_wav(audio: torch.Tensor, path: str | Path, sample_rate: int) -> Path:
    """Write mono audio (T,) or a batch (N, T) — concatenated with 0.25 s of silence — as 16-bit PCM WAV."""
    from .hub import atomic_write

    a = audio.detach().float().cpu()
    if a.ndim == 2:
        gap = torch.zeros(int(0.25 * sample_rate))
        a = torch.cat([torch.cat([row, gap]) for row in a])
    pcm = (a.clamp(-1, 1).numpy() * 32767.0).round().astype("<i2")
    path = Path(path)
    with atomic_write(path) as f:
        with wave.open(f, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(int(sample_rate))
            w.writeframes(pcm.tobytes())
    return path


def write_gif(video: torch.Tensor, path: str | Path, *, fps: int = 4) -> Path:
    """Write clips (N, T, C, H, W) in [-1, 1] as one animated GIF, clips side by side."""
    from torchvision.utils import make_grid

    from .data.images import tensor_to_pil
    from .hub import atomic_write

    v = video.detach().float().cpu()
    if v.ndim == 4:
        v = v[None]
    frames = []
    for t in range(v.shape[1]):
        grid = make_grid(v[:, t].clamp(-1, 1), nrow=v.shape[0], padding=2, pad_value=1.0)
        frames.append(tensor_to_pil(grid[:1] if v.shape[2] == 1 else grid).convert("P" if v.shape[2] == 1 else "RGB"))
    path = Path(path)
    with atomic_write(path) as f:
        frames[0].save(f, format="GIF", save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)
    return path


def translation_grid(inputs: torch.Tensor, outputs: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
    """Rows of input | output (| target) images, as one batch for :func:`save_image_grid` with ``nrow=len(inputs)``."""
    def rgb(x: torch.Tensor) -> torch.Tensor:
        return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x

    rows = [rgb(inputs.cpu()), rgb(outputs.cpu())] + ([rgb(targets.cpu())] if targets is not None else [])
    return torch.cat(rows)


def _items(dataset: Any, k: int) -> dict[str, torch.Tensor]:
    from torch.utils.data import default_collate

    k = min(k, len(dataset))
    # evenly spaced items: a preview that covers the data, identical at every step
    idx = np.linspace(0, len(dataset) - 1, k).round().astype(int).tolist()
    return default_collate([dataset[i] for i in idx])


@torch.no_grad()
def preview(model: Any, dataset: Any, stem: str | Path, *, n: int = 64, seed: int = 0) -> Path | None:
    """Write a preview of ``model`` next to ``stem`` (suffix chosen by the task) and return its path.

    Unconditional: a grid of ``n`` samples. Class-conditional: a row per class. Image-conditioned: rows of
    input | output | target for a fixed set of items. Audio: a WAV of enhanced items. Video: a GIF.
    A plugin can take over with ``impl.preview(model, dataset, stem, n=, seed=)``.
    """
    impl, task = model.impl, model.plugin.task
    stem = Path(stem)
    if callable(getattr(impl, "preview", None)):
        return impl.preview(model, dataset, stem, n=n, seed=seed)
    from .plugin import TASKS

    kind = TASKS[task].conditioning
    modality = TASKS[task].modality
    if modality == "image" and kind == "none":
        return save_image_grid(model.sample(n, seed=seed), stem.with_suffix(".png"))
    if modality == "image" and kind == "label":
        k = int(getattr(model.config, "num_classes", 10))
        per = max(1, n // k)
        labels = torch.arange(k).repeat_interleave(per)
        return save_image_grid(model.sample(len(labels), condition=labels, seed=seed), stem.with_suffix(".png"), nrow=per)
    if modality == "image" and kind == "image":
        batch = _items(dataset, min(8, n))
        out = model.sample(condition=batch["A"].to(model.device), seed=seed)
        grid = translation_grid(batch["A"], out, batch.get("B"))
        return save_image_grid(grid, stem.with_suffix(".png"), nrow=batch["A"].shape[0])
    if modality == "audio":
        batch = _items(dataset, 2)
        out = model.sample(condition=batch["noisy"].to(model.device), seed=seed)
        sr = int(getattr(model.config, "sample_rate", 16000))
        return write_wav(torch.cat([batch["noisy"], out.cpu(), batch["clean"]]), stem.with_suffix(".wav"), sr)
    if modality == "video":
        batch = _items(dataset, 4)
        ctx = int(getattr(model.config, "context_frames", batch["frames"].shape[1] // 2))
        out = model.sample(condition=batch["frames"][:, :ctx].to(model.device), seed=seed)
        return write_gif(torch.cat([batch["frames"][:, :ctx], out.cpu()], dim=1), stem.with_suffix(".gif"))
    logger.info("no generic preview for task %s; the plugin can define preview()", task)
    return None
