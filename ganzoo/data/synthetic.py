"""Synthetic task-shaped data: tensors for in-memory batches and small on-disk datasets in every layout.

Images are smooth random blobs rather than noise so that PNG round trips and resizes behave like real data;
audio is a sine in white noise. The task objects (:mod:`ganzoo.tasks`) compose these into their batches and
layouts; :mod:`ganzoo.testing` exposes them to plugin authors.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

__all__ = ["tanh_noise", "blob_image", "save_png", "save_wav", "sine_in_noise"]


def tanh_noise(generator: "object", shape: tuple[int, ...]) -> "object":
    """``tanh(N(0, 1))`` of ``shape``: image-like values in (-1, 1) from a ``torch.Generator``."""
    import torch

    return torch.tanh(torch.randn(shape, generator=generator))  # type: ignore[arg-type]


def blob_image(rng: np.random.Generator, size: int, channels: int) -> np.ndarray:
    """A uint8 (size, size, channels) image of three soft coloured blobs."""
    yy, xx = np.mgrid[0:size, 0:size] / max(1, size - 1)
    img = np.zeros((size, size, channels))
    for _ in range(3):
        cx, cy, r = rng.random(3) * [1, 1, 0.4] + [0, 0, 0.1]
        color = rng.random(channels)
        mask = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
        img += mask[..., None] * color
    img = np.clip(img / img.max() if img.max() > 0 else img, 0, 1)
    return (img * 255).round().astype(np.uint8)


def save_png(arr: np.ndarray, path: Path) -> None:
    """Write a uint8 (H, W, C) array as PNG, creating parent folders."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr).save(path)


def save_wav(x: np.ndarray, path: Path, sample_rate: int) -> None:
    """Write float samples in [-1, 1] as 16-bit mono WAV, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def sine_in_noise(rng: np.random.Generator, length: int) -> tuple[np.ndarray, np.ndarray]:
    """A (clean, noisy) pair: a random sine, and the same plus white noise."""
    clean = 0.3 * np.sin(np.arange(length) * (0.01 + 0.01 * rng.random())) * rng.random()
    return clean, clean + 0.05 * rng.standard_normal(length)
