"""Conditional DCGAN — the DCGAN networks (Radford et al. 2015) conditioned on a class label the way Mirza &
Osindero's conditional GAN (arXiv 1411.1784) feeds y to both players: G's input is the noise z concatenated with
the one-hot label (``cat(z, onehot(y))``, a (nz + K)-channel 1×1 map), D's input is the image concatenated with K
label maps (channel k is 1 where the label is k).

This is the layout of the many conditional variants of the PyTorch DCGAN tutorial, so their checkpoints load with
``ganzoo convert cdcgan netG.pth OUT --set num_classes=K`` (the input width is nz + K; nz defaults to 100) and serve
labels: ``model.sample(condition=[3, 3, 7])``. ``label_first`` says where the one-hot sits (``cat(y, z)``).

Training: the DCGAN recipe (Adam 2e-4, β1 0.5, standard GAN loss, non-saturating G); D sees (real, y) → real and
(G(z, y), y) → fake with the real batch's labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from ganzoo.config import ConditionalConfig
from ganzoo.convert import Converted
from ganzoo.errors import UsageError
from ganzoo.model import GanModel
from ganzoo.nn import gan_loss, init_weights

from .model import DCGAN, DCGANConfig, Discriminator, Generator

__all__ = ["CDCGANConfig", "CDCGAN", "labels_of"]


@dataclass
class CDCGANConfig(DCGANConfig, ConditionalConfig):
    """DCGAN hyper-parameters plus the number of classes and where the one-hot label sits in G's input."""

    num_classes: int = field(default=10, metadata={"help": "number of class labels (one-hot width)"})
    label_first: bool = field(default=False,
                              metadata={"help": "G's input is cat(onehot(y), z) instead of cat(z, onehot(y))"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be ≥ 2, got {self.num_classes}")


def labels_of(condition: Any, num_classes: int, n: int | None, *, name: str = "cdcgan") -> torch.Tensor:
    """Class labels (N,) int64 from a user's condition: an int (repeated ``n`` times, default 1), a list or a
    1-D integer tensor.

    Raises:
        UsageError: no condition, a non-integer or out-of-range label, or ``n`` that disagrees.
    """
    if condition is None:
        raise UsageError(f"{name} is class-conditional: pass condition=<labels in [0, {num_classes})> "
                         f"(CLI: --condition 3, --condition 0,1,2 or --condition all)")
    if isinstance(condition, int) and not isinstance(condition, bool):
        condition = [condition] * (1 if n is None else n)
    try:
        y = condition if isinstance(condition, torch.Tensor) else torch.as_tensor(condition)
    except (TypeError, ValueError) as err:
        raise UsageError(f"{name}: cannot read the condition as labels ({err})") from None
    if y.dim() == 0:
        y = y.repeat(1 if n is None else n)
    if y.dim() != 1 or y.is_floating_point() or y.dtype == torch.bool:
        raise UsageError(f"{name}: the condition must be integer labels (N,), got {y.dtype} of shape {tuple(y.shape)}")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise UsageError(f"{name}: labels must be in [0, {num_classes}), got {int(y.min())}…{int(y.max())}")
    if n is not None and n != y.numel():
        raise UsageError(f"{name}: n={n} but {y.numel()} label(s) were given: give one label per sample, or drop n")
    return y.long()


class CDCGAN(DCGAN):
    """build / losses / sample / convert for the conditional DCGAN (components ``G`` and ``D``)."""

    def build(self, config: CDCGANConfig) -> GanModel:
        g = Generator(config, in_dim=config.nz + config.num_classes)
        d = Discriminator(config, in_channels=config.channels + config.num_classes)
        init_weights(g, "normal", 0.02)
        init_weights(d, "normal", 0.02)
        return self.new_model(config, {"G": g, "D": d})

    def _g_input(self, cfg: CDCGANConfig, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        onehot = F.one_hot(y.to(z.device), cfg.num_classes).to(z.dtype)
        parts = (onehot, z) if cfg.label_first else (z, onehot)
        return torch.cat(parts, 1).reshape(z.shape[0], cfg.nz + cfg.num_classes, 1, 1)

    def _d_input(self, cfg: CDCGANConfig, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        maps = F.one_hot(y.to(x.device), cfg.num_classes).to(x.dtype)[:, :, None, None]
        return torch.cat([x, maps.expand(-1, -1, x.shape[2], x.shape[3])], 1)

    # -- training -------------------------------------------------------------------------------------------

    def _fake_for(self, model: GanModel, y: torch.Tensor) -> torch.Tensor:
        z = self.noise(y.shape[0], (model.config.nz,), device=y.device)
        return model.G(self._g_input(model.config, z, y))

    def discriminator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """D step with G fixed: (x, y) → real, (G(z, y), y) → fake."""
        real, y = batch["image"], batch["label"]
        with torch.no_grad():
            fake = self._fake_for(model, y)
        cfg, mode = model.config, model.config.gan_mode
        real_logits = model.D(self._d_input(cfg, real, y))
        fake_logits = model.D(self._d_input(cfg, fake, y))
        return {"d_real": gan_loss(real_logits, True, mode), "d_fake": gan_loss(fake_logits, False, mode),
                "D(x|y)": torch.sigmoid(real_logits.detach().float()).mean(),
                "D(G(z|y)|y)": torch.sigmoid(fake_logits.detach().float()).mean()}

    def generator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """G step with D fixed: make D score (G(z, y), y) as real (non-saturating loss)."""
        y = batch["label"]
        fake = self._fake_for(model, y)
        logits = model.D(self._d_input(model.config, fake, y))
        return {"g_adv": gan_loss(logits, True, model.config.gan_mode, for_discriminator=False)}

    # -- sampling ---------------------------------------------------------------------------------------------

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               batch_size: int = 256) -> torch.Tensor:
        """Images (N, C, S, S) in [-1, 1] for class labels ``condition`` (N,), or ``n`` copies of one int label."""
        y = labels_of(condition, model.config.num_classes, n, name=model.name or "cdcgan")
        return self.generate(model, self.latent(model, y.numel(), seed=seed), condition=y, batch_size=batch_size)

    def generate(self, model: GanModel, z: torch.Tensor, *, condition: Any = None,
                 batch_size: int = 256) -> torch.Tensor:
        """Images for latent codes ``z`` (n, nz) and labels ``condition`` (n,), in batches."""
        cfg = model.config
        y = labels_of(condition, cfg.num_classes, z.shape[0], name=model.name or "cdcgan").to(model.device)
        z = z.reshape(z.shape[0], cfg.nz).to(model.device)
        return torch.cat([model.G(self._g_input(cfg, zc, yc)) for zc, yc in zip(z.split(batch_size),
                                                                                  y.split(batch_size))])

    def discriminate(self, model: GanModel, images: torch.Tensor, *, condition: Any = None) -> torch.Tensor:
        """D's logits for (images, labels) → (n,)."""
        cfg = model.config
        y = labels_of(condition, cfg.num_classes, images.shape[0], name=model.name or "cdcgan")
        return model.D(self._d_input(cfg, images.to(model.device), y))

    # -- converting foreign checkpoints -----------------------------------------------------------------------

    def convert(self, state_dict: dict[str, torch.Tensor], *, source: str, **options: Any) -> Converted:
        """Convert a conditional generator in the tutorial layout whose input is cat(z, onehot(y)).

        ``--set num_classes=K`` (or ``nz=N``; default nz 100) splits the input width; ``--set label_first=true``
        when the one-hot comes first. See :func:`ganzoo_dcgan.convert.convert_tutorial_generator`.
        """
        from .convert import convert_tutorial_generator

        return convert_tutorial_generator(state_dict, source=source, config_class=CDCGANConfig, options=options,
                                          conditional=True)
