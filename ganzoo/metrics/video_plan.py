"""``ganzoo eval`` for video prediction: the task's evaluation plan, on the arithmetic of ganzoo.metrics.video."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
import torch

from ..errors import DataError, UsageError
from .video import _clip_indices, copy_last_frame, eval_dataset, frame_metrics, kid, predict_clips

if TYPE_CHECKING:  # pragma: no cover
    from ..model import GanModel

__all__ = ["VideoPlan", "CopyLastFrame"]


class CopyLastFrame:
    """The copy-last-frame baseline, in the shape of an evaluation plan's baseline (``name``, ``description``,
    ``fit(plan)``, ``__call__(inputs)``)."""

    name = "copy_last_frame"
    description = "every future frame is the last context frame"

    def __init__(self, horizon: int = 10) -> None:
        self.horizon = horizon

    def fit(self, plan: Any) -> dict[str, Any]:
        self.horizon = plan.horizon
        return {}

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        return copy_last_frame(inputs, self.horizon)


class VideoPlan:
    """``ganzoo eval`` for video prediction (what :meth:`ganzoo.tasks.Task.eval_plan` names).

    It follows the steps of an evaluation plan — ``choose`` the metrics, ``prepare`` the clips, ``measure`` the
    model (or a baseline) over them, ``score`` each metric with its protocol — so ``ganzoo eval`` runs it like the
    image plans; the arithmetic is :func:`frame_metrics` and :func:`kid`, the same as :func:`evaluate_video`.
    Numbers are means over horizons 1 … :attr:`horizon` (10), the curve in each result's ``details``.

    Args:
        model (`GanModel`): the model, in eval mode.
        request: the evaluation request (attributes ``name``, ``data``, ``split``, ``n``, ``seed``, ``batch_size``,
            ``device``, ``kid_subset_size``).
    """

    horizon = 10
    baselines = (CopyLastFrame,)
    metrics = ("mse", "psnr", "ssim", "sharpness", "sharp_diff", "kid")

    def __init__(self, model: "GanModel", request: Any) -> None:
        self.model, self.request = model, request
        self.task, self.config = model.task, model.config
        self.cache: dict[str, Any] = {"hit": False, "path": None}
        self.n_generated = 0
        self.names: list[str] = []
        self.extractor: Any = None

    def unavailable(self, metric: str, extractor: str | None) -> str | None:
        if metric not in self.metrics:
            return f"{metric} does not apply to {self.task.name} models; their metrics: {', '.join(self.metrics)}"
        return None

    def default_extractor(self) -> str | None:
        return "digits" if self.config.channels == 1 else "inception"

    def default_metrics(self, extractor: str | None) -> list[str]:
        return [m for m in self.metrics if m != "kid" or extractor is not None]

    def choose(self, asked: list[str] | None, extractor: str | None) -> tuple[list[str], str | None]:
        names = list(asked) if asked is not None else list(self.metrics)
        for m in names:
            reason = self.unavailable(m, extractor)
            if reason:
                raise UsageError(reason)
        needs = "kid" in names
        return names, (extractor or self.default_extractor()) if needs else None

    def make_baselines(self) -> list[Any]:
        return [cls() for cls in self.baselines]

    def prepare(self, names: list[str], extractor: Any) -> None:
        r = self.request
        self.names, self.extractor = names, extractor
        self.dataset = eval_dataset(self.model, r.data, split=r.split, horizon=self.horizon)
        self.indices = _clip_indices(len(self.dataset), r.n if r.n is not None else 256, r.seed)
        if not self.indices:
            raise DataError("the evaluation data holds no clip")
        self.n_generated = len(self.indices) * self.horizon

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

    def measure(self, baseline: Any = None) -> dict[str, Any]:
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

    def score(self, measured: dict[str, Any], protocol: dict[str, Any]) -> list[Any]:
        try:
            from .report import MetricResult  # the split metrics package
        except ImportError:  # pragma: no cover - before the split
            from .evaluate import MetricResult
        out = []
        for m in self.names:
            if m == "kid":
                feats = [self._features(measured["truths"]), self._features(measured["preds"])]
                size = self.request.kid_subset_size or 1000
                mean, std = kid(*feats, subset_size=size, seed=self.request.seed)
                out.append(MetricResult("kid", mean, std, {}, dict(protocol, kid_subset_size=size)))
            else:
                curve = measured["curves"][m]
                details = {"per_horizon": [float(f"{v:.6g}") for v in curve]}
                if m == "sharpness":
                    details["truth"] = float(np.mean(measured["curves"]["sharpness_truth"]))
                out.append(MetricResult(m, float(np.mean(curve)), None, details, dict(protocol)))
        return out

    def _features(self, frames: list[torch.Tensor]) -> torch.Tensor:
        x = torch.cat(frames)
        x = torch.round((x.clamp(-1, 1) + 1) * 127.5) / 127.5 - 1
        with torch.no_grad():
            return torch.cat([self.extractor(b.to(self.extractor.device)).double().cpu() for b in x.split(256)])

    def protocol(self) -> dict[str, Any]:
        ext = self.extractor
        return {"extractor": getattr(ext, "name", None) or "none (pixel metric)",
                "extractor_sha256": getattr(ext, "weights_sha256", None), "resizer": getattr(ext, "resizer", None),
                "resolution": self.config.image_size, "reference": self.request.data, "split": self.request.split,
                "reference_count": len(self.indices) * self.horizon, "n_generated": self.n_generated,
                "seed": self.request.seed, "horizons": f"1..{self.horizon}",
                "context_frames": self.config.context_frames,
                "sampling": "autoregressive rollout from the context of each test clip"}

    def command_args(self) -> list[str]:
        return []
