"""CoGAN — Liu & Tuzel, "Coupled Generative Adversarial Networks", NIPS 2016 (arXiv 1606.07536), after the
authors' code (mingyuliutw/CoGAN: ``cogan_pytorch/src/net_cogan_mnistedge.py``, ``trainer_cogan_mnistedge.py``
and the Caffe CelebA prototxt; read for facts, implemented here from them and the paper).

Two GANs, one per domain, learn the *joint* distribution of the domains from samples of the marginals only (no
pairs): their generators share their first layers — one noise vector is decoded into the same high-level
semantics — and their discriminators share their last layers. A sample is a pair (x_A, x_B) from one code.

Component names → paper names → the original code's names:

=====  =====================================  ==========================================================
ganzoo  paper                                  original code (``CoGen28x28`` / ``CoDis28x28``)
=====  =====================================  ==========================================================
``G``  g1, g2 (first layers tied)             ``dconv0..dconv3`` shared, ``dconv4_a`` / ``dconv4_b``
``D``  f1, f2 (last layers tied)              ``conv0_a`` / ``conv0_b``, ``conv1..conv3`` shared
=====  =====================================  ==========================================================

Networks, for ``image_size = 2**k``: G maps ``z`` (``latent_dim``, viewed as 1×1) with a 4×4 transposed
convolution to 4×4, doubles the side with 4×4 stride-2 transposed convolutions (batch norm + PReLU, widths
halving down to ``ngf``), and ends with a 3×3 convolution and tanh; the last ``g_private_layers`` layers exist
once per domain, the rest once. D mirrors it: 4×4 stride-2 convolutions (batch norm after the first, PReLU) down
to 4×4 and a 4×4 convolution to one logit; its first ``d_private_layers`` layers exist once per domain.
The digit code's defaults: one private layer at each end (the output layer of G, the input layer of D).

Loss: the standard GAN loss (BCE) of each GAN, summed (D: real pairs' members → 1, generated → 0; G: generated
→ 1). ``z ~ U[-1, 1]^latent_dim``. Adam 2e-4, β = (0.5, 0.999), weight decay 5e-4 (the authors' PyTorch
trainer); batch 64.

Data: ``trainA/`` + ``trainB/`` (CoGAN needs no pairs), or one folder of images and ``domain_b_transform``
(``"negative"`` or ``"edges"``, the paper's digit experiments): domain A items come from one half of the images,
domain B items are the transformed images of the other half, so no pair is ever seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.config import ImageConfig
from ganzoo.data.datasets import GanDataset
from ganzoo.errors import DataError, UsageError
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel
from ganzoo.nn import Coupled, CoupledDecoder, CoupledEncoder, conv_block, gan_loss, init_weights

__all__ = ["CoGANConfig", "CoGAN", "build_generator", "build_discriminator", "SplitTransformDataset"]

_DOMAIN_OPTIONS = ("pair", "A", "B")


@dataclass
class CoGANConfig(ImageConfig):
    """CoGAN hyper-parameters (the authors' digit code, at ``image_size``)."""

    image_size: int = field(default=64, metadata={"help": "image side: a power of two ≥ 8"})
    channels: int = field(default=3, metadata={"help": "channels of domain A images"})
    channels_b: int | None = field(default=None, metadata={"help": "channels of domain B images (None: as A)"})
    domain_a: str = field(default="A", metadata={"help": "a name for domain A (cards and messages)"})
    domain_b: str = field(default="B", metadata={"help": "a name for domain B (cards and messages)"})
    domain_b_transform: Literal["none", "negative", "edges"] = field(
        default="none", metadata={"help": "with one image folder: domain B = the other half, negated or as edges"})
    latent_dim: int = field(default=100, metadata={"help": "size of z ~ U[-1, 1]"})
    ngf: int = field(default=64, metadata={"help": "width of G's last upsampling layer (doubles towards z)"})
    ndf: int = field(default=64, metadata={"help": "width of D's first layer (doubles with depth)"})
    g_private_layers: int = field(default=1, metadata={"help": "last G layers that exist once per domain"})
    d_private_layers: int = field(default=1, metadata={"help": "first D layers that exist once per domain"})
    lr: float = field(default=2e-4, metadata={"help": "Adam learning rate"})
    beta1: float = field(default=0.5, metadata={"help": "Adam beta1"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2"})
    weight_decay: float = field(default=5e-4, metadata={"help": "Adam weight decay"})
    init_gain: float = field(default=0.02, metadata={"help": "std of the N(0, σ) weight init"})

    def __post_init__(self) -> None:
        super().__post_init__()
        s = self.image_size
        if s < 8 or s & (s - 1):
            raise ValueError(f"image_size must be a power of two ≥ 8, got {s}")
        for c in (self.channels, self.channels_b if self.channels_b is not None else self.channels):
            if c not in (1, 3):
                raise ValueError(f"channels must be 1 or 3, got {c}")
        n = _n_up(self)
        if not 1 <= self.g_private_layers <= n + 1:
            raise ValueError(f"g_private_layers must be in 1..{n + 1} (G has {n + 2} layers; at least one shared)")
        if not 1 <= self.d_private_layers <= n:
            raise ValueError(f"d_private_layers must be in 1..{n} (D has {n + 1} layers; at least one shared)")
        for key in ("latent_dim", "ngf", "ndf"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be ≥ 1, got {getattr(self, key)}")

    @property
    def b_channels(self) -> int:
        """The channels of domain B images."""
        return self.channels if self.channels_b is None else self.channels_b


def _n_up(cfg: CoGANConfig) -> int:
    return int(math.log2(cfg.image_size)) - 2  # stride-2 layers between 4×4 and the image


def _g_layers(cfg: CoGANConfig, channels: int) -> list[nn.Module]:
    n = _n_up(cfg)
    widths = [cfg.ngf * 2 ** (n - 1 - i) for i in range(n)] + [cfg.ngf]  # after L0 .. L_n
    layers: list[nn.Module] = [conv_block(cfg.latent_dim, widths[0], 4, 1, 0, norm="batch", act="prelu",
                                          transpose=True)]
    for i in range(n):
        layers.append(conv_block(widths[i], widths[i + 1] if i + 1 < n else cfg.ngf, 4, 2, 1, norm="batch",
                                 act="prelu", transpose=True))
    layers.append(conv_block(cfg.ngf, channels, 3, 1, 1, act="tanh"))
    return layers


def build_generator(cfg: CoGANConfig) -> CoupledDecoder:
    """g1, g2: the first layers tied, the last ``g_private_layers`` per domain."""
    k = len(_g_layers(cfg, cfg.channels)) - cfg.g_private_layers

    def shared() -> nn.Module:
        return nn.Sequential(nn.Unflatten(1, (cfg.latent_dim, 1, 1)), *_g_layers(cfg, cfg.channels)[:k])

    return CoupledDecoder(Coupled(shared, tied=True),
                          {"A": nn.Sequential(*_g_layers(cfg, cfg.channels)[k:]),
                           "B": nn.Sequential(*_g_layers(cfg, cfg.b_channels)[k:])})


def _d_layers(cfg: CoGANConfig, channels: int) -> list[nn.Module]:
    n = _n_up(cfg)
    layers: list[nn.Module] = [conv_block(channels, cfg.ndf, 4, 2, 1, act="prelu")]
    c = cfg.ndf
    for _ in range(n - 1):
        layers.append(conv_block(c, 2 * c, 4, 2, 1, norm="batch", act="prelu"))
        c *= 2
    layers.append(nn.Sequential(nn.Conv2d(c, 1, 4, 1, 0), nn.Flatten()))
    return layers


def build_discriminator(cfg: CoGANConfig) -> CoupledEncoder:
    """f1, f2: the first ``d_private_layers`` per domain, the last layers tied."""
    k = cfg.d_private_layers
    return CoupledEncoder({"A": nn.Sequential(*_d_layers(cfg, cfg.channels)[:k]),
                           "B": nn.Sequential(*_d_layers(cfg, cfg.b_channels)[:k])},
                          Coupled(lambda: nn.Sequential(*_d_layers(cfg, cfg.channels)[k:]), tied=True))


class SplitTransformDataset(GanDataset):
    """Two unpaired domains from one image folder: A = the even-indexed images, B = a transform of the odd-indexed
    ones (``"negative"``: −x; ``"edges"``: a morphological gradient, dilation − erosion, rescaled to [-1, 1]).
    B is drawn by the item's rng, as :class:`ganzoo.data.datasets.UnalignedDataset` draws it."""

    def __init__(self, base: Any, transform: str) -> None:
        if len(base) < 2:
            raise DataError("domain_b_transform needs at least two images (one per domain)")
        self.base, self.transform = base, transform
        self.a_index = list(range(0, len(base), 2))
        self.b_index = list(range(1, len(base), 2))

    def __len__(self) -> int:
        return len(self.a_index)

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        self.base.set_epoch(epoch)

    def set_seed(self, seed: int) -> None:
        super().set_seed(seed)
        self.base.set_seed(seed)

    def _b(self, x: torch.Tensor) -> torch.Tensor:
        if self.transform == "negative":
            return -x
        u = (x + 1) / 2
        grad = F.max_pool2d(u[None], 3, 1, 1)[0] + F.max_pool2d(-u[None], 3, 1, 1)[0]  # dilation − erosion
        return grad.clamp(0, 1) * 2 - 1

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        j = self.b_index[int(self.rng(index).integers(0, len(self.b_index)))]
        return {"A": self.base[self.a_index[index]]["image"], "B": self._b(self.base[j]["image"])}


class CoGAN(GanImpl):
    """build / losses / sample for CoGAN (components ``G``, ``D``)."""

    latent_distribution = "uniform"
    train_defaults: dict[str, Any] = {"batch_size": 64}

    def build(self, config: CoGANConfig) -> GanModel:
        nets = {"G": build_generator(config), "D": build_discriminator(config)}
        for net in nets.values():
            init_weights(net, "normal", config.init_gain)
        return self.new_model(config, nets)

    def configure_optimizers(self, model: GanModel) -> dict[str, torch.optim.Optimizer]:
        cfg = model.config
        kw = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay)
        return {"G": torch.optim.Adam(model.G.parameters(), **kw), "D": torch.optim.Adam(model.D.parameters(), **kw)}

    # -- data ---------------------------------------------------------------------------------------------

    def make_dataset(self, model: GanModel, path: str | Path, *, split: str = "train") -> Any:
        """``path/trainA`` + ``path/trainB`` (unpaired), or one image folder with ``domain_b_transform``.

        Raises:
            DataError: a plain folder without ``domain_b_transform`` (CoGAN needs two domains).
        """
        from ganzoo.data.datasets import ImageFolderDataset, UnalignedDataset

        cfg = model.config
        root = Path(path)
        if (root / f"{split}A").is_dir() and (root / f"{split}B").is_dir():
            return UnalignedDataset(root, image_size=cfg.image_size, channels_a=cfg.channels,
                                    channels_b=cfg.b_channels, split=split)
        if cfg.domain_b_transform == "none":
            raise DataError(f"cogan learns two domains: give a folder with {split}A/ and {split}B/, or one folder of "
                            f"images with --set domain_b_transform=negative|edges")
        return SplitTransformDataset(ImageFolderDataset(root, image_size=cfg.image_size, channels=cfg.channels),
                                     cfg.domain_b_transform)

    def example_batch(self, model: GanModel, n: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
        from ganzoo.data.synthetic import tanh_noise

        cfg = model.config
        g = torch.Generator().manual_seed(seed)
        s = cfg.image_size
        return {"A": tanh_noise(g, (n, cfg.channels, s, s)), "B": tanh_noise(g, (n, cfg.b_channels, s, s))}

    # -- training -------------------------------------------------------------------------------------------

    def _z(self, model: GanModel, n: int) -> torch.Tensor:
        return self.latent(model, n)

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """D step: both GANs' discriminators, real → 1, generated → 0."""
        a, b = batch["A"], batch["B"]
        with torch.no_grad():
            z = self._z(model, a.shape[0])
            fa, fb = model.G(z, "A"), model.G(z, "B")
        return {"d_a_real": gan_loss(model.D(a, "A"), True), "d_a_fake": gan_loss(model.D(fa, "A"), False),
                "d_b_real": gan_loss(model.D(b, "B"), True), "d_b_fake": gan_loss(model.D(fb, "B"), False)}

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """G step: one code, one image per domain, each judged real by its discriminator (non-saturating)."""
        z = self._z(model, batch["A"].shape[0])
        return {"g_a": gan_loss(model.D(model.G(z, "A"), "A"), True, for_discriminator=False),
                "g_b": gan_loss(model.D(model.G(z, "B"), "B"), True, for_discriminator=False)}

    # -- sampling -------------------------------------------------------------------------------------------

    def latent(self, model: GanModel, n: int, *, seed: int | None = None) -> torch.Tensor:
        """``n`` codes ~ U[-1, 1]^latent_dim, reproducible for a seed."""
        from ganzoo.model import make_generator
        from ganzoo.training import rng

        def uniform(size: tuple[int, ...], **kw: Any) -> torch.Tensor:
            return torch.rand(size, **kw) * 2 - 1

        return rng.draw(uniform, n, (model.config.latent_dim,), torch.device(model.device),
                        generator=make_generator(seed))

    def generate(self, model: GanModel, z: torch.Tensor, *, condition: Any = None, domain: str = "pair",
                 batch_size: int = 256) -> torch.Tensor:
        """Images for codes ``z`` (n, latent_dim): ``domain="A"`` or ``"B"``, or ``"pair"`` (default): A and B side
        by side, (n, C, S, 2S) — the joint sample CoGAN learns (a grey domain is repeated to RGB next to an RGB one).

        Raises:
            UsageError: a condition, an unknown domain, or codes of another size.
        """
        cfg = model.config
        if condition is not None:
            raise UsageError("cogan is unconditional: it takes no condition (domain='A'|'B'|'pair' picks the output)")
        if domain not in _DOMAIN_OPTIONS and domain not in (cfg.domain_a, cfg.domain_b):
            raise UsageError(f"cogan has domains 'A' ({cfg.domain_a}) and 'B' ({cfg.domain_b}); domain must be 'A', "
                             f"'B' or 'pair', got {domain!r}")
        domain = {cfg.domain_a: "A", cfg.domain_b: "B"}.get(domain, domain)
        z = torch.as_tensor(z, dtype=torch.float32)
        if z.dim() != 2 or z.shape[1] != cfg.latent_dim:
            raise UsageError(f"cogan codes must have shape (n, {cfg.latent_dim}), got {tuple(z.shape)}")
        outs = []
        for chunk in z.split(max(1, batch_size)):
            chunk = chunk.to(model.device)
            if domain == "pair":
                a, b = model.G(chunk, "A"), model.G(chunk, "B")
                if a.shape[1] != b.shape[1]:
                    a, b = a.expand(-1, 3, -1, -1), b.expand(-1, 3, -1, -1)
                outs.append(torch.cat([a, b], dim=-1))
            else:
                outs.append(model.G(chunk, domain))
        return torch.cat(outs)

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               domain: str = "pair", batch_size: int = 256) -> torch.Tensor:
        """``n`` (default 64) joint samples: pairs side by side (``domain="pair"``), or one domain's images."""
        z = self.latent(model, 64 if n is None else n, seed=seed)
        return self.generate(model, z, condition=condition, domain=domain, batch_size=batch_size)
