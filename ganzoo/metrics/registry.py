"""The metric registry: every name ``ganzoo eval --metrics`` takes, what it measures, what it is computed from,
and the protocol keys its results carry beside the shared ones.

Which metrics a model gets is not decided here but by its task's evaluation plan (:mod:`ganzoo.metrics.plans`):
a plan starts from the task's ``metrics`` tuple (:attr:`ganzoo.tasks.Task.metrics`) and keeps those it can
compute for that model and extractor. A plan module that brings new metrics (audio, video) registers them at
import with :func:`register_metric`, so ``--metrics`` validation, ``ganzoo eval --help`` and the cards know them.

This module imports no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..errors import UnknownNameError

__all__ = ["MetricInfo", "METRICS", "register_metric", "parse_metrics", "SHARED_PROTOCOL_KEYS"]

#: Keys every result's protocol has (a plan may set some to None when they do not apply, e.g. no extractor).
SHARED_PROTOCOL_KEYS = (
    "extractor",  # the feature network's name, or "none (pixel metric)"
    "extractor_sha256",  # its weights' sha256
    "resizer",  # how the extractor resizes images to its input size
    "resolution",  # the side real images are read at (the model's)
    "reference",  # the --data argument
    "split",  # the split used (None: the whole folder)
    "reference_count",  # real items measured against
    "reference_fingerprint",  # sha256 prefix of the real pixels as fed to the extractor
    "n_generated",  # items generated (or translated)
    "seed",  # sampling seed (and KID subsets, IS splits)
    "sampling",  # how the measured outputs were made
    "quantize",  # what generated pixels went through before measuring
    "ganzoo_version",
    "weights_sha256",  # the evaluated weight files (when the model came from a folder or the registry)
    "command",  # the `ganzoo eval` command that reproduces the number
)


@dataclass(frozen=True)
class MetricInfo:
    """A metric ``ganzoo eval`` can compute.

    Attributes:
        name (`str`): what ``--metrics`` takes.
        description (`str`): one line.
        uses (`str`): what it is computed from: ``"features"`` (the extractor's features), ``"logits"`` (the
            extractor's classifier head), ``"digits"`` (the shipped digit classifier whatever the extractor),
            ``"pixels"`` (outputs against targets, no network); plan modules may add their own (``"waveforms"``).
        higher_is_better (`bool`).
        results (`tuple[str, ...]`): the names of the results it reports (default: its own name; ``pr`` reports
            ``precision`` and ``recall``).
        protocol_keys (`tuple[str, ...]`): the keys its results' protocols add to :data:`SHARED_PROTOCOL_KEYS`.
    """

    name: str
    description: str
    uses: str
    higher_is_better: bool
    results: tuple[str, ...] = ()
    protocol_keys: tuple[str, ...] = ()

    @property
    def tasks(self) -> tuple[str, ...]:
        """The task kinds that compute this metric by default (from :data:`ganzoo.tasks.TASKS`)."""
        from ..tasks import TASKS

        return tuple(t.name for t in TASKS.values() if self.name in t.metrics)

    @property
    def needs_extractor(self) -> bool:
        """Whether computing it loads the ``--extractor`` feature network."""
        return self.uses in ("features", "logits")

    def result_names(self) -> tuple[str, ...]:
        """The names its results are reported under."""
        return self.results or (self.name,)


_KID_KEYS = ("kid_subset_size", "kid_subsets", "kid_kernel")
_PIXEL_KEYS = ("data_range", "pairs")

#: Every metric, by the name ``--metrics`` takes (extend with :func:`register_metric`).
METRICS: dict[str, MetricInfo] = {m.name: m for m in (
    MetricInfo("kid", "Kernel Inception Distance: unbiased MMD² with a cubic polynomial kernel, mean ± std over "
               "100 subsets (lower is better; ~0 for two samples of one distribution)", "features", False,
               protocol_keys=_KID_KEYS),
    MetricInfo("fid", "Fréchet distance between Gaussians fitted to the features (biased upwards below ~2,000 samples)",
               "features", False),
    MetricInfo("pr", "improved precision (fidelity) and recall (diversity), k=3 nearest-neighbour manifolds; "
               "reported as 'precision' and 'recall'", "features", True, results=("precision", "recall"),
               protocol_keys=("pr_k",)),
    MetricInfo("is", "Inception-Score-style exp(E KL(p(y|x) ‖ p(y))) from the extractor's classifier "
               "(digits: the 'classifier IS', at most 10)", "logits", True, protocol_keys=("is_splits", "is_classes")),
    MetricInfo("coverage", "fraction of the 10 digit classes that get at least half their fair share of samples "
               "(shipped digit classifier)", "digits", True),
    MetricInfo("accuracy", "shipped digit classifier's accuracy on samples drawn for each label (per-label in details)",
               "digits", True, protocol_keys=("labels",)),
    MetricInfo("kid_per_class", "KID between generated and real images of each class, averaged over classes",
               "features", False, protocol_keys=("kid_subsets",)),
    MetricInfo("psnr", "peak signal-to-noise ratio (dB) of outputs against targets, per image then averaged",
               "pixels", True, protocol_keys=_PIXEL_KEYS + ("reduction",)),
    MetricInfo("ssim", "structural similarity of outputs against targets (Gaussian window 11, σ 1.5)", "pixels", True,
               protocol_keys=_PIXEL_KEYS + ("ssim_window",)),
    MetricInfo("l1", "mean absolute error of outputs against targets, on the [0, 1] pixel scale", "pixels", False,
               protocol_keys=_PIXEL_KEYS),
)}


def register_metric(info: MetricInfo) -> MetricInfo:
    """Add a metric to :data:`METRICS` (a plan module calls this at import for the metrics it computes).

    Args:
        info (`MetricInfo`): the metric.

    Returns:
        `MetricInfo`: ``info``.

    Raises:
        ValueError: another metric already has that name.

    Example:
        ```python
        >>> register_metric(MetricInfo("stoi", "short-time objective intelligibility", "waveforms", True))
        ```
    """
    known = METRICS.get(info.name)
    if known is not None and known != info:
        raise ValueError(f"metric {info.name!r} is already registered with another definition")
    METRICS[info.name] = info
    return info


def parse_metrics(metrics: Sequence[str] | str | None) -> list[str] | None:
    """Normalise ``--metrics`` (a comma-separated string or names): lower case, no duplicates, every name known.

    Args:
        metrics: ``"kid,fid"``, ``["kid", "fid"]`` or None.

    Returns:
        `list[str] | None`: the names in order, or None when nothing was asked (the plan's defaults apply).

    Raises:
        UnknownNameError: a name that is not in :data:`METRICS` (the closest ones suggested).
    """
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
