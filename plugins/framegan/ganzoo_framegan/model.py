"""framegan — Mathieu, Couprie & LeCun, "Deep multi-scale video prediction beyond mean square error", ICLR 2016
(arXiv 1511.05440); official Torch code: github.com/coupriec/VideoPredictionICLR2016.

What is kept from the paper and its code:

* **Multi-scale generator** (§2.1): scales s_1 … s_4 at 1/8, 1/4, 1/2 and 1 of the frame side. The input clip
  and the target are average-pooled to each scale. ``G_1`` predicts the coarsest frame from the context alone;
  ``G_k`` sees the context at scale k and the nearest-upsampled prediction of scale k−1, and its output is added
  to that upsampled prediction: Ŷ_k = u(Ŷ_{k−1}) + G'_k(X_k, u(Ŷ_{k−1})) (the paper's equation; the official
  code takes a tanh of the sum, ``output="tanh"``: on moving digits it saturates at the black background and the
  gradients vanish — a run with it predicted blank frames for 1,800 steps — so the default is the plain sum,
  clamped to [-1, 1] when sampling). Each G'_k is a stack of 'same' convolutions with ReLU between them;
  feature maps and kernel sizes are the paper's Table 1 (``G_TABLE``), scaled by ``g_width``.
* **Multi-scale discriminator** (§3): one network per scale judges the sequence (context frames, next frame), so
  it can tell whether the predicted frame *continues* the context; 'valid' convolutions then fully connected
  layers with ReLU, a logit per clip (the sigmoid lives in the loss). Table 1's sizes (``D_TABLE``), scaled by
  ``d_width``. D is trained to say real for (X_k, Y_k) and fake for (X_k, Ŷ_k) at every scale.
* **Loss** (§3–4): L = λ_adv·L_adv + λ_ℓp·L_p + λ_gdl·L_gdl, each term summed over the 4 scales (the official
  code's parallel criteria). L_adv is the non-saturating GAN loss, L_p the mean of |Y−Ŷ|^p, and the gradient
  difference loss L_gdl = mean(| |∇_x Y| − |∇_x Ŷ| |^α) + mean(| |∇_y Y| − |∇_y Ŷ| |^α) with α = 1.
  The paper's λ_adv = 0.05, λ_ℓp = 1, λ_gdl = 1.
* **Ablations** (Table 2): ``objective`` = ``l2`` (multi-scale ℓ2 only), ``l1``, ``gdl`` (ℓ1 + GDL), ``adv``
  (adversarial + ℓ2) or ``adv_gdl`` (adversarial + ℓ1 + GDL, the paper's best and the default). Explicit
  ``lambda_*``/``p`` values override the preset. With λ_adv = 0 the discriminator is left untouched.
* **Training** on 4 context frames → 1 frame (``future_frames=1``); with ``future_frames=k`` G is unrolled k times
  on its own predictions and every step's loss counts (the official code's recursive model, ``nRec``), which
  keeps long rollouts from fading; ``init_from`` starts from a trained run (1-step training, then recursive
  fine-tuning). Optionally on random ``crop_size`` patches (the paper trains on
  32×32 patches and tests on full frames: G is fully convolutional). SGD with the paper's rates ρ_G = 0.04 and
  ρ_D = 0.02 (``optimizer="sgd"``), or Adam.
* **Rollout**: ``sample(condition=context, horizon=N)`` feeds predictions back as context, as the paper does for
  its multi-frame results.

Departures are listed in each model card (narrower widths for CPU training, full frames instead of patches on
64×64 data, no rate decay from 0.04 to 0.005, the optimiser actually used).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.config import VideoConfig
from ganzoo.errors import UsageError
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel
from ganzoo.nn import gan_loss

__all__ = ["FrameGANConfig", "LossWeights", "ScaleGenerator", "MultiScaleGenerator", "ScaleDiscriminator",
           "MultiScaleDiscriminator", "FrameGAN", "G_TABLE", "D_TABLE", "OBJECTIVES", "gradient_difference_loss"]

#: The paper's Table 1, generator: per scale (coarse → fine), hidden feature maps and kernel sizes (one per conv).
G_TABLE = (
    ((128, 256, 128), (3, 3, 3, 3)),
    ((128, 256, 128), (5, 3, 3, 5)),
    ((128, 256, 512, 256, 128), (5, 3, 3, 3, 3, 5)),
    ((128, 256, 512, 256, 128), (7, 5, 5, 5, 5, 7)),
)
#: The paper's Table 1, discriminator: per scale, conv feature maps, kernel sizes and fully connected sizes.
D_TABLE = (
    ((64,), (3,), (512, 256)),
    ((64, 128, 128), (3, 3, 3), (1024, 512)),
    ((128, 256, 256), (5, 5, 5), (1024, 512)),
    ((128, 256, 512, 128), (7, 7, 5, 5), (1024, 512)),
)
#: ``objective`` presets: (p, λ_ℓp, λ_gdl, λ_adv), the rows of the paper's Table 2.
OBJECTIVES = {
    "l2": (2, 1.0, 0.0, 0.0),
    "l1": (1, 1.0, 0.0, 0.0),
    "gdl": (1, 1.0, 1.0, 0.0),
    "adv": (2, 1.0, 0.0, 0.05),
    "adv_gdl": (1, 1.0, 1.0, 0.05),
}


class LossWeights(NamedTuple):
    """The loss terms in effect (see :attr:`FrameGANConfig.loss`)."""

    p: int
    lambda_lp: float
    lambda_gdl: float
    lambda_adv: float


@dataclass
class FrameGANConfig(VideoConfig):
    """framegan hyper-parameters; the defaults are the paper's except the frame size and channels (64² grey)."""

    image_size: int = field(default=64, metadata={"help": "frame side; a multiple of 2^(num_scales-1)"})
    channels: int = field(default=1, metadata={"help": "frame channels (1 grey, 3 RGB)"})
    context_frames: int = field(default=4, metadata={"help": "input frames (the paper: 4)"})
    future_frames: int = field(default=1, metadata={"help": "frames trained on after the context, predicted one at a "
                                                          "time and fed back (paper: 1; official code: nRec)"})
    init_from: str | None = field(default=None, metadata={"help": "model folder whose G and D start this run "
                                                                  "(the same architecture): fine-tuning",
                                                          "added_later": True})
    # architecture
    num_scales: int = field(default=4, metadata={"help": "pyramid levels (the paper: 4); uses Table 1's finest rows"})
    g_width: float = field(default=1.0, metadata={"help": "multiplier of the paper's generator feature maps"})
    d_width: float = field(default=1.0, metadata={"help": "multiplier of the paper's discriminator maps and FC sizes"})
    output: Literal["sum", "tanh"] = field(
        default="sum", metadata={"help": "sum: the paper's residual equation; tanh: tanh of it (official code)"})
    crop_size: int | None = field(default=None, metadata={"help": "train on random square crops (paper: 32); None: "
                                                                  "whole frames"})
    # loss
    objective: Literal["l2", "l1", "gdl", "adv", "adv_gdl"] = field(
        default="adv_gdl", metadata={"help": "ablation preset: l2, l1, gdl (l1+GDL), adv (adv+l2), adv_gdl"})
    p: int | None = field(default=None, metadata={"help": "ℓp norm, 1 or 2 (None: the objective's)"})
    lambda_lp: float | None = field(default=None, metadata={"help": "ℓp weight (paper: 1)"})
    lambda_gdl: float | None = field(default=None, metadata={"help": "gradient difference weight (paper: 1)"})
    lambda_adv: float | None = field(default=None, metadata={"help": "adversarial weight (paper: 0.05)"})
    gdl_alpha: float = field(default=1.0, metadata={"help": "exponent α of the gradient difference loss (paper: 1)"})
    # optimisation
    optimizer: Literal["sgd", "adam"] = field(default="sgd", metadata={"help": "sgd (paper) or adam"})
    lr: float = field(default=0.04, metadata={"help": "generator rate (paper: SGD 0.04)"})
    lr_d: float = field(default=0.02, metadata={"help": "discriminator rate (paper: SGD 0.02)"})
    beta1: float = field(default=0.5, metadata={"help": "Adam β1 (optimizer=adam)"})
    beta2: float = field(default=0.999, metadata={"help": "Adam β2 (optimizer=adam)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if not 1 <= self.num_scales <= len(G_TABLE):
            raise ValueError(f"num_scales must be in 1..{len(G_TABLE)}, got {self.num_scales}")
        factor = 2 ** (self.num_scales - 1)
        side = self.crop_size or self.image_size
        for key, value in (("image_size", self.image_size), ("crop_size", side)):
            if value % factor or value // factor < 2:
                raise ValueError(f"{key} must be a multiple of {factor} (2^(num_scales-1)) and ≥ {2 * factor}, "
                                 f"got {value}")
        if self.crop_size is not None and self.crop_size > self.image_size:
            raise ValueError(f"crop_size ({self.crop_size}) must be ≤ image_size ({self.image_size})")
        if self.g_width <= 0 or self.d_width <= 0:
            raise ValueError("g_width and d_width must be > 0")
        w = self.loss
        if w.p not in (1, 2):
            raise ValueError(f"p must be 1 or 2, got {w.p}")
        if min(w.lambda_lp, w.lambda_gdl, w.lambda_adv) < 0:
            raise ValueError("the loss weights lambda_* must be ≥ 0")
        if w.lambda_lp + w.lambda_gdl + w.lambda_adv == 0:
            raise ValueError("every loss weight is 0: nothing to train")
        if self.gdl_alpha <= 0:
            raise ValueError(f"gdl_alpha must be > 0, got {self.gdl_alpha}")

    @property
    def loss(self) -> "LossWeights":
        """The loss in effect: the ``objective`` preset, with any ``p``/``lambda_*`` given explicitly instead."""
        p, lp, gdl, adv = OBJECTIVES[self.objective]
        return LossWeights(p if self.p is None else int(self.p),
                           lp if self.lambda_lp is None else float(self.lambda_lp),
                           gdl if self.lambda_gdl is None else float(self.lambda_gdl),
                           adv if self.lambda_adv is None else float(self.lambda_adv))

    def scale_sides(self, side: int | None = None) -> list[int]:
        """Frame side at each scale, coarse → fine (``side`` defaults to the training side)."""
        side = side or self.crop_size or self.image_size
        return [side // 2 ** (self.num_scales - 1 - k) for k in range(self.num_scales)]


def _w(c: int, width: float) -> int:
    return max(1, round(c * width))


class ScaleGenerator(nn.Module):
    """G'_k: 'same' convolutions with ReLU between them (none after the last), as in the official ``convp`` stack."""

    def __init__(self, c_in: int, c_out: int, maps: tuple[int, ...], kernels: tuple[int, ...]) -> None:
        super().__init__()
        chans = [c_in, *maps, c_out]
        layers: list[nn.Module] = []
        for i, k in enumerate(kernels):
            layers.append(nn.Conv2d(chans[i], chans[i + 1], k, padding=k // 2))
            if i < len(kernels) - 1:
                layers.append(nn.ReLU(inplace=True))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MultiScaleGenerator(nn.Module):
    """Context (N, T·C, H, W) → next frames at every scale, coarse → fine: a list of (N, F·C, H_k, W_k).

    ``output="sum"``: Ŷ_k = u(Ŷ_{k−1}) + G'_k(X_k, u(Ŷ_{k−1})), the paper's equation (values may leave [-1, 1] a
    little; sampling clamps them); ``output="tanh"``: tanh of that sum, as the official code."""

    def __init__(self, cfg: FrameGANConfig) -> None:
        super().__init__()
        c_ctx, c_out = cfg.context_frames * cfg.channels, cfg.channels
        rows = G_TABLE[len(G_TABLE) - cfg.num_scales:]
        self.scales = nn.ModuleList(
            ScaleGenerator(c_ctx + (c_out if k else 0), c_out, tuple(_w(m, cfg.g_width) for m in maps), kernels)
            for k, (maps, kernels) in enumerate(rows))
        self.num_scales = cfg.num_scales
        self.squash = cfg.output == "tanh"

    def forward(self, context: torch.Tensor) -> list[torch.Tensor]:
        preds: list[torch.Tensor] = []
        for k, g in enumerate(self.scales):
            x = _pool(context, self.num_scales - 1 - k)
            if k == 0:
                y = g(x)
            else:
                guess = F.interpolate(preds[-1], scale_factor=2, mode="nearest")
                y = guess + g(torch.cat([x, guess], 1))
            if self.squash:
                y = torch.tanh(y)
            preds.append(y)
        return preds


class ScaleDiscriminator(nn.Module):
    """D_k: 'valid' convolutions then fully connected layers, ReLU between them; one logit per clip."""

    def __init__(self, c_in: int, side: int, maps: tuple[int, ...], kernels: tuple[int, ...],
                 fc: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = c_in
        for m, k in zip(maps, kernels):
            if side - k + 1 < 1:  # small frames (tiny configs): pad so the map never vanishes
                layers += [nn.Conv2d(c, m, k, padding=k // 2), nn.ReLU(inplace=True)]
            else:
                layers += [nn.Conv2d(c, m, k), nn.ReLU(inplace=True)]
                side = side - k + 1
            c = m
        layers.append(nn.Flatten())
        n = c * side * side
        for width in fc:
            layers += [nn.Linear(n, width), nn.ReLU(inplace=True)]
            n = width
        layers.append(nn.Linear(n, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


class MultiScaleDiscriminator(nn.Module):
    """(context, next frames) at each scale → a list of logits (N,), coarse → fine."""

    def __init__(self, cfg: FrameGANConfig) -> None:
        super().__init__()
        c_in = (cfg.context_frames + 1) * cfg.channels
        rows = D_TABLE[len(D_TABLE) - cfg.num_scales:]
        self.scales = nn.ModuleList(
            ScaleDiscriminator(c_in, side, tuple(_w(m, cfg.d_width) for m in maps), kernels,
                               tuple(_w(f, cfg.d_width) for f in fc))
            for side, (maps, kernels, fc) in zip(cfg.scale_sides(), rows))

    def forward(self, context: torch.Tensor, frames: list[torch.Tensor]) -> list[torch.Tensor]:
        n = len(self.scales)
        return [d(torch.cat([_pool(context, n - 1 - k), frames[k]], 1)) for k, d in enumerate(self.scales)]


def _pool(x: torch.Tensor, level: int) -> torch.Tensor:
    """Average-pool by 2^level (the official preprocessing of inputs and targets at each scale)."""
    return F.avg_pool2d(x, 2 ** level) if level else x


def _pyramid(x: torch.Tensor, n: int) -> list[torch.Tensor]:
    return [_pool(x, n - 1 - k) for k in range(n)]


def gradient_difference_loss(pred: torch.Tensor, target: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """The paper's GDL: mean |(|∇_x Y| − |∇_x Ŷ|)|^α + mean |(|∇_y Y| − |∇_y Ŷ|)|^α, neighbour differences on NCHW."""
    def grads(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (x[..., :, 1:] - x[..., :, :-1]).abs(), (x[..., 1:, :] - x[..., :-1, :]).abs()

    (px, py), (tx, ty) = grads(pred), grads(target)
    return (tx - px).abs().pow(alpha).mean() + (ty - py).abs().pow(alpha).mean()


class FrameGAN(GanImpl):
    """build / losses / sample for framegan (components ``G`` = the multi-scale generator, ``D`` = the multi-scale
    discriminator). Code ↔ paper: ``G.scales[k]`` = G'_{k+1}, ``D.scales[k]`` = D_{k+1}."""

    train_defaults: dict[str, Any] = {"batch_size": 8}  # the official code's minibatch

    def build(self, config: FrameGANConfig) -> GanModel:
        return self.new_model(config, {"G": MultiScaleGenerator(config), "D": MultiScaleDiscriminator(config)})

    def configure_optimizers(self, model: GanModel) -> dict[str, torch.optim.Optimizer]:
        """SGD (the paper) or Adam for G and D; with ``init_from``, G and D are first loaded from that folder."""
        cfg = model.config
        if cfg.init_from:
            _load_init(model)
        g, d = model.components["G"].parameters(), model.components["D"].parameters()
        if cfg.optimizer == "sgd":
            return {"G": torch.optim.SGD(g, lr=cfg.lr), "D": torch.optim.SGD(d, lr=cfg.lr_d)}
        betas = (cfg.beta1, cfg.beta2)
        return {"G": torch.optim.Adam(g, lr=cfg.lr, betas=betas), "D": torch.optim.Adam(d, lr=cfg.lr_d, betas=betas)}

    # -- training -----------------------------------------------------------------------------------------

    def _clip(self, model: GanModel, batch: dict[str, Any]) -> torch.Tensor:
        """The batch's clips (N, T, C, S, S), cropped once per step when configured (both halves see one crop)."""
        if "_framegan" not in batch:
            cfg = model.config
            clip = batch["frames"]
            t, f = cfg.context_frames, cfg.future_frames
            if clip.shape[1] < t + f:
                raise UsageError(f"framegan needs clips of {t + f} frames (context {t} + future {f}), got "
                                 f"{clip.shape[1]}")
            if cfg.crop_size is not None and cfg.crop_size < clip.shape[-1]:
                s = cfg.crop_size
                y, x = (int(v) for v in self.randint(clip.shape[-1] - s + 1, 2, device="cpu"))
                clip = clip[..., y:y + s, x:x + s]
            batch["_framegan"] = clip[:, :t + f]
        return batch["_framegan"]

    def _unroll(self, model: GanModel, clip: torch.Tensor) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
        """Predict the ``future_frames`` frames after the context one at a time, each fed back as context (the
        official code's recursive training): per step, the context it saw (N, T·C, S, S) and the predicted scales."""
        t = model.config.context_frames
        frames = list(clip[:, :t].unbind(1))
        contexts, preds = [], []
        for _ in range(model.config.future_frames):
            ctx = torch.stack(frames[-t:], 1).flatten(1, 2)
            scales = model.G(ctx)
            contexts.append(ctx)
            preds.append(scales)
            frames.append(scales[-1])
        return contexts, preds

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """D step with G fixed: (context, real next frame) → 1, (context, predicted) → 0, at every scale and step."""
        cfg = model.config
        clip = self._clip(model, batch)
        if cfg.loss.lambda_adv == 0:
            # no adversarial term (the ℓp/GDL ablations): D is not trained; a zero the trainer can step keeps the loop
            first = next(model.D.parameters())
            return {"d_off": first.sum() * 0.0}
        with torch.no_grad():
            contexts, preds = self._unroll(model, clip)
        t, n, f = cfg.context_frames, cfg.num_scales, cfg.future_frames
        d_real = d_fake = 0.0
        for k in range(f):
            real_logits = model.D(clip[:, k:k + t].flatten(1, 2), _pyramid(clip[:, t + k], n))
            fake_logits = model.D(contexts[k], [y.detach() for y in preds[k]])
            d_real = d_real + sum(gan_loss(r, True) for r in real_logits)
            d_fake = d_fake + sum(gan_loss(lg, False) for lg in fake_logits)
        return {"d_real": d_real / f, "d_fake": d_fake / f,
                "D(x)": torch.sigmoid(real_logits[-1].detach().float()).mean(),
                "D(G(x))": torch.sigmoid(fake_logits[-1].detach().float()).mean()}

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """G step with D fixed: λ_adv·adversarial + λ_ℓp·ℓp + λ_gdl·GDL, each summed over the scales and averaged
        over the predicted frames."""
        cfg, w = model.config, model.config.loss
        clip = self._clip(model, batch)
        contexts, preds = self._unroll(model, clip)
        t, f = cfg.context_frames, cfg.future_frames
        lp = gdl = adv = 0.0
        for k in range(f):
            targets = _pyramid(clip[:, t + k], cfg.num_scales)
            if w.lambda_lp:
                lp = lp + sum(((y.float() - y_.float()).abs().pow(w.p)).mean() for y, y_ in zip(preds[k], targets))
            if w.lambda_gdl:
                gdl = gdl + sum(gradient_difference_loss(y.float(), y_.float(), cfg.gdl_alpha)
                                for y, y_ in zip(preds[k], targets))
            if w.lambda_adv:
                adv = adv + sum(gan_loss(lg, True, for_discriminator=False) for lg in model.D(contexts[k], preds[k]))
        out: dict[str, torch.Tensor] = {}
        if w.lambda_lp:
            out[f"g_l{w.p}"] = w.lambda_lp * lp / f
        if w.lambda_gdl:
            out["g_gdl"] = w.lambda_gdl * gdl / f
        if w.lambda_adv:
            out["g_adv"] = w.lambda_adv * adv / f
        with torch.no_grad():  # logged: the full-scale error of the first and the last predicted frame
            out["mse"] = F.mse_loss(preds[0][-1].float(), clip[:, t].float())
            if f > 1:
                out[f"mse_{f}"] = F.mse_loss(preds[-1][-1].float(), clip[:, t + f - 1].float())
        return out

    # -- sampling -----------------------------------------------------------------------------------------

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               horizon: int | None = None, batch_size: int = 64) -> torch.Tensor:
        """Predict ``horizon`` frames (default ``future_frames``) after context clips ``(N, context_frames, C, H, W)``
        in [-1, 1], feeding predictions back as context. Frames of any size divisible by 2^(num_scales−1) work (G is
        fully convolutional); the output is ``(N, horizon, C, H, W)``. Deterministic: ``seed`` is unused."""
        cfg = model.config
        ctx = _check_context(condition, cfg, "framegan")
        horizon = cfg.future_frames if horizon is None else horizon
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            raise UsageError(f"horizon must be a positive integer, got {horizon!r}")
        factor = 2 ** (cfg.num_scales - 1)
        if ctx.shape[-1] % factor or ctx.shape[-2] % factor:
            raise UsageError(f"framegan needs frame sides divisible by {factor}, got {ctx.shape[-2]}×{ctx.shape[-1]}; "
                             f"crop or resize the frames")
        return torch.cat([self._rollout(model, chunk.to(model.device), horizon) for chunk in ctx.split(batch_size)])

    @staticmethod
    def _rollout(model: GanModel, ctx: torch.Tensor, horizon: int) -> torch.Tensor:
        cfg = model.config
        n, t, c, h, w = ctx.shape
        frames = list(ctx.unbind(1))
        out: list[torch.Tensor] = []
        while len(out) < horizon:
            window = torch.stack(frames[-cfg.context_frames:], 1).flatten(1, 2)
            nxt = model.G(window)[-1].clamp(-1, 1)
            frames.append(nxt)
            out.append(nxt)
        return torch.stack(out, 1)


#: config fields that fix the networks' shapes: an init_from folder must agree on them
ARCH_KEYS = ("image_size", "channels", "context_frames", "num_scales", "g_width", "d_width", "crop_size", "output")


def _load_init(model: GanModel) -> None:
    """Copy G and D from the ``init_from`` model folder (sha256-verified safetensors, nothing executed)."""
    from ganzoo.config import to_dict
    from ganzoo.errors import ConfigError, GanzooError
    from ganzoo.hub import load_model_folder

    src = model.config.init_from
    try:
        other = load_model_folder(src, components=["G", "D"], where=f"init_from={src}")
    except GanzooError as err:
        raise ConfigError(f"init_from: {err}") from None
    if other.plugin.name != "framegan":
        raise ConfigError(f"init_from={src} is a {other.plugin.name} model, not a framegan run")
    mine, theirs = to_dict(model.config), to_dict(other.config)
    differ = [k for k in ARCH_KEYS if mine[k] != theirs[k]]
    if differ:
        raise ConfigError(f"init_from={src} was built with "
                          f"{', '.join(f'{k}={theirs[k]} (here {mine[k]})' for k in differ)}: use the same options")
    for name in ("G", "D"):
        model.components[name].load_state_dict(other.components[name].state_dict())


def _check_context(condition: Any, cfg: Any, name: str) -> torch.Tensor:
    """Context clips as a float tensor (N, context_frames, C, H, W), or a one-line UsageError."""
    if condition is None:
        raise UsageError(f"{name} needs context frames: sample(condition=<(N, {cfg.context_frames}, "
                         f"{cfg.channels}, H, W) clips in [-1, 1]>)")
    ctx = torch.as_tensor(condition)
    if ctx.dim() == 4:
        ctx = ctx[None]
    if ctx.dim() != 5 or ctx.shape[2] != cfg.channels:
        raise UsageError(f"{name} takes context clips (N, T, {cfg.channels}, H, W), got shape {tuple(ctx.shape)}")
    if ctx.shape[1] < cfg.context_frames:
        raise UsageError(f"{name} needs {cfg.context_frames} context frames, got {ctx.shape[1]} (the clip is shorter "
                         f"than the context)")
    if not ctx.is_floating_point():
        raise UsageError(f"{name} takes float frames in [-1, 1], got {ctx.dtype}")
    return ctx[:, -cfg.context_frames:].float()
