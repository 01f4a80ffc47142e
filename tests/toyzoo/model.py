"""Toy implementations: the smallest networks that keep each task's contract (shapes, conditions, options)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.config import (
    AudioConfig,
    ConditionalConfig,
    DomainConfig,
    ImageConfig,
    PairedTranslationConfig,
    TranslationConfig,
    VideoConfig,
)
from ganzoo.errors import UsageError
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel
from ganzoo.nn import gan_loss


def _mlp(i: int, h: int, o: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(i, h), nn.LeakyReLU(0.2), nn.Linear(h, o))


def _conv(cin: int, cout: int, width: int = 8) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, width, 3, 1, 1), nn.LeakyReLU(0.2), nn.Conv2d(width, cout, 3, 1, 1))


# -- unconditional ------------------------------------------------------------------------------------------


@dataclass
class ToyGanConfig(ImageConfig):
    image_size: int = 8
    channels: int = 1
    nz: int = 4
    hidden: int = 16


class _Gen(nn.Module):
    def __init__(self, cfg: Any, extra: int = 0) -> None:
        super().__init__()
        self.shape = (cfg.channels, cfg.image_size, cfg.image_size)
        self.net = _mlp(cfg.nz + extra, cfg.hidden, cfg.channels * cfg.image_size ** 2)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(z)).reshape(z.shape[0], *self.shape)


class _Disc(nn.Module):
    def __init__(self, cfg: Any, extra: int = 0) -> None:
        super().__init__()
        self.net = _mlp(cfg.channels * cfg.image_size ** 2 + extra, cfg.hidden, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = x.flatten(1) if y is None else torch.cat([x.flatten(1), y], dim=1)
        return self.net(h).squeeze(1)


class ToyGan(GanImpl):
    """latent + generate only: the core derives sample()."""

    def build(self, config: ToyGanConfig) -> GanModel:
        return self.new_model(config, {"G": _Gen(config), "D": _Disc(config)})

    def latent(self, model: GanModel, n: int, *, seed: int | None = None) -> torch.Tensor:
        return self.noise(n, (model.config.nz,), seed=seed, device=model.device)

    def generate(self, model: GanModel, z: torch.Tensor, *, condition: Any = None) -> torch.Tensor:
        return model.G(z.to(model.device))

    def discriminate(self, model: GanModel, images: torch.Tensor, *, condition: Any = None) -> torch.Tensor:
        return model.D(images.to(model.device))

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        real = batch["image"]
        fake = model.G(self.noise(real.shape[0], (model.config.nz,), device=real.device)).detach()
        return {"d_real": gan_loss(model.D(real), True), "d_fake": gan_loss(model.D(fake), False)}

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        real = batch["image"]
        fake = model.G(self.noise(real.shape[0], (model.config.nz,), device=real.device))
        return {"g_adv": gan_loss(model.D(fake), True, for_discriminator=False)}


# -- class-conditional --------------------------------------------------------------------------------------


@dataclass
class ToyCondConfig(ConditionalConfig):
    image_size: int = 8
    channels: int = 1
    num_classes: int = 3
    nz: int = 4
    hidden: int = 16


class ToyCond(GanImpl):
    def build(self, config: ToyCondConfig) -> GanModel:
        k = config.num_classes
        return self.new_model(config, {"G": _Gen(config, k), "D": _Disc(config, k)})

    def _labels(self, model: GanModel, condition: Any, n: int) -> torch.Tensor:
        k = model.config.num_classes
        y = torch.arange(n) % k if condition is None else torch.as_tensor(condition).long().reshape(-1)
        if y.numel() and (y.min() < 0 or y.max() >= k):
            raise UsageError(f"labels must be in [0, {k - 1}]")
        return y

    def latent(self, model: GanModel, n: int, *, seed: int | None = None) -> torch.Tensor:
        return self.noise(n, (model.config.nz,), seed=seed, device=model.device)

    def generate(self, model: GanModel, z: torch.Tensor, *, condition: Any = None) -> torch.Tensor:
        y = F.one_hot(self._labels(model, condition, z.shape[0]), model.config.num_classes).float().to(model.device)
        return model.G(torch.cat([z.to(model.device), y], dim=1))

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None,
               seed: int | None = None) -> torch.Tensor:
        y = self._labels(model, condition, model.config.num_classes if n is None else n)
        return self.generate(model, self.latent(model, y.numel(), seed=seed), condition=y)

    def _fake(self, model: GanModel, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        k = model.config.num_classes
        y = F.one_hot(self.randint(k, n, device=device), k).float()
        return model.G(torch.cat([self.noise(n, (model.config.nz,), device=device), y], dim=1)), y

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        real, k = batch["image"], model.config.num_classes
        fake, yf = self._fake(model, real.shape[0], real.device)
        yr = F.one_hot(batch["label"], k).float()
        return {"d_real": gan_loss(model.D(real, yr), True), "d_fake": gan_loss(model.D(fake.detach(), yf), False)}

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        fake, yf = self._fake(model, batch["image"].shape[0], batch["image"].device)
        return {"g_adv": gan_loss(model.D(fake, yf), True, for_discriminator=False)}


# -- reconstruction -----------------------------------------------------------------------------------------


@dataclass
class ToyAEConfig(ImageConfig):
    image_size: int = 8
    channels: int = 1
    nz: int = 4
    hidden: int = 16


class ToyAE(GanImpl):
    """train_step (one objective); sample(n) decodes N(0, I) codes, sample(condition=x) reconstructs x."""

    def build(self, config: ToyAEConfig) -> GanModel:
        enc = _mlp(config.channels * config.image_size ** 2, config.hidden, config.nz)
        return self.new_model(config, {"E": enc, "G": _Gen(config)})

    def train_step(self, model: GanModel, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        x = batch["image"]
        return {"rec": F.mse_loss(model.G(model.E(x.flatten(1))), x)}

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None,
               seed: int | None = None) -> torch.Tensor:
        if condition is not None:
            x = torch.as_tensor(condition).to(model.device)
            return model.G(model.E(x.flatten(1)))
        return model.G(self.noise(64 if n is None else n, (model.config.nz,), seed=seed, device=model.device))


# -- paired translation -------------------------------------------------------------------------------------


@dataclass
class ToyPairConfig(PairedTranslationConfig):
    image_size: int = 8
    input_channels: int = 1
    output_channels: int = 1
    flip: bool = False


class _PairD(nn.Module):
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.net = _conv(cin, 1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([a, b], dim=1))


class ToyPair(GanImpl):
    def build(self, config: ToyPairConfig) -> GanModel:
        g = nn.Sequential(_conv(config.input_channels, config.output_channels), nn.Tanh())
        return self.new_model(config, {"G": g, "D": _PairD(config.input_channels + config.output_channels)})

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        a, b = batch["A"], batch["B"]
        return {"d_real": gan_loss(model.D(a, b), True), "d_fake": gan_loss(model.D(a, model.G(a).detach()), False)}

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        a, b = batch["A"], batch["B"]
        fake = model.G(a)
        return {"g_adv": gan_loss(model.D(a, fake), True, for_discriminator=False), "g_l1": (fake - b).abs().mean()}

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               batch_size: int = 16) -> torch.Tensor:
        x = torch.as_tensor(condition).to(model.device)
        if x.dim() != 4 or x.shape[1] != model.config.input_channels:
            raise UsageError(f"toypair translates images (N, {model.config.input_channels}, H, W)")
        return torch.cat([model.G(c) for c in x.split(batch_size)])


# -- unpaired translation (two-way, a direction option) -----------------------------------------------------


@dataclass
class ToyUnpairConfig(TranslationConfig):
    image_size: int = 8
    input_channels: int = 1
    output_channels: int = 1
    flip: bool = False


class ToyUnpair(GanImpl):
    phase_order = ("G", "D")

    def build(self, config: ToyUnpairConfig) -> GanModel:
        ci, co = config.input_channels, config.output_channels
        return self.new_model(config, {"G_AB": nn.Sequential(_conv(ci, co), nn.Tanh()),
                                       "G_BA": nn.Sequential(_conv(co, ci), nn.Tanh()),
                                       "D_A": _conv(ci, 1), "D_B": _conv(co, 1)})

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        a, b = batch["A"], batch["B"]
        fb, fa = model.G_AB(a), model.G_BA(b)
        batch["fakes"] = (fa.detach(), fb.detach())
        return {"g_adv": gan_loss(model.D_B(fb), True, for_discriminator=False)
                + gan_loss(model.D_A(fa), True, for_discriminator=False),
                "cycle": (model.G_BA(fb) - a).abs().mean() + (model.G_AB(fa) - b).abs().mean()}

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        fa, fb = batch["fakes"]
        return {"d_a": gan_loss(model.D_A(batch["A"]), True) + gan_loss(model.D_A(fa), False),
                "d_b": gan_loss(model.D_B(batch["B"]), True) + gan_loss(model.D_B(fb), False)}

    def inference_components(self, *, direction: str | None = None, **options: Any) -> tuple[str, ...] | None:
        return None if direction is None else ({"AtoB": "G_AB", "BtoA": "G_BA"}[direction],)

    def input_channels(self, model: GanModel, *, direction: str | None = None, **options: Any) -> int:
        cfg = model.config
        return cfg.output_channels if direction == "BtoA" else cfg.input_channels

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               direction: str | None = None) -> torch.Tensor:
        net = model.G_BA if direction == "BtoA" else model.G_AB
        return net(torch.as_tensor(condition).to(model.device))


# -- multi-domain translation -------------------------------------------------------------------------------


@dataclass
class ToyDomainConfig(DomainConfig):
    image_size: int = 8
    channels: int = 1
    num_domains: int = 3
    domain_names: tuple[str, ...] = ("red", "green", "blue")


class _DomainG(nn.Module):
    def __init__(self, cfg: ToyDomainConfig) -> None:
        super().__init__()
        self.k = cfg.num_domains
        self.net = nn.Sequential(_conv(cfg.channels + cfg.num_domains, cfg.channels), nn.Tanh())

    def forward(self, x: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        code = F.one_hot(d, self.k).float()[:, :, None, None].expand(-1, -1, *x.shape[2:])
        return self.net(torch.cat([x, code], dim=1))


class _DomainD(nn.Module):
    def __init__(self, cfg: ToyDomainConfig) -> None:
        super().__init__()
        self.body = _conv(cfg.channels, 8)
        self.src, self.cls = nn.Conv2d(8, 1, 1), nn.Linear(8, cfg.num_domains)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.leaky_relu(self.body(x), 0.2)
        return self.src(h), self.cls(h.mean(dim=(2, 3)))


class ToyDomain(GanImpl):
    def build(self, config: ToyDomainConfig) -> GanModel:
        return self.new_model(config, {"G": _DomainG(config), "D": _DomainD(config)})

    def _domains(self, model: GanModel, domain: Any, n: int) -> torch.Tensor:
        cfg = model.config
        if isinstance(domain, str):
            if domain not in cfg.domain_names:
                raise UsageError(f"unknown domain {domain!r}; domains: {', '.join(cfg.domain_names)}")
            domain = cfg.domain_names.index(domain)
        d = torch.as_tensor(domain).long().reshape(-1)
        d = d.expand(n) if d.numel() == 1 else d
        if d.numel() != n or d.min() < 0 or d.max() >= cfg.num_domains:
            raise UsageError(f"give one domain in [0, {cfg.num_domains - 1}] or one per image")
        return d.to(model.device)

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        x, src = batch["image"], batch["label"]
        target = (src + 1) % model.config.num_domains
        fake = model.G(x, target).detach()
        real_src, real_cls = model.D(x)
        return {"d_adv": gan_loss(real_src, True) + gan_loss(model.D(fake)[0], False),
                "d_cls": F.cross_entropy(real_cls, src)}

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        x, src = batch["image"], batch["label"]
        target = (src + 1) % model.config.num_domains
        fake = model.G(x, target)
        out_src, out_cls = model.D(fake)
        return {"g_adv": gan_loss(out_src, True, for_discriminator=False), "g_cls": F.cross_entropy(out_cls, target),
                "rec": (model.G(fake, src) - x).abs().mean()}

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               domain: Any = None) -> torch.Tensor:
        x = torch.as_tensor(condition).to(model.device)
        if domain is None:
            raise UsageError("toydomain needs domain=<index, name, or one per image>")
        return model.G(x, self._domains(model, domain, x.shape[0]))


# -- speech enhancement -------------------------------------------------------------------------------------


@dataclass
class ToySpeechConfig(AudioConfig):
    sample_rate: int = 8000
    segment_length: int = 256


class ToySpeech(GanImpl):
    def build(self, config: ToySpeechConfig) -> GanModel:
        g = nn.Sequential(nn.Conv1d(1, 8, 9, 1, 4), nn.PReLU(), nn.Conv1d(8, 1, 9, 1, 4), nn.Tanh())
        d = nn.Sequential(nn.Conv1d(2, 8, 9, 4, 4), nn.LeakyReLU(0.2), nn.Conv1d(8, 1, 9, 4, 4))
        return self.new_model(config, {"G": g, "D": d})

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        noisy, clean = batch["noisy"][:, None], batch["clean"][:, None]
        fake = model.G(noisy).detach()
        return {"d_real": gan_loss(model.D(torch.cat([clean, noisy], 1)), True, "lsgan"),
                "d_fake": gan_loss(model.D(torch.cat([fake, noisy], 1)), False, "lsgan")}

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        noisy, clean = batch["noisy"][:, None], batch["clean"][:, None]
        fake = model.G(noisy)
        return {"g_adv": gan_loss(model.D(torch.cat([fake, noisy], 1)), True, "lsgan", for_discriminator=False),
                "g_l1": 10 * (fake - clean).abs().mean()}

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None,
               seed: int | None = None) -> torch.Tensor:
        x = torch.as_tensor(condition, dtype=torch.float32).to(model.device)
        return model.G(x[:, None])[:, 0]


# -- video prediction ---------------------------------------------------------------------------------------


@dataclass
class ToyVideoConfig(VideoConfig):
    image_size: int = 8
    channels: int = 1
    context_frames: int = 2
    future_frames: int = 2


class ToyVideo(GanImpl):
    def build(self, config: ToyVideoConfig) -> GanModel:
        c, t_in, t_out = config.channels, config.context_frames, config.future_frames
        g = nn.Sequential(_conv(c * t_in, c * t_out), nn.Tanh())
        return self.new_model(config, {"G": g, "D": _conv(c * (t_in + t_out), 1)})

    def _predict(self, model: GanModel, ctx: torch.Tensor) -> torch.Tensor:
        n, _, c, h, w = ctx.shape
        return model.G(ctx.reshape(n, -1, h, w)).reshape(n, model.config.future_frames, c, h, w)

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        clip, t = batch["frames"], model.config.context_frames
        fake = torch.cat([clip[:, :t], self._predict(model, clip[:, :t]).detach()], 1)
        return {"d_real": gan_loss(model.D(clip.flatten(1, 2)), True),
                "d_fake": gan_loss(model.D(fake.flatten(1, 2)), False)}

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        clip, t = batch["frames"], model.config.context_frames
        pred = self._predict(model, clip[:, :t])
        fake = torch.cat([clip[:, :t], pred], 1)
        return {"g_adv": gan_loss(model.D(fake.flatten(1, 2)), True, for_discriminator=False),
                "g_l2": F.mse_loss(pred, clip[:, t:])}

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None,
               seed: int | None = None) -> torch.Tensor:
        ctx = torch.as_tensor(condition).to(model.device)
        if ctx.dim() != 5 or ctx.shape[1] != model.config.context_frames:
            raise UsageError(f"toyvideo takes context clips (N, {model.config.context_frames}, C, H, W)")
        return self._predict(model, ctx)
