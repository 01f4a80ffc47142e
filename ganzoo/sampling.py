"""Writers shared by the tasks (WAV, GIF, translation grids) and the trainer's preview entry point."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import torch

__all__ = ["preview", "write_wav", "write_gif", "translation_grid"]


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


def preview(model: Any, dataset: Any, stem: str | Path, *, n: int = 64, seed: int = 0) -> Path | None:
    """Write the trainer's preview of ``model`` next to ``stem`` and return its path: the plugin's ``preview`` hook,
    whose default is the task's (a grid of samples, a row per class, input | output | target rows, a WAV, a GIF)."""
    return model.impl.preview(model, dataset, Path(stem), n=n, seed=seed)
