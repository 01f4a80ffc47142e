"""Metric arithmetic on tensors, independent of where the images come from: KID, FID, the Inception Score,
improved precision/recall, class coverage and label accuracy from classifier logits, per-class KID, and
PSNR/SSIM/L1 of outputs against targets, plus the sample-count checks that make each of them meaningful.

The estimators are torchmetrics' (``KernelInceptionDistance``, ``FrechetInceptionDistance``, ``InceptionScore``,
``StructuralSimilarityIndexMeasure``, ``MeanAbsoluteError``), fed with precomputed features through an identity
module; improved precision/recall (Kynkäänniemi et al. 2019), which torchmetrics lacks, is computed here.
Every random draw (KID subsets, IS splits) comes from a generator seeded by the caller's ``seed``.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import torch
from torch import nn

from ..errors import DataError, UsageError

__all__ = [
    "KID_SUBSETS", "KID_MAX_SUBSET", "KID_MIN_SAMPLES", "FID_UNBIASED_N", "IS_SPLITS", "PR_K", "PSNR_CAP_DB",
    "kid_from_features", "fid_from_features", "is_from_logits", "precision_recall", "coverage_from_logits",
    "accuracy_from_logits", "kid_per_class", "PixelMetrics", "quantize", "kid_subset_size", "check_counts",
]

logger = logging.getLogger(__name__)

KID_SUBSETS = 100  # subsets averaged by KID (torchmetrics' default)
KID_MAX_SUBSET = 1000  # subset size when both sets have ≥ 1000 images (Bińkowski et al.'s choice)
KID_MIN_SAMPLES = 10  # below this per set, the unbiased MMD estimate is noise
FID_UNBIASED_N = 2000  # below this per set, FID is biased upwards: warn and suggest KID
IS_SPLITS = 10  # the Inception Score's usual 10 splits
PR_K = 3  # k-th nearest neighbour radius of improved precision/recall (Kynkäänniemi et al. 2019)
PSNR_CAP_DB = 100.0  #: the PSNR of a pixel-identical pair (mse clamped at 1e-10)
_KID_GRAM_LIMIT = 16_000_000  # kernel-matrix entries (double) up to which KID precomputes them (~128 MB)


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round [-1, 1] images to the 256 levels of an 8-bit PNG (what real images are)."""
    return ((x.float().clamp(-1, 1) + 1) * 127.5).round() / 127.5 - 1


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

    Args:
        real (`Tensor`), fake (`Tensor`): ``[N, D]`` features.
        subset_size (`int`): images per subset (≤ both counts).
        subsets (`int`, *optional*, defaults to 100), seed (`int`, *optional*, defaults to 0).

    Returns:
        `tuple[float, float]`: mean and standard deviation over the subsets.

    Raises:
        DataError: a set is smaller than ``subset_size``.
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
    """FID of two ``[N, D]`` feature sets with torchmetrics (double precision)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=_Given(real.shape[1]))
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return float(metric.compute())


def is_from_logits(logits: torch.Tensor, *, splits: int = IS_SPLITS, seed: int = 0) -> tuple[float, float]:
    """Inception-Score-style mean and std over ``splits`` from ``[N, K]`` classifier logits, with torchmetrics."""
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


def accuracy_from_logits(logits: torch.Tensor, labels: torch.Tensor, classes: list[int]
                         ) -> tuple[float, None, dict[str, Any]]:
    """A classifier's accuracy on samples drawn for ``labels``: label ``i`` should be classified as
    ``classes[i]``. Returns ``(value, None, {"per_label": {class: accuracy}})``."""
    target = torch.tensor(classes)[labels]
    pred = logits.argmax(1)
    correct = (pred == target).double()
    per = {str(classes[i]): round(float(correct[labels == i].mean()), 4) for i in range(len(classes))
           if bool((labels == i).any())}
    return float(correct.mean()), None, {"per_label": per}


def kid_per_class(real: torch.Tensor, real_y: torch.Tensor, fake: torch.Tensor, fake_y: torch.Tensor,
                  classes: list[str], seed: int) -> tuple[float, float | None, dict[str, Any]]:
    """KID between the real and generated features of each class (the generated labels'), averaged.

    Returns:
        ``(mean over classes, std over classes or None, {"per_class": {name: kid}})``.

    Raises:
        DataError: a class has fewer than :data:`KID_MIN_SAMPLES` real or generated images.
    """
    values: dict[str, float] = {}
    for c in sorted(set(fake_y.tolist())):
        r, f = real[real_y == c], fake[fake_y == c]
        size = min(KID_MAX_SUBSET, r.shape[0], f.shape[0])
        name = classes[c] if c < len(classes) else str(c)
        if size < KID_MIN_SAMPLES:
            raise DataError(f"kid_per_class needs at least {KID_MIN_SAMPLES} real and generated images per class; "
                            f"class {name} has {r.shape[0]} real and {f.shape[0]} generated (raise -n)")
        values[name] = round(kid_from_features(r, f, subset_size=size, seed=seed)[0], 6)
    vals = torch.tensor(list(values.values()), dtype=torch.float64)
    return float(vals.mean()), float(vals.std(unbiased=False)) if len(vals) > 1 else None, {"per_class": values}


class PixelMetrics:
    """PSNR / SSIM / L1 of outputs against targets, accumulated over batches (torchmetrics), on [0, 1] pixels.

    Args:
        image_size (`int`): the side of the images (the SSIM window is at most 11 and odd, at most the side).

    Example:
        ```python
        >>> acc = PixelMetrics(32)
        >>> acc.update(outputs, targets)   # [-1, 1] tensors, as many batches as needed
        >>> acc.compute()["psnr"][0]
        ```
    """

    def __init__(self, image_size: int) -> None:
        from torchmetrics.image import StructuralSimilarityIndexMeasure
        from torchmetrics.regression import MeanAbsoluteError

        self.kernel = min(11, image_size if image_size % 2 else image_size - 1)
        self.psnr_sum = 0.0  # per-image PSNR capped at PSNR_CAP_DB: one identical pair must not make the mean ∞
        self.ssim = StructuralSimilarityIndexMeasure(data_range=1.0, kernel_size=self.kernel)
        self.l1 = MeanAbsoluteError()
        self.count = 0

    def update(self, out: torch.Tensor, target: torch.Tensor) -> None:
        """Add a batch of outputs and their targets (both ``[N, C, H, W]`` in [-1, 1])."""
        o, t = (out.float().clamp(-1, 1) + 1) / 2, (target.float().clamp(-1, 1) + 1) / 2
        mse = (o - t).pow(2).flatten(1).mean(dim=1)
        psnr = 10 * torch.log10(1.0 / mse.clamp_min(10 ** (-PSNR_CAP_DB / 10)))
        self.psnr_sum += float(psnr.sum())
        self.ssim.update(o, t)
        self.l1.update(o, t)
        self.count += o.shape[0]

    def compute(self) -> dict[str, tuple[float, dict[str, Any]]]:
        """``{"psnr" | "ssim" | "l1": (value, protocol keys)}`` over every pair seen."""
        common = {"extractor": "none (pixel metric)", "extractor_sha256": None, "resizer": None,
                  "data_range": "[0, 1]", "pairs": self.count}
        return {"psnr": (self.psnr_sum / max(1, self.count),
                         {**common, "reduction": f"per-image PSNR (capped at {PSNR_CAP_DB:g} dB), then mean"}),
                "ssim": (float(self.ssim.compute()), {**common, "ssim_window": f"gaussian {self.kernel}, sigma 1.5"}),
                "l1": (float(self.l1.compute()), common)}


# ---------------------------------------------------------------------------------------------------------
# sample-count checks (before any sampling)


def kid_subset_size(requested: int | None, n_real: int, n_fake: int, where: str) -> int:
    """The KID subset size: ``requested``, else min(1000, n_real, n_fake); refuses sets too small for it.

    Raises:
        UsageError: ``requested`` < 2. DataError: too few real or generated images (the message says how many).
    """
    if requested is not None:
        if requested < 2:
            raise UsageError(f"kid_subset_size must be ≥ 2, got {requested}")
        if n_real < requested:
            raise DataError(f"KID with subset size {requested} needs at least {requested} real images; {where} has "
                            f"{n_real}: lower --kid-subset-size to ≤ {n_real} or use a larger split")
        if n_fake < requested:
            raise DataError(f"KID with subset size {requested} needs at least {requested} generated images; "
                            f"raise -n to ≥ {requested}")
        return requested
    size = min(KID_MAX_SUBSET, n_real, n_fake)
    if n_real < KID_MIN_SAMPLES:
        raise DataError(f"KID needs at least {KID_MIN_SAMPLES} real images (its subset size must be ≤ the number of "
                        f"images); {where} has {n_real}")
    if n_fake < KID_MIN_SAMPLES:
        raise DataError(f"KID needs at least {KID_MIN_SAMPLES} generated images; raise -n to ≥ {KID_MIN_SAMPLES}")
    return size


def check_counts(names: list[str], n_real: int, n_fake: int, where: str, kid_subset: int | None) -> int | None:
    """Refuse metric/count combinations that cannot give a number; warn about FID's small-sample bias.

    Args:
        names: the metric names to compute.
        n_real (`int`), n_fake (`int`): the real and generated counts.
        where (`str`): the reference, for messages.
        kid_subset (`int`, *optional*): the requested KID subset size.

    Returns:
        `int | None`: the KID subset size when ``kid`` is computed.

    Raises:
        DataError: too few images for a metric (the message says how many are needed).
    """
    subset = kid_subset_size(kid_subset, n_real, n_fake, where) if "kid" in names else None
    if "fid" in names:
        if n_real < 2:
            raise DataError(f"FID needs at least 2 real images (and about {FID_UNBIASED_N:,} for an unbiased value); "
                            f"{where} has {n_real}")
        if n_fake < 2:
            raise DataError(f"FID needs at least 2 generated images; raise -n (about {FID_UNBIASED_N:,} for an "
                            "unbiased value)")
        if min(n_real, n_fake) < FID_UNBIASED_N:
            logger.warning("FID with %d real and %d generated images is biased upwards (below ~%s per set): compare "
                           "it only at equal N, and prefer KID", n_real, n_fake, f"{FID_UNBIASED_N:,}")
    if "pr" in names and min(n_real, n_fake) < PR_K + 2:
        raise DataError(f"precision/recall (k={PR_K}) needs at least {PR_K + 2} real and generated images; {where} "
                        f"has {n_real} real, -n is {n_fake}")
    if "is" in names and n_fake < IS_SPLITS:
        raise DataError(f"the Inception Score needs at least {IS_SPLITS} generated images ({IS_SPLITS} splits); "
                        f"raise -n to ≥ {IS_SPLITS}")
    return subset
