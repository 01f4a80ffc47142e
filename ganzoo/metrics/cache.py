"""Real-image features, computed once and cached on disk.

A :class:`Reference` names a set of real images (what ``--data`` and the split resolved to, how its items are
read, which key of an item is the image) and its identity: the cache key is that identity plus the folder's
files (paths, sizes, mtimes), the extractor and its weights' sha256, and the subset size, so a changed file,
another extractor or another resolution never reuses stale features. Evaluation plans build the references
(:func:`ganzoo.metrics.generation.real_features` for a folder or ``builtin:<name>`` of images).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from .. import __version__
from ..errors import DataError
from .extractors import FeatureExtractor

__all__ = ["RealFeatures", "Reference", "stats_cache_dir", "reference_features", "subset_indices", "batches",
           "pixels_digest"]

logger = logging.getLogger(__name__)

_CACHE_FORMAT = "ganzoo-real-features/2"  # bump when the real-data preprocessing changes (2: no load_size crop at eval)


def stats_cache_dir() -> Path:
    """Where real-data features are cached: ``$GANZOO_CACHE/stats``, else ``$XDG_CACHE_HOME/ganzoo/stats``, else
    ``~/.cache/ganzoo/stats``."""
    root = os.environ.get("GANZOO_CACHE")
    if root:
        return Path(root).expanduser() / "stats"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "ganzoo" / "stats"


def _folder_fingerprint(root: Path) -> str:
    """Cheap identity of a folder's files (relative path, size, mtime): the cache key, not the protocol."""
    digest = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts):
            st = p.stat()
            digest.update(f"{p.relative_to(root).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _builtin_fingerprint(name: str) -> str:
    parts = [name, __version__]
    try:
        import sklearn

        parts.append(f"sklearn {sklearn.__version__}")
    except ImportError:  # pragma: no cover
        pass
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


@dataclass
class Reference:
    """A set of real images and how to read it.

    Attributes:
        data (`str`): the ``--data`` argument (a folder or ``builtin:<name>``).
        split (`str | None`): the split used (None: the whole folder, or every item of a built-in set).
        files (`Path | None`): the folder whose files identify the set (None for built-in data).
        dataset (`Callable[[], Dataset]`): builds the dataset (called once, when the features are computed).
        key (`str`): the item key holding the image (``"image"``, ``"B"`` …).
        identity (`dict`): how the items are made (task format, role, resolution, channels …): part of the cache key.
    """

    data: str
    split: str | None
    files: Path | None
    dataset: Callable[[], Any]
    key: str = "image"
    identity: dict[str, Any] = field(default_factory=dict)

    def where(self) -> str:
        """The reference as messages name it."""
        return f"{self.data}" + (f" (split '{self.split}')" if self.split else "")

    def fingerprint(self) -> str:
        """Identity of the files (or of the built-in set's generator)."""
        return _builtin_fingerprint(self.data) if self.files is None else _folder_fingerprint(self.files)


@dataclass
class RealFeatures:
    """Features of a real image set (from the cache or freshly computed).

    Attributes:
        features (`Tensor`): ``[N, D]`` float32.
        logits (`Tensor | None`): ``[N, K]`` when the extractor has a classifier head.
        labels (`Tensor | None`): ``[N]`` class indices when the data has classes.
        classes (`list[str]`): class names (folder names) in label order.
        count (`int`): N.
        fingerprint (`str`): sha256 (16 hex) of the real pixels as fed to the extractor, in order.
        split (`str | None`): the split used (None: the whole folder).
        cache_hit (`bool`), cache_path (`Path | None`).
    """

    features: torch.Tensor
    logits: torch.Tensor | None
    labels: torch.Tensor | None
    classes: list[str]
    count: int
    fingerprint: str
    split: str | None
    cache_hit: bool = False
    cache_path: Path | None = None


def _cache_key(ref: Reference, extractor: FeatureExtractor, n_real: int | None) -> dict[str, Any]:
    return {"format": _CACHE_FORMAT, "data": os.path.abspath(ref.data) if ref.files is not None else ref.data,
            "files": ref.fingerprint(), "split": ref.split, "key": ref.key, **ref.identity,
            "extractor": extractor.name, "extractor_sha256": extractor.weights_sha256, "n": n_real}


def _cache_path(key: dict[str, Any], cache_dir: Path | None) -> Path:
    blob = json.dumps(key, sort_keys=True).encode()
    return (cache_dir or stats_cache_dir()) / f"{hashlib.sha256(blob).hexdigest()[:32]}.safetensors"


def _load_cache(path: Path, key: dict[str, Any]) -> RealFeatures | None:
    if not path.is_file():
        return None
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            if meta.get("format") != _CACHE_FORMAT or json.loads(meta.get("key", "null")) != key:
                return None
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        return RealFeatures(features=tensors["features"], logits=tensors.get("logits"), labels=tensors.get("labels"),
                            classes=json.loads(meta.get("classes", "[]")), count=int(meta["count"]),
                            fingerprint=meta["fingerprint"], split=key.get("split"), cache_hit=True, cache_path=path)
    except Exception as err:  # a corrupt or foreign file is recomputed, never trusted
        logger.warning("ignoring unreadable stats cache %s (%s); recomputing", path, err)
        return None


def _save_cache(path: Path, key: dict[str, Any], real: RealFeatures) -> None:
    from safetensors.torch import save_file

    tensors = {"features": real.features.contiguous()}
    if real.logits is not None:
        tensors["logits"] = real.logits.contiguous()
    if real.labels is not None:
        tensors["labels"] = real.labels.contiguous()
    meta = {"format": _CACHE_FORMAT, "key": json.dumps(key, sort_keys=True), "count": str(real.count),
            "fingerprint": real.fingerprint, "classes": json.dumps(real.classes), "ganzoo_version": __version__}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        save_file(tensors, str(tmp), metadata=meta)
        os.replace(tmp, path)
    except OSError as err:  # a read-only cache only costs speed
        logger.warning("could not write the stats cache %s (%s)", path, err)


# ---------------------------------------------------------------------------------------------------------
# reading


def subset_indices(total: int, n: int | None) -> list[int]:
    """All indices, or a fixed random subset of ``n`` in order (the same whatever the sampling seed)."""
    if n is None or n >= total:
        return list(range(total))
    rng = np.random.default_rng(0)  # fixed: the reference subset must not move with --seed
    return sorted(rng.permutation(total)[:n].tolist())


def batches(ds: Any, indices: list[int], batch_size: int) -> Iterator[dict[str, torch.Tensor]]:
    """The items ``indices`` of ``ds`` in order, collated into batches."""
    from torch.utils.data import DataLoader, Subset

    loader = DataLoader(Subset(ds, indices) if len(indices) != len(ds) else ds, batch_size=batch_size,
                        shuffle=False, num_workers=0)
    yield from loader


def pixels_digest(digest: Any, x: torch.Tensor) -> None:
    """Feed the 8-bit pixels of [-1, 1] images to a hashlib digest (the reference fingerprint)."""
    digest.update(((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu().numpy().tobytes())


@torch.no_grad()
def _compute(ref: Reference, extractor: FeatureExtractor, n_real: int | None, batch_size: int) -> RealFeatures:
    ds = ref.dataset()
    indices = subset_indices(len(ds), n_real)
    feats, logits, labels = [], [], []
    digest = hashlib.sha256()
    for batch in batches(ds, indices, batch_size):
        x = batch[ref.key]
        pixels_digest(digest, x)
        f, lg = extractor.features_and_logits(x)
        feats.append(f.float().cpu())
        if lg is not None:
            logits.append(lg.float().cpu())
        if "label" in batch:
            labels.append(batch["label"].long().cpu())
    if not feats:
        raise DataError(f"{ref.where()} holds no images")
    classes = getattr(ds, "classes", None)  # a dataset attribute, not a plugin hook: datasets without classes
    return RealFeatures(
        features=torch.cat(feats), logits=torch.cat(logits) if logits else None,
        labels=torch.cat(labels) if labels else None, classes=list(classes or []),
        count=len(indices), fingerprint=digest.hexdigest()[:16], split=ref.split)


def reference_features(ref: Reference, extractor: FeatureExtractor, *, n_real: int | None = None,
                       batch_size: int = 64, use_cache: bool = True,
                       cache_dir: str | os.PathLike[str] | None = None) -> RealFeatures:
    """Features of ``ref``'s images (all, or a fixed random subset of ``n_real``), from the cache when it holds them.

    Args:
        ref (`Reference`): the real images.
        extractor (`FeatureExtractor`): the feature network.
        n_real (`int`, *optional*): a fixed random subset of this many images (default: all).
        batch_size (`int`, *optional*, defaults to 64).
        use_cache (`bool`, *optional*, defaults to `True`): read and write the cache.
        cache_dir (*optional*): default :func:`stats_cache_dir`.

    Returns:
        `RealFeatures`.

    Raises:
        DataError: the set holds no images.
    """
    key = _cache_key(ref, extractor, n_real)
    path = _cache_path(key, Path(cache_dir) if cache_dir else None)
    if use_cache:
        hit = _load_cache(path, key)
        if hit is not None:
            logger.debug("real features of %s from the cache %s", ref.where(), path)
            return hit
    real = _compute(ref, extractor, n_real, batch_size)
    if use_cache:
        _save_cache(path, key, real)
        real.cache_path = path
    return real

