"""Synthetic, task-shaped data for tests: in-memory batches and on-disk datasets in every format of DESIGN.md §7.

The images are smooth random blobs rather than noise so that PNG round trips and resizes behave like real data.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["example_batch", "write_dataset"]


def _cfg(config: Any, key: str, default: Any) -> Any:
    return getattr(config, key, default)


def _image_shape(config: Any, channels_key: str = "channels") -> tuple[int, int, int]:
    size = int(_cfg(config, "image_size", 32))
    ch = int(_cfg(config, channels_key, _cfg(config, "channels", 3)))
    return ch, size, size


def example_batch(model: Any, n: int = 4, *, seed: int = 0) -> dict[str, torch.Tensor]:
    """A batch shaped like the plugin's training data (``impl.example_batch`` wins when defined)."""
    impl, cfg, task = model.impl, model.config, model.plugin.task
    if callable(getattr(impl, "example_batch", None)):
        return impl.example_batch(model, n, seed=seed)
    g = torch.Generator().manual_seed(seed)

    def images(shape: tuple[int, int, int]) -> torch.Tensor:
        return torch.tanh(torch.randn((n, *shape), generator=g))

    if task in ("unconditional", "reconstruction"):
        return {"image": images(_image_shape(cfg))}
    if task in ("class-conditional", "multi-domain-translation"):
        k = int(_cfg(cfg, "num_classes", _cfg(cfg, "num_domains", 10)))
        return {"image": images(_image_shape(cfg)), "label": torch.randint(0, k, (n,), generator=g)}
    if task in ("paired-translation", "unpaired-translation"):
        return {"A": images(_image_shape(cfg, "input_channels")), "B": images(_image_shape(cfg, "output_channels"))}
    if task == "speech-enhancement":
        t = int(_cfg(cfg, "segment_length", 16384))
        clean = 0.5 * torch.tanh(torch.randn((n, t), generator=g))
        return {"clean": clean, "noisy": (clean + 0.1 * torch.randn((n, t), generator=g)).clamp(-1, 1)}
    if task == "video-prediction":
        length = int(_cfg(cfg, "context_frames", 2)) + int(_cfg(cfg, "future_frames", 2))
        c, s, _ = _image_shape(cfg)
        return {"frames": torch.tanh(torch.randn((n, length, c, s, s), generator=g))}
    raise ValueError(f"no synthetic batch for task {task!r}; define impl.example_batch(model, n, seed=)")


def _blob_image(rng: np.random.Generator, size: int, channels: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size] / max(1, size - 1)
    img = np.zeros((size, size, channels))
    for _ in range(3):
        cx, cy, r = rng.random(3) * [1, 1, 0.4] + [0, 0, 0.1]
        color = rng.random(channels)
        mask = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
        img += mask[..., None] * color
    img = np.clip(img / img.max() if img.max() > 0 else img, 0, 1)
    return (img * 255).round().astype(np.uint8)


def _save_png(arr: np.ndarray, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr).save(path)


def _save_wav(x: np.ndarray, path: Path, sr: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def write_dataset(task: str, root: str | Path, config: Any, *, n: int = 8, seed: int = 0) -> Path:
    """Write a small dataset for ``task`` under ``root`` in the format the task reads; returns ``root``."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    size = int(_cfg(config, "image_size", 32))
    ch = int(_cfg(config, "channels", 3))
    if task in ("unconditional", "reconstruction"):
        for i in range(n):
            _save_png(_blob_image(rng, size, ch), root / f"{i:04d}.png")
    elif task in ("class-conditional", "multi-domain-translation"):
        k = int(_cfg(config, "num_classes", _cfg(config, "num_domains", 2)))
        for i in range(max(n, k)):
            _save_png(_blob_image(rng, size, ch), root / f"class{i % k:02d}" / f"{i:04d}.png")
    elif task == "paired-translation":
        cin, cout = int(_cfg(config, "input_channels", ch)), int(_cfg(config, "output_channels", ch))
        c = max(cin, cout)
        for i in range(n):
            a, b = _blob_image(rng, size, c), _blob_image(rng, size, c)
            _save_png(np.concatenate([a, b], axis=1), root / "train" / f"{i:04d}.png")
    elif task == "unpaired-translation":
        for side, key in (("A", "input_channels"), ("B", "output_channels")):
            c = int(_cfg(config, key, ch))
            for i in range(n):
                _save_png(_blob_image(rng, size, c), root / f"train{side}" / f"{i:04d}.png")
    elif task == "speech-enhancement":
        sr, t = int(_cfg(config, "sample_rate", 16000)), int(_cfg(config, "segment_length", 16384))
        for i in range(n):
            clean = 0.3 * np.sin(np.arange(t + 100) * (0.01 + 0.01 * rng.random())) * rng.random()
            _save_wav(clean, root / "train" / "clean" / f"{i:04d}.wav", sr)
            _save_wav(clean + 0.05 * rng.standard_normal(t + 100), root / "train" / "noisy" / f"{i:04d}.wav", sr)
    elif task == "video-prediction":
        length = int(_cfg(config, "context_frames", 2)) + int(_cfg(config, "future_frames", 2))
        for clip in range(max(1, n // 2)):
            base = _blob_image(rng, size, ch)
            for f in range(length + 1):
                _save_png(np.roll(base, f, axis=1), root / "train" / f"clip{clip:03d}" / f"{f:04d}.png")
    else:
        raise ValueError(f"no synthetic dataset for task {task!r}")
    return root
