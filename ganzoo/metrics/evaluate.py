"""``ganzoo eval``: sample a model, compare with real data, and record how every number was made.

What is measured depends on the task (``metric_names_for``):

=========================  ===============================================================================
task                       metrics
=========================  ===============================================================================
unconditional              kid, fid, pr (precision + recall); with a classifier extractor also is; with the
                           digit extractor also coverage (classes the samples cover)
class-conditional          the same, plus accuracy (the shipped digit classifier on samples drawn for each
                           label) and kid_per_class
reconstruction (AE / VAE)  the unconditional set on samples, plus psnr, ssim, l1 of reconstructions of the
                           test images (``impl.reconstruct(model, x)``, else ``model.sample(condition=x)``)
paired-translation         psnr, ssim, l1 of outputs against the targets of the test pairs, plus kid and fid of
                           the outputs against the real targets
unpaired-translation       kid and fid of the translated ``<split>A`` images against the real ``<split>B``
=========================  ===============================================================================

The metric arithmetic is torchmetrics' (``KernelInceptionDistance``, ``FrechetInceptionDistance``,
``InceptionScore``, ``PeakSignalNoiseRatio``, ``StructuralSimilarityIndexMeasure``) fed with features from a
pluggable extractor (:mod:`ganzoo.metrics.extractors`); improved precision/recall (Kynkäänniemi et al. 2019,
k = 3), which torchmetrics lacks, is computed here on the same features. Features are computed once per image
set: the real set's are cached on disk (see :func:`stats_cache_dir`), the generated set's are streamed.

Conventions that make numbers reproducible (all recorded in each metric's protocol):

* generated images are quantised to 8 bits (as if saved to PNG) before feature extraction, like the real ones;
* samples come from one seeded draw: ``impl.latent(model, n, seed=seed)`` then ``impl.generate`` in batches when
  the plugin exposes its latent space (the same images as ``ganzoo sample -n N --seed S``), otherwise
  ``model.sample`` per batch with a seed derived from ``(seed, batch index)``;
* class-conditional models get balanced labels ``i % K``;
* KID subsets, IS splits and the precision/recall radii are drawn from an RNG seeded with ``seed``;
* real images are read the way training reads them (``dataset_for_task``, no augmentation) at the model's
  resolution, then every extractor resizes both sets identically.

Small samples: FID is biased upwards below ~2,000 samples per set (two sets of 200 real images score FID ≈ 94
with Inception features, ``notes/data.md`` §3a); prefer KID there, and compare FIDs only at equal N.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shlex
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from .. import __version__
from ..errors import DataError, UnknownNameError, UsageError
from .extractors import (
    ExtractorUnavailableError,
    FeatureExtractor,
    default_extractor,
    get_extractor_info,
    load_extractor,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..model import GanModel

__all__ = [
    "METRICS",
    "MetricInfo",
    "MetricResult",
    "EvalReport",
    "RealFeatures",
    "evaluate",
    "real_features",
    "compare_real",
    "metric_names_for",
    "kid_from_features",
    "fid_from_features",
    "is_from_logits",
    "precision_recall",
    "coverage_from_logits",
    "stats_cache_dir",
    "write_card_metrics",
    "KID_MAX_SUBSET",
    "KID_MIN_SAMPLES",
    "KID_SUBSETS",
    "FID_UNBIASED_N",
    "IS_SPLITS",
    "PR_K",
]

logger = logging.getLogger(__name__)

KID_SUBSETS = 100  # subsets averaged by KID (torchmetrics' default)
KID_MAX_SUBSET = 1000  # subset size when both sets have ≥ 1000 images (Bińkowski et al.'s choice)
KID_MIN_SAMPLES = 10  # below this per set, the unbiased MMD estimate is noise
FID_UNBIASED_N = 2000  # below this per set, FID is biased upwards: warn and suggest KID
IS_SPLITS = 10  # the Inception Score's usual 10 splits
_KID_GRAM_LIMIT = 16_000_000  # kernel-matrix entries (double) up to which KID precomputes them (~128 MB)
PR_K = 3  # k-th nearest neighbour radius of improved precision/recall (Kynkäänniemi et al. 2019)
_CACHE_FORMAT = "ganzoo-real-features/2"  # bump when the real-data preprocessing changes (2: no load_size crop at eval)


# ---------------------------------------------------------------------------------------------------------
# metric registry


@dataclass(frozen=True)
class MetricInfo:
    """A metric ``ganzoo eval`` can compute.

    Attributes:
        name (`str`): what ``--metrics`` takes.
        description (`str`): one line.
        tasks (`tuple[str, ...]`): the tasks it applies to.
        uses (`str`): ``"features"`` (the extractor), ``"logits"`` (the extractor's classifier head),
            ``"digits"`` (the shipped digit classifier whatever the extractor) or ``"pixels"`` (no network).
        higher_is_better (`bool`).
    """

    name: str
    description: str
    tasks: tuple[str, ...]
    uses: str
    higher_is_better: bool


_GEN = ("unconditional", "class-conditional", "reconstruction", "paired-translation", "unpaired-translation")
_SAMPLERS = ("unconditional", "class-conditional", "reconstruction")

#: Every metric, by the name ``--metrics`` takes.
METRICS: dict[str, MetricInfo] = {m.name: m for m in (
    MetricInfo("kid", "Kernel Inception Distance: unbiased MMD² with a cubic polynomial kernel, mean ± std over "
               f"{KID_SUBSETS} subsets (lower is better; ~0 for two samples of one distribution)", _GEN, "features",
               False),
    MetricInfo("fid", "Fréchet distance between Gaussians fitted to the features (biased upwards below ~2,000 samples)",
               _GEN, "features", False),
    MetricInfo("pr", "improved precision (fidelity) and recall (diversity), k=3 nearest-neighbour manifolds; "
               "reported as 'precision' and 'recall'", _GEN, "features", True),
    MetricInfo("is", "Inception-Score-style exp(E KL(p(y|x) ‖ p(y))) from the extractor's classifier "
               "(digits: the 'classifier IS', at most 10)", _GEN, "logits", True),
    MetricInfo("coverage", "fraction of the 10 digit classes that get at least half their fair share of samples "
               "(shipped digit classifier)", _SAMPLERS, "digits", True),
    MetricInfo("accuracy", "shipped digit classifier's accuracy on samples drawn for each label (per-label in details)",
               ("class-conditional",), "digits", True),
    MetricInfo("kid_per_class", "KID between generated and real images of each class, averaged over classes",
               ("class-conditional",), "features", False),
    MetricInfo("psnr", "peak signal-to-noise ratio (dB) of outputs against targets, per image then averaged",
               ("paired-translation", "reconstruction"), "pixels", True),
    MetricInfo("ssim", "structural similarity of outputs against targets (Gaussian window 11, σ 1.5)",
               ("paired-translation", "reconstruction"), "pixels", True),
    MetricInfo("l1", "mean absolute error of outputs against targets, on the [0, 1] pixel scale",
               ("paired-translation", "reconstruction"), "pixels", False),
)}


def _has_reconstruct(model: Any) -> bool:
    # reconstruction plugins reconstruct with impl.reconstruct(model, x) or, the built-in AE/VAE convention,
    # model.sample(condition=x)
    return model.plugin.task == "reconstruction" or model.impl.supports("reconstruct")


def _digit_compatible(model: Any) -> bool:
    cfg = model.config
    k = getattr(cfg, "num_classes", None)
    return int(getattr(cfg, "channels", getattr(cfg, "output_channels", 3))) in (1, 3) and (k is None or int(k) == 10)


def metric_names_for(model: Any, extractor: str | None = None) -> list[str]:
    """The metrics ``ganzoo eval`` computes for ``model`` when ``--metrics`` is not given.

    Args:
        model (`GanModel`): the model.
        extractor (`str`, *optional*): the extractor that will be used (decides ``is`` and ``coverage``).

    Raises:
        UsageError: the task has no image-generation metrics yet (audio, video, multi-domain).
    """
    task = model.plugin.task
    if task not in _GEN:
        raise UsageError(f"ganzoo eval covers image models ({', '.join(_GEN)}); {model.plugin.name} is "
                         f"{task}, which has no metrics here yet")
    has_logits = extractor is not None and get_extractor_info(extractor).num_classes is not None
    names: list[str]
    if task == "paired-translation":
        names = ["psnr", "ssim", "l1", "kid", "fid"]
    elif task == "unpaired-translation":
        names = ["kid", "fid"]
    else:
        names = ["kid", "fid", "pr"] + (["is"] if has_logits else [])
        if extractor == "digits":
            names.append("coverage")
        if task == "class-conditional" and _digit_compatible(model) and extractor == "digits":
            names += ["accuracy", "kid_per_class"]
        elif task == "class-conditional":
            names.append("kid_per_class")
        if task == "reconstruction" and _has_reconstruct(model):
            names += ["psnr", "ssim", "l1"]
    return names


def _parse_metrics(metrics: Sequence[str] | str | None) -> list[str] | None:
    if metrics is None:
        return None
    items = metrics.split(",") if isinstance(metrics, str) else list(metrics)
    names = [m.strip().lower() for m in items if m and m.strip()]
    if not names:
        return None
    for name in names:
        if name not in METRICS:
            err = UnknownNameError(name, METRICS, kind="metric")
            err.args = (f"Unknown metric '{name}'."
                        + (f" Did you mean: {', '.join(err.suggestions)}?" if err.suggestions else "")
                        + f" Metrics: {', '.join(METRICS)}.",)
            raise err
    return list(dict.fromkeys(names))


# ---------------------------------------------------------------------------------------------------------
# results


@dataclass
class MetricResult:
    """One number with its protocol.

    Attributes:
        name (`str`): ``kid``, ``fid``, ``precision``, ``recall``, ``is``, ``coverage``, ``accuracy`` …
        value (`float`).
        std (`float | None`): spread where the metric has one (KID over subsets, IS over splits).
        details (`dict`): per-class values and the like.
        protocol (`dict`): everything needed to reproduce the number (see :class:`EvalReport`).
    """

    name: str
    value: float
    std: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    protocol: dict[str, Any] = field(default_factory=dict)

    def card_entry(self) -> dict[str, Any]:
        """The entry written to a card's ``ganzoo.metrics`` list."""
        entry: dict[str, Any] = {"name": self.name, "value": _round(self.value)}
        if self.std is not None:
            entry["std"] = _round(self.std)
        if self.details:
            entry["details"] = {k: _round(v) if isinstance(v, float) else v for k, v in self.details.items()}
        entry["protocol"] = dict(self.protocol)
        return entry


def _round(x: float) -> float:
    return float(f"{float(x):.6g}")


@dataclass
class EvalReport:
    """What :func:`evaluate` returns.

    Attributes:
        model (`str`): the name the model was evaluated by.
        plugin (`str`), task (`str`).
        results (`list[MetricResult]`).
        protocol (`dict`): the protocol shared by every result (each result's own adds metric-specific keys).
            Keys: ``extractor``, ``extractor_sha256``, ``resizer``, ``resolution`` (the side real images are read
            at: the model's), ``reference`` (the data argument), ``split`` (the split folder used, or None for
            the whole folder), ``reference_count``, ``reference_fingerprint`` (sha256 prefix of the real pixels),
            ``n_generated``, ``seed``, ``sampling``, ``quantize``, ``ganzoo_version``, ``weights_sha256`` (the
            evaluated weight files, when the model came from a folder or the registry), ``command``.
        timings (`dict[str, float]`): seconds per stage (``load``, ``real``, ``generate``, ``metrics``, ``total``).
        cache (`dict`): ``{"hit": bool, "path": str}`` for the real features.
    """

    model: str
    plugin: str
    task: str
    results: list[MetricResult]
    protocol: dict[str, Any]
    timings: dict[str, float]
    cache: dict[str, Any]

    def __getitem__(self, name: str) -> MetricResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no metric {name!r} in this report (has {', '.join(r.name for r in self.results)})")

    def value(self, name: str) -> float:
        """The value of metric ``name``."""
        return self[name].value

    def card_metrics(self) -> list[dict[str, Any]]:
        """The entries for a card's ``ganzoo.metrics`` list (validated by :func:`ganzoo.cards.validate_metadata`)."""
        return [r.card_entry() for r in self.results]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``--json``)."""
        return {"model": self.model, "plugin": self.plugin, "task": self.task, "protocol": self.protocol,
                "metrics": [{k: v for k, v in r.card_entry().items() if k != "protocol"} |
                            {"protocol": {k: v for k, v in r.protocol.items() if k not in self.protocol}}
                            for r in self.results],
                "timings": {k: round(v, 3) for k, v in self.timings.items()}, "cache": self.cache}


# ---------------------------------------------------------------------------------------------------------
# the real-feature cache


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


def _cache_path(key: dict[str, Any], cache_dir: Path | None) -> Path:
    blob = json.dumps(key, sort_keys=True).encode()
    return (cache_dir or stats_cache_dir()) / f"{hashlib.sha256(blob).hexdigest()[:32]}.safetensors"


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
        split (`str | None`): the split folder used (None: the whole folder or a built-in set).
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
# reading real data


def _quantize(x: torch.Tensor) -> torch.Tensor:
    """Round [-1, 1] images to the 256 levels of an 8-bit PNG (what real images are)."""
    return ((x.float().clamp(-1, 1) + 1) * 127.5).round() / 127.5 - 1


def _pixels_bytes(x: torch.Tensor) -> bytes:
    return ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu().numpy().tobytes()


@dataclass
class _Source:
    """Where the real images of an evaluation come from."""

    data: str
    split: str | None  # the split folder actually used
    root: Path | None  # None for built-in data
    task: str  # the dataset format
    config: Any  # image_size, channels … for dataset_for_task
    role: str  # "image" or "B" (translation targets)
    plugin_dataset: Any = None  # a plugin's make_dataset(), when it overrides the default

    def fingerprint(self) -> str:
        if self.root is None:
            return _builtin_fingerprint(self.data)
        return _folder_fingerprint(self.root)

    def where(self) -> str:
        return f"{self.data}" + (f" (split '{self.split}')" if self.split else "")


def _resolve_source(data: str, split: str | None, task: str, config: Any, *, role: str = "image",
                    plugin_dataset: Any = None) -> _Source:
    if str(data).startswith("builtin:"):
        from ..data import BUILTINS

        name = str(data).split(":", 1)[1]
        if name not in BUILTINS:
            raise UnknownNameError(name, BUILTINS, kind="built-in dataset")
        return _Source(str(data), None, None, task, config, role, plugin_dataset)
    root = Path(data)
    if not root.exists():
        raise DataError(f"No such data folder: {data}")
    if not root.is_dir():
        raise DataError(f"{data} is a file; give the dataset folder (or builtin:digits)")
    if task == "unpaired-translation":
        sub = root / f"{split or 'test'}B"
        if not sub.is_dir():
            raise DataError(f"{data} needs {split or 'test'}A/ and {split or 'test'}B/ folders (CycleGAN layout) to "
                            f"evaluate an unpaired translator; {sub.name}/ is missing")
        return _Source(str(data), split or "test", sub, task, config, role)
    if split and (root / split).is_dir():
        return _Source(str(data), split, root / split, task, config, role, plugin_dataset)
    if split:
        logger.info("%s has no '%s' folder: using every image under it as the reference", data, split)
    return _Source(str(data), None, root, task, config, role, plugin_dataset)


def _dataset(source: _Source) -> Any:
    from ..data import ImageFolderDataset, dataset_for_task

    cfg = source.config
    if source.task == "unpaired-translation":
        assert source.root is not None
        return ImageFolderDataset(source.root, image_size=int(getattr(cfg, "image_size", 64)),
                                  channels=int(getattr(cfg, "output_channels", getattr(cfg, "channels", 3))),
                                  augment=False)
    if source.plugin_dataset is not None:
        return source.plugin_dataset(source.data, split=source.split or "")
    return dataset_for_task(source.task, cfg, source.data, split=source.split or "", augment=False)


def _subset_indices(total: int, n_real: int | None) -> list[int]:
    if n_real is None or n_real >= total:
        return list(range(total))
    rng = np.random.default_rng(0)  # fixed: the reference subset must not move with --seed
    return sorted(rng.permutation(total)[:n_real].tolist())


def _batches(ds: Any, indices: list[int], batch_size: int) -> Iterator[dict[str, torch.Tensor]]:
    from torch.utils.data import DataLoader, Subset

    loader = DataLoader(Subset(ds, indices) if len(indices) != len(ds) else ds, batch_size=batch_size,
                        shuffle=False, num_workers=0)
    yield from loader


def _image_key(source: _Source) -> str:
    return "B" if source.task == "paired-translation" else "image"


def _cache_key(source: _Source, extractor: FeatureExtractor, n_real: int | None) -> dict[str, Any]:
    cfg = source.config
    return {
        "format": _CACHE_FORMAT,
        "data": os.path.abspath(source.data) if source.root is not None else source.data,
        "files": source.fingerprint(),
        "split": source.split,
        "task_format": source.task,
        "role": source.role,
        "extractor": extractor.name,
        "extractor_sha256": extractor.weights_sha256,
        "resolution": int(getattr(cfg, "image_size", 0) or 0),
        "channels": int(getattr(cfg, "output_channels", getattr(cfg, "channels", 0)) or 0),
        "load_size": getattr(cfg, "load_size", None),
        "n": n_real,
        "plugin_dataset": source.plugin_dataset is not None,
    }


@torch.no_grad()
def _compute_real(source: _Source, extractor: FeatureExtractor, n_real: int | None, batch_size: int) -> RealFeatures:
    ds = _dataset(source)
    indices = _subset_indices(len(ds), n_real)
    key = _image_key(source)
    feats, logits, labels = [], [], []
    digest = hashlib.sha256()
    for batch in _batches(ds, indices, batch_size):
        x = batch[key]
        digest.update(_pixels_bytes(x))
        f, lg = extractor.features_and_logits(x)
        feats.append(f.float().cpu())
        if lg is not None:
            logits.append(lg.float().cpu())
        if "label" in batch:
            labels.append(batch["label"].long().cpu())
    if not feats:
        raise DataError(f"{source.where()} holds no images")
    return RealFeatures(
        features=torch.cat(feats), logits=torch.cat(logits) if logits else None,
        labels=torch.cat(labels) if labels else None, classes=list(getattr(ds, "classes", []) or []),
        count=len(indices), fingerprint=digest.hexdigest()[:16], split=source.split)


def real_features(data: str | os.PathLike[str], *, extractor: str | FeatureExtractor = "digits",
                  image_size: int = 32, channels: int = 1, split: str | None = "test", task: str = "unconditional",
                  n_real: int | None = None, batch_size: int = 64, device: str | None = None, use_cache: bool = True,
                  cache_dir: str | os.PathLike[str] | None = None, config: Any = None) -> RealFeatures:
    """Features of the real images of ``data`` (a dataset folder or ``builtin:digits``), cached on disk.

    The cache key is (the folder's files: paths, sizes, mtimes; split; extractor and its weights' sha256;
    resolution and channels; ``n_real``), so a changed file, another extractor or another resolution never
    reuses stale features.

    Args:
        data: dataset folder in the task's format, or ``builtin:<name>``.
        extractor (`str` or `FeatureExtractor`, *optional*, defaults to ``"digits"``).
        image_size (`int`, *optional*, defaults to 32), channels (`int`, *optional*, defaults to 1): how images
            are read (ignored when ``config`` is given).
        split (`str`, *optional*, defaults to ``"test"``): the split folder; the whole folder when it has none.
        task (`str`, *optional*): the dataset format (``class-conditional`` reads labels).
        n_real (`int`, *optional*): use a fixed random subset of this many images (default: all).
        batch_size (`int`, *optional*), device (`str`, *optional*).
        use_cache (`bool`, *optional*, defaults to `True`), cache_dir (*optional*): default :func:`stats_cache_dir`.
        config (*optional*): a model config (image_size, channels, load_size … are read from it).

    Returns:
        `RealFeatures`.

    Raises:
        DataError: the folder is missing or holds no images.
    """
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    ext = extractor if isinstance(extractor, FeatureExtractor) else load_extractor(extractor, dev)
    cfg = config if config is not None else SimpleNamespace(image_size=image_size, channels=channels)
    source = _resolve_source(str(data), split, task, cfg)
    return _real_for_source(source, ext, n_real, batch_size, use_cache, Path(cache_dir) if cache_dir else None)


def _real_for_source(source: _Source, ext: FeatureExtractor, n_real: int | None, batch_size: int, use_cache: bool,
                     cache_dir: Path | None) -> RealFeatures:
    key = _cache_key(source, ext, n_real)
    path = _cache_path(key, cache_dir)
    if use_cache:
        hit = _load_cache(path, key)
        if hit is not None:
            logger.debug("real features of %s from the cache %s", source.where(), path)
            return hit
    real = _compute_real(source, ext, n_real, batch_size)
    if use_cache:
        _save_cache(path, key, real)
        real.cache_path = path
    return real


# ---------------------------------------------------------------------------------------------------------
# metric arithmetic on features (torchmetrics, fed precomputed features through an identity module)


class _Given(nn.Module):
    """The 'feature extractor' handed to torchmetrics: the inputs already are features."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def kid_from_features(real: torch.Tensor, fake: torch.Tensor, *, subset_size: int, subsets: int = KID_SUBSETS,
                      seed: int = 0) -> tuple[float, float]:
    """KID (mean, std over subsets) of two feature sets, subsets drawn with ``seed``.

    torchmetrics' ``KernelInceptionDistance`` estimator (unbiased MMD², kernel ``(x·y/d + 1)^3``, subsets drawn by
    ``torch.randperm`` real-then-fake). Its per-subset kernel products dominate on a CPU, so when the full kernel
    matrices fit in memory (≈ 2,300 images per set) they are computed once and each subset indexes them: the same
    subsets, the same formula, the same value (a test checks it against torchmetrics), ~20× faster.
    """
    nr, nf = real.shape[0], fake.shape[0]
    if nr < subset_size or nf < subset_size:
        raise DataError(f"KID subset size {subset_size} is larger than the sets ({nr} real, {nf} generated)")
    if nr * nr + nf * nf + nr * nf > _KID_GRAM_LIMIT:
        return _kid_torchmetrics(real, fake, subset_size=subset_size, subsets=subsets, seed=seed)
    r, f = real.double(), fake.double()
    gamma = 1.0 / r.shape[1]
    k_rr, k_ff, k_rf = ((r @ r.T) * gamma + 1) ** 3, ((f @ f.T) * gamma + 1) ** 3, ((r @ f.T) * gamma + 1) ** 3
    m = subset_size
    vr, vf = torch.zeros(nr, subsets, dtype=torch.float64), torch.zeros(nf, subsets, dtype=torch.float64)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for i in range(subsets):  # the draws torchmetrics makes, in its order
            vr[torch.randperm(nr)[:m], i] = 1
            vf[torch.randperm(nf)[:m], i] = 1
    # subset sums as quadratic forms of 0/1 masks: one matrix product for all subsets
    sum_xx = ((k_rr @ vr) * vr).sum(0) - (k_rr.diagonal()[:, None] * vr).sum(0)
    sum_yy = ((k_ff @ vf) * vf).sum(0) - (k_ff.diagonal()[:, None] * vf).sum(0)
    sum_xy = ((k_rf @ vf) * vr).sum(0)
    t = (sum_xx + sum_yy) / (m * (m - 1)) - 2 * sum_xy / m**2
    return float(t.mean()), float(t.std(unbiased=False))


def _kid_torchmetrics(real: torch.Tensor, fake: torch.Tensor, *, subset_size: int, subsets: int = KID_SUBSETS,
                      seed: int = 0) -> tuple[float, float]:
    from torchmetrics.image.kid import KernelInceptionDistance

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "will save all extracted features in buffer"
        metric = KernelInceptionDistance(feature=_Given(real.shape[1]), subsets=subsets, subset_size=subset_size)
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


def fid_from_features(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FID of two feature sets with torchmetrics (double precision)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=_Given(real.shape[1]))
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return float(metric.compute())


def is_from_logits(logits: torch.Tensor, *, splits: int = IS_SPLITS, seed: int = 0) -> tuple[float, float]:
    """Inception-Score-style mean and std over ``splits`` from classifier logits, with torchmetrics."""
    from torchmetrics.image.inception import InceptionScore

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric = InceptionScore(feature=_Given(logits.shape[1]), splits=splits)
    metric.update(logits.double())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


def _kth_radius(x: torch.Tensor, k: int, chunk: int = 1024) -> torch.Tensor:
    out = []
    for i in range(0, x.shape[0], chunk):
        d = torch.cdist(x[i:i + chunk], x)
        out.append(d.kthvalue(k + 1, dim=1).values)  # +1: the point itself is at distance 0
    return torch.cat(out)


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    hits = []
    for i in range(0, points.shape[0], chunk):
        d = torch.cdist(points[i:i + chunk], centres)
        hits.append((d <= radii[None, :]).any(dim=1))
    return torch.cat(hits)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, *, k: int = PR_K) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019).

    Each set's manifold is the union of balls around its points with radius the distance to the k-th nearest
    neighbour in the same set. Precision: the share of generated points inside the real manifold; recall: the
    share of real points inside the generated manifold.
    """
    real, fake = real.double(), fake.double()
    r_real, r_fake = _kth_radius(real, k), _kth_radius(fake, k)
    precision = _inside(fake, real, r_real).double().mean()
    recall = _inside(real, fake, r_fake).double().mean()
    return float(precision), float(recall)


# ---------------------------------------------------------------------------------------------------------
# generating


def _derived_seed(seed: int, index: int) -> int:
    return int.from_bytes(hashlib.sha256(f"ganzoo-eval:{seed}:{index}".encode()).digest()[:7], "big")


def _generate(model: Any, n: int, *, seed: int, batch_size: int, labels: torch.Tensor | None
              ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """Yield ``(images in [-1, 1], labels)`` batches of ``n`` samples drawn with ``seed``."""
    from ..explore import supports_latent

    impl = model.impl
    if supports_latent(model):
        z = impl.latent(model, n, seed=seed)
        for i in range(0, n, batch_size):
            y = None if labels is None else labels[i:i + batch_size].to(z.device)
            zi = z[i:i + batch_size]
            out = impl.generate(model, zi) if y is None else impl.generate(model, zi, condition=y)
            yield out, y
        return
    for b, i in enumerate(range(0, n, batch_size)):
        m = min(batch_size, n - i)
        y = None if labels is None else labels[i:i + m].to(model.device)
        out = model.sample(m, condition=y, seed=_derived_seed(seed, b))
        yield out, y


def _sampling_note(model: Any, batch_size: int) -> str:
    from ..explore import supports_latent

    if supports_latent(model):
        return "latent(n, seed) then generate in batches (same images as `ganzoo sample -n N --seed S`)"
    return f"sample() per batch of {batch_size}, seed sha256('ganzoo-eval:<seed>:<batch>')"


def _reconstruct(model: Any, x: torch.Tensor) -> torch.Tensor:
    try:
        return model.impl.reconstruct(model, x)
    except (TypeError, ValueError) as err:  # UsageError is a ValueError
        raise UsageError(f"{model.plugin.name} does not reconstruct images (psnr/ssim/l1 need "
                         f"impl.reconstruct(model, images) or sample(condition=images)): {err}") from err


# ---------------------------------------------------------------------------------------------------------
# checks before any sampling


def _kid_subset(requested: int | None, n_real: int, n_fake: int, where: str) -> int:
    if requested is not None:
        if requested < 2:
            raise UsageError(f"kid_subset_size must be ≥ 2, got {requested}")
        if n_real < requested:
            raise DataError(f"KID with subset size {requested} needs at least {requested} real images; {where} has "
                            f"{n_real}: lower --kid-subset-size to ≤ {n_real} or use a larger split")
        if n_fake < requested:
            raise DataError(f"KID with subset size {requested} needs at least {requested} generated images; "
                            f"raise --n to ≥ {requested}")
        return requested
    size = min(KID_MAX_SUBSET, n_real, n_fake)
    if n_real < KID_MIN_SAMPLES:
        raise DataError(f"KID needs at least {KID_MIN_SAMPLES} real images (its subset size must be ≤ the number of "
                        f"images); {where} has {n_real}")
    if n_fake < KID_MIN_SAMPLES:
        raise DataError(f"KID needs at least {KID_MIN_SAMPLES} generated images; raise --n to ≥ {KID_MIN_SAMPLES}")
    return size


def _check_counts(names: list[str], n_real: int, n_fake: int, where: str, kid_subset_size: int | None) -> int | None:
    subset = None
    if "kid" in names or "kid_per_class" in names:
        subset = _kid_subset(kid_subset_size, n_real, n_fake, where) if "kid" in names else None
    if "fid" in names:
        if n_real < 2:
            raise DataError(f"FID needs at least 2 real images (and about {FID_UNBIASED_N:,} for an unbiased value); "
                            f"{where} has {n_real}")
        if n_fake < 2:
            raise DataError(f"FID needs at least 2 generated images; raise --n (about {FID_UNBIASED_N:,} for an "
                            "unbiased value)")
        if min(n_real, n_fake) < FID_UNBIASED_N:
            logger.warning("FID with %d real and %d generated images is biased upwards (below ~%s per set): compare "
                           "it only at equal N, and prefer KID", n_real, n_fake, f"{FID_UNBIASED_N:,}")
    if "pr" in names and min(n_real, n_fake) < PR_K + 2:
        raise DataError(f"precision/recall (k={PR_K}) needs at least {PR_K + 2} real and generated images; {where} "
                        f"has {n_real} real, --n is {n_fake}")
    if "is" in names and n_fake < IS_SPLITS:
        raise DataError(f"the Inception Score needs at least {IS_SPLITS} generated images ({IS_SPLITS} splits); "
                        f"raise --n to ≥ {IS_SPLITS}")
    return subset


# ---------------------------------------------------------------------------------------------------------
# evaluate


def _digit_labels(classes: list[str], k: int) -> list[int]:
    """Map model label i → digit, through the data's class folder names (label i is the i-th sorted folder)."""
    if not classes:
        return list(range(k))
    try:
        digits = [int(c) for c in classes]
    except ValueError:
        raise UsageError(f"accuracy uses the shipped digit classifier, so the data's classes must be the digits 0-9; "
                         f"got {', '.join(classes[:5])}…") from None
    if len(digits) != k or any(not 0 <= d <= 9 for d in digits):
        raise UsageError(f"accuracy needs the model's {k} labels to be the digits 0-9; the data has classes "
                         f"{', '.join(classes)}")
    return digits


def _command(name: str, data: str, split: str | None, metrics: list[str], n: int, extractor: str | None, seed: int,
             batch_size: int, n_real: int | None, kid_subset_size: int | None) -> str:
    args = ["ganzoo", "eval", name, "--data", data]
    if split:
        args += ["--split", split]
    args += ["--metrics", ",".join(metrics), "--n", str(n)]
    if extractor:
        args += ["--extractor", extractor]
    args += ["--seed", str(seed), "--batch-size", str(batch_size)]
    if n_real is not None:
        args += ["--n-real", str(n_real)]
    if kid_subset_size is not None:
        args += ["--kid-subset-size", str(kid_subset_size)]
    return shlex.join(args)


def evaluate(model: "GanModel | str", data: str | os.PathLike[str], *, split: str | None = "test",
             metrics: Sequence[str] | str | None = None, n: int | None = None, extractor: str | None = None,
             seed: int = 0, batch_size: int = 64, device: str | None = None, n_real: int | None = None,
             kid_subset_size: int | None = None, use_cache: bool = True,
             cache_dir: str | os.PathLike[str] | None = None, name: str | None = None) -> EvalReport:
    """Evaluate a model against real data; every number carries its protocol.

    Args:
        model (`GanModel` or `str`): a loaded model, or anything :func:`ganzoo.load` accepts.
        data: the dataset folder (the task's format; a ``<split>/`` sub-folder is used when present) or
            ``builtin:digits``.
        split (`str`, *optional*, defaults to ``"test"``): the split folder of the reference images.
        metrics (*optional*): names or a comma-separated string (see :data:`METRICS`); default per task
            (:func:`metric_names_for`).
        n (`int`, *optional*): images to generate; default the number of reference images (at most 10,000), or
            every test pair for translation.
        extractor (`str`, *optional*): ``digits``, ``inception`` or ``effnet``; default
            :func:`~ganzoo.metrics.extractors.default_extractor` for the model's channels and size.
        seed (`int`, *optional*, defaults to 0): the sampling seed (and KID subsets, IS splits).
        batch_size (`int`, *optional*, defaults to 64): generation and feature batches.
        device (`str`, *optional*): default cuda when available.
        n_real (`int`, *optional*): use a fixed random subset of the reference images.
        kid_subset_size (`int`, *optional*): default min(1000, reference count, n).
        use_cache (`bool`, *optional*, defaults to `True`), cache_dir (*optional*): the real-feature cache.
        name (`str`, *optional*): how to name the model in the protocol's command (default: ``model.name``).

    Returns:
        `EvalReport`.

    Raises:
        UnknownNameError: unknown metric or extractor (closest names suggested).
        UsageError: a metric that does not apply to the model's task, or bad arguments.
        DataError: missing data, or too few images for a metric (the message says how many are needed).
        ExtractorUnavailableError: the extractor's optional package is not installed (with the pip command).

    Example:
        ```python
        >>> report = evaluate("runs/dcgan-digits", "data/digits", metrics="kid,fid", extractor="digits")
        >>> report.value("kid"), report["kid"].protocol["n_generated"]
        ```
    """
    t_start = time.perf_counter()
    if batch_size < 1:
        raise UsageError(f"batch_size must be ≥ 1, got {batch_size}")
    if n is not None and n < 1:
        raise UsageError(f"n must be ≥ 1, got {n}")
    if n_real is not None and n_real < 1:
        raise UsageError(f"n_real must be ≥ 1, got {n_real}")
    asked = _parse_metrics(metrics)
    if extractor is not None:
        get_extractor_info(extractor)  # unknown name → suggestions, before loading anything
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(model, str):
        import ganzoo

        name = name or model
        model = ganzoo.load(model, device=dev)
    else:
        model = model.to(dev)
    name = name or model.name or model.plugin.name
    model.eval()
    t_loaded = time.perf_counter()

    task, cfg = model.plugin.task, model.config
    if task not in _GEN:
        metric_names_for(model)  # raises the clear message
    if task == "class-conditional" and getattr(cfg, "condition", "label") != "label":
        raise UsageError(f"ganzoo eval measures label-conditional models; {name} is conditioned on "
                         f"{getattr(cfg, 'condition')}, which it does not cover yet")
    out_channels = int(getattr(cfg, "output_channels", getattr(cfg, "channels", 3)))
    image_size = int(getattr(cfg, "image_size", 64))
    ext_name = extractor
    if asked is not None:
        names = asked
        bad = [m for m in names if task not in METRICS[m].tasks]
        if bad:
            ok = [m for m in METRICS if task in METRICS[m].tasks]
            raise UsageError(f"{', '.join(bad)} {'does' if len(bad) == 1 else 'do'} not apply to {name} ({task}); "
                             f"its metrics: {', '.join(ok)}")
        if task == "reconstruction" and any(METRICS[m].uses == "pixels" for m in names) and not _has_reconstruct(model):
            raise UsageError(f"psnr/ssim/l1 of reconstructions need {model.plugin.name} to implement "
                             "impl.reconstruct(model, images) or sample(condition=images)")
    needs_ext = asked is None or any(METRICS[m].uses in ("features", "logits") for m in asked)
    if needs_ext and ext_name is None:
        try:
            ext_name = default_extractor(out_channels, image_size)
        except ExtractorUnavailableError as err:
            hint = " (or evaluate pixel metrics only: --metrics psnr,ssim,l1)" if task == "paired-translation" else ""
            raise ExtractorUnavailableError(str(err) + hint) from None
    if asked is None:
        names = metric_names_for(model, ext_name)
    ext: FeatureExtractor | None = load_extractor(ext_name, dev) if needs_ext and ext_name else None
    if ext is not None and "is" in names and ext.num_classes is None:
        raise UsageError(f"is needs a classifier head; the '{ext.name}' extractor has none (the FID Inception ships "
                         "without its 1008-way logits): use --extractor effnet, or digits for digit models")
    if "accuracy" in names and not _digit_compatible(model):
        raise UsageError(f"accuracy uses the shipped 10-class digit classifier; {name} has "
                         f"{getattr(cfg, 'num_classes', '?')} classes")
    digit_net = load_extractor("digits", dev) if any(METRICS[m].uses == "digits" for m in names) else None
    if ext is not None and ext.name == "digits":
        digit_net = ext

    plugin_ds = None
    from ..model import GanImpl

    if type(model.impl).make_dataset is not GanImpl.make_dataset and task not in ("unpaired-translation",):
        impl = model.impl
        asked_split = split or "test"
        plugin_ds = lambda path, split="": impl.make_dataset(model, path, split=split or asked_split)  # noqa: E731
    source = _resolve_source(str(data), split, task, cfg, role="B" if "translation" in task else "image",
                             plugin_dataset=plugin_ds)

    # -- the reference (real) features ----------------------------------------------------------------------
    real: RealFeatures | None = None
    cache_info: dict[str, Any] = {"hit": False, "path": None}
    paired = task == "paired-translation"
    cache_root = Path(cache_dir) if cache_dir else None
    if ext is not None and not paired:
        real = _real_for_source(source, ext, n_real, batch_size, use_cache, cache_root)
        cache_info = {"hit": real.cache_hit, "path": str(real.cache_path) if real.cache_path else None}
    t_real = time.perf_counter()

    # -- generate and extract ---------------------------------------------------------------------------------
    fake_f: list[torch.Tensor] = []
    fake_l: list[torch.Tensor] = []
    digit_l: list[torch.Tensor] = []
    fake_y: list[torch.Tensor] = []
    pix: dict[str, Any] = {}
    k = int(getattr(cfg, "num_classes", 0) or 0)

    def take(out: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        out = _quantize(out.detach())
        if ext is not None:
            f, lg = ext.features_and_logits(out)
            fake_f.append(f.float().cpu())
            if lg is not None:
                fake_l.append(lg.float().cpu())
        if digit_net is not None:
            digit_l.append((fake_l[-1] if digit_net is ext else digit_net.logits(out)).float().cpu())
        if y is not None:
            fake_y.append(y.long().cpu())
        return out

    with torch.no_grad():
        if task in _SAMPLERS:
            n_ref = real.count if real is not None else None
            n = n if n is not None else min(n_ref or 1000, 10_000)
            if real is not None:
                subset = _check_counts(names, real.count, n, source.where(), kid_subset_size)
            else:
                subset = None
            labels = None
            if task == "class-conditional":
                if k < 1:
                    raise UsageError(f"{name} is class-conditional but its config has no num_classes")
                labels = torch.arange(n) % k
            for out, y in _generate(model, n, seed=seed, batch_size=batch_size, labels=labels):
                take(out, y)
            if any(METRICS[m].uses == "pixels" for m in names):
                pix = _reconstruction_metrics(model, source, n_real, batch_size, out_channels)
            sampling = _sampling_note(model, batch_size)
            n_generated = n
        elif task == "unpaired-translation":
            assert real is not None
            a_source = _Source(str(data), source.split, source.root.parent / f"{source.split}A",  # type: ignore[union-attr]
                               task, cfg, "A")
            from ..data import ImageFolderDataset

            ds_a = ImageFolderDataset(a_source.root, image_size=image_size,  # type: ignore[arg-type]
                                      channels=int(getattr(cfg, "input_channels", getattr(cfg, "channels", 3))),
                                      augment=False)
            idx = _subset_indices(len(ds_a), n)
            subset = _check_counts(names, real.count, len(idx), source.where(), kid_subset_size)
            for b, batch in enumerate(_batches(ds_a, idx, batch_size)):
                take(model.sample(condition=batch["image"].to(dev), seed=_derived_seed(seed, b)), None)
            n_generated = len(idx)
            sampling = f"translate every {a_source.split}A image (AtoB), seed sha256('ganzoo-eval:<seed>:<batch>')"
        else:  # paired translation: one pass over the test pairs
            ds = _dataset(source)
            idx = _subset_indices(len(ds), n)
            n_generated = len(idx)
            key = _cache_key(source, ext, n) if ext is not None else None
            cpath = _cache_path(key, cache_root) if key is not None else None
            cached = _load_cache(cpath, key) if (use_cache and cpath is not None and key is not None) else None
            subset = _check_counts(names, n_generated, n_generated, source.where(), kid_subset_size) \
                if ext is not None else None
            acc = _PixelMetrics(out_channels, image_size)
            rf, rl, digest = [], [], hashlib.sha256()
            for b, batch in enumerate(_batches(ds, idx, batch_size)):
                a, target = batch["A"].to(dev), batch["B"]
                out = take(model.sample(condition=a, seed=_derived_seed(seed, b)), None).cpu()
                if out.shape != target.shape:
                    raise UsageError(f"{name} returned {tuple(out.shape[1:])} images for {tuple(target.shape[1:])} "
                                     "targets; evaluate at the model's training size")
                acc.update(out, target)
                if ext is not None and cached is None:
                    digest.update(_pixels_bytes(target))
                    f, lg = ext.features_and_logits(target)
                    rf.append(f.float().cpu())
                    if lg is not None:
                        rl.append(lg.float().cpu())
            pix = acc.compute()
            if ext is not None:
                if cached is not None:
                    real = cached
                else:
                    real = RealFeatures(torch.cat(rf), torch.cat(rl) if rl else None, None, [], n_generated,
                                        digest.hexdigest()[:16], source.split, False, None)
                    if use_cache and cpath is not None and key is not None:
                        _save_cache(cpath, key, real)
                        real.cache_path = cpath
                cache_info = {"hit": real.cache_hit, "path": str(real.cache_path) if real.cache_path else None}
            sampling = "translate every test pair's input, seed sha256('ganzoo-eval:<seed>:<batch>')"
    t_gen = time.perf_counter()

    # -- the numbers ------------------------------------------------------------------------------------------
    ref_count = real.count if real is not None else n_generated
    fingerprint = real.fingerprint if real is not None else None
    base = {
        "extractor": ext.name if ext is not None else None,
        "extractor_sha256": ext.weights_sha256 if ext is not None else None,
        "resizer": ext.resizer if ext is not None else None,
        "resolution": image_size,
        "reference": str(data),
        "split": source.split,
        "reference_count": ref_count,
        "reference_fingerprint": fingerprint,
        "n_generated": n_generated,
        "seed": seed,
        "sampling": sampling,
        "quantize": "uint8 (as a saved PNG)",
        "ganzoo_version": __version__,
        "weights_sha256": _weights_sha256(model),
        "command": _command(name, str(data), split, names, n_generated, ext.name if ext else None, seed, batch_size,
                            n_real, kid_subset_size),
    }
    results: list[MetricResult] = []
    ff = torch.cat(fake_f) if fake_f else None
    fl = torch.cat(fake_l) if fake_l else None
    dl = torch.cat(digit_l) if digit_l else None
    fy = torch.cat(fake_y) if fake_y else None

    def add(metric: str, value: float, std: float | None = None, details: dict[str, Any] | None = None,
            **extra: Any) -> None:
        proto = dict(base)
        proto.update(extra)
        results.append(MetricResult(metric, float(value), std, details or {}, proto))

    digit_proto = {"extractor": "digits", "extractor_sha256": get_extractor_info("digits").weights_sha256,
                   "resizer": get_extractor_info("digits").resizer}
    for metric in names:
        if metric == "kid":
            assert real is not None and ff is not None and subset is not None
            mean, std = kid_from_features(real.features, ff, subset_size=subset, seed=seed)
            add("kid", mean, std, kid_subset_size=subset, kid_subsets=KID_SUBSETS,
                kid_kernel="polynomial (x·y/d + 1)^3")
        elif metric == "fid":
            assert real is not None and ff is not None
            add("fid", fid_from_features(real.features, ff))
        elif metric == "pr":
            assert real is not None and ff is not None
            p, r = precision_recall(real.features, ff)
            add("precision", p, pr_k=PR_K)
            add("recall", r, pr_k=PR_K)
        elif metric == "is":
            assert fl is not None
            mean, std = is_from_logits(fl, seed=seed)
            add("is", mean, std, is_splits=IS_SPLITS, is_classes=int(fl.shape[1]))
        elif metric == "coverage":
            assert dl is not None
            add("coverage", *coverage_from_logits(dl), **digit_proto)
        elif metric == "accuracy":
            assert dl is not None and fy is not None
            digits = _digit_labels(real.classes if real is not None else _class_names(source), k)
            add("accuracy", *_accuracy(dl, fy, digits), labels=f"balanced: label i % {k}", **digit_proto)
        elif metric == "kid_per_class":
            assert real is not None and ff is not None and fy is not None
            if real.labels is None:
                raise DataError(f"kid_per_class needs labelled real images (class folders); {source.where()} has none")
            add("kid_per_class", *_kid_per_class(real.features, real.labels, ff, fy, real.classes, seed),
                kid_subsets=KID_SUBSETS)
        elif metric in ("psnr", "ssim", "l1"):
            value, proto = pix[metric]
            add(metric, value, None, None, **proto)
    t_end = time.perf_counter()
    timings = {"load": t_loaded - t_start, "real": t_real - t_loaded, "generate": t_gen - t_real,
               "metrics": t_end - t_gen, "total": t_end - t_start}
    return EvalReport(model=name, plugin=model.plugin.name, task=task, results=results, protocol=base,
                      timings=timings, cache=cache_info)


def _weights_sha256(model: Any) -> dict[str, str] | None:
    """The sha256 of the weight files the evaluated networks came from (from the card's pins), so a number
    measured on older weights of the same folder can be told apart."""
    loaded = getattr(model, "loaded_components", None)
    card = getattr(model, "card", None)
    pins = dict((getattr(card.data, "ganzoo", None) or {}).get("sha256") or {}) if card is not None else {}
    if not loaded or not pins:
        return None
    out = {f"{f}.safetensors": pins.get(f"{f}.safetensors") for f in loaded.values()}
    return {k: v for k, v in out.items() if v} or None


def _class_names(source: _Source) -> list[str]:
    if source.root is None:
        return []
    return sorted(d.name for d in source.root.iterdir() if d.is_dir() and not d.name.startswith("."))


def coverage_from_logits(digit_logits: torch.Tensor) -> tuple[float, None, dict[str, Any]]:
    """Class coverage from classifier logits: the share of the K classes that receive at least half their fair
    share (1 / 2K) of the argmax predictions; details hold the count, the per-class shares and the normalised
    entropy of the prediction histogram. Returns ``(value, None, details)``."""
    k = digit_logits.shape[1]
    pred = digit_logits.argmax(1)
    share = torch.bincount(pred, minlength=k).double() / pred.numel()
    covered = int((share >= 0.5 / k).sum())
    p = share[share > 0]
    entropy = float(-(p * p.log()).sum() / math.log(k))
    details = {"classes_covered": covered, "normalized_entropy": round(entropy, 4),
               "share": {str(i): round(float(s), 4) for i, s in enumerate(share)}}
    return covered / k, None, details


def _accuracy(digit_logits: torch.Tensor, labels: torch.Tensor, digits: list[int]) -> tuple[float, None, dict]:
    target = torch.tensor(digits)[labels]
    pred = digit_logits.argmax(1)
    correct = (pred == target).double()
    per = {str(digits[i]): round(float(correct[labels == i].mean()), 4) for i in range(len(digits))
           if bool((labels == i).any())}
    return float(correct.mean()), None, {"per_label": per}


def _kid_per_class(real: torch.Tensor, real_y: torch.Tensor, fake: torch.Tensor, fake_y: torch.Tensor,
                   classes: list[str], seed: int) -> tuple[float, float | None, dict[str, Any]]:
    values: dict[str, float] = {}
    for c in sorted(set(fake_y.tolist())):
        r, f = real[real_y == c], fake[fake_y == c]
        size = min(KID_MAX_SUBSET, r.shape[0], f.shape[0])
        name = classes[c] if c < len(classes) else str(c)
        if size < KID_MIN_SAMPLES:
            raise DataError(f"kid_per_class needs at least {KID_MIN_SAMPLES} real and generated images per class; "
                            f"class {name} has {r.shape[0]} real and {f.shape[0]} generated (raise --n)")
        values[name] = round(kid_from_features(r, f, subset_size=size, seed=seed)[0], 6)
    vals = torch.tensor(list(values.values()), dtype=torch.float64)
    return float(vals.mean()), float(vals.std(unbiased=False)) if len(vals) > 1 else None, {"per_class": values}


PSNR_CAP_DB = 100.0  #: the PSNR of a pixel-identical pair (mse clamped at 1e-10)


class _PixelMetrics:
    """PSNR / SSIM / L1 of outputs against targets, accumulated over batches (torchmetrics), on [0, 1] pixels."""

    def __init__(self, channels: int, image_size: int) -> None:
        from torchmetrics.image import StructuralSimilarityIndexMeasure
        from torchmetrics.regression import MeanAbsoluteError

        self.kernel = min(11, image_size if image_size % 2 else image_size - 1)
        self.psnr_sum = 0.0  # per-image PSNR capped at PSNR_CAP_DB: one identical pair must not make the mean ∞
        self.ssim = StructuralSimilarityIndexMeasure(data_range=1.0, kernel_size=self.kernel)
        self.l1 = MeanAbsoluteError()
        self.count = 0

    def update(self, out: torch.Tensor, target: torch.Tensor) -> None:
        o, t = (out.float().clamp(-1, 1) + 1) / 2, (target.float().clamp(-1, 1) + 1) / 2
        mse = (o - t).pow(2).flatten(1).mean(dim=1)
        psnr = 10 * torch.log10(1.0 / mse.clamp_min(10 ** (-PSNR_CAP_DB / 10)))
        self.psnr_sum += float(psnr.sum())
        self.ssim.update(o, t)
        self.l1.update(o, t)
        self.count += o.shape[0]

    def compute(self) -> dict[str, tuple[float, dict[str, Any]]]:
        common = {"extractor": "none (pixel metric)", "extractor_sha256": None, "resizer": None,
                  "data_range": "[0, 1]", "pairs": self.count}
        return {"psnr": (self.psnr_sum / max(1, self.count),
                         {**common, "reduction": f"per-image PSNR (capped at {PSNR_CAP_DB:g} dB), then mean"}),
                "ssim": (float(self.ssim.compute()), {**common, "ssim_window": f"gaussian {self.kernel}, sigma 1.5"}),
                "l1": (float(self.l1.compute()), common)}


@torch.no_grad()
def _reconstruction_metrics(model: Any, source: _Source, n_real: int | None, batch_size: int,
                            channels: int) -> dict[str, tuple[float, dict[str, Any]]]:
    ds = _dataset(source)
    acc = _PixelMetrics(channels, int(getattr(model.config, "image_size", 64)))
    for batch in _batches(ds, _subset_indices(len(ds), n_real), batch_size):
        x = batch["image"]
        out = _quantize(_reconstruct(model, x.to(model.device))).cpu()
        acc.update(out, x)
    result = acc.compute()
    for _, proto in result.values():
        proto["reconstructed"] = f"impl.reconstruct of every reference image ({acc.count})"
    return result


# ---------------------------------------------------------------------------------------------------------
# real vs real (the floor a model can reach at a given N)


def compare_real(data: str | os.PathLike[str], *, split_a: str = "train", split_b: str = "test", n: int | None = None,
                 extractor: str = "digits", image_size: int = 32, channels: int = 1,
                 metrics: Sequence[str] = ("kid", "fid"), seed: int = 0, batch_size: int = 64,
                 kid_subset_size: int | None = None, use_cache: bool = True, device: str | None = None,
                 cache_dir: str | os.PathLike[str] | None = None) -> list[MetricResult]:
    """Score ``n`` real images of ``split_a`` against ``split_b`` as if they were samples: the value a perfect
    generator would get at that N (FID's small-sample bias included).

    Args:
        data: the dataset folder (or ``builtin:digits``, whose two "splits" are then the same images).
        split_a (`str`, *optional*, defaults to ``"train"``): plays the generated set (a fixed random subset of
            ``n``). split_b (`str`, *optional*, defaults to ``"test"``): the reference, all of it.
        n (`int`, *optional*): default the size of ``split_b``.
        extractor, image_size, channels, metrics, seed, batch_size, kid_subset_size, use_cache, device, cache_dir:
            as in :func:`evaluate` (metrics: kid, fid, pr).

    Returns:
        `list[MetricResult]`, with protocols.
    """
    names = _parse_metrics(list(metrics)) or ["kid", "fid"]
    bad = [m for m in names if METRICS[m].uses != "features"]
    if bad:
        raise UsageError(f"compare_real computes kid, fid, pr; not {', '.join(bad)}")
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    ext = load_extractor(extractor, dev)
    ref = real_features(data, extractor=ext, image_size=image_size, channels=channels, split=split_b,
                        batch_size=batch_size, use_cache=use_cache, cache_dir=cache_dir)
    other = real_features(data, extractor=ext, image_size=image_size, channels=channels, split=split_a,
                          n_real=n if n is not None else ref.count, batch_size=batch_size, use_cache=use_cache,
                          cache_dir=cache_dir)
    where = f"{data} (split '{split_b}')"
    subset = _check_counts(names, ref.count, other.count, where, kid_subset_size)
    base = {"extractor": ext.name, "extractor_sha256": ext.weights_sha256, "resizer": ext.resizer,
            "resolution": image_size, "reference": str(data), "split": ref.split, "reference_count": ref.count,
            "reference_fingerprint": ref.fingerprint, "n_generated": other.count, "seed": seed,
            "sampling": f"real images of split '{split_a}' (fixed subset), fingerprint {other.fingerprint}",
            "quantize": "uint8 (as a saved PNG)", "ganzoo_version": __version__}
    out = []
    for metric in names:
        if metric == "kid":
            assert subset is not None
            mean, std = kid_from_features(ref.features, other.features, subset_size=subset, seed=seed)
            out.append(MetricResult("kid", mean, std, {}, {**base, "kid_subset_size": subset, "kid_subsets": KID_SUBSETS}))
        elif metric == "fid":
            out.append(MetricResult("fid", fid_from_features(ref.features, other.features), None, {}, dict(base)))
        elif metric == "pr":
            p, r = precision_recall(ref.features, other.features)
            out += [MetricResult("precision", p, None, {}, {**base, "pr_k": PR_K}),
                    MetricResult("recall", r, None, {}, {**base, "pr_k": PR_K})]
    return out


# ---------------------------------------------------------------------------------------------------------
# cards


_HF_TASKS = {"unconditional": "unconditional-image-generation", "reconstruction": "unconditional-image-generation",
             "class-conditional": "image-generation", "paired-translation": "image-to-image",
             "unpaired-translation": "image-to-image"}


def _same_measurement(a: dict[str, Any], b: dict[str, Any]) -> bool:
    pa, pb = a.get("protocol") or {}, b.get("protocol") or {}
    return a.get("name") == b.get("name") and all(pa.get(k) == pb.get(k) for k in ("extractor", "reference", "split"))


def _eval_section(metrics: list[dict[str, Any]]) -> str:
    lines = ["## Evaluation", "",
             "Measured with `ganzoo eval`; each number's full protocol is in the card metadata (`ganzoo.metrics`).",
             "", "| metric | value | extractor | generated vs reference | reference | seed |", "|---|---|---|---|---|---|"]
    commands: list[str] = []
    for m in metrics:
        p = m.get("protocol") or {}
        value = f"{m['value']:.6g}" + (f" ± {m['std']:.2g}" if m.get("std") is not None else "")
        ref = f"{p.get('reference')}" + (f" ({p.get('split')})" if p.get("split") else "")
        lines.append(f"| {m['name']} | {value} | {p.get('extractor')} | {p.get('n_generated')} vs "
                     f"{p.get('reference_count')} | {ref} | {p.get('seed')} |")
        if p.get("command") and p["command"] not in commands:
            commands.append(p["command"])
    if commands:
        lines += ["", "Reproduce:", "", "```bash", *commands, "```"]
    return "\n".join(lines) + "\n"


def _with_eval_section(text: str, metrics: list[dict[str, Any]]) -> str:
    """Replace the card body's "## Evaluation" section (or insert one before "## Files", else at the end)."""
    import re

    section = _eval_section(metrics)
    match = re.search(r"^## Evaluation[ \t]*$", text, flags=re.M)
    if match:
        nxt = re.search(r"^## ", text[match.end():], flags=re.M)
        end = match.end() + nxt.start() if nxt else len(text)
        return text[:match.start()] + section + ("\n" if nxt else "") + text[end:]
    files = re.search(r"^## Files[ \t]*$", text, flags=re.M)
    if files:
        return text[:files.start()] + section + "\n" + text[files.start():]
    return text.rstrip("\n") + "\n\n" + section


def write_card_metrics(folder: str | os.PathLike[str], report: EvalReport) -> Path:
    """Write a report's numbers, with their protocols, into a local model folder's card.

    The ``ganzoo.metrics`` list gets one entry per result (replacing an earlier entry for the same metric,
    extractor, reference and split); the standard ``model-index`` is regenerated from that list with
    huggingface_hub ``EvalResult`` s, each carrying its protocol as ``args``. The prose is kept.

    Args:
        folder: a model folder (README.md + config.json).
        report (`EvalReport`): from :func:`evaluate`.

    Returns:
        `Path`: the README.md written.

    Raises:
        UsageError: ``folder`` is not a local model folder.
        CardError: its README.md is malformed.
    """
    from huggingface_hub import EvalResult

    from ..cards import load_card, update_card
    from ..hub import CARD_NAME, CONFIG_NAME, atomic_write

    folder = Path(folder)
    card_path = folder / CARD_NAME
    if not (folder / CONFIG_NAME).is_file() or not card_path.is_file():
        raise UsageError(f"--write-card writes into a local model folder (README.md + config.json); {folder} is not "
                         "one. For a pretrained model, `ganzoo pull` it and save a copy, or drop --write-card")
    card = load_card(card_path)
    block = dict(getattr(card.data, "ganzoo", None) or {})
    merged = [m for m in (block.get("metrics") or [])
              if not any(_same_measurement(m, new) for new in report.card_metrics())]
    merged += report.card_metrics()
    update_card(card, metrics=merged)
    block = card.data.ganzoo
    dataset = block.get("dataset")
    ds_name = dataset.get("name") if isinstance(dataset, dict) else dataset
    results = []
    for m in merged:
        proto = m["protocol"]
        ref = str(proto.get("reference"))
        ds_type = ref.split(":", 1)[1] if ref.startswith("builtin:") else (Path(ref).name or ref)
        results.append(EvalResult(
            task_type=_HF_TASKS.get(report.task, "image-generation"), dataset_type=ds_type,
            dataset_name=str(ds_name or ds_type), dataset_split=proto.get("split"), metric_type=m["name"],
            metric_value=m["value"], metric_name=f"{m['name']} ({proto.get('extractor')}, {proto.get('n_generated')} "
                                                 f"vs {proto.get('reference_count')})",
            metric_config=proto.get("extractor"), metric_args=dict(proto)))
    card.data.eval_results = results
    card.data.model_name = getattr(card.data, "model_name", None) or f"{block['plugin']}-{block['tag']}"
    card.text = _with_eval_section(card.text, merged)
    with atomic_write(card_path, "w") as f:
        f.write(str(card))
    load_card(card_path)  # what was written parses and validates
    return card_path
