"""``ganzoo eval``: sample a model, compare with real data, and record how every number was made.

The steps are the same for every task; what differs lives in the task's evaluation plan
(:mod:`ganzoo.metrics.plans`: which metrics apply, where the reference comes from, what is generated, which
trivial baselines are measured beside the model). :func:`evaluate` validates the request, loads the model and
the feature extractor, runs the plan, and assembles the :class:`~ganzoo.metrics.report.EvalReport` with the
protocol of every number (including the ``ganzoo eval`` command that reproduces it). :func:`compare_real` scores
real images against real images: the floor a perfect generator reaches at a given N.

Small samples: FID is biased upwards below ~2,000 samples per set (two sets of 200 real photo crops score
FID ≈ 35–50 with Inception features); prefer KID there, and compare FIDs only at equal N.
"""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import torch

from .. import __version__
from ..errors import DataError, UnknownNameError, UsageError
from .arithmetic import KID_SUBSETS, PR_K, check_counts, fid_from_features, kid_from_features, precision_recall
from .extractors import get_extractor_info, load_extractor
from .generation import real_features
from .images import QUANTIZE
from .plans import EvalRequest, import_plans, plan_for
from .registry import METRICS, SHARED_PROTOCOL_KEYS, parse_metrics
from .report import BaselineResult, EvalReport, MetricResult

if TYPE_CHECKING:  # pragma: no cover
    from ..model import GanModel

__all__ = ["evaluate", "compare_real", "metric_names_for"]


def metric_names_for(model: "GanModel", extractor: str | None = None, *, data: str | None = None,
                     split: str | None = "test") -> list[str]:
    """The metrics ``ganzoo eval`` computes for ``model`` when ``--metrics`` is not given.

    Args:
        model (`GanModel`): the model.
        extractor (`str`, *optional*): the extractor that will be used (decides ``is`` and ``coverage``).
        data (`str`, *optional*), split (`str`, *optional*, defaults to ``"test"``): the data it will be measured
            on (an unpaired translator gets pixel metrics where its pairs are known); without data, what the
            task's data always allows.

    Returns:
        `list[str]`: metric names, in the task's order.

    Raises:
        UsageError: the task has no evaluation plan yet.
    """
    name = model.name or model.plugin.name
    request = EvalRequest(name=name, data=str(data) if data is not None else "", split=split, n=None, n_real=None,
                          seed=0, batch_size=64,
                          device=str(model.device))
    return plan_for(model, request).default_metrics(extractor)


def _command(request: EvalRequest, metrics: list[str], n: int, extractor: str | None, extra: list[str]) -> str:
    args = ["ganzoo", "eval", request.name, "--data", request.data]
    if request.split:
        args += ["--split", request.split]
    args += ["--metrics", ",".join(metrics), "-n", str(n)]
    if extractor:
        args += ["--extractor", extractor]
    args += ["--seed", str(request.seed), "--batch-size", str(request.batch_size)]
    if request.n_real is not None:
        args += ["--n-real", str(request.n_real)]
    if request.kid_subset_size is not None:
        args += ["--kid-subset-size", str(request.kid_subset_size)]
    return shlex.join(args + extra)


def _weights_sha256(model: Any) -> dict[str, str] | None:
    """The sha256 of the weight files the evaluated networks came from (from the card's pins), so a number
    measured on older weights of the same folder can be told apart."""
    loaded = vars(model).get("loaded_components")  # set by the loader; absent on a freshly built model
    card = model.card
    pins = dict((card.data.get("ganzoo") or {}).get("sha256") or {}) if card is not None else {}
    if not loaded or not pins:
        return None
    out = {f"{f}.safetensors": pins.get(f"{f}.safetensors") for f in loaded.values()}
    return {k: v for k, v in out.items() if v} or None


def _ordered(protocol: dict[str, Any]) -> dict[str, Any]:
    head = {k: protocol[k] for k in SHARED_PROTOCOL_KEYS if k in protocol}
    return head | {k: v for k, v in protocol.items() if k not in head}


def evaluate(model: "GanModel | str", data: str | os.PathLike[str], *, split: str | None = "test",
             metrics: Sequence[str] | str | None = None, n: int | None = None, extractor: str | None = None,
             seed: int = 0, batch_size: int = 64, device: str | None = None, n_real: int | None = None,
             kid_subset_size: int | None = None, use_cache: bool = True,
             cache_dir: str | os.PathLike[str] | None = None, name: str | None = None,
             baselines: bool = True) -> EvalReport:
    """Evaluate a model against real data; every number carries its protocol.

    Args:
        model (`GanModel` or `str`): a loaded model, or anything :func:`ganzoo.load` accepts.
        data: the dataset folder in the task's layout (a ``<split>/`` sub-folder is used when present) or
            ``builtin:<name>`` (``builtin:digits``, ``builtin:digit-edges``, ``builtin:digit-bold`` …).
        split (`str`, *optional*, defaults to ``"test"``): the split of the reference (and of the inputs).
        metrics (*optional*): names or a comma-separated string (see :data:`~ganzoo.metrics.registry.METRICS`);
            default: the task's, where they can be computed (:func:`metric_names_for`).
        n (`int`, *optional*): items to generate; default the number of reference images (at most 10,000), or
            every test input for translation.
        extractor (`str`, *optional*): ``digits``, ``inception`` or ``effnet``; default
            :func:`~ganzoo.metrics.extractors.default_extractor` for the model's channels and size.
        seed (`int`, *optional*, defaults to 0): the sampling seed (and KID subsets, IS splits).
        batch_size (`int`, *optional*, defaults to 64): generation and feature batches.
        device (`str`, *optional*): default cuda when available.
        n_real (`int`, *optional*): use a fixed random subset of the reference images.
        kid_subset_size (`int`, *optional*): default min(1000, reference count, n).
        use_cache (`bool`, *optional*, defaults to `True`), cache_dir (*optional*): the real-feature cache.
        name (`str`, *optional*): how to name the model in the protocol's command (default: ``model.name``).
        baselines (`bool`, *optional*, defaults to `True`): also measure the task's trivial baselines (identity,
            colour transfer …) by the same protocol (:attr:`EvalReport.baselines`).

    Returns:
        `EvalReport`.

    Raises:
        UnknownNameError: unknown metric or extractor (closest names suggested).
        UsageError: a task without an evaluation plan, a metric that does not apply to the model, bad arguments.
        DataError: missing data, or too few images for a metric (the message says how many are needed).
        ExtractorUnavailableError: the extractor's optional package is not installed (with the pip command).

    Example:
        ```python
        >>> report = evaluate("dcgan-digits", "data/digits", metrics="kid,fid", extractor="digits")
        >>> report.value("kid"), report["kid"].protocol["n_generated"]
        >>> evaluate("runs/pix2pix-edges", "builtin:digit-edges").baseline("identity")["psnr"].value
        ```
    """
    t_start = time.perf_counter()
    if batch_size < 1:
        raise UsageError(f"batch_size must be ≥ 1, got {batch_size}")
    if n is not None and n < 1:
        raise UsageError(f"n must be ≥ 1, got {n}")
    if n_real is not None and n_real < 1:
        raise UsageError(f"n_real must be ≥ 1, got {n_real}")
    try:
        asked = parse_metrics(metrics)
    except UnknownNameError:  # perhaps a metric a plan module registers when imported (pesq, sharpness …)
        import_plans()
        asked = parse_metrics(metrics)
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

    request = EvalRequest(name=name, data=str(data), split=split, n=n, n_real=n_real, seed=seed,
                          batch_size=batch_size, device=dev, kid_subset_size=kid_subset_size, use_cache=use_cache,
                          cache_dir=Path(cache_dir) if cache_dir else None)
    plan = plan_for(model, request)
    names, ext_name = plan.choose(asked, extractor)
    ext = load_extractor(ext_name, dev) if ext_name else None
    plan.prepare(names, ext)
    t_real = time.perf_counter()
    measured = plan.measure()
    t_gen = time.perf_counter()
    protocol = _ordered({**plan.protocol(), "weights_sha256": _weights_sha256(model),
                         "command": _command(request, names, plan.command_n(), ext_name, plan.command_args())})
    results = plan.score(measured, protocol)
    t_end = time.perf_counter()
    rows: list[BaselineResult] = []
    for baseline in plan.make_baselines() if baselines else []:
        fitted = baseline.fit(plan)
        out = plan.measure(baseline)
        proto = _ordered({**protocol, "sampling": baseline.description, "baseline": baseline.name, **fitted})
        rows.append(BaselineResult(baseline.name, baseline.description, plan.score(out, proto)))
    t_base = time.perf_counter()
    timings = {"load": t_loaded - t_start, "real": t_real - t_loaded, "generate": t_gen - t_real,
               "metrics": t_end - t_gen, "baselines": t_base - t_end, "total": t_base - t_start}
    return EvalReport(model=name, plugin=model.plugin.name, task=model.task.name, results=results, protocol=protocol,
                      timings=timings, cache=plan.cache, baselines=rows)


def compare_real(data: str | os.PathLike[str], *, split_a: str = "train", split_b: str = "test", n: int | None = None,
                 extractor: str = "digits", image_size: int = 32, channels: int = 1,
                 metrics: Sequence[str] = ("kid", "fid"), seed: int = 0, batch_size: int = 64,
                 kid_subset_size: int | None = None, use_cache: bool = True, device: str | None = None,
                 cache_dir: str | os.PathLike[str] | None = None) -> list[MetricResult]:
    """Score ``n`` real images of ``split_a`` against ``split_b`` as if they were samples: the value a perfect
    generator would get at that N (FID's small-sample bias included).

    Args:
        data: the dataset folder (or ``builtin:digits``).
        split_a (`str`, *optional*, defaults to ``"train"``): plays the generated set (a fixed random subset of
            ``n``). split_b (`str`, *optional*, defaults to ``"test"``): the reference, all of it.
        n (`int`, *optional*): default the size of ``split_b``.
        extractor, image_size, channels, metrics, seed, batch_size, kid_subset_size, use_cache, device, cache_dir:
            as in :func:`evaluate` (metrics: kid, fid, pr).

    Returns:
        `list[MetricResult]`, with protocols.

    Raises:
        UsageError: a metric other than kid, fid, pr.
        DataError: too few images.

    Example:
        ```python
        >>> [(r.name, r.value) for r in compare_real("data/digits", n=500, metrics=("kid", "fid"))]
        ```
    """
    names = parse_metrics(list(metrics)) or ["kid", "fid"]
    bad = [m for m in names if METRICS[m].uses != "features" or m == "kid_per_class"]
    if bad:
        raise UsageError(f"compare_real computes kid, fid, pr; not {', '.join(bad)}")
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    ext = load_extractor(extractor, dev)
    common = dict(extractor=ext, image_size=image_size, channels=channels, batch_size=batch_size,
                  use_cache=use_cache, cache_dir=cache_dir)
    ref = real_features(data, split=split_b, **common)
    other = real_features(data, split=split_a, n_real=n if n is not None else ref.count, **common)
    if ref.count == 0 or other.count == 0:  # pragma: no cover - real_features refuses empty sets
        raise DataError(f"{data} holds no images")
    subset = check_counts(names, ref.count, other.count, f"{data} (split '{split_b}')", kid_subset_size)
    base = {"extractor": ext.name, "extractor_sha256": ext.weights_sha256, "resizer": ext.resizer,
            "resolution": image_size, "reference": str(data), "split": ref.split, "reference_count": ref.count,
            "reference_fingerprint": ref.fingerprint, "n_generated": other.count, "seed": seed,
            "sampling": f"real images of split '{split_a}' (fixed subset), fingerprint {other.fingerprint}",
            "quantize": QUANTIZE, "ganzoo_version": __version__}
    out = []
    for metric in names:
        if metric == "kid":
            assert subset is not None
            mean, std = kid_from_features(ref.features, other.features, subset_size=subset, seed=seed)
            proto = {**base, "kid_subset_size": subset, "kid_subsets": KID_SUBSETS}
            out.append(MetricResult("kid", mean, std, {}, proto))
        elif metric == "fid":
            out.append(MetricResult("fid", fid_from_features(ref.features, other.features), None, {}, dict(base)))
        elif metric == "pr":
            p, r = precision_recall(ref.features, other.features)
            out += [MetricResult("precision", p, None, {}, {**base, "pr_k": PR_K}),
                    MetricResult("recall", r, None, {}, {**base, "pr_k": PR_K})]
    return out
