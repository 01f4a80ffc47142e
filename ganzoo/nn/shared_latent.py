"""The shared encoder/decoder core of the "projection to a common space" translators (CoGAN, UNIT, XGAN).

All three papers build two networks per role — one per image domain — and tie some of their layers so that both
domains go through the same weights there:

* CoGAN (Liu & Tuzel 2016): the generators share their *first* layers (the high-level semantics decoded from the
  noise), the discriminators their *last* layers;
* UNIT (Liu, Breuel & Kautz 2017): the encoders share their *last* (high-level) layers, the decoders their *first*
  layers, and the shared code is one latent space for both domains;
* XGAN (Royer et al. 2017): the same encoder/decoder tying around a vector embedding.

So one pair of containers covers them: :class:`CoupledEncoder` (a domain-specific front, then :class:`Coupled`
layers) and :class:`CoupledDecoder` (:class:`Coupled` layers, then a domain-specific back). :class:`Coupled` holds
one network for all domains when tied, or one per domain when not, so that "shared layers" is a switch that the
ablation can turn off without changing anything else (same depth, same widths, same parameter count per domain).

Parameter layout of a coupled network (the keys the safetensors files hold)::

    front.A.*, front.B.*            domain-specific layers
    shared.nets.shared.*            the tied layers (tied=True)
    shared.nets.A.*, shared.nets.B.*   the same layers, one copy per domain (tied=False)
    back.A.*, back.B.*

The building blocks follow the UNIT authors' code (``common_net.py`` of mingyuliutw/UNIT, CC BY-NC-SA: read for
facts, not copied): :func:`conv_block` is their ``LeakyReLUConv2d`` / ``ReLUINSConv2d`` /
``ReLUINSConvTranspose2d`` family, :class:`ResBlock` their ``INSResBlock`` (conv3×3, instance norm, ReLU, conv3×3,
instance norm, plus the input). The latent-space losses shared by UNIT and XGAN live in
:mod:`ganzoo.nn.latent_losses`.
"""

from __future__ import annotations

from typing import Callable, Iterable, Literal, Mapping, Sequence

import torch
from torch import nn

__all__ = ["conv_block", "ResBlock", "Coupled", "CoupledEncoder", "CoupledDecoder", "CodeDiscriminator",
           "DOMAINS", "Activation", "Norm"]

#: The two domains of a translator, in the order the task's batches name them.
DOMAINS: tuple[str, str] = ("A", "B")

Activation = Literal["relu", "lrelu", "prelu", "tanh", "none"]
Norm = Literal["instance", "batch", "none"]


def _activation(kind: str, channels: int) -> nn.Module:
    if kind == "relu":
        return nn.ReLU(inplace=True)
    if kind == "lrelu":
        # UNIT's LeakyReLU keeps PyTorch's default slope (0.01); the DCGAN-style nets ask for 0.2 via "lrelu2"
        return nn.LeakyReLU(inplace=True)
    if kind == "lrelu2":
        return nn.LeakyReLU(0.2, inplace=True)
    if kind == "prelu":
        return nn.PReLU(channels)
    if kind == "tanh":
        return nn.Tanh()
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown activation {kind!r}")


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}")


def conv_block(c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0, *, norm: str = "none",
               act: str = "relu", transpose: bool = False, output_padding: int = 0) -> nn.Sequential:
    """A (transposed) convolution with a bias, then an optional norm, then an activation: ``0`` conv, ``1`` norm,
    ``2`` activation (Identity where absent, so the indices — and checkpoint keys — never shift).

    Args:
        c_in, c_out: channels.
        kernel, stride, padding: of the convolution.
        norm: ``"instance"`` (without affine parameters, as UNIT), ``"batch"`` or ``"none"``.
        act: ``"relu"``, ``"lrelu"`` (slope 0.01, UNIT), ``"lrelu2"`` (slope 0.2, DCGAN), ``"prelu"`` (CoGAN),
            ``"tanh"`` or ``"none"``.
        transpose: a transposed convolution (with ``output_padding``).

    Example:
        >>> conv_block(3, 8, 3, 2, 1, norm="instance")(torch.zeros(1, 3, 16, 16)).shape
        torch.Size([1, 8, 8, 8])
    """
    if transpose:
        conv: nn.Module = nn.ConvTranspose2d(c_in, c_out, kernel, stride, padding, output_padding=output_padding)
    else:
        conv = nn.Conv2d(c_in, c_out, kernel, stride, padding)
    return nn.Sequential(conv, _norm(norm, c_out), _activation(act, c_out))


class ResBlock(nn.Module):
    """``x + F(x)``, ``F`` = conv3×3, instance norm, ReLU, conv3×3, instance norm (UNIT's ``INSResBlock``)."""

    def __init__(self, channels: int, norm: str = "instance") -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1), _norm(norm, channels), nn.ReLU(inplace=True),
                                   nn.Conv2d(channels, channels, 3, 1, 1), _norm(norm, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.model(x)


class Coupled(nn.Module):
    """Layers that exist once for every domain (``tied=True``) or once per domain (``tied=False``).

    Args:
        factory: builds the layers (called once when tied, once per domain otherwise).
        domains: the domain names (``("A", "B")``).
        tied: share one set of weights between the domains.

    ``forward(x, domain)`` runs the domain's layers (the shared ones when tied).

    Example:
        >>> layers = Coupled(lambda: nn.Linear(4, 4), tied=True)
        >>> layers(torch.zeros(2, 4), "A").shape, sum(p.numel() for p in layers.parameters())
        (torch.Size([2, 4]), 20)
    """

    def __init__(self, factory: Callable[[], nn.Module], domains: Sequence[str] = DOMAINS, *,
                 tied: bool = True) -> None:
        super().__init__()
        self.domains = tuple(domains)
        self.tied = bool(tied)
        keys = ["shared"] if self.tied else list(self.domains)
        self.nets = nn.ModuleDict({k: factory() for k in keys})

    def net(self, domain: str) -> nn.Module:
        """The layers domain ``domain`` runs through."""
        if domain not in self.domains:
            raise KeyError(f"unknown domain {domain!r}; this network has {', '.join(self.domains)}")
        return self.nets["shared" if self.tied else domain]

    def forward(self, x: torch.Tensor, domain: str) -> torch.Tensor:
        return self.net(domain)(x)


def _per_domain(nets: Mapping[str, nn.Module] | Callable[[], nn.Module], domains: Iterable[str]) -> nn.ModuleDict:
    if callable(nets) and not isinstance(nets, Mapping):
        return nn.ModuleDict({d: nets() for d in domains})
    missing = [d for d in domains if d not in nets]
    if missing:
        raise ValueError(f"no network for domain(s) {missing}")
    return nn.ModuleDict(dict(nets))


class CoupledEncoder(nn.Module):
    """A domain-specific front, then layers that may be shared: ``shared(front[domain](x), domain)``.

    UNIT's and XGAN's encoders (shared *last* layers: the high-level code is common) and CoGAN's discriminator
    (shared last layers: the same features decide "real" for both domains).

    Args:
        front: one network per domain, or a factory called for each domain.
        shared: the :class:`Coupled` layers after the front.
        domains: the domain names.
    """

    def __init__(self, front: Mapping[str, nn.Module] | Callable[[], nn.Module], shared: Coupled,
                 domains: Sequence[str] = DOMAINS) -> None:
        super().__init__()
        self.domains = tuple(domains)
        self.front = _per_domain(front, self.domains)
        self.shared = shared

    def forward(self, x: torch.Tensor, domain: str) -> torch.Tensor:
        if domain not in self.front:
            raise KeyError(f"unknown domain {domain!r}; this network has {', '.join(self.domains)}")
        return self.shared(self.front[domain](x), domain)


class CoupledDecoder(nn.Module):
    """Layers that may be shared, then a domain-specific back: ``back[domain](shared(z, domain))``.

    UNIT's and XGAN's decoders (shared *first* layers decode the common high-level code) and CoGAN's generator
    (shared first layers: one noise vector, the same high-level semantics in both domains).

    Args:
        shared: the :class:`Coupled` layers the code goes through first.
        back: one network per domain, or a factory called for each domain.
        domains: the domain names.
    """

    def __init__(self, shared: Coupled, back: Mapping[str, nn.Module] | Callable[[], nn.Module],
                 domains: Sequence[str] = DOMAINS) -> None:
        super().__init__()
        self.domains = tuple(domains)
        self.shared = shared
        self.back = _per_domain(back, self.domains)

    def forward(self, z: torch.Tensor, domain: str) -> torch.Tensor:
        if domain not in self.back:
            raise KeyError(f"unknown domain {domain!r}; this network has {', '.join(self.domains)}")
        return self.back[domain](self.shared(z, domain))


class CodeDiscriminator(nn.Module):
    """A domain classifier on codes (DANN's domain classifier, XGAN's ``c_dann``): code → one logit, "from A".

    Codes of any shape are flattened; ``hidden`` fully connected layers with LeakyReLU(0.2).

    Args:
        code_numel: the number of values in one code.
        hidden: widths of the hidden layers (``(256, 256)``).
    """

    def __init__(self, code_numel: int, hidden: Sequence[int] = (256, 256)) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = code_numel
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2, inplace=True)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.model(code).view(-1)
