"""gamegan — the feedforward action-conditional network of Oh, Guo, Lee, Lewis & Singh, "Action-Conditional Video
Prediction using Deep Networks in Atari Games", NIPS 2015 (arXiv 1507.08750); official Caffe code:
github.com/junhyukoh/nips2015-action-conditional-video-prediction (``net.py``: ``add_conv_enc``,
``add_transform``, ``add_deconv``).

Kept from the paper and its code:

* **Encoder**: the last K = 4 frames stacked on channels → 4 stride-2 convolutions (64, 128, 128, 128 maps) → a
  fully connected layer of 2048 units, ReLU after each.
* **Action-conditional transformation** (§3.1, the multiplicative interaction with factors):
  h_dec = W_dec (W_enc h_enc ⊙ W_a a) + b, with a the one-hot action, 2048 factors; W_enc initialised
  uniform(−1, 1) and W_a uniform(−0.1, 0.1) as in the code; no nonlinearity around the product.
* **Decoder**: fully connected layer to a 128-map grid (ReLU), then 4 stride-2 transposed convolutions mirroring
  the encoder (128, 128, 128 maps, ReLU; the last gives the frame). Xavier initialisation elsewhere.
* **k-step objective**: the model is unrolled ``rollout_steps`` times on its own predictions (the paper's 1-, 3-
  and 5-step objectives) and the squared error of every predicted frame is minimised; Adam with the code's
  rate 1e-4, β = (0.9, 0.999) (the code's choice over the paper's RMSProp).

Added for the zoo (the issue's "adversarial + reconstruction"), and named in the card: a discriminator ``D``
(strided convolutions, LeakyReLU 0.2, no normalisation) judges (context frames, action, next frame), the action
given as constant one-hot planes; G adds λ_adv × the non-saturating GAN loss of every rollout step to
λ_rec × the squared error. λ_adv = 0 is the plain regression model of the paper (the ℓ2-only baseline).

Other departures: 64×64 grey frames (Atari: 210×160 RGB), hence kernel sizes 6/6/6/4 with padding that halves
each side exactly; frames scaled to [-1, 1] instead of mean-subtracted pixels (the output stays linear, clamped
to [-1, 1] when sampling); one fixed ``rollout_steps`` instead of the 1 → 3 → 5 curriculum; widths scaled by
``width``/``hidden``/``factors`` for CPU training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.config import VideoConfig
from ganzoo.errors import UsageError
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel
from ganzoo.nn import gan_loss

from .game import ACTIONS

__all__ = ["GameGANConfig", "ActionConditionalGenerator", "ActionDiscriminator", "GameGAN", "parse_actions"]

ENC_MAPS = (64, 128, 128, 128)  # the paper's encoder feature maps (decoder: 128, 128, 128, then the frame)
ENC_KERNELS = (6, 6, 6, 4)  # at 64×64: each halves the side (paper at 210×160: 8, 6, 6, 4)


@dataclass
class GameGANConfig(VideoConfig):
    """gamegan hyper-parameters: the paper's architecture at 64×64 grey, with widths that can be scaled down."""

    image_size: int = field(default=64, metadata={"help": "screen side, a multiple of 16"})
    channels: int = field(default=1, metadata={"help": "screen channels (1 grey, 3 RGB)"})
    context_frames: int = field(default=4, metadata={"help": "frames the encoder sees (paper: K = 4)"})
    future_frames: int = field(default=1, metadata={"help": "frames one step predicts (always 1: one per action)"})
    action_names: tuple[str, ...] = field(default=ACTIONS, metadata={"help": "action names, by index"})
    rollout_steps: int = field(default=3, metadata={"help": "k of the k-step objective (paper: 1, 3, then 5)"})
    # architecture
    width: float = field(default=1.0, metadata={"help": "multiplier of the conv feature maps (paper: 64/128/128/128)"})
    hidden: int = field(default=2048, metadata={"help": "encoder/decoder fully connected units (paper: 2048)"})
    factors: int = field(default=2048, metadata={"help": "factors of the action transformation (paper: 2048)"})
    ndf: int = field(default=64, metadata={"help": "discriminator width (its first layer's maps)"})
    # loss
    lambda_rec: float = field(default=1.0, metadata={"help": "weight of the squared error (the paper's loss)"})
    lambda_adv: float = field(default=0.05, metadata={"help": "adversarial weight (0: the paper's regression model)"})
    # optimisation
    lr: float = field(default=1e-4, metadata={"help": "G Adam rate (official code: 1e-4)"})
    lr_d: float = field(default=1e-4, metadata={"help": "D Adam rate"})
    beta1: float = field(default=0.9, metadata={"help": "G Adam β1 (official code: 0.9; D uses 0.5)"})
    beta2: float = field(default=0.999, metadata={"help": "Adam β2"})

    def __post_init__(self) -> None:
        super().__post_init__()
        self.action_names = tuple(self.action_names)
        if self.image_size % 16 or self.image_size < 16:
            raise ValueError(f"image_size must be a multiple of 16 (4 stride-2 layers), got {self.image_size}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if self.future_frames != 1:
            raise ValueError("future_frames must be 1 for gamegan (one frame per action); use rollout_steps")
        if len(self.action_names) < 2 or len(set(self.action_names)) != len(self.action_names):
            raise ValueError(f"action_names must be ≥ 2 distinct names, got {self.action_names}")
        for key in ("rollout_steps", "hidden", "factors", "ndf"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be ≥ 1, got {getattr(self, key)}")
        if self.width <= 0 or self.lambda_rec < 0 or self.lambda_adv < 0 or self.lambda_rec + self.lambda_adv == 0:
            raise ValueError("width must be > 0, and lambda_rec, lambda_adv ≥ 0 with at least one > 0")

    @property
    def num_actions(self) -> int:
        return len(self.action_names)


def _maps(cfg: GameGANConfig) -> list[int]:
    return [max(1, round(m * cfg.width)) for m in ENC_MAPS]


class ActionConditionalGenerator(nn.Module):
    """(frames (N, K·C, S, S), one-hot actions (N, A)) → the next frame (N, C, S, S): a linear output on the [-1, 1]
    pixel scale (the paper's), clamped to [-1, 1] when sampling."""

    def __init__(self, cfg: GameGANConfig) -> None:
        super().__init__()
        maps, c_in = _maps(cfg), cfg.context_frames * cfg.channels
        layers: list[nn.Module] = []
        for m, k in zip(maps, ENC_KERNELS):
            layers += [nn.Conv2d(c_in, m, k, stride=2, padding=(k - 2) // 2), nn.ReLU(inplace=True)]
            c_in = m
        self.encoder = nn.Sequential(*layers, nn.Flatten())
        self.grid = (maps[-1], cfg.image_size // 16, cfg.image_size // 16)
        n_grid = maps[-1] * self.grid[1] * self.grid[2]
        self.enc_fc = nn.Linear(n_grid, cfg.hidden)
        # the action-conditional transformation: h_dec = W_dec (W_enc h ⊙ W_a a) + b
        self.enc_factor = nn.Linear(cfg.hidden, cfg.factors)
        self.act_embed = nn.Linear(cfg.num_actions, cfg.factors)
        self.dec_factor = nn.Linear(cfg.factors, cfg.hidden)
        self.dec_fc = nn.Linear(cfg.hidden, n_grid)
        dec_maps = [maps[-1], maps[-2], maps[-3]]
        layers = []
        c = maps[-1]
        for m, k in zip(dec_maps, reversed(ENC_KERNELS[1:])):
            layers += [nn.ConvTranspose2d(c, m, k, stride=2, padding=(k - 2) // 2), nn.ReLU(inplace=True)]
            c = m
        k = ENC_KERNELS[0]
        layers.append(nn.ConvTranspose2d(c, cfg.channels, k, stride=2, padding=(k - 2) // 2))  # linear, as the paper
        self.decoder = nn.Sequential(*layers)
        for mod in self.modules():
            if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.xavier_uniform_(mod.weight)
                nn.init.zeros_(mod.bias)
        nn.init.uniform_(self.enc_factor.weight, -1.0, 1.0)
        nn.init.uniform_(self.act_embed.weight, -0.1, 0.1)

    def forward(self, frames: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.enc_fc(self.encoder(frames)))
        h = self.dec_factor(self.enc_factor(h) * self.act_embed(action))
        x = F.relu(self.dec_fc(h)).view(-1, *self.grid)
        return self.decoder(x)


class ActionDiscriminator(nn.Module):
    """(context (N, K·C, S, S), next frame (N, C, S, S), one-hot action (N, A)) → a logit per sample."""

    def __init__(self, cfg: GameGANConfig) -> None:
        super().__init__()
        c = (cfg.context_frames + 1) * cfg.channels + cfg.num_actions
        layers: list[nn.Module] = []
        side, width = cfg.image_size, cfg.ndf
        while side > 4:
            layers += [nn.Conv2d(c, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            c, side, width = width, side // 2, min(width * 2, cfg.ndf * 8)
        layers += [nn.Flatten(), nn.Linear(c * side * side, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, context: torch.Tensor, frame: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        planes = action[:, :, None, None].expand(-1, -1, *frame.shape[-2:])
        return self.net(torch.cat([context, frame, planes], 1)).flatten()


def parse_actions(actions: Any, names: Sequence[str], n: int) -> torch.Tensor:
    """Actions as int64 ``(n, H)``: from a string (letters ``"LLRN"`` or names ``"left,left,noop"``), a sequence of
    indices, or a tensor ``(H,)`` / ``(n, H)``. Raises a one-line UsageError naming a bad entry and the valid ones."""
    letters = {name[0].upper(): i for i, name in enumerate(names)}
    valid = ", ".join(f"{i} {name}" + (f" ({name[0].upper()})" if len(letters) == len(names) else "")
                      for i, name in enumerate(names))
    if isinstance(actions, str):
        text = actions.strip()
        tokens = [t for t in text.replace(",", " ").split()] if ("," in text or " " in text) else list(text)
        out = []
        for pos, tok in enumerate(tokens, 1):
            key = tok.lower()
            if key in names:
                out.append(list(names).index(key))
            elif len(tok) == 1 and tok.upper() in letters and len(letters) == len(names):
                out.append(letters[tok.upper()])
            elif tok.lstrip("-").isdigit():
                out.append(int(tok))
            else:
                raise UsageError(f"unknown action {tok!r} at position {pos}; the actions are {valid}")
        actions = out
    try:
        t = torch.as_tensor(actions)
    except (TypeError, ValueError, RuntimeError) as err:
        raise UsageError(f"actions must be a string or integers, got {type(actions).__name__}") from err
    if t.numel() == 0:
        raise UsageError("give at least one action")
    if t.is_floating_point() or t.dtype == torch.bool:
        raise UsageError(f"actions must be integers, got {t.dtype}")
    t = t.long()
    bad = t[(t < 0) | (t >= len(names))]
    if bad.numel():
        raise UsageError(f"action {int(bad[0])} is out of range: the model has {len(names)} actions ({valid})")
    if t.dim() == 1:
        t = t[None].expand(n, -1)
    if t.dim() != 2 or t.shape[0] != n:
        raise UsageError(f"actions must be (H,) or ({n}, H) for {n} clips, got shape {tuple(t.shape)}")
    return t


class GameGAN(GanImpl):
    """build / losses / sample for gamegan. Code ↔ paper: ``G.encoder``+``enc_fc`` = the encoding, ``enc_factor``
    / ``act_embed`` / ``dec_factor`` = W_enc / W_a / W_dec of the transformation, ``dec_fc``+``decoder`` = the
    decoding; ``D`` is the zoo's addition."""

    train_defaults: dict[str, Any] = {"batch_size": 16}

    def build(self, config: GameGANConfig) -> GanModel:
        return self.new_model(config, {"G": ActionConditionalGenerator(config), "D": ActionDiscriminator(config)})

    def configure_optimizers(self, model: GanModel) -> dict[str, torch.optim.Optimizer]:
        cfg = model.config
        return {"G": torch.optim.Adam(model.G.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2)),
                "D": torch.optim.Adam(model.D.parameters(), lr=cfg.lr_d, betas=(0.5, cfg.beta2))}

    # -- data ---------------------------------------------------------------------------------------------

    def make_dataset(self, model: GanModel, path: str | Path, *, split: str = "train") -> Any:
        """``builtin:paddle-ball`` (the simulator, on the fly) or episodes in Oh et al.'s layout
        (``root/[train|test]/<episode>/<frame>.png`` + ``act.log``); windows of context + rollout_steps frames."""
        from .data import dataset_for

        return dataset_for(model.config, path, split=split, length=model.config.context_frames
                           + model.config.rollout_steps)

    def example_batch(self, model: GanModel, n: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
        """``n`` simulator windows (start states drawn from ``seed``): real game frames and actions."""
        from .data import PaddleBallDataset

        cfg = model.config
        ds = PaddleBallDataset(image_size=cfg.image_size, channels=cfg.channels,
                               length=cfg.context_frames + cfg.rollout_steps, num_episodes=n, seed=10_000 + seed)
        items = [ds[i] for i in range(n)]
        return {k: torch.stack([it[k] for it in items]) for k in ("frames", "actions")}

    # -- training -----------------------------------------------------------------------------------------

    def _unroll(self, model: GanModel, batch: dict[str, Any]) -> tuple[torch.Tensor, list[torch.Tensor],
                                                                        list[torch.Tensor], list[torch.Tensor]]:
        """Unroll G ``rollout_steps`` on its own predictions: (one-hot actions, contexts, predictions, targets)."""
        cfg = model.config
        clip, acts = batch["frames"], batch["actions"]
        k, t = cfg.rollout_steps, cfg.context_frames
        if clip.shape[1] < t + k or acts.shape[1] < t + k - 1:
            raise UsageError(f"gamegan needs windows of {t + k} frames and {t + k - 1} actions (context {t} + "
                             f"rollout {k}), got {clip.shape[1]} and {acts.shape[1]}")
        onehot = F.one_hot(acts.long(), cfg.num_actions).to(clip.dtype)
        frames = list(clip[:, :t].unbind(1))
        contexts, preds, targets = [], [], []
        for step in range(k):
            ctx = torch.stack(frames[-t:], 1).flatten(1, 2)
            pred = model.G(ctx, onehot[:, t - 1 + step])
            contexts.append(ctx)
            preds.append(pred)
            targets.append(clip[:, t + step])
            frames.append(pred)
        return onehot, contexts, preds, targets

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """D step with G fixed: (context, action, real next frame) → 1, with the rollout's prediction → 0."""
        cfg = model.config
        if cfg.lambda_adv == 0:
            # the regression model (the paper's): D is not trained; a zero the trainer can step keeps the loop
            return {"d_off": next(model.D.parameters()).sum() * 0.0}
        with torch.no_grad():
            onehot, contexts, preds, _ = self._unroll(model, batch)
        t = cfg.context_frames
        clip = batch["frames"]
        real_ctx = [clip[:, s:s + t].flatten(1, 2) for s in range(cfg.rollout_steps)]
        d_real = d_fake = 0.0
        for s in range(cfg.rollout_steps):
            a = onehot[:, t - 1 + s]
            d_real = d_real + gan_loss(model.D(real_ctx[s], clip[:, t + s], a), True)
            d_fake = d_fake + gan_loss(model.D(contexts[s], preds[s].detach(), a), False)
        k = cfg.rollout_steps
        return {"d_real": d_real / k, "d_fake": d_fake / k}

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """G step with D fixed: λ_rec × squared error + λ_adv × adversarial loss, averaged over the rollout."""
        cfg = model.config
        onehot, contexts, preds, targets = self._unroll(model, batch)
        k, t = cfg.rollout_steps, cfg.context_frames
        out: dict[str, torch.Tensor] = {}
        mse = sum(F.mse_loss(p.float(), y.float()) for p, y in zip(preds, targets)) / k
        if cfg.lambda_rec:
            out["g_rec"] = cfg.lambda_rec * mse
        else:
            out["mse"] = mse.detach()
        if cfg.lambda_adv:
            adv = sum(gan_loss(model.D(c, p, onehot[:, t - 1 + s]), True, for_discriminator=False)
                      for s, (c, p) in enumerate(zip(contexts, preds))) / k
            out["g_adv"] = cfg.lambda_adv * adv
        return out

    # -- sampling -----------------------------------------------------------------------------------------

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               actions: Any = None, horizon: int | None = None, batch_size: int = 64) -> torch.Tensor:
        """Play ``actions`` from context clips ``(N, context_frames, C, S, S)`` in [-1, 1]: one predicted frame per
        action, fed back as context. ``actions``: ``"LLRN…"``, ``"left,right,…"``, indices ``(H,)`` or ``(N, H)``;
        ``horizon`` (default: the number of actions) must not exceed it. Returns ``(N, H, C, S, S)``."""
        cfg = model.config
        if condition is None:
            raise UsageError(f"gamegan needs the last {cfg.context_frames} screens: sample(condition=<(N, "
                             f"{cfg.context_frames}, {cfg.channels}, {cfg.image_size}, {cfg.image_size}) clips>, "
                             f"actions=...)")
        ctx = torch.as_tensor(condition)
        ctx = ctx[None] if ctx.dim() == 4 else ctx
        want = (cfg.channels, cfg.image_size, cfg.image_size)
        if ctx.dim() != 5 or tuple(ctx.shape[2:]) != want or not ctx.is_floating_point():
            raise UsageError(f"gamegan takes float context clips (N, T, {', '.join(map(str, want))}), got "
                             f"{tuple(ctx.shape)} {ctx.dtype}")
        if ctx.shape[1] < cfg.context_frames:
            raise UsageError(f"gamegan needs {cfg.context_frames} context frames, got {ctx.shape[1]} (the clip is "
                             f"shorter than the context)")
        if actions is None:
            raise UsageError("gamegan plays actions: sample(condition=..., actions='LLRN…') (one frame per action)")
        acts = parse_actions(actions, cfg.action_names, ctx.shape[0])
        horizon = acts.shape[1] if horizon is None else horizon
        if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= acts.shape[1]:
            raise UsageError(f"horizon must be an integer in 1..{acts.shape[1]} (the number of actions), got "
                             f"{horizon!r}")
        ctx = ctx[:, -cfg.context_frames:].float()
        out = []
        for c, a in zip(ctx.split(batch_size), acts[:, :horizon].split(batch_size)):
            out.append(self._play(model, c.to(model.device), a.to(model.device)))
        return torch.cat(out)

    @staticmethod
    def _play(model: GanModel, ctx: torch.Tensor, acts: torch.Tensor) -> torch.Tensor:
        cfg = model.config
        onehot = F.one_hot(acts, cfg.num_actions).to(ctx.dtype)
        frames = list(ctx.unbind(1))
        preds = []
        for step in range(acts.shape[1]):
            window = torch.stack(frames[-cfg.context_frames:], 1).flatten(1, 2)
            nxt = model.G(window, onehot[:, step]).clamp(-1, 1)
            frames.append(nxt)
            preds.append(nxt)
        return torch.stack(preds, 1)
