"""Dataset formats users already have (DESIGN.md §7), as map-style datasets of dict items.

=========================  ======================================  ===================================
format                     layout                                  item
=========================  ======================================  ===================================
image folder               any images, recursively                 ``{"image"}``
class sub-folders          ``root/<class>/*.png``                  ``{"image", "label"}``
aligned pairs (pix2pix)    ``root/[split/]*.jpg``, each ``A|B``    ``{"A", "B"}`` (input, target)
unaligned (CycleGAN)       ``root/trainA/``, ``root/trainB/``      ``{"A", "B"}``
domain folders (StarGAN)   ``root/<domain>/*.png``                 ``{"image", "label"}``
audio pairs                ``root/[split/]{clean,noisy}/*.wav``    ``{"clean", "noisy"}`` (T,)
frame sequences            ``root/[split/]<clip>/*.png``           ``{"frames"}`` (T, C, H, W)
built-in                   ``builtin:<name>`` (:mod:`.builtin`)     the task's items
=========================  ======================================  ===================================

Images are float CHW in [-1, 1]. Randomness (crops, flips, the unaligned B pick, audio windows) comes from
a generator seeded by ``(seed, epoch, index)``: the same item for the same step whatever the number of
workers or processes, which is what makes resumed training bit-identical.

Broken files never stop a run. Files that are not images, or whose header cannot be read, are dropped when
the dataset is built; a file that passes that check but fails to decode when an item is loaded (a truncated
JPEG) is skipped then: the item is served by the next readable file (cyclically, in the dataset's order), the
file is counted in ``dataset.skipped`` and named in a warning (once per file, for the first few). Which file
serves an index depends only on which files are broken, so training stays deterministic and resumes exactly;
only a dataset with no readable file left is an error.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import DataError
from .images import IMAGE_EXTENSIONS, list_images, open_image, to_tensor

__all__ = [
    "GanDataset",
    "ImageFolderDataset",
    "ArrayImageDataset",
    "AlignedDataset",
    "UnalignedDataset",
    "AudioPairDataset",
    "FrameSequenceDataset",
    "dataset_for_task",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Unreadable files named one by one in warnings, per dataset (and loader worker); the rest are only counted.
_WARN_FILES = 5


class GanDataset(Dataset):
    """Base: a seed and an epoch, so per-item randomness is a pure function of ``(seed, epoch, index)``.

    Attributes:
        skipped: ``{what: count}`` of the files left out (non-image files, unreadable images …).
        card_info: ``{"name", "license", "source"}`` of the data, for the card of a model trained on it
            (None: unknown; the built-in datasets have it).
    """

    seed: int = 0
    epoch: int = 0
    skipped: dict[str, int]
    card_info: dict[str, str] | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def set_seed(self, seed: int) -> None:
        self.seed = int(seed)

    def rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed & 0xFFFFFFFF, self.epoch, int(index)])

    def _readable(self, index: int, n: int, load: Callable[[int], T], *, kind: str = "unreadable images",
                  group: str = "") -> T:
        """``load(index)``, or, when it raises :class:`DataError` (a file that does not decode), ``load`` of the
        next readable position after it (cyclically over ``n``), remembering the bad ones.

        Args:
            index: the position asked for.
            n: how many positions there are.
            load: reads position ``j``; raises DataError when its file cannot be read.
            kind: the ``skipped`` counter to increase.
            group: which list ``index`` refers to, when a dataset has several (unaligned A and B).

        Raises:
            DataError: no position at all can be read.
        """
        bad = self.__dict__.setdefault("_unreadable", {})
        first: DataError | None = None
        for k in range(n):
            j = (index + k) % n
            if (group, j) in bad:
                continue
            try:
                return load(j)
            except DataError as err:
                first = first or err
                bad[(group, j)] = str(err)
                self.skipped[kind] = self.skipped.get(kind, 0) + 1
                if len(bad) <= _WARN_FILES:
                    logger.warning("skipped: %s (its items are served by the next readable file)", err)
                elif len(bad) == _WARN_FILES + 1:
                    logger.warning("more files cannot be read; they are skipped without a warning each (see the "
                                   "dataset's skipped counts)")
        example = first or DataError(next(iter(bad.values()), "no files"))
        raise DataError(f"{getattr(self, 'root', 'the data')}: no file can be read any more (e.g. {example}); "
                        f"check the data")


def _use_split(root: Path, split: str | None) -> Path:
    if split and (root / split).is_dir():
        return root / split
    return root


def _resize_crop(img: Any, image_size: int, load_size: int | None, rng: np.random.Generator | None, flip: bool,
                 crop: tuple[int, int] | None = None, do_flip: bool | None = None
                 ) -> tuple[Any, tuple[int, int], bool]:
    """Resize the shorter side to ``load_size`` (default ``image_size``), crop ``image_size`` (random when the
    load size is larger and an rng is given, else centred), flip horizontally with p=0.5 when ``flip``.
    ``crop``/``do_flip`` replay a previous draw (for the two halves of a pair)."""
    from PIL import Image

    target = load_size or image_size
    w, h = img.size
    scale = target / min(w, h)
    nw, nh = max(image_size, round(w * scale)), max(image_size, round(h * scale))
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), Image.BICUBIC)
    if crop is None:
        if rng is not None and (nw > image_size or nh > image_size):
            crop = (int(rng.integers(0, nw - image_size + 1)), int(rng.integers(0, nh - image_size + 1)))
        else:
            crop = ((nw - image_size) // 2, (nh - image_size) // 2)
    x, y = crop
    img = img.crop((x, y, x + image_size, y + image_size))
    if do_flip is None:
        do_flip = bool(flip and rng is not None and rng.random() < 0.5)
    if do_flip:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    return img, crop, do_flip


def _verified(files: list[Path], verify: bool) -> tuple[list[Path], int]:
    """Drop files PIL cannot identify (header check only: fast)."""
    if not verify:
        return files, 0
    from PIL import Image

    good, bad = [], 0
    for p in files:
        try:
            with Image.open(p) as im:
                im.verify()
            good.append(p)
        except Exception:  # PIL raises many types for broken files
            bad += 1
            logger.debug("skipping unreadable image %s", p)
    return good, bad


def _report_skips(root: Path, skipped: dict[str, int]) -> None:
    parts = [f"{n} {what}" for what, n in skipped.items() if n]
    if parts:
        logger.warning("%s: skipped %s", root, ", ".join(parts))


class ImageFolderDataset(GanDataset):
    """Images under ``root`` (recursively); with ``labels=True`` each immediate sub-folder is a class.

    Non-image files are skipped and counted; unreadable images are skipped and counted (``self.skipped``) with
    a warning, so a stray ``.DS_Store`` or a truncated JPEG does not stop a run (see the module docstring:
    an image that only fails when decoded is replaced by the next readable one, deterministically).
    """

    def __init__(self, root: str | os.PathLike[str], *, image_size: int, channels: int = 3, labels: bool = False,
                 load_size: int | None = None, flip: bool = False, split: str | None = None,
                 augment: bool = True, verify: bool = True, classes: Sequence[str] | None = None) -> None:
        self.root = _use_split(Path(root), split)
        self.image_size, self.channels, self.load_size, self.flip = image_size, channels, load_size, flip
        self.augment = augment
        files, non_images = list_images(self.root)
        files, corrupt = _verified(files, verify)
        self.skipped = {"non-image files": non_images, "unreadable images": corrupt}
        self.labels_on = labels
        if labels:
            found = sorted(d.name for d in self.root.iterdir() if d.is_dir() and not d.name.startswith("."))
            self.classes = list(classes) if classes is not None else found
            if not self.classes:
                raise DataError(f"{self.root} has no class sub-folders; a conditional model needs root/<class>/*.png")
            index = {c: i for i, c in enumerate(self.classes)}
            kept = [(f, index[f.relative_to(self.root).parts[0]]) for f in files
                    if len(f.relative_to(self.root).parts) > 1 and f.relative_to(self.root).parts[0] in index]
            self.files = [f for f, _ in kept]
            self.targets = [t for _, t in kept]
            self.skipped["images outside the class folders"] = len(files) - len(kept)
        else:
            self.classes, self.files, self.targets = [], files, []
        _report_skips(self.root, self.skipped)
        if not self.files:
            raise DataError(f"{self.root} holds no readable images ({', '.join(IMAGE_EXTENSIONS[:4])} …)")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Any]:
        rng = self.rng(index) if self.augment else None
        j, img = self._readable(index, len(self.files), lambda j: (j, open_image(self.files[j], self.channels)))
        # load_size (resize-then-random-crop) is a training augmentation; without it images are fitted to image_size
        load = self.load_size if self.augment else None
        img, _, _ = _resize_crop(img, self.image_size, load, rng, self.flip and self.augment)
        item: dict[str, Any] = {"image": to_tensor(img)}
        if self.labels_on:
            item["label"] = torch.tensor(self.targets[j], dtype=torch.long)
        return item


class ArrayImageDataset(GanDataset):
    """In-memory uint8 images (N, H, W) or (N, H, W, C) with optional labels, resized to ``image_size``."""

    def __init__(self, images: np.ndarray, labels: np.ndarray | None = None, *, image_size: int, channels: int = 1,
                 classes: Sequence[str] | None = None) -> None:
        from PIL import Image

        self.skipped = {}
        self.classes = list(classes or ([] if labels is None else [str(i) for i in range(int(labels.max()) + 1)]))
        out = []
        for im in images:
            pil = Image.fromarray(im)
            pil = pil.convert("L" if channels == 1 else "RGB")
            if pil.size != (image_size, image_size):
                pil = pil.resize((image_size, image_size), Image.BILINEAR)
            out.append(to_tensor(pil))
        self.images = torch.stack(out)
        self.labels = None if labels is None else torch.as_tensor(labels, dtype=torch.long)

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> dict[str, Any]:
        item: dict[str, Any] = {"image": self.images[index]}
        if self.labels is not None:
            item["label"] = self.labels[index]
        return item


class AlignedDataset(GanDataset):
    """pix2pix's aligned pairs: each file is ``A|B`` side by side; both halves get the same crop and flip.

    ``direction="AtoB"`` makes A the input; ``"BtoA"`` swaps them. Items are ``{"A": input, "B": target}``.
    """

    def __init__(self, root: str | os.PathLike[str], *, image_size: int, channels_in: int = 3, channels_out: int = 3,
                 direction: str = "AtoB", load_size: int | None = None, flip: bool = False, split: str | None = "train",
                 augment: bool = True, verify: bool = True) -> None:
        if direction not in ("AtoB", "BtoA"):
            raise DataError(f"direction must be AtoB or BtoA, got {direction!r}")
        self.root = _use_split(Path(root), split)
        files, non_images = list_images(self.root)
        self.files, corrupt = _verified(files, verify)
        self.skipped = {"non-image files": non_images, "unreadable images": corrupt}
        _report_skips(self.root, self.skipped)
        if not self.files:
            raise DataError(f"{self.root} holds no A|B pair images")
        self.image_size, self.load_size, self.flip, self.augment = image_size, load_size, flip, augment
        self.channels_in, self.channels_out, self.direction = channels_in, channels_out, direction

    def __len__(self) -> int:
        return len(self.files)

    def _open_pair(self, j: int) -> tuple[Any, Any]:
        c_a, c_b = ((self.channels_in, self.channels_out) if self.direction == "AtoB"
                    else (self.channels_out, self.channels_in))
        full_a = open_image(self.files[j], c_a)
        if full_a.size[0] < 2:
            raise DataError(f"{self.files[j]} is too narrow to hold an A|B pair")
        return full_a, (open_image(self.files[j], c_b) if c_b != c_a else full_a)

    def __getitem__(self, index: int) -> dict[str, Any]:
        full_a, full_b = self._readable(index, len(self.files), self._open_pair)
        w, h = full_a.size
        half = w // 2
        a, b = full_a.crop((0, 0, half, h)), full_b.crop((half, 0, 2 * half, h))
        rng = self.rng(index) if self.augment else None
        load = self.load_size if self.augment else None  # evaluation sees the stored pair at image_size, no crop
        a, crop, flipped = _resize_crop(a, self.image_size, load, rng, self.flip and self.augment)
        b, _, _ = _resize_crop(b, self.image_size, load, None, False, crop=crop, do_flip=flipped)
        a_t, b_t = to_tensor(a), to_tensor(b)
        if self.direction == "BtoA":
            a_t, b_t = b_t, a_t
        return {"A": a_t, "B": b_t}


class UnalignedDataset(GanDataset):
    """CycleGAN's unaligned sets ``root/<split>A`` and ``root/<split>B``; B is drawn at random for each item.

    The length is the larger set's (as in the original); A cycles in order, B is picked by the per-item rng.
    """

    def __init__(self, root: str | os.PathLike[str], *, image_size: int, channels_a: int = 3, channels_b: int = 3,
                 load_size: int | None = None, flip: bool = False, split: str = "train", augment: bool = True,
                 verify: bool = True) -> None:
        root = Path(root)
        dirs = [root / f"{split}A", root / f"{split}B"]
        for d in dirs:
            if not d.is_dir():
                raise DataError(f"{root} needs {split}A/ and {split}B/ folders (CycleGAN layout); {d.name}/ is missing")
        (fa, na), (fb, nb) = list_images(dirs[0]), list_images(dirs[1])
        self.files_a, ca = _verified(fa, verify)
        self.files_b, cb = _verified(fb, verify)
        self.skipped = {"non-image files": na + nb, "unreadable images": ca + cb}
        _report_skips(root, self.skipped)
        for d, files in zip(dirs, (self.files_a, self.files_b)):
            if not files:
                raise DataError(f"{d} holds no readable images")
        self.root = root
        self.image_size, self.load_size, self.flip, self.augment = image_size, load_size, flip, augment
        self.channels_a, self.channels_b = channels_a, channels_b

    def __len__(self) -> int:
        return max(len(self.files_a), len(self.files_b))

    def __getitem__(self, index: int) -> dict[str, Any]:
        rng = self.rng(index)
        ib = int(rng.integers(0, len(self.files_b)))
        aug = rng if self.augment else None
        na, nb = len(self.files_a), len(self.files_b)
        img_a = self._readable(index % na, na, lambda j: open_image(self.files_a[j], self.channels_a), group="A")
        img_b = self._readable(ib, nb, lambda j: open_image(self.files_b[j], self.channels_b), group="B")
        a, _, _ = _resize_crop(img_a, self.image_size, self.load_size if self.augment else None, aug,
                               self.flip and self.augment)
        b, _, _ = _resize_crop(img_b, self.image_size, self.load_size if self.augment else None, aug,
                               self.flip and self.augment)
        return {"A": to_tensor(a), "B": to_tensor(b)}


def read_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read an audio file as mono float32 in [-1, 1] and its sample rate (see :func:`ganzoo.data.audio.read_audio`)."""
    from .audio import read_audio

    audio = read_audio(path)
    return audio.mono(), audio.sample_rate


class AudioPairDataset(GanDataset):
    """Clean/noisy WAV pairs with matching file names; random windows of ``segment`` samples (zero-padded)."""

    def __init__(self, root: str | os.PathLike[str], *, sample_rate: int, segment: int, split: str | None = "train",
                 augment: bool = True) -> None:
        self.root = _use_split(Path(root), split)
        clean, noisy = self.root / "clean", self.root / "noisy"
        if not clean.is_dir() or not noisy.is_dir():
            raise DataError(f"{self.root} needs clean/ and noisy/ folders of WAV files with matching names")
        names = sorted(p.name for p in clean.iterdir() if p.suffix.lower() in (".wav", ".flac", ".ogg"))
        missing = [n for n in names if not (noisy / n).is_file()]
        if missing:
            raise DataError(f"{noisy} lacks the noisy versions of {missing[:3]}{' …' if len(missing) > 3 else ''}")
        if not names:
            raise DataError(f"{clean} holds no audio files")
        self.pairs = [(clean / n, noisy / n) for n in names]
        self.sample_rate, self.segment, self.augment = sample_rate, segment, augment
        self.skipped = {}

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        def load(j: int) -> tuple[Path, Path, np.ndarray, int, np.ndarray, int]:
            c, n = self.pairs[j]
            return (c, n, *read_wav(c), *read_wav(n))

        c_path, n_path, clean, sr_c, noisy, sr_n = self._readable(index, len(self.pairs), load,
                                                                  kind="unreadable audio files")
        for p, sr in ((c_path, sr_c), (n_path, sr_n)):
            if sr != self.sample_rate:
                raise DataError(f"{p} is at {sr} Hz but the model expects {self.sample_rate} Hz; resample it first")
        n = min(len(clean), len(noisy))
        clean, noisy = clean[:n], noisy[:n]
        if n < self.segment:
            pad = self.segment - n
            clean, noisy = np.pad(clean, (0, pad)), np.pad(noisy, (0, pad))
            start = 0
        else:
            start = int(self.rng(index).integers(0, n - self.segment + 1)) if self.augment else 0
        sl = slice(start, start + self.segment)
        return {"clean": torch.from_numpy(clean[sl].copy()), "noisy": torch.from_numpy(noisy[sl].copy())}


class FrameSequenceDataset(GanDataset):
    """Clips as folders of frames (sorted by name); items are windows of ``length`` consecutive frames."""

    def __init__(self, root: str | os.PathLike[str], *, image_size: int, channels: int = 1, length: int,
                 split: str | None = "train", stride: int = 1) -> None:
        self.root = _use_split(Path(root), split)
        if not self.root.is_dir():
            raise DataError(f"No such data folder: {self.root}")
        clips = sorted(d for d in self.root.iterdir() if d.is_dir())
        self.windows: list[list[Path]] = []
        non_images = 0
        for clip in clips:
            frames, skipped = list_images(clip, recursive=False)
            non_images += skipped
            for s in range(0, len(frames) - length + 1, stride):
                self.windows.append(frames[s:s + length])
        self.skipped = {"non-image files": non_images}
        if not self.windows:
            raise DataError(f"{self.root} has no clip folder with at least {length} frames (root/<clip>/*.png)")
        self.image_size, self.channels, self.length = image_size, channels, length

    def __len__(self) -> int:
        return len(self.windows)

    def _clip(self, j: int) -> torch.Tensor:
        frames = []
        for p in self.windows[j]:
            img, _, _ = _resize_crop(open_image(p, self.channels), self.image_size, None, None, False)
            frames.append(to_tensor(img))
        return torch.stack(frames)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"frames": self._readable(index, len(self.windows), self._clip, kind="unreadable clips")}


def dataset_for_task(task: str, config: Any, path: str | os.PathLike[str], *, split: str = "train",
                     augment: bool = True) -> GanDataset:
    """The dataset a ``task`` model with ``config`` reads from ``path`` (its layout) or ``builtin:<name>``.

    The task object decides (:meth:`ganzoo.tasks.Task.dataset`); this is a shortcut by task name.
    """
    from ..tasks import get_task

    return get_task(task).dataset(config, path, split=split, augment=augment)
