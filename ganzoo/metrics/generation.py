"""The plan of the image-generation tasks (unconditional, class-conditional, reconstruction).

=========================  ===============================================================================
task                       default metrics (``Task.metrics``, kept when they can be computed)
=========================  ===============================================================================
unconditional              kid, fid, pr (precision + recall); with a classifier extractor also is; with the
                           digit extractor also coverage (classes the samples cover)
class-conditional          the same, plus accuracy (the shipped digit classifier on samples drawn for each
                           label; digit extractor, 10 labels) and kid_per_class
reconstruction (AE / VAE)  the unconditional set on samples, plus psnr, ssim, l1 of reconstructions of the
                           reference images (``impl.reconstruct(model, x)``)
=========================  ===============================================================================

Samples come from one seeded draw: ``impl.latent(model, n, seed=seed)`` then ``impl.generate`` in batches when
the plugin exposes its latent space (the same images as ``ganzoo sample -n N --seed S``), otherwise
``model.sample`` per batch with a seed derived from ``(seed, batch index)``; class-conditional models get
balanced labels ``i % K``. The reference is the task's dataset at ``--split`` (a ``<split>/`` sub-folder when
the folder has one, else the whole folder; the split of a built-in set), read by the plugin's ``make_dataset``
when it has its own.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Iterator

import torch

from ..config import ConditionalConfig
from ..errors import DataError, UsageError
from .arithmetic import check_counts, quantize
from .cache import RealFeatures, Reference, batches, reference_features, subset_indices
from .extractors import FeatureExtractor, load_extractor
from .images import ImageMeasurement, ImagePlan, derived_seed
from .plans import Baseline, builtin_name

__all__ = ["GenerationPlan", "image_reference", "real_features"]

logger = logging.getLogger(__name__)

_PIXELS = ("psnr", "ssim", "l1")


def image_reference(data: str, split: str | None, task: str, config: Any, *, make_dataset: Any = None) -> Reference:
    """The real images of an image-generation ``task`` at ``data`` (folder or ``builtin:<name>``) and ``split``.

    Args:
        data: the dataset folder (a ``<split>/`` sub-folder is used when present) or ``builtin:<name>``.
        split (`str`, *optional*): the split; None or ``""``: the whole folder / every built-in item.
        task (`str`): the task whose layout the data has.
        config: the model config (an :class:`~ganzoo.config.ImageConfig`).
        make_dataset (*optional*): ``(data, split) -> dataset``, the plugin's reader (default: the task's).

    Returns:
        `Reference`.

    Raises:
        DataError: no such folder, a file, or a built-in dataset of another task.
    """
    from ..tasks import get_task

    kind = get_task(task)
    identity = {"task_format": task, "role": "image", "resolution": config.image_size, "channels": config.channels,
                "plugin_dataset": make_dataset is not None}
    if make_dataset is None:
        def make_dataset(path: str, split: str) -> Any:
            return kind.dataset(config, path, split=split, augment=False)

    if builtin_name(kind, data) is not None:
        used = split or None
        return Reference(data, used, None, lambda: make_dataset(data, used or ""), "image", identity)
    root = Path(data)
    if not root.exists():
        raise DataError(f"No such data folder: {data}")
    if not root.is_dir():
        raise DataError(f"{data} is a file; give the dataset folder (or builtin:digits)")
    used = split if split and (root / split).is_dir() else None
    if split and used is None:
        logger.info("%s has no '%s' folder: using every image under it as the reference", data, split)
    return Reference(data, used, root / used if used else root, lambda: make_dataset(data, used or ""), "image",
                     identity)


class GenerationPlan(ImagePlan):
    """Samples from noise (and labels) against real images; reconstructions against the reference images."""

    baselines: tuple[type[Baseline], ...] = ()  # the floor is real-vs-real (compare_real), not a system

    def __init__(self, model: Any, request: Any) -> None:
        super().__init__(model, request)
        cfg = self.config
        self.image_size, self.channels = cfg.image_size, cfg.channels
        self.labelled = isinstance(cfg, ConditionalConfig)
        if self.labelled and not cfg.label_conditioned:
            raise UsageError(f"ganzoo eval measures label-conditional models; {request.name} is conditioned on "
                             "vectors rather than class labels, which it does not cover yet")
        self.sampling = ""

    # -- metrics --------------------------------------------------------------------------------------------

    def _digit_compatible(self) -> bool:
        return self.channels in (1, 3) and (not self.labelled or self.config.num_classes == 10)

    def unavailable(self, metric: str, extractor: str | None) -> str | None:
        if metric == "accuracy" and not self._digit_compatible():
            return (f"accuracy uses the shipped 10-class digit classifier; {self.request.name} has "
                    f"{self.config.num_classes} classes and {self.channels} channels")
        return super().unavailable(metric, extractor)

    def default_metrics(self, extractor: str | None) -> list[str]:
        names = super().default_metrics(extractor)
        if extractor is None:
            names = [m for m in names if m != "is"]
        if extractor != "digits":  # the digit classifier's verdicts only where its features are the protocol
            names = [m for m in names if m not in ("coverage", "accuracy")]
        return names

    def num_labels(self) -> int:
        return self.config.num_classes

    def class_names(self) -> list[str]:
        if self.real is not None:
            return self.real.classes
        root = self.reference.files
        if root is None:
            return []
        return sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))

    # -- measuring ------------------------------------------------------------------------------------------

    def prepare(self, names: list[str], extractor: Any) -> None:
        req, model = self.request, self.model
        self.load_networks(names, extractor)
        reader = None
        if model.impl.supports("make_dataset"):
            asked = req.split or "test"

            def reader(path: str, split: str) -> Any:
                return model.impl.make_dataset(model, path, split=split or asked)

        self.reference = image_reference(req.data, req.split, self.task.name, self.config, make_dataset=reader)
        if extractor is not None:
            self.real = reference_features(self.reference, extractor, n_real=req.n_real, batch_size=req.batch_size,
                                           use_cache=req.use_cache, cache_dir=req.cache_dir)
            self.cache = {"hit": self.real.cache_hit,
                          "path": str(self.real.cache_path) if self.real.cache_path else None}
        n_ref = self.real.count if self.real is not None else None
        self.n_generated = req.n if req.n is not None else min(n_ref or 1000, 10_000)
        if self.real is not None:
            self.kid_subset = check_counts(names, self.real.count, self.n_generated, self.reference.where(),
                                           req.kid_subset_size)
        if model.impl.supports("latent"):
            self.sampling = "latent(n, seed) then generate in batches (same images as `ganzoo sample -n N --seed S`)"
        else:
            self.sampling = f"sample() per batch of {req.batch_size}, seed sha256('ganzoo-eval:<seed>:<batch>')"

    def _generate(self, n: int) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """``(images in [-1, 1], labels)`` batches of ``n`` samples drawn with the request's seed."""
        model, impl, seed, bs = self.model, self.model.impl, self.request.seed, self.request.batch_size
        labels = torch.arange(n) % self.config.num_classes if self.labelled else None
        if impl.supports("latent"):
            z = impl.latent(model, n, seed=seed)
            for i in range(0, n, bs):
                y = None if labels is None else labels[i:i + bs].to(z.device)
                zi = z[i:i + bs]
                yield (impl.generate(model, zi) if y is None else impl.generate(model, zi, condition=y)), y
            return
        for b, i in enumerate(range(0, n, bs)):
            m = min(bs, n - i)
            y = None if labels is None else labels[i:i + m].to(model.device)
            yield model.sample(m, condition=y, seed=derived_seed(seed, b)), y

    @torch.no_grad()
    def measure(self, baseline: Baseline | None = None) -> ImageMeasurement:
        acc = ImageMeasurement(sampling=self.sampling)
        for out, y in self._generate(self.n_generated):
            self.take(acc, out, y)
        if any(m in _PIXELS for m in self.names):
            self._reconstructions(acc)
        return acc

    def _reconstructions(self, acc: ImageMeasurement) -> None:
        """PSNR/SSIM/L1 of the reference images' reconstructions (kept apart from the samples' features)."""
        from .arithmetic import PixelMetrics

        model, req = self.model, self.request
        ds = self.reference.dataset()
        pixels = PixelMetrics(self.image_size)
        for batch in batches(ds, subset_indices(len(ds), req.n_real), req.batch_size):
            x = batch["image"]
            try:
                out = model.impl.reconstruct(model, x.to(model.device))
            except (TypeError, ValueError) as err:  # UsageError is a ValueError
                raise UsageError(f"{model.plugin.name} does not reconstruct images (psnr/ssim/l1 need "
                                 f"impl.reconstruct(model, images)): {err}") from err
            pixels.update(quantize(out).cpu(), x)
        acc.pixels = pixels
        acc.pixel_protocol = {"reconstructed": f"impl.reconstruct of every reference image ({pixels.count})"}

    def protocol(self) -> dict[str, Any]:
        real = self.real
        return self.image_protocol(self.request.data, self.reference.split,
                                   real.count if real is not None else self.n_generated,
                                   real.fingerprint if real is not None else None, self.sampling)


def real_features(data: str | os.PathLike[str], *, extractor: str | FeatureExtractor = "digits",
                  image_size: int = 32, channels: int = 1, split: str | None = "test", task: str = "unconditional",
                  n_real: int | None = None, batch_size: int = 64, device: str | None = None, use_cache: bool = True,
                  cache_dir: str | os.PathLike[str] | None = None, config: Any = None) -> RealFeatures:
    """Features of the real images of ``data`` (a dataset folder or ``builtin:<name>``), cached on disk.

    Args:
        data: dataset folder in the task's layout, or ``builtin:<name>``.
        extractor (`str` or `FeatureExtractor`, *optional*, defaults to ``"digits"``).
        image_size (`int`, *optional*, defaults to 32), channels (`int`, *optional*, defaults to 1): how images
            are read (ignored when ``config`` is given).
        split (`str`, *optional*, defaults to ``"test"``): the split folder (the whole folder when it has none),
            or the split of a built-in set.
        task (`str`, *optional*, defaults to ``"unconditional"``): an image-generation task whose layout the
            folder has (``class-conditional`` reads labels).
        n_real (`int`, *optional*): use a fixed random subset of this many images (default: all).
        batch_size (`int`, *optional*), device (`str`, *optional*).
        use_cache (`bool`, *optional*, defaults to `True`), cache_dir (*optional*): default :func:`stats_cache_dir`.
        config (*optional*): a model config (an :class:`~ganzoo.config.ImageConfig`) to read images as.

    Returns:
        `RealFeatures`.

    Raises:
        DataError: the folder is missing or holds no images.

    Example:
        ```python
        >>> ref = real_features("data/digits", split="test")
        >>> ref.count, ref.features.shape
        ```
    """
    from ..tasks import get_task

    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    ext = extractor if isinstance(extractor, FeatureExtractor) else load_extractor(extractor, dev)
    if config is None:
        config = get_task(task).config_class()(image_size=image_size, channels=channels)
    ref = image_reference(str(data), split, task, config)
    return reference_features(ref, ext, n_real=n_real, batch_size=batch_size, use_cache=use_cache,
                              cache_dir=cache_dir)
