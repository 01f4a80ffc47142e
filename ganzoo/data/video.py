"""Video data: clips from frame folders, video files and clip arrays, read robustly; and moving digits.

A *clip* is a sequence of frames, held as uint8 ``(T, H, W, C)`` arrays here and as float ``(T, C, H, W)`` tensors in
[-1, 1] once it reaches a model. Three sources are read:

* a **folder of frames** (any image format :mod:`ganzoo.data.images` reads), in file-name order; frames of
  different sizes are refused with the two sizes named, since a resize would hide a mistake;
* a **video file** (``.avi``, ``.mp4``, ``.mov``, ``.mkv``, ``.webm``, ``.m4v``, ``.mpg``) decoded with OpenCV
  (``pip install opencv-python-headless``), or an animated ``.gif`` (Pillow);
* a **clip array** ``.npy`` of uint8 ``(N, T, H, W)`` or ``(N, T, H, W, C)``: N clips of T frames.

:class:`VideoClipDataset` reads a data folder (``root/[train|test]/``) holding any mix of these, brings every frame
to ``image_size``² (shorter side resized, then centre-cropped) once, and serves windows of ``length`` consecutive
frames. :class:`MovingDigits` is the Moving-MNIST recipe (Srivastava et al. 2015) on the OpenCV or scikit-learn
digits, generated on the fly: clip ``i`` is a pure function of ``(split, i)``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from .datasets import GanDataset

__all__ = [
    "VIDEO_SUFFIXES",
    "CLIP_ARRAY_SUFFIX",
    "read_video",
    "read_frame_folder",
    "read_clip",
    "fit_frames",
    "clip_to_tensor",
    "VideoClipDataset",
    "MovingDigits",
    "moving_digits",
    "opencv_digits_path",
]

logger = logging.getLogger(__name__)

#: Suffixes read as video files (``.gif`` through Pillow, the rest through OpenCV).
VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".gif")
#: Suffix of clip arrays: uint8 (N, T, H, W[, C]).
CLIP_ARRAY_SUFFIX = ".npy"


def _as_channels(frames: np.ndarray, channels: int) -> np.ndarray:
    """(T, H, W[, C]) uint8 → (T, H, W, channels); RGB → grey by ITU-R 601 luma (Pillow's "L" conversion)."""
    if frames.ndim == 3:
        frames = frames[..., None]
    have = frames.shape[-1]
    if have == channels:
        return frames
    if have == 1 and channels == 3:
        return np.repeat(frames, 3, axis=-1)
    if have in (3, 4) and channels == 1:
        rgb = frames[..., :3].astype(np.float32)
        grey = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
        return grey.round().clip(0, 255).astype(np.uint8)[..., None]
    if have == 4 and channels == 3:
        return frames[..., :3]
    raise DataError(f"cannot turn {have}-channel frames into {channels}-channel ones")


def read_video(path: str | os.PathLike[str], *, channels: int = 3, max_frames: int | None = None) -> np.ndarray:
    """Decode a video file (or an animated GIF) into uint8 frames.

    Args:
        path (`str` or `os.PathLike`): the file.
        channels (`int`, *optional*, defaults to 3): 1 (grey) or 3 (RGB).
        max_frames (`int`, *optional*): stop after this many frames.

    Returns:
        `np.ndarray`: uint8 ``(T, H, W, channels)``.

    Raises:
        DataError: the file is missing, cannot be decoded, or holds no frame (the message says what to do).

    Example:
        >>> frames = read_video("data/video/raw/vtest.avi", channels=1)  # doctest: +SKIP
        >>> frames.shape  # doctest: +SKIP
        (795, 576, 768, 1)
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"No such video file: {path}")
    if path.suffix.lower() == ".gif":
        return _read_gif(path, channels, max_frames)
    try:
        import cv2
    except ImportError as err:
        raise DataError(f"reading {path.name} needs OpenCV: pip install opencv-python-headless (or give a folder of "
                        f"frames)") from err
    cap = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    try:
        while cap.isOpened() and (max_frames is None or len(frames) < max_frames):
            ok, frame = cap.read()
            if not ok:
                break
            frame = frame[..., None] if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            frames.append(frame)
    finally:
        cap.release()
    if not frames:
        raise DataError(f"cannot read video {path}: OpenCV decoded no frame (not a video, truncated, or an unsupported "
                        f"codec); re-encode it (ffmpeg -i {path.name} -c:v libx264 out.mp4) or give a folder of frames")
    return _as_channels(np.stack(frames), channels)


def _read_gif(path: Path, channels: int, max_frames: int | None) -> np.ndarray:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            frames = []
            for frame in ImageSequence.Iterator(im):
                frames.append(np.asarray(frame.convert("L" if channels == 1 else "RGB")))
                if max_frames is not None and len(frames) >= max_frames:
                    break
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as err:
        raise DataError(f"cannot read video {path}: not a readable GIF ({err.__class__.__name__}); replace it") from err
    return _as_channels(np.stack(frames), channels)


def read_frame_folder(folder: str | os.PathLike[str], *, channels: int = 3) -> np.ndarray:
    """Read a folder of frames (sorted by file name) into uint8 ``(T, H, W, channels)``.

    Raises:
        DataError: the folder is missing or holds no image, a frame is unreadable, or frames differ in size
            (the message names the first frame of each size).
    """
    from .images import list_images, open_image

    folder = Path(folder)
    files, _ = list_images(folder, recursive=False)
    if not files:
        raise DataError(f"{folder} holds no frame images (expected {folder}/0000.png, 0001.png, …)")
    frames = [np.asarray(open_image(f, channels)) for f in files]
    sizes = {}
    for f, arr in zip(files, frames):
        sizes.setdefault(arr.shape[:2], f.name)
    if len(sizes) > 1:
        (s1, f1), (s2, f2) = list(sizes.items())[:2]
        raise DataError(f"{folder}: frames of mixed sizes ({f1} is {s1[1]}×{s1[0]}, {f2} is {s2[1]}×{s2[0]}); "
                        f"give frames of one size")
    return _as_channels(np.stack(frames), channels)


def _read_clip_array(path: Path, channels: int) -> np.ndarray:
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read clip array {path}: {err}") from err
    if arr.dtype != np.uint8 or arr.ndim not in (4, 5):
        raise DataError(f"{path}: a clip array is uint8 (N, T, H, W) or (N, T, H, W, C), got {arr.dtype} "
                        f"{tuple(arr.shape)}")
    return arr


def read_clip(path: str | os.PathLike[str], *, channels: int = 3) -> np.ndarray:
    """One clip from a folder of frames or a video file, as uint8 ``(T, H, W, channels)``.

    Raises:
        DataError: ``path`` is neither, or cannot be read (see :func:`read_video`, :func:`read_frame_folder`).
    """
    path = Path(path)
    if path.is_dir():
        return read_frame_folder(path, channels=channels)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return read_video(path, channels=channels)
    if not path.exists():
        raise DataError(f"No such clip: {path}")
    raise DataError(f"{path.name} is not a clip: give a folder of frames or a video file "
                    f"({', '.join(VIDEO_SUFFIXES)})")


def fit_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """Resize every frame's shorter side to ``size`` (bicubic; area when shrinking a lot) and centre-crop a square.

    Args:
        frames (`np.ndarray`): uint8 ``(T, H, W, C)``.
        size (`int`): the output side.

    Returns:
        `np.ndarray`: uint8 ``(T, size, size, C)`` (the input itself when it already has that size).
    """
    from PIL import Image

    t, h, w, c = frames.shape
    if (h, w) == (size, size):
        return np.ascontiguousarray(frames)
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    top, left = (nh - size) // 2, (nw - size) // 2
    # Pillow's reducing_gap pre-shrinks by box filtering, so large frames do not alias when brought down to 64 px
    out = np.empty((t, size, size, c), dtype=np.uint8)
    for i in range(t):
        img = Image.fromarray(frames[i, ..., 0] if c == 1 else frames[i])
        img = img.resize((nw, nh), Image.BICUBIC, reducing_gap=3.0).crop((left, top, left + size, top + size))
        arr = np.asarray(img)
        out[i] = arr[..., None] if c == 1 else arr
    return out


def clip_to_tensor(frames: np.ndarray) -> Any:
    """uint8 ``(T, H, W, C)`` → float tensor ``(T, C, H, W)`` in [-1, 1]."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    return x.div_(127.5).sub_(1.0)


def _use_split(root: Path, split: str | None) -> Path:
    if split and (root / split).is_dir():
        return root / split
    return root


class VideoClipDataset(GanDataset):
    """Windows of ``length`` consecutive frames from every clip under ``root`` (or ``root/<split>``).

    The folder may hold clip folders of frames, video files and clip arrays (see the module docstring). Every
    source is decoded once and kept as uint8 at ``image_size``² (``image_size``² × frames × channels bytes; a
    10-minute 25 fps video is 59 MB at 64² RGB). Windows start every ``stride`` frames. Clips shorter than
    ``length``, unreadable video files and clip folders with an unreadable frame are skipped and counted in
    :attr:`skipped` (a warning names them); none left is a :class:`DataError`, and so are frames of mixed sizes.
    Everything is decoded when the dataset is built, so a file damaged later does not affect it.

    Args:
        root: the data folder. split: ``"train"``/``"test"`` sub-folder when it exists. image_size, channels: the
        model's frames. length: frames per item (context + future). stride: step between window starts.
    """

    def __init__(self, root: str | os.PathLike[str], *, image_size: int, channels: int, length: int,
                 split: str | None = "train", stride: int = 1) -> None:
        self.root = _use_split(Path(root), split)
        if not self.root.is_dir():
            raise DataError(f"No such data folder: {self.root}")
        if length < 1 or stride < 1:
            raise DataError(f"length and stride must be ≥ 1, got {length} and {stride}")
        self.image_size, self.channels, self.length = image_size, channels, length
        self.clips: list[np.ndarray] = []  # uint8 (T, S, S, C) each
        self.names: list[str] = []
        self.skipped = {"clips shorter than the window": 0, "unreadable video files": 0, "unreadable clip folders": 0,
                        "other files": 0}
        short: list[str] = []
        for entry in sorted(self.root.iterdir()):
            if entry.name.startswith("."):
                continue
            for name, clip in self._read_entry(entry):
                if clip is None:
                    continue
                if len(clip) < length:
                    self.skipped["clips shorter than the window"] += 1
                    short.append(f"{name} ({len(clip)})")
                    continue
                self.clips.append(clip)
                self.names.append(name)
        self.windows = [(c, s) for c, clip in enumerate(self.clips) for s in range(0, len(clip) - length + 1, stride)]
        if not self.windows:
            why = (f"; every clip is shorter than {length} frames (context + future): {', '.join(short[:3])}"
                   if short else "")
            raise DataError(f"{self.root} has no clip of at least {length} frames (clip folders of frames, video files "
                            f"or .npy clip arrays){why}")
        parts = [f"{n} {what}" for what, n in self.skipped.items() if n]
        if parts:
            logger.warning("%s: skipped %s%s", self.root, ", ".join(parts),
                           f" (short: {', '.join(short[:3])})" if short else "")

    def _read_entry(self, entry: Path) -> list[tuple[str, np.ndarray | None]]:
        if entry.is_dir():
            try:
                frames = read_frame_folder(entry, channels=self.channels)
            except DataError as err:
                if "mixed sizes" in str(err):  # a wrong folder, not a damaged file: the user must fix it
                    raise
                self.skipped["unreadable clip folders"] += 1
                logger.warning("skipping %s", err)
                return []
            return [(entry.name, fit_frames(frames, self.image_size))]
        suffix = entry.suffix.lower()
        if suffix == CLIP_ARRAY_SUFFIX:
            arr = _read_clip_array(entry, self.channels)
            return [(f"{entry.name}[{i}]", fit_frames(_as_channels(np.asarray(arr[i]), self.channels),
                                                      self.image_size)) for i in range(arr.shape[0])]
        if suffix in VIDEO_SUFFIXES:
            try:
                return [(entry.name, fit_frames(read_video(entry, channels=self.channels), self.image_size))]
            except DataError as err:
                self.skipped["unreadable video files"] += 1
                logger.warning("skipping %s", err)
                return []
        self.skipped["other files"] += 1
        return []

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        c, s = self.windows[index]
        return {"frames": clip_to_tensor(self.clips[c][s:s + self.length])}


# ---------------------------------------------------------------------------------------------------------
# moving digits


def opencv_digits_path() -> Path:
    """Where ``builtin:moving-digits`` looks for OpenCV's ``digits.png``: ``$GANZOO_DATA/digits/digits.png``
    (``GANZOO_DATA`` defaults to ``data``, relative to the working directory: ``scripts/fetch_digits.py``'s output)."""
    return Path(os.environ.get("GANZOO_DATA", "data")).expanduser() / "digits" / "digits.png"


def _sprites(source: str, split: str | None) -> tuple[np.ndarray, str]:
    """28×28 uint8 digit sprites of a split, and a provenance string for protocols."""
    from . import digits as gd

    if source == "opencv":
        path = opencv_digits_path()
        if not path.is_file():
            raise DataError(f"builtin:moving-digits needs OpenCV's digits.png at {path}: run `python "
                            f"scripts/fetch_digits.py --out data/digits` (or set GANZOO_DATA), or use "
                            f"builtin:moving-digits-sklearn")
        images, labels = gd.load_opencv_digits(path)
        test_per_class, provenance = 50, f"opencv digits.png sha256 {gd.DIGITS_PNG_SHA256[:16]}"
    else:
        images, labels = gd.load_sklearn_digits()
        test_per_class, provenance = 30, "scikit-learn load_digits"
    (train, _), (test, _) = gd.split_digits(images, labels, test_per_class=test_per_class, seed=0)
    if split in ("test", "val"):
        return test, provenance + " (test split)"
    if split == "train":
        return train, provenance + " (train split)"
    return np.concatenate([train, test]), provenance


class MovingDigits(GanDataset):
    """The Moving-MNIST recipe (Srivastava, Mansimov & Salakhutdinov 2015), generated on the fly.

    ``num_digits`` 28×28 digits move inside an ``image_size``² frame: each starts at a uniform position with a
    uniform direction, moves ``speed`` × (frame − 28) pixels per frame (the recipe's step of 0.1 of the free range:
    3.6 px at 64²) and bounces off the edges; overlapping digits combine by maximum. Clip ``index`` depends only on
    ``(seed, index)``; the test split draws its digits from the held-out digits and uses another seed, so no test
    clip (nor its digits) is seen in training.

    Args:
        sprites: uint8 ``(N, 28, 28)`` digits. image_size, channels, length: the clips. num_clips: the length
        of an epoch. seed: clip seeds are ``(seed, index)``. num_digits, speed: the recipe's 2 and 0.1.
    """

    def __init__(self, sprites: np.ndarray, *, image_size: int = 64, channels: int = 1, length: int = 20,
                 num_clips: int = 10_000, seed: int = 0, num_digits: int = 2, speed: float = 0.1,
                 provenance: str = "") -> None:
        if image_size < sprites.shape[1]:
            raise DataError(f"moving digits need frames of at least {sprites.shape[1]} px, got image_size={image_size}")
        self.sprites = sprites
        self.image_size, self.channels, self.length = image_size, channels, length
        self.num_clips, self.base_seed, self.num_digits, self.speed = num_clips, seed, num_digits, speed
        self.provenance = provenance
        self.skipped = {}

    def __len__(self) -> int:
        return self.num_clips

    def trajectories(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-left corners ``(num_digits, length, 2)`` (row, col) of each digit, and the sprite indices."""
        rng = np.random.default_rng([self.base_seed, int(index)])
        room = self.image_size - self.sprites.shape[1]
        which = rng.integers(0, len(self.sprites), size=self.num_digits)
        pos = np.zeros((self.num_digits, self.length, 2), dtype=np.int64)
        for d in range(self.num_digits):
            p = rng.uniform(0.0, 1.0, size=2)
            theta = rng.uniform(0.0, 2 * np.pi)
            v = np.array([np.sin(theta), np.cos(theta)]) * self.speed
            for t in range(self.length):
                pos[d, t] = np.round(p * room).astype(np.int64)
                p = p + v
                for k in range(2):  # bounce: reflect the velocity and stay on the edge, as the recipe does
                    if p[k] < 0.0:
                        p[k], v[k] = 0.0, -v[k]
                    elif p[k] > 1.0:
                        p[k], v[k] = 1.0, -v[k]
        return pos, which

    def clip(self, index: int) -> np.ndarray:
        """Clip ``index`` as uint8 ``(length, image_size, image_size)``."""
        pos, which = self.trajectories(index)
        s = self.sprites.shape[1]
        frames = np.zeros((self.length, self.image_size, self.image_size), dtype=np.uint8)
        for d in range(self.num_digits):
            sprite = self.sprites[which[d]]
            for t in range(self.length):
                y, x = pos[d, t]
                np.maximum(frames[t, y:y + s, x:x + s], sprite, out=frames[t, y:y + s, x:x + s])
        return frames

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"frames": clip_to_tensor(_as_channels(self.clip(index), self.channels))}


def moving_digits(source: str, *, split: str | None, image_size: int, channels: int, length: int,
                  num_clips: int | None = None) -> MovingDigits:
    """The ``builtin:moving-digits`` (``source="opencv"``) and ``builtin:moving-digits-sklearn`` datasets.

    Args:
        source (`str`): ``"opencv"`` (``digits.png``, see :func:`opencv_digits_path`) or ``"sklearn"``.
        split (`str`, *optional*): ``"train"`` (10,000 clips per epoch, seed 0, training digits), ``"test"``
            (1,000 clips, seed 1, held-out digits) or None (all digits, seed 0).
        image_size, channels, length (`int`): frame side, channels and frames per clip.
        num_clips (`int`, *optional*): override the number of clips.

    Raises:
        DataError: ``source="opencv"`` and ``digits.png`` has not been fetched (the message gives the command).
    """
    sprites, provenance = _sprites(source, split)
    test = split in ("test", "val")
    n = num_clips if num_clips is not None else (1_000 if test else 10_000)
    return MovingDigits(sprites, image_size=image_size, channels=channels, length=length, num_clips=n,
                        seed=1 if test else 0, provenance=provenance)
