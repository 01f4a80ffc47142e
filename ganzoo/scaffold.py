"""``ganzoo new-plugin NAME``: a third-party plugin package that installs and passes ``check_plugin`` unchanged."""

from __future__ import annotations

import textwrap
from pathlib import Path

from .errors import UsageError
from .plugin import PLUGIN_NAME_RE

__all__ = ["scaffold_plugin", "SCAFFOLD_TASKS"]

#: Tasks the scaffold writes a working starting point for.
SCAFFOLD_TASKS = ("unconditional", "class-conditional", "paired-translation")

_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "{title}: a ganzoo plugin"
requires-python = ">=3.10"
dependencies = ["ganzoo>=0.1"]

[project.optional-dependencies]
test = ["pytest>=8"]

# ganzoo discovers plugins through this entry-point group; the value names the torch-free Plugin spec.
[project.entry-points."ganzoo.plugins"]
{name} = "{pkg}:plugin"

[tool.setuptools]
packages = ["{pkg}"]
"""

_INIT = '''\
"""{title} for ganzoo: the plugin spec only. Keep this module free of torch so `ganzoo list` stays instant."""

from ganzoo import Plugin

plugin = Plugin(
    name="{name}",
    task="{task}",
    summary="{title} (edit this one-line summary)",
    paper="https://arxiv.org/abs/1406.2661",  # the paper your implementation follows
    config="{pkg}.model:{cls}Config",
    impl="{pkg}.model:{cls}",
    components=("G", "D"),
    inference=("G",),
    tiny_config={tiny},
    license="Apache-2.0",
)
'''

_MODEL_COMMON = '''\
"""{title}: networks, losses and sampling. Replace the networks with your paper's; keep the interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ganzoo import GanImpl, GanModel, UsageError
from ganzoo.config import ConditionalConfig, ImageConfig, PairedTranslationConfig
from ganzoo.nn import gan_loss, init_weights
'''

_MODEL_UNCONDITIONAL = '''

@dataclass
class {cls}Config(ImageConfig):
    """Every field needs a default; `ganzoo train {name} --set key=value` reaches each one. The task's base
    (ImageConfig) holds the fields the core reads; redeclare them to change their defaults."""

    image_size: int = field(default=32, metadata={{"help": "output side in pixels"}})
    channels: int = field(default=1, metadata={{"help": "image channels"}})
    nz: int = field(default=64, metadata={{"help": "latent dimension"}})
    hidden: int = field(default=256, metadata={{"help": "MLP width"}})
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999


class Generator(nn.Module):
    def __init__(self, cfg: {cls}Config) -> None:
        super().__init__()
        self.shape = (cfg.channels, cfg.image_size, cfg.image_size)
        out = cfg.channels * cfg.image_size ** 2
        self.net = nn.Sequential(nn.Linear(cfg.nz, cfg.hidden), nn.ReLU(True), nn.Linear(cfg.hidden, out), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.shape)


class Discriminator(nn.Module):
    def __init__(self, cfg: {cls}Config) -> None:
        super().__init__()
        inp = cfg.channels * cfg.image_size ** 2
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(inp, cfg.hidden), nn.LeakyReLU(0.2, True),
                                 nn.Linear(cfg.hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


class {cls}(GanImpl):
    def build(self, config: {cls}Config) -> GanModel:
        g, d = Generator(config), Discriminator(config)
        init_weights(g), init_weights(d)
        return self.new_model(config, {{"G": g, "D": d}})

    def discriminator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        real = batch["image"]
        with torch.no_grad():
            fake = model.G(self.noise(real.shape[0], (model.config.nz,), device=real.device))
        return {{"d_real": gan_loss(model.D(real), True), "d_fake": gan_loss(model.D(fake), False)}}

    def generator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        fake = model.G(self.noise(batch["image"].shape[0], (model.config.nz,), device=batch["image"].device))
        return {{"g_adv": gan_loss(model.D(fake), True, for_discriminator=False)}}

    # latent + generate give the core what it needs to derive sample(n, seed=…), interpolation and truncation
    def latent(self, model: GanModel, n: int, *, seed: int | None = None) -> torch.Tensor:
        return self.noise(n, (model.config.nz,), seed=seed, device=model.device)

    def generate(self, model: GanModel, z: torch.Tensor, *, condition: Any = None) -> torch.Tensor:
        return model.G(z.to(model.device))
'''

_MODEL_CONDITIONAL = '''

@dataclass
class {cls}Config(ConditionalConfig):
    """Every field needs a default; `ganzoo train {name} --set key=value` reaches each one. The task's base
    (ConditionalConfig) holds the fields the core reads; redeclare them to change their defaults."""

    image_size: int = field(default=32, metadata={{"help": "output side in pixels"}})
    channels: int = field(default=1, metadata={{"help": "image channels"}})
    num_classes: int = field(default=10, metadata={{"help": "number of class labels"}})
    nz: int = field(default=64, metadata={{"help": "latent dimension"}})
    hidden: int = field(default=256, metadata={{"help": "MLP width"}})
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999


class Generator(nn.Module):
    """z and a label (one-hot, concatenated) → image."""

    def __init__(self, cfg: {cls}Config) -> None:
        super().__init__()
        self.shape, self.k = (cfg.channels, cfg.image_size, cfg.image_size), cfg.num_classes
        out = cfg.channels * cfg.image_size ** 2
        self.net = nn.Sequential(nn.Linear(cfg.nz + cfg.num_classes, cfg.hidden), nn.ReLU(True),
                                 nn.Linear(cfg.hidden, out), nn.Tanh())

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = torch.cat([z, nn.functional.one_hot(y, self.k).to(z.dtype)], dim=1)
        return self.net(h).view(z.shape[0], *self.shape)


class Discriminator(nn.Module):
    """image and label → logit: the condition goes to D too, or G learns to ignore it."""

    def __init__(self, cfg: {cls}Config) -> None:
        super().__init__()
        self.k = cfg.num_classes
        inp = cfg.channels * cfg.image_size ** 2 + cfg.num_classes
        self.net = nn.Sequential(nn.Linear(inp, cfg.hidden), nn.LeakyReLU(0.2, True), nn.Linear(cfg.hidden, 1))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = torch.cat([x.flatten(1), nn.functional.one_hot(y, self.k).to(x.dtype)], dim=1)
        return self.net(h).flatten()


class {cls}(GanImpl):
    def build(self, config: {cls}Config) -> GanModel:
        g, d = Generator(config), Discriminator(config)
        init_weights(g), init_weights(d)
        return self.new_model(config, {{"G": g, "D": d}})

    def _fake(self, model: GanModel, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.randint(model.config.num_classes, n, device=device)
        return model.G(self.noise(n, (model.config.nz,), device=device), y), y

    def discriminator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        real, y = batch["image"], batch["label"]
        with torch.no_grad():
            fake, yf = self._fake(model, real.shape[0], real.device)
        return {{"d_real": gan_loss(model.D(real, y), True), "d_fake": gan_loss(model.D(fake, yf), False)}}

    def generator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        fake, yf = self._fake(model, batch["image"].shape[0], batch["image"].device)
        return {{"g_adv": gan_loss(model.D(fake, yf), True, for_discriminator=False)}}

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None,
               seed: int | None = None) -> torch.Tensor:
        k = model.config.num_classes
        if condition is None:
            n = k if n is None else n
            y = torch.arange(n) % k
        else:
            y = torch.as_tensor(condition, dtype=torch.long).reshape(-1)
            if n is not None and n != y.numel():
                raise UsageError(f"n={{n}} but {{y.numel()}} labels were given")
            if y.numel() and (y.min() < 0 or y.max() >= k):
                raise UsageError(f"labels must be in [0, {{k - 1}}]")
        z = self.noise(y.numel(), (model.config.nz,), seed=seed, device=model.device)
        return model.G(z, y.to(model.device))
'''

_MODEL_PAIRED = '''

@dataclass
class {cls}Config(PairedTranslationConfig):
    """Every field needs a default; `ganzoo train {name} --set key=value` reaches each one. The task's base
    (PairedTranslationConfig: image_size, load_size, flip, input/output_channels, direction) holds the fields the
    core reads; redeclare them to change their defaults."""

    image_size: int = field(default=64, metadata={{"help": "training crop side"}})
    width: int = field(default=32, metadata={{"help": "channels of the hidden layers"}})
    lambda_l1: float = field(default=100.0, metadata={{"help": "weight of the L1 term (pix2pix: 100)"}})
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999


class Generator(nn.Module):
    """input image → output image (a small fully convolutional net: any size works)."""

    def __init__(self, cfg: {cls}Config) -> None:
        super().__init__()
        w = cfg.width
        self.net = nn.Sequential(
            nn.Conv2d(cfg.input_channels, w, 3, 1, 1), nn.ReLU(True),
            nn.Conv2d(w, w, 3, 1, 1), nn.ReLU(True),
            nn.Conv2d(w, cfg.output_channels, 3, 1, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Discriminator(nn.Module):
    """(input, output) pair → a map of patch logits: the condition goes to D too."""

    def __init__(self, cfg: {cls}Config) -> None:
        super().__init__()
        w = cfg.width
        self.net = nn.Sequential(
            nn.Conv2d(cfg.input_channels + cfg.output_channels, w, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, 1, 4, 1, 1))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([a, b], dim=1))


class {cls}(GanImpl):
    def build(self, config: {cls}Config) -> GanModel:
        g, d = Generator(config), Discriminator(config)
        init_weights(g), init_weights(d)
        return self.new_model(config, {{"G": g, "D": d}})

    def discriminator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = batch["A"], batch["B"]
        with torch.no_grad():
            fake = model.G(a)
        return {{"d_real": gan_loss(model.D(a, b), True), "d_fake": gan_loss(model.D(a, fake), False)}}

    def generator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = batch["A"], batch["B"]
        fake = model.G(a)
        return {{"g_adv": gan_loss(model.D(a, fake), True, for_discriminator=False),
                "g_l1": model.config.lambda_l1 * (fake - b).abs().mean()}}

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None,
               seed: int | None = None) -> torch.Tensor:
        # the core has checked that a condition was given (the task requires one); check its form here
        x = torch.as_tensor(condition)
        if x.dim() != 4 or x.shape[1] != model.config.input_channels:
            raise UsageError(f"{name} translates images (N, {{model.config.input_channels}}, H, W), "
                             f"got {{tuple(x.shape)}}")
        return model.G(x.to(model.device))
'''

_TEST = '''\
"""The ganzoo conformance kit, unchanged: if this passes, ganzoo can discover, build, train, sample, save and
load the plugin."""

from ganzoo.testing import check_plugin


def test_{name}_conforms(tmp_path):
    report = check_plugin("{name}", tmp_path=tmp_path)
    assert "round trip" in report.passed
'''

_README = """\
# {dist}

A [ganzoo](https://github.com/) plugin: `{name}` ({task}).

```bash
pip install -e .            # registers the entry point ganzoo.plugins:{name}
ganzoo list                 # {name} is listed
python -m pytest tests      # the conformance kit: ganzoo.testing.check_plugin("{name}")
ganzoo train {name} --data PATH --out runs/{name} --max-steps 1000
```

Edit `{pkg}/model.py` (networks, losses, sampling) and `{pkg}/__init__.py` (summary, paper, tiny_config).
Keep `{pkg}/__init__.py` free of torch imports so `ganzoo list` stays instant.
"""


def scaffold_plugin(name: str, directory: str | Path, *, task: str = "unconditional") -> Path:
    """Write a plugin package for ``name`` into ``directory``; returns the directory.

    Raises:
        UsageError: the name is not a valid plugin id, the task has no template, or the folder is not empty.
    """
    if not PLUGIN_NAME_RE.match(name):
        raise UsageError(f"'{name}' is not a valid plugin id: use lower-case letters, digits and underscores, "
                         f"starting with a letter (no hyphen)")
    if task not in SCAFFOLD_TASKS:
        raise UsageError(f"new-plugin has templates for {', '.join(SCAFFOLD_TASKS)}; start from one of them "
                         f"(then change Plugin.task) — got {task!r}")
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise UsageError(f"{directory} exists and is not empty; choose another --dir (nothing was written)")
    if not directory.parent.exists():
        raise UsageError(f"Cannot create {directory}: the folder {directory.parent} does not exist")
    pkg = f"ganzoo_{name}"
    dist = f"ganzoo-{name.replace('_', '-')}"
    cls = "".join(part.capitalize() for part in name.split("_")) or name
    title = cls
    tiny = {"unconditional": '{"image_size": 8, "channels": 1, "nz": 8, "hidden": 16}',
            "class-conditional": '{"image_size": 8, "channels": 1, "num_classes": 3, "nz": 8, "hidden": 16}',
            "paired-translation": '{"image_size": 16, "width": 4}'}[task]
    body = {"unconditional": _MODEL_UNCONDITIONAL, "class-conditional": _MODEL_CONDITIONAL,
            "paired-translation": _MODEL_PAIRED}[task]
    fmt = dict(name=name, pkg=pkg, dist=dist, cls=cls, title=title, task=task, tiny=tiny)
    files = {
        "pyproject.toml": _PYPROJECT.format(**fmt),
        f"{pkg}/__init__.py": _INIT.format(**fmt),
        f"{pkg}/model.py": _MODEL_COMMON.format(**fmt) + body.format(**fmt),
        "tests/test_plugin.py": _TEST.format(**fmt),
        "README.md": _README.format(**fmt),
    }
    for rel, text in files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if rel.endswith(".md") else text, encoding="utf-8")
    return directory
