"""Game evaluation: are the objects where the simulator puts them, 1 … 20 frames after the context?

Each test episode gives the model its first K frames and the simulator's actions; the model plays them out on
its own predictions. In every predicted frame the paddle and the ball are located (:func:`object_positions`) and
compared with the simulator's true centres:

* ``paddle_err``: distance in pixels between the predicted and the true paddle centre;
* ``ball_err``: the same for the ball, over the frames where both balls are visible and found (NaN at a horizon
  where the model never draws a ball it can be found in);
* ``ball_within``: the fraction of frames with a visible ball where the predicted ball is found within
  ``tolerance`` pixels (3 px: less than the 4-px ball) — a missing or doubled-up ball counts as a miss.

Pixel metrics (:func:`ganzoo.metrics.video.evaluate_video`) come from the same episodes. Beside the model: the
copy-last-frame baseline (objects frozen where the context left them) and any ``baselines`` passed (the
regression-only model, λ_adv = 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch

from ganzoo.metrics.video import VideoReport, copy_last_frame, evaluate_video, predict_clips

from .data import TEST_SEED, PaddleBallDataset
from .game import BALL_LEVEL, PaddleBall

__all__ = ["object_positions", "PositionReport", "evaluate_game"]


def object_positions(frames: torch.Tensor, game: PaddleBall) -> np.ndarray:
    """Paddle and ball centres found in frames ``(N, T, C, S, S)`` in [-1, 1]: ``(N, T, 2, 2)`` (row, col), NaN
    where an object is not found.

    The two are told apart by level (paddle 255, ball 170: the cut is halfway). The paddle is searched in its rows
    (it only moves sideways): the intensity-weighted centre of the pixels above the cut. The ball: the weighted
    centre of the pixels above half the ball's level, less the paddle's pixels, if their mass is at least half a
    ball's.
    """
    x = ((frames.detach().float().cpu().clamp(-1, 1) + 1) / 2).mean(2).numpy()  # (N, T, S, S) in [0, 1]
    n, t, s, _ = x.shape
    out = np.full((n, t, 2, 2), np.nan)
    ball_level, cut = BALL_LEVEL / 255, (BALL_LEVEL / 255 + 1.0) / 2  # ball 0.67, paddle 1.0: split at 0.83
    rows = slice(game.paddle_y, game.paddle_y + game.paddle_h)
    cols = np.arange(s, dtype=np.float64)
    band = np.where(x[:, :, rows] > cut, x[:, :, rows], 0.0).sum(2)  # (N, T, S): paddle mass per column
    mass = band.sum(-1)
    found = mass > 0.5 * game.paddle_h
    out[..., 0, 0] = np.where(found, game.paddle_y + (game.paddle_h - 1) / 2, np.nan)
    out[..., 0, 1] = np.where(found, (band * cols).sum(-1) / np.maximum(mass, 1e-9), np.nan)
    # the ball: bright pixels anywhere, except paddle-level ones in the paddle's rows (the ball is drawn over it)
    w = np.where(x > ball_level / 2, x, 0.0)
    w[:, :, rows] = np.where(x[:, :, rows] > cut, 0.0, w[:, :, rows])
    m = w.sum((-1, -2))
    ok = m > 0.5 * ball_level * game.ball ** 2
    out[..., 1, 0] = np.where(ok, (w.sum(-1) * cols).sum(-1) / np.maximum(m, 1e-9), np.nan)
    out[..., 1, 1] = np.where(ok, (w.sum(-2) * cols).sum(-1) / np.maximum(m, 1e-9), np.nan)
    return out


@dataclass
class PositionReport:
    """Per-horizon position errors for each system (``curves[system][metric]`` = values at h = 1 … H)."""

    systems: list[str]
    curves: dict[str, dict[str, list[float]]]
    protocol: dict[str, Any]

    def mean(self, metric: str, system: str = "model", upto: int | None = None) -> float:
        """The mean of a curve over horizons 1 … ``upto`` (default: all)."""
        values = np.asarray(self.curves[system][metric][:upto], dtype=np.float64)
        return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")

    def card_metrics(self, *, command: str | None = None) -> list[dict[str, Any]]:
        """Entries for a card's ``ganzoo.metrics`` list: each curve's mean over horizons (the curve in ``details``);
        the baselines' entries say ``baseline: <name>`` in their protocol."""
        h = self.protocol["horizon"]
        base = {"extractor": "none (object locator)", "reference": "builtin:paddle-ball", "split": "test",
                "n_generated": self.protocol["episodes"] * h, "seed": self.protocol["seed"], "horizons": f"1..{h}",
                **{k: self.protocol[k] for k in ("episode_seeds", "tolerance_px", "locator", "actions")}}
        if command:
            base["command"] = command
        out = []
        for system in self.systems:
            proto = dict(base, **({"baseline": system} if system != "model" else {}))
            for m in ("paddle_err", "ball_err", "ball_within"):
                curve = self.curves[system][m]
                out.append({"name": m, "value": float(f"{self.mean(m, system):.6g}"), "protocol": proto,
                            "details": {"per_horizon": [float(f"{v:.6g}") for v in curve]}})
        return out

    def table(self, horizons: tuple[int, ...] = (1, 5, 10, 20)) -> str:
        """A markdown table of paddle error, ball error and ball-within at a few horizons."""
        head = ["system"] + [f"{m} h={h}" for m in ("paddle_err", "ball_err", "ball_within") for h in horizons]
        rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for s in self.systems:
            cells = [s]
            for m in ("paddle_err", "ball_err", "ball_within"):
                for h in horizons:
                    v = self.curves[s][m][h - 1] if h <= len(self.curves[s][m]) else float("nan")
                    cells.append(f"{v:.2f}")
            rows.append("| " + " | ".join(cells) + " |")
        return "\n".join(rows)


def evaluate_game(model: Any, *, n: int = 256, horizon: int = 20, seed: int = 0, tolerance: float = 3.0,
                  batch_size: int = 32, baselines: Mapping[str, Any] | None = None,
                  extractor: str | None = "auto") -> tuple[VideoReport, PositionReport]:
    """Evaluate a gamegan model on ``n`` held-out simulator episodes over horizons 1 … ``horizon``.

    Args:
        model (`GanModel`): a gamegan model (or any action-conditioned video model of the same screen).
        n (`int`, *optional*, defaults to 256): test episodes (seeds from ``TEST_SEED``; never trained on).
        horizon (`int`, *optional*, defaults to 20): frames played after the context.
        seed (`int`, *optional*): seeds sampling and the KID subsets.
        tolerance (`float`, *optional*, defaults to 3.0): pixels within which a found ball counts as right.
        batch_size (`int`, *optional*): episodes per model call.
        baselines (*optional*): ``{name: model}`` measured beside (e.g. the λ_adv = 0 regression model).
        extractor (`str`, *optional*): the KID feature network (see :func:`evaluate_video`); None skips KID.

    Returns:
        `tuple[VideoReport, PositionReport]`: pixel metrics and position errors, model and baselines alike.
    """
    cfg = model.config
    ctx_n = cfg.context_frames
    ds = PaddleBallDataset(image_size=cfg.image_size, channels=cfg.channels, length=ctx_n + horizon,
                           num_episodes=n, seed=TEST_SEED)
    video = evaluate_video(model, ds, split="test", horizon=horizon, n=None, seed=seed, batch_size=batch_size,
                           extractor=extractor, baselines=baselines)
    game = ds.game
    systems = ["model", "copy_last_frame", *(baselines or {})]
    errs: dict[str, dict[str, list[np.ndarray]]] = {s: {"paddle": [], "ball": [], "hit": [], "visible": []}
                                                    for s in systems}
    for start in range(0, n, batch_size):
        items = [ds[i] for i in range(start, min(n, start + batch_size))]
        clips = torch.stack([it["frames"] for it in items])
        acts = torch.stack([it["actions"] for it in items])[:, ctx_n - 1:ctx_n - 1 + horizon]
        truth = torch.stack([it["positions"] for it in items]).double().numpy()[:, ctx_n:ctx_n + horizon]
        context = clips[:, :ctx_n]
        for s in systems:
            if s == "copy_last_frame":
                pred = copy_last_frame(context, horizon)
            else:
                system = model if s == "model" else baselines[s]  # type: ignore[index]
                with torch.no_grad():
                    pred = predict_clips(system, context, horizon, actions=acts, seed=seed + start)
            found = object_positions(pred, game)
            paddle = np.linalg.norm(found[:, :, 0] - truth[:, :, 0], axis=-1)
            ball = np.linalg.norm(found[:, :, 1] - truth[:, :, 1], axis=-1)  # NaN when either is missing
            visible = ~np.isnan(truth[:, :, 1, 0])
            errs[s]["paddle"].append(paddle)
            errs[s]["ball"].append(ball)
            errs[s]["hit"].append(np.where(visible, np.nan_to_num(ball, nan=np.inf) <= tolerance, False))
            errs[s]["visible"].append(visible)
    curves: dict[str, dict[str, list[float]]] = {}
    for s in systems:
        paddle, ball = np.concatenate(errs[s]["paddle"]), np.concatenate(errs[s]["ball"])
        hit, visible = np.concatenate(errs[s]["hit"]), np.concatenate(errs[s]["visible"])
        # a paddle that is not found at all is as wrong as the screen is wide
        paddle = np.where(np.isnan(paddle), float(cfg.image_size), paddle)
        found = ~np.isnan(ball)
        ball_mean = np.where(found.any(0), np.nansum(ball, 0) / np.maximum(found.sum(0), 1), np.nan)
        curves[s] = {"paddle_err": paddle.mean(0).tolist(), "ball_err": ball_mean.tolist(),
                     "ball_within": (hit.sum(0) / np.maximum(visible.sum(0), 1)).tolist()}
    protocol = {"episodes": n, "seed": seed, "episode_seeds": f"{TEST_SEED}..{TEST_SEED + n - 1}", "horizon": horizon,
                "context_frames": ctx_n, "tolerance_px": tolerance, "actions": "the behaviour policy's, replayed",
                "locator": "paddle: weighted centre of pixels above (170+255)/2 in its rows; ball: weighted centre "
                           "of the other pixels above 85, if their mass ≥ half a ball",
                "paddle_err_missing": "the screen side"}
    return video, PositionReport(systems, curves, protocol)
