"""Built-in datasets (``--data builtin:<name>``): offline, generated from scikit-learn's digits, one per task kind.

==================  ========================  ===============================================================
name                task                      items
==================  ========================  ===============================================================
``digits``          image generation          ``{"image", "label"}``: the 1,797 digits (28×28 frame, resized)
``digit-edges``     paired translation        ``{"A": edge map, "B": digit}``, aligned
``digit-bold``      unpaired translation      ``{"A": digit, "B": a bold digit}``; B shuffled in training
``digit-styles``    multi-domain translation  ``{"image", "label"}``: 4 stroke styles = 4 domains
==================  ========================  ===============================================================

Splits: ``train`` is 4 items in 5 (indices ``i % 5 != 4``), ``test`` the fifth; no split (or ``""``) is all of
them. The stroke styles are morphological: bold = 3×3 max filter, thin = 3×3 min filter, edges = their
difference (the morphological gradient), inverted = 255 − x; each is computed at the model's image size, so the
pairs are exact ground truth for evaluation.

The video task's ``moving-digits`` datasets (two digits, the Moving-MNIST recipe) live in :mod:`ganzoo.data.video`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError
from .datasets import ArrayImageDataset, GanDataset

__all__ = ["load_builtin", "split_indices", "STYLES"]

#: The stroke styles of ``digit-styles``, in domain order.
STYLES = ("plain", "bold", "thin", "inverted")

#: Where every built-in dataset comes from, for the card of a model trained on one (``GanDataset.card_info``).
SOURCE = {
    "license": "CC-BY-4.0",
    "source": "scikit-learn's load_digits: the test set of the UCI ML repository's 'Optical Recognition of "
              "Handwritten Digits' (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0), 1,797 8x8 digits; derived here by "
              "ganzoo.data.builtin",
}


def split_indices(n: int, split: str | None) -> np.ndarray:
    """Indices of a deterministic 80/20 split (``train``: ``i % 5 != 4``; ``test``: ``i % 5 == 4``; else all)."""
    idx = np.arange(n)
    if not split:
        return idx
    if split == "train":
        return idx[idx % 5 != 4]
    if split in ("test", "val"):
        return idx[idx % 5 == 4]
    raise DataError(f"built-in datasets have the splits 'train' and 'test', not {split!r}")


def _digits(size: int, split: str | None) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    from .digits import load_sklearn_digits

    images, labels = load_sklearn_digits()
    keep = split_indices(len(images), split)
    images, labels = images[keep], labels[keep]
    if images.shape[1] != size:
        images = np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR)) for im in images])
    return images, labels


def _style(images: np.ndarray, style: str) -> np.ndarray:
    from PIL import Image, ImageFilter

    def each(f: Any) -> np.ndarray:
        return np.stack([np.asarray(Image.fromarray(im).filter(f)) for im in images])

    if style == "plain":
        return images
    if style == "bold":
        return each(ImageFilter.MaxFilter(3))
    if style == "thin":
        return each(ImageFilter.MinFilter(3))
    if style == "inverted":
        return 255 - images
    if style == "edges":
        return (each(ImageFilter.MaxFilter(3)).astype(np.int16) - each(ImageFilter.MinFilter(3))).astype(np.uint8)
    raise ValueError(style)


class ArrayPairDataset(GanDataset):
    """In-memory pairs ``{"A", "B"}``; unaligned, B is drawn by the per-item rng (as CycleGAN's loader does)."""

    def __init__(self, a: np.ndarray, b: np.ndarray, *, channels_a: int, channels_b: int, aligned: bool) -> None:
        self.a = ArrayImageDataset(a, image_size=a.shape[1], channels=channels_a)
        self.b = ArrayImageDataset(b, image_size=b.shape[1], channels=channels_b)
        self.aligned, self.skipped = aligned, {}

    def __len__(self) -> int:
        return len(self.a)

    def __getitem__(self, index: int) -> dict[str, Any]:
        ib = index if self.aligned else int(self.rng(index).integers(0, len(self.b)))
        return {"A": self.a[index]["image"], "B": self.b[ib]["image"]}


def load_builtin(name: str, task: str, config: Any, *, split: str | None = None) -> GanDataset:
    """Build built-in dataset ``name`` for a ``task`` model with ``config`` (see the module docstring); its
    ``card_info`` says where it comes from and under which licence."""
    dataset = _build(name, task, config, split=split)
    dataset.card_info = {"name": f"builtin:{name}" + (f", {split} split" if split else ""), **SOURCE}
    return dataset


def _build(name: str, task: str, config: Any, *, split: str | None) -> GanDataset:
    if name == "digits":
        images, labels = _digits(config.image_size, split)
        return ArrayImageDataset(images, labels, image_size=config.image_size, channels=config.channels)
    if name == "digit-edges":
        images, _ = _digits(config.image_size, split)
        return ArrayPairDataset(_style(images, "edges"), images, channels_a=config.input_channels,
                                channels_b=config.output_channels, aligned=True)
    if name == "digit-bold":
        images, _ = _digits(config.image_size, split)
        # training shuffles B apart; evaluation (split test) keeps the known pairs aligned
        return ArrayPairDataset(images, _style(images, "bold"), channels_a=config.input_channels,
                                channels_b=config.output_channels, aligned=split in ("test", "val"))
    if name == "digit-styles":
        images, _ = _digits(config.image_size, split)
        if config.num_domains != len(STYLES):
            raise DataError(f"builtin:digit-styles has {len(STYLES)} domains ({', '.join(STYLES)}); set "
                            f"--set num_domains={len(STYLES)}")
        styled = np.concatenate([_style(images, s) for s in STYLES])
        domains = np.repeat(np.arange(len(STYLES)), len(images))
        return ArrayImageDataset(styled, domains, image_size=config.image_size, channels=config.channels,
                                 classes=STYLES)
    raise DataError(f"unknown built-in dataset {name!r}")  # pragma: no cover - tasks check names first
