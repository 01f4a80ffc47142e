"""The trainer tests' own plugins and helpers (imported by tests/test_train*.py; not a test module).

``trgan`` is a BN-free MLP GAN (batch norm optional) and ``trae`` an MLP auto-encoder, installed as a real
distribution on a temporary sys.path (the ``toy`` fixture) and visible to subprocesses through PYTHONPATH.
Exact equalities across batch splits need networks without batch statistics, and the SIGTERM and NaN tests
need hooks (a per-step sleep, a NaN at a chosen step) that the shared toy plugins do not have.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors.torch import load_file

from ganzoo.training.cli_support import run_training

QUIET = {"progress": False, "sample_every": 0, "log_every": 1}

TOY_SPEC = '''
from ganzoo import Plugin

trgan = Plugin(name="trgan", task="unconditional", summary="BN-free MLP GAN for trainer tests",
                paper="https://arxiv.org/abs/1406.2661", config="fake_toygan.model:ToyConfig",
                impl="fake_toygan.model:ToyGAN", components=("G", "D"), inference=("G",))
trae = Plugin(name="trae", task="reconstruction", summary="MLP auto-encoder for trainer tests (no discriminator)",
               paper="https://arxiv.org/abs/1312.6114", config="fake_toygan.model:ToyConfig",
               impl="fake_toygan.model:ToyAE", components=("G", "E"), inference=("G",))
'''

TOY_MODEL = '''
"""A BN-free MLP GAN and auto-encoder: per-example losses averaged over the batch, noise from self.noise."""
import os
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.config import ImageConfig
from ganzoo.impl import GanImpl
from ganzoo.training import rng


@dataclass
class ToyConfig(ImageConfig):
    image_size: int = 8
    channels: int = 1
    nz: int = 4
    hidden: int = 32
    lr: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    nan_at: int = 0  # g_adv becomes NaN at this step (1-based); 0: never
    dropout: float = 0.0  # in D: training then draws from the global RNG
    batchnorm: bool = False  # batch norm on G's code and D's input: buffers the capsule must carry


def _mlp(i, h, o):
    return nn.Sequential(nn.Linear(i, h), nn.LeakyReLU(0.2), nn.Linear(h, h), nn.LeakyReLU(0.2), nn.Linear(h, o))


class Gen(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.shape = (cfg.channels, cfg.image_size, cfg.image_size)
        self.bn = nn.BatchNorm1d(cfg.nz) if cfg.batchnorm else nn.Identity()
        self.net = _mlp(cfg.nz, cfg.hidden, cfg.channels * cfg.image_size ** 2)

    def forward(self, z):
        return torch.tanh(self.net(self.bn(z))).reshape(z.shape[0], *self.shape)


class Disc(nn.Module):
    def __init__(self, cfg, out=1):
        super().__init__()
        self.drop = nn.Dropout(cfg.dropout)
        self.bn = nn.BatchNorm1d(cfg.channels * cfg.image_size ** 2) if cfg.batchnorm else nn.Identity()
        self.net = _mlp(cfg.channels * cfg.image_size ** 2, cfg.hidden, out)

    def forward(self, x):
        h = self.net(self.drop(self.bn(x.flatten(1))))
        return h.squeeze(1) if h.shape[1] == 1 else h


def _bce(logits, real):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, 1.0 if real else 0.0))


class ToyGAN(GanImpl):
    def build(self, config):
        return self.new_model(config, {"G": Gen(config), "D": Disc(config)})

    def _fake(self, model, n, device):
        return model.G(self.noise(n, (model.config.nz,), device=device))

    def discriminator_loss(self, model, batch):
        delay = float(os.environ.get("FAKE_TOY_SLEEP", "0") or 0)
        if delay:
            time.sleep(delay)
        real = batch["image"]
        with torch.no_grad():
            fake = self._fake(model, real.shape[0], real.device)
        r, f = model.D(real), model.D(fake)
        return {"d_real": _bce(r, True), "d_fake": _bce(f, False), "D(x)": torch.sigmoid(r.detach()).mean()}

    def generator_loss(self, model, batch):
        real = batch["image"]
        loss = _bce(model.D(self._fake(model, real.shape[0], real.device)), True)
        now = rng.active()
        if model.config.nan_at and now is not None and now.step + 1 == model.config.nan_at:
            loss = loss * float("nan")
        return {"g_adv": loss}

    def sample(self, model, n=None, *, condition=None, seed=None):
        n = 64 if n is None else n
        return model.G(self.noise(n, (model.config.nz,), seed=seed, device=model.device))

    def preview(self, model, dataset, stem, *, n=64, seed=0):
        from ganzoo.data import save_image_grid

        torch.randn(3)  # a preview that draws from the global RNG must not change training
        return save_image_grid(self.sample(model, n, seed=seed), stem.with_suffix(".png"))


class ToyAE(GanImpl):
    def build(self, config):
        return self.new_model(config, {"G": Gen(config), "E": Disc(config, out=config.nz)})

    def configure_optimizers(self, model):
        params = list(model.E.parameters()) + list(model.G.parameters())
        return {"G": torch.optim.Adam(params, lr=model.config.lr)}

    def train_step(self, model, batch, step):
        x = batch["image"]
        z = model.E(x) + 0.1 * self.noise(x.shape[0], (model.config.nz,), device=x.device)
        return {"recon": F.mse_loss(model.G(z), x)}

    def sample(self, model, n=None, *, condition=None, seed=None):
        n = 64 if n is None else n
        return model.G(self.noise(n, (model.config.nz,), seed=seed, device=model.device))
'''

TOY = {"image_size": 8, "channels": 1}


def install_toys(fake_site) -> Path:
    """Install the toy plugins (trgan, trae) as a distribution with conftest's ``fake_site``; returns the site
    folder (for PYTHONPATH). Test modules wrap it in their ``toy`` fixture."""
    fake_site.add("fake-toygan", entry_points={"trgan": "fake_toygan:trgan", "trae": "fake_toygan:trae"},
                  modules={"fake_toygan/__init__.py": TOY_SPEC, "fake_toygan/model.py": TOY_MODEL})
    return fake_site.root


def train(plugin: str, out: Path, *, resume: bool = False, callbacks=None, data: str = "builtin:digits",
          **overrides):
    """In-process `ganzoo train` (the CLI's own code path after flag parsing)."""
    flags = {k: overrides.pop(k) for k in ("max_steps", "epochs", "batch_size", "seed", "mixed_precision")
             if k in overrides}
    return run_training(plugin, data, out, overrides=overrides, flags=flags, resume=resume, callbacks=callbacks)


def weights(folder: Path) -> dict[str, dict[str, torch.Tensor]]:
    return {p.stem: load_file(str(p)) for p in sorted(folder.glob("*.safetensors"))}


def tensors_of(obj, prefix=""):
    """Every tensor in a nested structure, by path."""
    if isinstance(obj, torch.Tensor):
        return {prefix: obj}
    if isinstance(obj, dict):
        return {k: v for key, val in obj.items() for k, v in tensors_of(val, f"{prefix}/{key}").items()}
    if isinstance(obj, (list, tuple)):
        return {k: v for i, val in enumerate(obj) for k, v in tensors_of(val, f"{prefix}/{i}").items()}
    return {}


def plain_of(obj):
    """The non-tensor leaves of a nested structure."""
    if isinstance(obj, torch.Tensor):
        return "<tensor>"
    if isinstance(obj, dict):
        return {k: plain_of(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain_of(v) for v in obj]
    return obj


def max_rel_diff(a: dict, b: dict) -> float:
    out = 0.0
    for comp in a:
        for k in a[comp]:
            x, y = a[comp][k].double(), b[comp][k].double()
            out = max(out, float((x - y).abs().max() / y.abs().max().clamp_min(1e-12)))
    return out


def stop_at(step: int):
    """A callback that stops the run after ``step`` as SIGTERM does (checkpoint, then return)."""
    def fn(trainer) -> None:
        if trainer.step == step:
            trainer.request_stop()
    return {"on_step_end": [fn]}


def env_with(toy_site: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess that sees the toy plugins."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(toy_site), os.environ.get("PYTHONPATH", "")]),
            "OMP_NUM_THREADS": "1", **extra}
