"""Offline handwritten-digit datasets in the MNIST layout (28×28, a 20-px digit box centred in the frame).

Two sources ship with packages we can install without internet access (see ``notes/data.md`` §1 rows A and E):

* **OpenCV digits**: ``digits.png`` from Debian's ``opencv-doc`` package (OpenCV ``samples/data``; Debian's
  copyright file covers it under ``Files: *``, "Apache-2.0 AND BSD-3-Clause"). It holds
  5000 handwritten digits as 20×20 cells, 50 rows × 100 columns, 500 per class in class order (5 rows per
  class). This is the real training set; ``scripts/fetch_digits.py`` extracts it and writes class folders.
* **scikit-learn digits**: ``sklearn.datasets.load_digits()`` (UCI optdigits, CC-BY-4.0; scikit-learn itself is BSD-3), 1797 images of 8×8 with
  values 0..16. Tiny and always available, so it is the dataset for unit tests and smoke runs. Upscaled, the
  digits are blurrier than the OpenCV ones, so a model trained on one is a real check on the other.

This module imports only numpy and Pillow, so listing and data preparation never pull in torch.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from ..files import sha256_file

__all__ = [
    "DIGITS_PNG_SHA256",
    "IMAGE_SIZE",
    "load_opencv_digits",
    "load_sklearn_digits",
    "split_digits",
    "write_class_folders",
]

# sha256 of examples/data/digits.png in Debian opencv-doc 4.6.0+dfsg-12
DIGITS_PNG_SHA256 = "60c917758ef97cc090f35cd8e293e4de691ef942847da0ff80dedab33d57c662"
IMAGE_SIZE = 28  # the MNIST frame: a 20-px digit box centred with 4 px of background on each side

_CELL = 20  # digits.png cell size and the MNIST digit box
_ROWS, _COLS = 50, 100  # digits.png grid: 5000 cells, 5 rows (500 digits) per class
_PER_CLASS = 500


def _pad_to_frame(cells: np.ndarray) -> np.ndarray:
    """Centre [N, 20, 20] uint8 cells in [N, 28, 28] black frames."""
    margin = (IMAGE_SIZE - _CELL) // 2
    return np.pad(cells, ((0, 0), (margin, margin), (margin, margin)), mode="constant", constant_values=0)


def load_opencv_digits(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Load OpenCV's ``digits.png`` as MNIST-layout images.

    Args:
        path (`str` or `os.PathLike`):
            Path to ``digits.png`` (``usr/share/doc/opencv-doc/examples/data/digits.png`` inside Debian's
            ``opencv-doc`` package; ``scripts/fetch_digits.py`` extracts it).

    Returns:
        `tuple[np.ndarray, np.ndarray]`: ``images`` uint8 ``[5000, 28, 28]`` (white digit on black, each 20×20
        cell centred in a 28×28 frame) and ``labels`` int64 ``[5000]`` (``np.repeat(np.arange(10), 500)``).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file's sha256 is not `DIGITS_PNG_SHA256` or the image is not 2000×1000.

    Example:
        >>> images, labels = load_opencv_digits("digits.png")  # doctest: +SKIP
        >>> images.shape, labels[:3]  # doctest: +SKIP
        ((5000, 28, 28), array([0, 0, 0]))
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; run `python scripts/fetch_digits.py --out data/digits` to fetch it")
    actual = sha256_file(path)
    if actual != DIGITS_PNG_SHA256:
        raise ValueError(
            f"{path} has sha256 {actual}, expected {DIGITS_PNG_SHA256} (OpenCV digits.png from Debian "
            "opencv-doc 4.6.0); the file is corrupt or a different version"
        )
    with Image.open(path) as im:
        grid = np.asarray(im.convert("L"), dtype=np.uint8)
    if grid.shape != (_ROWS * _CELL, _COLS * _CELL):
        raise ValueError(
            f"{path}: expected a {_COLS * _CELL}x{_ROWS * _CELL} image, got {grid.shape[1]}x{grid.shape[0]}"
        )
    # [50*20, 100*20] -> [50, 20, 100, 20] -> [50, 100, 20, 20]: cells in row-major order, 500 per class.
    cells = grid.reshape(_ROWS, _CELL, _COLS, _CELL).transpose(0, 2, 1, 3).reshape(-1, _CELL, _CELL)
    labels = np.repeat(np.arange(10, dtype=np.int64), _PER_CLASS)
    return _pad_to_frame(np.ascontiguousarray(cells)), labels


def load_sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """Load scikit-learn's 8×8 digits in the same MNIST layout as `load_opencv_digits`.

    Each 8×8 image (values 0..16) is scaled to 0..255, resized to 20×20 with Pillow's bilinear filter and
    centred in a 28×28 frame. Requires scikit-learn (imported here, not at module import).

    Returns:
        `tuple[np.ndarray, np.ndarray]`: ``images`` uint8 ``[1797, 28, 28]`` and ``labels`` int64 ``[1797]``.

    Example:
        >>> images, labels = load_sklearn_digits()
        >>> images.shape, images.dtype, int(labels.max())
        ((1797, 28, 28), dtype('uint8'), 9)
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    small = bunch.images.astype(np.float32) * (255.0 / 16.0)
    cells = np.stack(
        [np.asarray(Image.fromarray(img).resize((_CELL, _CELL), Image.Resampling.BILINEAR)) for img in small]
    )
    cells = np.clip(np.rint(cells), 0, 255).astype(np.uint8)
    return _pad_to_frame(cells), bunch.target.astype(np.int64)


def split_digits(
    images: np.ndarray, labels: np.ndarray, *, test_per_class: int, seed: int
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split a labelled image set into train and test, stratified and deterministic.

    For each class in ascending order, a `numpy.random.default_rng(seed)` permutation of that class's indices
    picks ``test_per_class`` test items; the rest are train. Both splits keep the original order.

    Args:
        images (`np.ndarray`): ``[N, ...]`` images.
        labels (`np.ndarray`): ``[N]`` integer labels.
        test_per_class (`int`): test items taken from every class.
        seed (`int`): seed of the permutation; the same seed always gives the same split.

    Returns:
        `tuple`: ``((train_images, train_labels), (test_images, test_labels))``.

    Raises:
        ValueError: if lengths differ, ``test_per_class`` is negative, or a class has fewer than
            ``test_per_class`` items.

    Example:
        >>> images, labels = load_sklearn_digits()
        >>> (xtr, ytr), (xte, yte) = split_digits(images, labels, test_per_class=10, seed=0)
        >>> len(yte), len(ytr)
        (100, 1697)
    """
    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"images and labels differ in length: {len(images)} vs {len(labels)}")
    if test_per_class < 0:
        raise ValueError(f"test_per_class must be >= 0, got {test_per_class}")
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(labels), dtype=bool)
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        if len(members) < test_per_class:
            raise ValueError(f"class {cls} has {len(members)} items, fewer than test_per_class={test_per_class}")
        is_test[rng.permutation(members)[:test_per_class]] = True
    return (images[~is_test], labels[~is_test]), (images[is_test], labels[is_test])


def write_class_folders(
    images: np.ndarray,
    labels: np.ndarray,
    out_dir: str | os.PathLike[str],
    *,
    indices: np.ndarray | None = None,
) -> int:
    """Write images as grayscale PNGs in class sub-folders: ``out_dir/<label>/<index:05d>.png``.

    Each file is written to a temporary name in its folder and then renamed, so an interrupted run never
    leaves a truncated PNG under its final name.

    Args:
        images (`np.ndarray`): uint8 ``[N, H, W]``.
        labels (`np.ndarray`): ``[N]`` integer labels.
        out_dir (`str` or `os.PathLike`): created if missing.
        indices (`np.ndarray`, *optional*):
            ``[N]`` integers used as file names, e.g. positions in the source set so that a file can be traced
            back after a split. Defaults to the position in ``images``.

    Returns:
        `int`: the number of files written.

    Raises:
        ValueError: if ``images`` is not uint8 ``[N, H, W]`` or lengths differ.

    Example:
        >>> images, labels = load_sklearn_digits()
        >>> write_class_folders(images[:5], labels[:5], "out")  # doctest: +SKIP
        5
    """
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"expected uint8 images of shape [N, H, W], got {images.dtype} {images.shape}")
    if len(images) != len(labels):
        raise ValueError(f"images and labels differ in length: {len(images)} vs {len(labels)}")
    indices = np.arange(len(images)) if indices is None else np.asarray(indices)
    if indices.shape != (len(images),):
        raise ValueError(f"indices must have shape ({len(images)},), got {indices.shape}")
    out_dir = Path(out_dir)
    for index, image, label in zip(indices.tolist(), images, labels, strict=True):
        class_dir = out_dir / str(int(label))
        class_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=class_dir, prefix=".tmp-", suffix=".png")
        try:
            with os.fdopen(fd, "wb") as f:
                Image.fromarray(image).save(f, format="PNG")
            os.replace(tmp, class_dir / f"{index:05d}.png")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return len(images)
