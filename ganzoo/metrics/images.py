"""What the image plans share: the extractor default, the accumulation of generated images' features, logits
and pixel errors, and the scoring of the image metrics (KID, FID, precision/recall, IS, coverage, accuracy,
per-class KID, PSNR/SSIM/L1) from them.

Conventions that make the numbers reproducible (each recorded in the protocol): generated images are quantised
to 8 bits (as if saved to PNG) before anything is measured, like the real ones; real images are read the way
training reads them, without augmentation, at the model's resolution; every extractor resizes both sets the
same way; KID subsets, IS splits and precision/recall radii come from generators seeded with ``seed``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import torch

from .. import __version__
from ..errors import DataError, UsageError
from .arithmetic import (
    IS_SPLITS,
    KID_SUBSETS,
    PR_K,
    PixelMetrics,
    accuracy_from_logits,
    coverage_from_logits,
    fid_from_features,
    is_from_logits,
    kid_from_features,
    kid_per_class,
    precision_recall,
    quantize,
)
from .cache import RealFeatures
from .extractors import (
    ExtractorUnavailableError,
    FeatureExtractor,
    default_extractor,
    get_extractor_info,
    load_extractor,
)
from .plans import EvalPlan
from .registry import METRICS
from .report import MetricResult

__all__ = ["ImagePlan", "ImageMeasurement", "derived_seed", "QUANTIZE"]

QUANTIZE = "uint8 (as a saved PNG)"


def derived_seed(seed: int, index: int) -> int:
    """The seed of batch ``index`` when a model is sampled batch by batch: sha256('ganzoo-eval:<seed>:<index>')."""
    return int.from_bytes(hashlib.sha256(f"ganzoo-eval:{seed}:{index}".encode()).digest()[:7], "big")


@dataclass
class ImageMeasurement:
    """What an image plan accumulates over the outputs of a model or a baseline.

    Attributes:
        count (`int`): images measured.
        sampling (`str`): how they were made (the protocol's ``sampling``).
        features, logits, digit_logits, labels (`list[Tensor]`): per batch, on the CPU.
        pixels (`PixelMetrics | None`): outputs against targets, when the plan has targets.
        pixel_protocol (`dict`): protocol keys of the pixel metrics (what the targets were).
    """

    count: int = 0
    sampling: str = ""
    features: list[torch.Tensor] = field(default_factory=list)
    logits: list[torch.Tensor] = field(default_factory=list)
    digit_logits: list[torch.Tensor] = field(default_factory=list)
    labels: list[torch.Tensor] = field(default_factory=list)
    pixels: PixelMetrics | None = None
    pixel_protocol: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def cat(parts: list[torch.Tensor]) -> torch.Tensor | None:
        return torch.cat(parts) if parts else None


class ImagePlan(EvalPlan):
    """Base of the image plans: image size and channels from the config's typed base, the digit / Inception /
    EfficientNet extractors, and the image metrics' arithmetic."""

    #: what the reference images are compared with (``image_size`` side, ``channels`` channels)
    image_size: int
    channels: int

    def __init__(self, model: Any, request: Any) -> None:
        super().__init__(model, request)
        self.names: list[str] = []
        self.ext: FeatureExtractor | None = None
        self.digit_net: FeatureExtractor | None = None
        self.real: RealFeatures | None = None
        self.kid_subset: int | None = None
        self.n_generated = 0

    # -- metrics --------------------------------------------------------------------------------------------

    def default_extractor(self) -> str | None:
        return default_extractor(self.channels, self.image_size)

    def unavailable(self, metric: str, extractor: str | None) -> str | None:
        if metric == "is" and extractor is not None and get_extractor_info(extractor).num_classes is None:
            return (f"is needs a classifier head; the '{extractor}' extractor has none (the FID Inception ships "
                    "without its 1008-way logits): use --extractor effnet, or digits for digit models")
        return None

    def load_networks(self, names: list[str], extractor: FeatureExtractor | None) -> None:
        """Keep the extractor, and load the digit classifier when a metric uses it whatever the extractor."""
        self.names, self.ext = names, extractor
        if extractor is not None and extractor.name == "digits":
            self.digit_net = extractor
        elif any(METRICS[m].uses == "digits" for m in names):
            self.digit_net = load_extractor("digits", self.request.device)

    def extractor_hint(self, err: ExtractorUnavailableError) -> ExtractorUnavailableError:
        """The error to raise when no default extractor is installed (plans add what else the user can do)."""
        return err

    def choose(self, asked: list[str] | None, extractor: str | None) -> tuple[list[str], str | None]:
        try:
            return super().choose(asked, extractor)
        except ExtractorUnavailableError as err:
            raise self.extractor_hint(err) from None

    # -- measuring ------------------------------------------------------------------------------------------

    def take(self, acc: ImageMeasurement, out: torch.Tensor, labels: torch.Tensor | None = None,
             target: torch.Tensor | None = None) -> torch.Tensor:
        """Quantise a batch of outputs and add its features, logits, labels and pixel errors to ``acc``."""
        out = quantize(out.detach())
        if self.ext is not None:
            f, lg = self.ext.features_and_logits(out)
            acc.features.append(f.float().cpu())
            if lg is not None:
                acc.logits.append(lg.float().cpu())
        if self.digit_net is not None:
            logits = acc.logits[-1] if self.digit_net is self.ext else self.digit_net.logits(out)
            acc.digit_logits.append(logits.float().cpu())
        if labels is not None:
            acc.labels.append(labels.long().cpu())
        if target is not None:
            if out.shape != target.shape:
                raise UsageError(f"{self.request.name} returned {tuple(out.shape[1:])} images for "
                                 f"{tuple(target.shape[1:])} targets; evaluate at the model's training size")
            if acc.pixels is None:
                acc.pixels = PixelMetrics(self.image_size)
            acc.pixels.update(out.cpu(), target.cpu())
        acc.count += out.shape[0]
        return out

    def image_protocol(self, reference: str, split: str | None, reference_count: int,
                       fingerprint: str | None, sampling: str) -> dict[str, Any]:
        """The shared protocol keys an image plan knows, in order."""
        ext = self.ext
        return {"extractor": ext.name if ext is not None else None,
                "extractor_sha256": ext.weights_sha256 if ext is not None else None,
                "resizer": ext.resizer if ext is not None else None, "resolution": self.image_size,
                "reference": reference, "split": split, "reference_count": reference_count,
                "reference_fingerprint": fingerprint, "n_generated": self.n_generated, "seed": self.request.seed,
                "sampling": sampling, "quantize": QUANTIZE, "ganzoo_version": __version__}

    # -- scoring --------------------------------------------------------------------------------------------

    def class_names(self) -> list[str]:
        """The reference's class names in label order (for accuracy when no features were read)."""
        return self.real.classes if self.real is not None else []

    def score(self, measured: ImageMeasurement, protocol: dict[str, Any]) -> list[MetricResult]:
        real, seed = self.real, self.request.seed
        ff, fl = measured.cat(measured.features), measured.cat(measured.logits)
        dl, fy = measured.cat(measured.digit_logits), measured.cat(measured.labels)
        pix = measured.pixels.compute() if measured.pixels is not None else {}
        results: list[MetricResult] = []

        def add(metric: str, value: float, std: float | None = None, details: dict[str, Any] | None = None,
                **extra: Any) -> None:
            results.append(MetricResult(metric, float(value), std, details or {}, {**protocol, **extra}))

        digits = get_extractor_info("digits")
        digit_proto = {"extractor": "digits", "extractor_sha256": digits.weights_sha256, "resizer": digits.resizer}
        for metric in self.names:
            if metric == "kid":
                assert real is not None and ff is not None and self.kid_subset is not None
                mean, std = kid_from_features(real.features, ff, subset_size=self.kid_subset, seed=seed)
                add("kid", mean, std, kid_subset_size=self.kid_subset, kid_subsets=KID_SUBSETS,
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
                k = self.num_labels()
                classes = _digit_labels(self.class_names(), k)
                add("accuracy", *accuracy_from_logits(dl, fy, classes), labels=f"balanced: label i % {k}",
                    **digit_proto)
            elif metric == "kid_per_class":
                assert real is not None and ff is not None and fy is not None
                if real.labels is None:
                    raise DataError(f"kid_per_class needs labelled real images (class folders); "
                                    f"{protocol['reference']} has none")
                add("kid_per_class", *kid_per_class(real.features, real.labels, ff, fy, real.classes, seed),
                    kid_subsets=KID_SUBSETS)
            elif metric in ("psnr", "ssim", "l1"):
                value, proto = pix[metric]
                add(metric, value, None, None, **proto, **measured.pixel_protocol)
        return results

    def num_labels(self) -> int:
        """The number of class labels samples are drawn for (class-conditional plans)."""
        raise UsageError(f"{self.request.name} draws no labelled samples")


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
