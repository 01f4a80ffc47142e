"""``ganzoo eval`` for video prediction: the task's evaluation plan, on the arithmetic of :mod:`ganzoo.metrics.video`.

    ganzoo eval runs/framegan-digits --data builtin:moving-digits       # 256 test clips, horizons 1..10
    ganzoo eval runs/framegan-vtest --data data/video -n 64 --metrics psnr,ssim

Every test clip's first ``context_frames`` frames go to the model, which rolls out :attr:`VideoPlan.horizon` frames
(10; for a plugin that reads its own data layout, such as gamegan, as many as its windows hold); each predicted
frame is compared with the real one. A result is the mean over horizons, its curve in ``details["per_horizon"]``.
The copy-last-frame baseline (:class:`CopyLastFrame`) is measured on exactly the same clips by the same arithmetic.
``-n`` counts clips. The metrics this module brings (``mse``, ``frame_sharpness``, ``sharp_diff``) are registered at
import; ``psnr``, ``ssim`` and ``kid`` are the registry's, computed per frame here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
import torch

from ..errors import DataError, UsageError
from .plans import Baseline, EvalPlan
from .registry import MetricInfo, register_metric
from .video import KID_SUBSETS, _clip_indices, copy_last_frame, eval_dataset, frame_metrics, kid, predict_clips

if TYPE_CHECKING:  # pragma: no cover
    from .report import MetricResult

__all__ = ["VideoPlan", "CopyLastFrame", "VIDEO_METRICS"]

#: What the plan computes, in report order.
VIDEO_METRICS = ("mse", "psnr", "ssim", "frame_sharpness", "sharp_diff", "kid")
_FRAME_KEYS = ("pixel_scale", "pairs", "horizons", "context_frames", "reduction")
for _info in (
    MetricInfo("mse", "mean squared error of predicted frames against the real ones, on the [0, 1] pixel scale "
               "(mean over horizons; the curve in details)", "pixels", False, protocol_keys=_FRAME_KEYS),
    MetricInfo("frame_sharpness", "root-mean-square gradient magnitude of the predicted frames (the real frames' in "
               "details): blur lowers it", "pixels", True, protocol_keys=_FRAME_KEYS + ("definition",)),
    MetricInfo("sharp_diff", "Mathieu et al.'s sharpness difference 10·log10(1/mean|(|∂x Y|+|∂y Y|)−(|∂x Ŷ|+|∂y Ŷ|)|)"
               " in dB (higher: edges like the real frames')", "pixels", True,
               protocol_keys=_FRAME_KEYS + ("definition",)),
):
    register_metric(_info)

_DEFINITIONS = {
    "mse": "mean squared error per frame",
    "psnr": "10*log10(1/mse) per frame, capped at 100 dB",
    "ssim": "Gaussian window 11, sigma 1.5, per frame",
    "frame_sharpness": "sqrt(mean(dx^2+dy^2)) per predicted frame (neighbour differences)",
    "sharp_diff": "10*log10(1/mean| |grad Y| - |grad Yhat| |) per frame (Mathieu et al. 2016)",
}


class CopyLastFrame(Baseline):
    """Every future frame is the last context frame: what a model that learnt nothing about motion predicts."""

    name = "copy_last_frame"
    description = "every future frame is the last context frame"

    def __init__(self) -> None:
        self.horizon = VideoPlan.horizon

    def fit(self, plan: EvalPlan) -> dict[str, Any]:
        self.horizon = getattr(plan, "horizon", self.horizon)
        return {}

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        return copy_last_frame(inputs, self.horizon)


class VideoPlan(EvalPlan):
    """``ganzoo eval`` for video-prediction models: per-horizon MSE/PSNR/SSIM, sharpness, the paper's sharpness
    difference and KID on frames, over the test clips of ``--data``, beside copy-last-frame.

    Args:
        model (`GanModel`): the model, in eval mode.
        request (`EvalRequest`): what was asked; ``request.data`` may also be a dataset object whose items hold
            ``frames`` ``(T, C, H, W)`` (and ``actions``), as :func:`~ganzoo.metrics.video.evaluate_video` takes.

    Attributes:
        horizon (`int`): frames predicted after the context: 10, or fewer when the plugin's own windows are shorter
            or the model cannot roll out (no ``horizon`` or ``actions`` option: its ``future_frames``).
        default_clips (`int`): clips measured when ``-n`` is not given (256).
    """

    horizon = 10
    default_clips = 256
    baselines = (CopyLastFrame,)

    def __init__(self, model: Any, request: Any) -> None:
        super().__init__(model, request)
        self.n_generated = 0
        self.names: list[str] = []
        self.extractor: Any = None
        self.indices: list[int] = []

    def default_extractor(self) -> str | None:
        """The shipped digit classifier for grey frames, Inception for RGB (KID only)."""
        return "digits" if self.config.channels == 1 else "inception"

    def prepare(self, names: list[str], extractor: Any) -> None:
        """Read the clips (windows of context + horizon frames) and draw the seeded ``-n`` subset.

        Raises:
            DataError: no clip, or clips shorter than context + 1 frames.
        """
        r, ctx_n = self.request, self.config.context_frames
        self.names, self.extractor = names, extractor
        if not {"horizon", "actions"} & set(self.model.impl.sample_options()):
            self.horizon = min(self.horizon, self.config.future_frames)  # no rollout: what one call predicts
        data = r.data
        own_layout = isinstance(data, (str, bytes)) and self.model.impl.supports("make_dataset")
        if own_layout:
            # the plugin sets its window (gamegan: context + rollout_steps); evaluate as far as it reaches
            self.dataset = self.model.impl.make_dataset(self.model, data, split=r.split or "test")
        else:
            self.dataset = eval_dataset(self.model, data, split=r.split, horizon=self.horizon)
        if len(self.dataset) == 0:
            raise DataError(f"{data} holds no clip of {ctx_n} + {self.horizon} frames for {r.name}")
        if own_layout:
            window = int(self.dataset[0]["frames"].shape[0])
            if window <= ctx_n:
                raise DataError(f"{data}: windows of {window} frames leave nothing to predict after the context "
                                f"({ctx_n} frames)")
            self.horizon = min(self.horizon, window - ctx_n)
        self.indices = _clip_indices(len(self.dataset), r.n if r.n is not None else self.default_clips, r.seed)
        if "kid" in names and len(self.indices) * self.horizon < 2:
            raise UsageError(f"kid needs at least 2 predicted frames; give -n ≥ 2 (got {len(self.indices)} clip)")
        self.n_generated = len(self.indices)

    def _batches(self) -> Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]]:
        ctx_n, h, bs = self.config.context_frames, self.horizon, self.request.batch_size
        for start in range(0, len(self.indices), bs):
            items = [self.dataset[i] for i in self.indices[start:start + bs]]
            clips = torch.stack([it["frames"] for it in items]).float()
            if clips.shape[1] < ctx_n + h:
                raise DataError(f"evaluation clips have {clips.shape[1]} frames; context {ctx_n} + horizon {h} need "
                                f"{ctx_n + h}")
            acts = (torch.stack([it["actions"] for it in items])[:, ctx_n - 1:ctx_n - 1 + h]
                    if "actions" in items[0] else None)
            yield clips[:, :ctx_n], clips[:, ctx_n:ctx_n + h], acts

    def measure(self, baseline: Baseline | None = None) -> dict[str, Any]:
        """Roll the model (or ``baseline``) out over every selected clip: per-horizon curves and all frames."""
        per: dict[str, list[torch.Tensor]] = {}
        preds, truths = [], []
        for k, (context, truth, acts) in enumerate(self._batches()):
            if baseline is None:
                with torch.no_grad():
                    pred = predict_clips(self.model, context, self.horizon, actions=acts, seed=self.request.seed + k)
            else:
                pred = baseline(context).float().cpu()
            for name, v in frame_metrics(pred, truth).items():
                per.setdefault(name, []).append(v)
            preds.append(pred.flatten(0, 1))
            truths.append(truth.flatten(0, 1))
        return {"curves": {k: torch.cat(v).mean(0).tolist() for k, v in per.items()}, "preds": preds,
                "truths": truths}

    def score(self, measured: dict[str, Any], protocol: dict[str, Any]) -> list["MetricResult"]:
        """One result per metric: the mean over horizons (curve in ``details``), KID with its spread."""
        from .report import MetricResult

        frames = len(self.indices) * self.horizon
        out = []
        for m in self.names:
            if m == "kid":
                real, fake = self._features(measured["truths"]), self._features(measured["preds"])
                size = min(self.request.kid_subset_size or 1000, len(real))
                mean, std = kid(real, fake, subset_size=size, seed=self.request.seed)
                out.append(MetricResult("kid", mean, std, {}, dict(
                    protocol, kid_subset_size=size, kid_subsets=KID_SUBSETS, kid_kernel="cubic polynomial",
                    quantize="8-bit, as if saved")))
                continue
            curve = measured["curves"]["sharpness" if m == "frame_sharpness" else m]
            details: dict[str, Any] = {"per_horizon": [float(f"{v:.6g}") for v in curve]}
            if m == "frame_sharpness":
                details["truth"] = float(np.mean(measured["curves"]["sharpness_truth"]))
            keys = {"pixel_scale": "[0, 1]", "pairs": frames, "reduction": "per frame, mean over clips at each "
                    "horizon, then over horizons", "definition": _DEFINITIONS[m]}
            if m in ("psnr", "ssim"):
                keys["data_range"] = 1.0
            if m == "ssim":
                keys["ssim_window"] = "Gaussian 11, sigma 1.5"
            out.append(MetricResult(m, float(np.mean(curve)), None, details, {**protocol, **keys}))
        return out

    def _features(self, frames: list[torch.Tensor]) -> torch.Tensor:
        x = torch.cat(frames)
        x = torch.round((x.clamp(-1, 1) + 1) * 127.5) / 127.5 - 1  # 8-bit, as if saved
        with torch.no_grad():
            return torch.cat([self.extractor(b.to(self.extractor.device)).double().cpu() for b in x.split(256)])

    def protocol(self) -> dict[str, Any]:
        ext = self.extractor
        data = self.request.data
        return {"extractor": getattr(ext, "name", None) or "none (pixel metric)",
                "extractor_sha256": getattr(ext, "weights_sha256", None), "resizer": getattr(ext, "resizer", None),
                "resolution": self.config.image_size,
                "reference": data if isinstance(data, str) else type(data).__name__, "split": self.request.split,
                "reference_count": len(self.indices) * self.horizon, "n_generated": self.n_generated,
                "seed": self.request.seed, "sampling": "autoregressive rollout from the context of each test clip"
                + (" under the clips' actions" if "actions" in self.model.impl.sample_options() else ""),
                "horizons": f"1..{self.horizon}", "context_frames": self.config.context_frames,
                "clips": len(self.indices), "clips_available": len(self.dataset)}
