"""Video-prediction metrics: per-horizon curves, sharpness, KID on frames, and the copy-last-frame baseline.

:func:`evaluate_video` rolls a model out from the context of every test clip and compares each predicted frame
with the real one, horizon by horizon (h = 1 … H frames after the context):

============  =====================================================================================================
metric        definition (pixels on the [0, 1] scale; per frame, then averaged over clips at each horizon)
============  =====================================================================================================
``mse``       mean squared error
``psnr``      10·log10(1 / mse) in dB (per frame, so a perfect frame is capped at 100 dB)
``ssim``      structural similarity, Gaussian window 11, σ 1.5 (Wang et al. 2004; torchmetrics' functional)
``sharpness`` root-mean-square gradient magnitude √mean(∂x² + ∂y²) (neighbour differences) of the predicted frame;
              the real frames' is reported beside it (``sharpness_truth``): blur lowers it, noise raises it (the
              mean of |∂x| + |∂y| would not do: smoothing a clean edge keeps its total variation)
``sharp_diff`` Mathieu et al.'s sharpness difference, 10·log10(1 / mean |(|∂x Y| + |∂y Y|) − (|∂x Ŷ| + |∂y Ŷ|)|)
              in dB: higher means the predicted edges match the real ones
``kid``       Kernel Inception Distance between all predicted frames and all real future frames (unbiased MMD²
              with the cubic polynomial kernel, mean ± std over subsets) on a feature network's features
============  =====================================================================================================

Every metric is computed the same way for the baselines measured beside the model: **copy-last-frame** (every
future frame is the last context frame: what a model that learnt nothing about motion scores) and any other
models passed as ``baselines`` (the ℓ2-only ablation). All systems see exactly the same clips.

This module is self-contained: it reads the task's data, runs the models and computes every number itself (the
KID arithmetic included), and only borrows the feature networks of :mod:`ganzoo.metrics.extractors`.
:mod:`ganzoo.metrics.video_plan` runs the same arithmetic as ``ganzoo eval``'s plan for the task.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import numpy as np
import torch

from ..errors import DataError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from ..model import GanModel

__all__ = ["CURVE_METRICS", "frame_metrics", "copy_last_frame", "kid", "VideoReport", "evaluate_video",
           "predict_clips", "eval_dataset"]

#: Metrics with one value per horizon (in report order).
CURVE_METRICS = ("mse", "psnr", "ssim", "sharpness", "sharp_diff")
_HIGHER = {"mse": False, "psnr": True, "ssim": True, "sharp_diff": True, "kid": False}
_PSNR_CAP = 100.0  # dB for a frame equal to its target (mse 0)
KID_SUBSETS = 100  # the usual 100 subsets (Bińkowski et al. 2018; torchmetrics' default)


# ---------------------------------------------------------------------------------------------------------
# arithmetic


def _grad_mag(x: torch.Tensor) -> torch.Tensor:
    """|∂x| + |∂y| of NCHW images on their common (H−1)×(W−1) grid."""
    dx = (x[..., :-1, 1:] - x[..., :-1, :-1]).abs()
    dy = (x[..., 1:, :-1] - x[..., :-1, :-1]).abs()
    return dx + dy


def _rms_grad(x: torch.Tensor) -> torch.Tensor:
    """√mean(∂x² + ∂y²) per image of NCHW images."""
    dx = x[..., :-1, 1:] - x[..., :-1, :-1]
    dy = x[..., 1:, :-1] - x[..., :-1, :-1]
    return (dx ** 2 + dy ** 2).flatten(1).mean(1).sqrt()


def frame_metrics(pred: torch.Tensor, truth: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-frame metrics of predicted vs real frames.

    Args:
        pred (`torch.Tensor`): ``(N, T, C, H, W)`` in [-1, 1].
        truth (`torch.Tensor`): the same shape.

    Returns:
        `dict[str, torch.Tensor]`: ``mse``, ``psnr``, ``ssim``, ``sharpness``, ``sharpness_truth``, ``sharp_diff``,
        each ``(N, T)`` (float64).

    Example:
        >>> x = torch.rand(2, 3, 1, 16, 16) * 2 - 1
        >>> frame_metrics(x, x)["psnr"].shape
        torch.Size([2, 3])
    """
    from torchmetrics.functional.image import structural_similarity_index_measure as ssim_fn

    if pred.shape != truth.shape or pred.dim() != 5:
        raise UsageError(f"expected two (N, T, C, H, W) clips of one shape, got {tuple(pred.shape)} and "
                         f"{tuple(truth.shape)}")
    n, t = pred.shape[:2]
    p = (pred.detach().double().clamp(-1, 1) + 1) / 2
    y = (truth.detach().double().clamp(-1, 1) + 1) / 2
    pf, yf = p.flatten(0, 1), y.flatten(0, 1)
    mse = ((pf - yf) ** 2).flatten(1).mean(1)
    sharp, sharp_truth = _rms_grad(pf), _rms_grad(yf)
    psnr = torch.where(mse > 0, 10 * torch.log10(1.0 / mse.clamp_min(1e-30)), torch.full_like(mse, _PSNR_CAP))
    ssim = ssim_fn(pf, yf, data_range=1.0, kernel_size=11, sigma=1.5, reduction="none")
    diff = (_grad_mag(yf) - _grad_mag(pf)).abs().flatten(1).mean(1)
    sharp_diff = torch.where(diff > 0, 10 * torch.log10(1.0 / diff.clamp_min(1e-30)), torch.full_like(diff, _PSNR_CAP))
    out = {"mse": mse, "psnr": psnr, "ssim": ssim.double(), "sharpness": sharp, "sharpness_truth": sharp_truth,
           "sharp_diff": sharp_diff}
    return {k: v.reshape(n, t) for k, v in out.items()}


def copy_last_frame(context: torch.Tensor, horizon: int) -> torch.Tensor:
    """The copy-last-frame baseline: ``horizon`` copies of the last context frame, ``(N, horizon, C, H, W)``."""
    return context[:, -1:].expand(-1, horizon, -1, -1, -1).clone()


def kid(real: torch.Tensor, fake: torch.Tensor, *, subset_size: int = 1000, subsets: int = KID_SUBSETS,
        seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance of two feature sets: unbiased MMD² with k(x, y) = (x·y / d + 1)³.

    Args:
        real, fake (`torch.Tensor`): ``(N, d)`` features.
        subset_size (`int`, *optional*): samples per subset (capped at the smaller set).
        subsets (`int`, *optional*): subsets averaged.
        seed (`int`, *optional*): seeds the subset draws.

    Returns:
        `tuple[float, float]`: mean and standard deviation over subsets.

    Raises:
        UsageError: a set has fewer than 2 samples.
    """
    m = min(subset_size, len(real), len(fake))
    if m < 2:
        raise UsageError(f"KID needs at least 2 samples per set, got {len(real)} and {len(fake)}")
    x, y = real.double(), fake.double()
    d = x.shape[1]
    g = torch.Generator().manual_seed(int(seed))
    values = []
    for _ in range(subsets):
        a = x[torch.randperm(len(x), generator=g)[:m]]
        b = y[torch.randperm(len(y), generator=g)[:m]]
        kxx, kyy, kxy = ((a @ a.T) / d + 1) ** 3, ((b @ b.T) / d + 1) ** 3, ((a @ b.T) / d + 1) ** 3
        off = 1 - torch.eye(m, dtype=torch.float64)
        values.append(((kxx * off).sum() + (kyy * off).sum()) / (m * (m - 1)) - 2 * kxy.mean())
    v = torch.stack(values)
    return float(v.mean()), float(v.std(unbiased=False))


# ---------------------------------------------------------------------------------------------------------
# data and rollouts


def eval_dataset(model: "GanModel", data: Any, *, split: str | None, horizon: int) -> Any:
    """The clips an evaluation reads: windows of ``context_frames + horizon`` frames from ``data``.

    ``data`` is a dataset object (items ``{"frames", ["actions"]}``) or a ``--data`` argument of the task's layout
    (``builtin:<name>`` or a folder), read with the model's frame size. Plugins that read their own data layout
    (a ``make_dataset`` hook) need the dataset object: the window length is theirs to set.
    """
    if not isinstance(data, (str, bytes)) and not hasattr(data, "__fspath__"):
        return data
    if model.impl.supports("make_dataset"):
        raise UsageError(f"{model.plugin.name} reads its own data layout: pass evaluate_video a dataset of windows of "
                         f"{model.config.context_frames} + {horizon} frames (see the plugin's make_dataset)")
    cfg = dataclasses.replace(model.config, future_frames=horizon)
    return model.task.dataset(cfg, data, split=split, augment=False)


def _clip_indices(n_items: int, n: int | None, seed: int) -> list[int]:
    if n is None or n >= n_items:
        return list(range(n_items))
    return sorted(np.random.default_rng(seed).choice(n_items, size=n, replace=False).tolist())


def predict_clips(model: "GanModel", context: torch.Tensor, horizon: int, *, actions: torch.Tensor | None = None,
                  seed: int = 0) -> torch.Tensor:
    """``horizon`` predicted frames after ``context`` ``(N, T, C, H, W)``: the model's rollout.

    Raises:
        UsageError: the model cannot predict ``horizon`` frames (no ``horizon`` option and fewer frames per call).
    """
    opts = model.impl.sample_options()
    kwargs: dict[str, Any] = {}
    if "horizon" in opts:
        kwargs["horizon"] = horizon
    if "actions" in opts:
        if actions is None:
            raise DataError(f"{model.plugin.name} is action-conditioned: the evaluation clips must carry actions")
        kwargs["actions"] = actions
    out = model.sample(condition=context.to(model.device), seed=seed, **kwargs)
    if out.shape[1] < horizon:
        raise UsageError(f"{model.name or model.plugin.name} predicts {out.shape[1]} frames per call and has no "
                         f"horizon option; evaluate it with horizon ≤ {out.shape[1]}")
    return out[:, :horizon].float().cpu()


# ---------------------------------------------------------------------------------------------------------
# the report


@dataclass
class VideoReport:
    """What :func:`evaluate_video` returns.

    Attributes:
        systems (`list[str]`): ``"model"``, ``"copy_last_frame"`` and the names of extra baselines, in order.
        curves (`dict`): ``{system: {metric: [value at h = 1 … H]}}`` (means over clips).
        summary (`dict`): ``{system: {metric: mean over horizons}}``, plus ``kid`` / ``kid_std`` when computed.
        protocol (`dict`): data, split, clips, horizon, context, seed, extractor and its weights hash, metric
            definitions, sampling, timings.
    """

    systems: list[str]
    curves: dict[str, dict[str, list[float]]]
    summary: dict[str, dict[str, float]]
    protocol: dict[str, Any]

    def value(self, metric: str, system: str = "model") -> float:
        """A summary value (mean over horizons, or KID)."""
        return self.summary[system][metric]

    def beats(self, other: str, metric: str, system: str = "model") -> bool:
        """Whether ``system`` is better than ``other`` on ``metric`` (summary value; lower is better for mse/kid)."""
        a, b = self.summary[system][metric], self.summary[other][metric]
        return a > b if _HIGHER.get(metric, True) else a < b

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON)."""
        return {"systems": self.systems, "curves": self.curves, "summary": self.summary, "protocol": self.protocol}

    def card_metrics(self, *, command: str | None = None) -> list[dict[str, Any]]:
        """Entries for a card's ``ganzoo.metrics`` list: each metric's mean over horizons, with the curve in
        ``details`` and the protocol (the baselines' entries say ``baseline: <name>`` in theirs).

        Args:
            command (`str`, *optional*): the command that reproduces the numbers, recorded in each protocol.
        """
        h = self.protocol["horizon"]
        base = {"extractor": self.protocol.get("extractor"), "extractor_sha256": self.protocol.get("extractor_sha256"),
                "reference": self.protocol["data"], "split": self.protocol["split"],
                "n_generated": self.protocol["clips"] * h, "seed": self.protocol["seed"], "horizons": f"1..{h}",
                "clips": self.protocol["clips"], "context_frames": self.protocol["context_frames"],
                "sampling": self.protocol["sampling"], "pixel_scale": self.protocol["pixel_scale"]}
        if command:
            base["command"] = command
        out = []
        for system in self.systems:
            proto = dict(base, **({"baseline": system} if system != "model" else {}))
            for m in ("mse", "psnr", "ssim", "sharp_diff", "sharpness", "kid"):
                if m not in self.summary[system]:
                    continue
                entry: dict[str, Any] = {"name": m, "value": float(f"{self.summary[system][m]:.6g}")}
                if m == "kid":
                    entry["std"] = float(f"{self.summary[system]['kid_std']:.6g}")
                    proto_m = dict(proto, kid=self.protocol["kid"])
                else:
                    entry["details"] = {"per_horizon": [float(f"{v:.6g}") for v in self.curves[system][m]]}
                    proto_m = dict(proto, **({"definition": self.protocol[m]} if m in self.protocol else {}))
                entry["protocol"] = proto_m
                out.append(entry)
        return out

    def table(self, *, metrics: Iterable[str] = ("mse", "psnr", "ssim", "sharp_diff", "sharpness", "kid"),
              horizons: Iterable[int] | None = None) -> str:
        """A markdown table: one row per system; the mean over horizons and, for ``horizons``, the curve's points."""
        names = [m for m in metrics if m in self.summary[self.systems[0]]]
        hs = list(horizons) if horizons is not None else []
        head = ["system"] + [f"{m} (mean)" if m in CURVE_METRICS else m for m in names]
        head += [f"psnr h={h}" for h in hs]
        rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for s in self.systems:
            cells = [s] + [_fmt(m, self.summary[s][m], self.summary[s].get(f"{m}_std")) for m in names]
            cells += [f"{self.curves[s]['psnr'][h - 1]:.2f}" for h in hs]
            rows.append("| " + " | ".join(cells) + " |")
        return "\n".join(rows)


def _fmt(metric: str, value: float, std: float | None) -> str:
    if metric == "kid":
        return f"{value:.4f} ± {std:.4f}" if std is not None else f"{value:.4f}"
    if metric in ("mse", "sharpness"):
        return f"{value:.4f}"
    return f"{value:.3f}" if metric == "ssim" else f"{value:.2f}"


# ---------------------------------------------------------------------------------------------------------
# evaluation


def evaluate_video(model: "GanModel", data: Any, *, split: str | None = "test", horizon: int = 10,
                   n: int | None = 256, seed: int = 0, batch_size: int = 32, extractor: str | None = "auto",
                   baselines: Mapping[str, "GanModel | Callable[..., torch.Tensor]"] | None = None,
                   kid_subset_size: int = 1000) -> VideoReport:
    """Evaluate a video-prediction model over horizons 1 … ``horizon`` beside copy-last-frame (and ``baselines``).

    Args:
        model (`GanModel`): the model (any video-prediction plugin; action-conditioned ones read the clips' actions).
        data: ``builtin:moving-digits``, a folder in the task's layout, or a dataset object whose items hold
            ``frames`` ``(T, C, H, W)`` (and ``actions``) with T ≥ context + horizon.
        split (`str`, *optional*, defaults to ``"test"``): the split of a folder or built-in dataset.
        horizon (`int`, *optional*, defaults to 10): frames predicted after the context.
        n (`int`, *optional*, defaults to 256): clips (a seeded random subset; None: all).
        seed (`int`, *optional*): seeds the subset, sampling and KID subsets.
        batch_size (`int`, *optional*): clips per model call.
        extractor (`str`, *optional*, defaults to ``"auto"``): the KID feature network (``digits`` for grey frames,
            ``inception`` or ``effnet`` for RGB when installed); None skips KID.
        baselines (*optional*): ``{name: model or fn(context, horizon[, actions]) → frames}`` measured beside.
        kid_subset_size (`int`, *optional*): samples per KID subset (capped at the number of frames).

    Returns:
        `VideoReport`: per-horizon curves and summaries for every system, with the protocol.

    Raises:
        DataError: the data has no clip long enough (``context + horizon`` frames).
        UsageError: ``horizon`` < 1, or a model cannot predict that far.

    Example:
        >>> model = ganzoo.load("runs/framegan-digits")  # doctest: +SKIP
        >>> report = evaluate_video(model, "builtin:moving-digits", horizon=10)  # doctest: +SKIP
        >>> report.beats("copy_last_frame", "psnr")  # doctest: +SKIP
        True
    """
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise UsageError(f"horizon must be a positive integer, got {horizon!r}")
    t0 = time.perf_counter()
    ctx_n = model.config.context_frames
    ds = eval_dataset(model, data, split=split, horizon=horizon)
    idx = _clip_indices(len(ds), n, seed)
    if not idx:
        raise DataError("the evaluation data holds no clip")
    systems: dict[str, Any] = {"model": model, "copy_last_frame": None, **dict(baselines or {})}
    per: dict[str, dict[str, list[torch.Tensor]]] = {s: {} for s in systems}
    frames_pred: dict[str, list[torch.Tensor]] = {s: [] for s in systems}
    frames_true: list[torch.Tensor] = []
    for start in range(0, len(idx), batch_size):
        items = [ds[i] for i in idx[start:start + batch_size]]
        clips = torch.stack([it["frames"] for it in items]).float()
        if clips.shape[1] < ctx_n + horizon:
            raise DataError(f"evaluation clips have {clips.shape[1]} frames; context {ctx_n} + horizon {horizon} "
                            f"need {ctx_n + horizon}")
        actions = torch.stack([it["actions"] for it in items]) if "actions" in items[0] else None
        acts = actions[:, ctx_n - 1:ctx_n - 1 + horizon] if actions is not None else None
        context, truth = clips[:, :ctx_n], clips[:, ctx_n:ctx_n + horizon]
        frames_true.append(truth.flatten(0, 1))
        for name, system in systems.items():
            pred = _run_system(system, context, horizon, acts, seed + start)
            for k, v in frame_metrics(pred, truth).items():
                per[name].setdefault(k, []).append(v)
            frames_pred[name].append(pred.flatten(0, 1))
    curves = {s: {k: torch.cat(v).mean(0).tolist() for k, v in per[s].items()} for s in systems}
    summary = {s: {k: float(np.mean(c)) for k, c in curves[s].items()} for s in systems}
    ext_name, ext_sha = None, None
    if extractor is not None:
        ext_name, ext_sha = _kid_all(summary, frames_true, frames_pred, model.config.channels, extractor,
                                     kid_subset_size, seed)
    protocol = {
        "data": str(data) if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__") else type(data).__name__,
        "split": split, "clips": len(idx), "clips_available": len(ds), "horizon": horizon, "context_frames": ctx_n,
        "image_size": model.config.image_size, "channels": model.config.channels, "seed": seed,
        "pixel_scale": "[0, 1]", "ssim": "Gaussian window 11, sigma 1.5", "psnr": "10*log10(1/mse) per frame, "
        f"capped at {_PSNR_CAP:g} dB", "mse": "mean squared error per frame",
        "sharpness": "sqrt(mean(dx^2+dy^2)) (neighbour differences)",
        "sharp_diff": "10*log10(1/mean| |grad Y| - |grad Yhat| |) (Mathieu et al. 2016)",
        "extractor": ext_name, "extractor_sha256": ext_sha, "kid": f"unbiased MMD^2, cubic kernel, {KID_SUBSETS} "
        f"subsets of min({kid_subset_size}, frames)", "sampling": "autoregressive rollout from the context"
        + (" under the clips' actions" if "actions" in model.impl.sample_options() else ""),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return VideoReport(list(systems), curves, summary, protocol)


def _run_system(system: Any, context: torch.Tensor, horizon: int, actions: torch.Tensor | None,
                seed: int) -> torch.Tensor:
    if system is None:
        return copy_last_frame(context, horizon)
    if hasattr(system, "impl") and hasattr(system, "sample"):
        with torch.no_grad():
            return predict_clips(system, context, horizon, actions=actions, seed=seed)
    out = system(context, horizon, actions) if actions is not None else system(context, horizon)
    return out[:, :horizon].float().cpu()


def _kid_all(summary: dict[str, dict[str, float]], truth: list[torch.Tensor], preds: dict[str, list[torch.Tensor]],
             channels: int, extractor: str, subset_size: int, seed: int) -> tuple[str, str]:
    from .extractors import load_extractor

    name = ("digits" if channels == 1 else "inception") if extractor == "auto" else extractor
    net = load_extractor(name)

    def feats(frames: list[torch.Tensor]) -> torch.Tensor:
        x = torch.cat(frames)
        x = torch.round((x.clamp(-1, 1) + 1) * 127.5) / 127.5 - 1  # 8-bit, as if saved
        with torch.no_grad():
            return torch.cat([net(b.to(net.device)).double().cpu() for b in x.split(256)])

    real = feats(truth)
    for s, frames in preds.items():
        mean, std = kid(real, feats(frames), subset_size=subset_size, seed=seed)
        summary[s]["kid"], summary[s]["kid_std"] = mean, std
    return name, getattr(net, "weights_sha256", "")
