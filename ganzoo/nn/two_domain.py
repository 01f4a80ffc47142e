"""What UNIT and XGAN have in common as ganzoo plugins: two image domains, one encoder and one decoder with a
shared latent space, translation both ways, and the latent space exposed to the core.

:class:`SharedLatentTranslator` is a :class:`ganzoo.GanImpl` base for such plugins. A subclass builds components
``E`` (a :class:`~ganzoo.nn.CoupledEncoder`: image, domain → code) and ``G`` (a
:class:`~ganzoo.nn.CoupledDecoder`: code, domain → image), implements :meth:`code_shape` and the losses, and gets:

* ``sample(condition=x, direction="AtoB"|"BtoA")`` — ``G(E(x, source), target)`` on images of any size, through
  the plugin's :meth:`size_rule`;
* ``encode_latent(images, domain=…)`` / ``latent(n)`` / ``generate(z, domain=…)`` — the shared space, so the core
  interpolates between an A image and a B image and decodes the path into either domain
  (:mod:`ganzoo.explore_shared`);
* one-line errors for a direction or domain the model does not have, images with the wrong channel count and
  codes whose dimensions are not the shared space's.

Domains are ``"A"`` and ``"B"`` (the task's ``trainA/`` and ``trainB/``), or the names the config gives them
(``domain_a="noto"``); the channels of A are the config's ``input_channels``, of B its ``output_channels``.
"""

from __future__ import annotations

from typing import Any

import torch

from ..errors import UsageError
from ..impl import GanImpl
from ..model import GanModel
from ..translate import SizeRule, check_image_batch, fit, unfit
from .latent_losses import check_codes
from .mlp import unwrap
from .shared_latent import DOMAINS

__all__ = ["SharedLatentTranslator", "DIRECTIONS"]

#: direction → (source domain, target domain)
DIRECTIONS: dict[str, tuple[str, str]] = {"AtoB": ("A", "B"), "BtoA": ("B", "A")}


class SharedLatentTranslator(GanImpl):
    """Sampling, the latent-space hooks and input checks of a two-domain shared-latent translator (see module)."""

    #: how :meth:`latent` draws codes: from N(0, I) (UNIT's VAE prior) or a Gaussian fitted to training codes
    latent_distribution = "normal"

    # -- what a subclass provides ---------------------------------------------------------------------------

    def code_shape(self, config: Any) -> tuple[int, ...]:
        """The shape of one code (without the batch dimension) for images of ``config.image_size``."""
        raise NotImplementedError

    def _prior(self, model: GanModel) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Mean and standard deviation of the code prior (per value), or None for N(0, I)."""
        return None

    # -- names ----------------------------------------------------------------------------------------------

    def _name(self, model: GanModel) -> str:
        return str(model.name or model.plugin.name)

    def _domain(self, model: GanModel, domain: Any) -> str:
        cfg = model.config
        names = {"A": "A", "B": "B", getattr(cfg, "domain_a", "A"): "A", getattr(cfg, "domain_b", "B"): "B"}
        if isinstance(domain, str) and domain in names:
            return names[domain]
        raise UsageError(f"{self._name(model)} has domains 'A' ({getattr(cfg, 'domain_a', 'A')}) and 'B' "
                         f"({getattr(cfg, 'domain_b', 'B')}); got domain={domain!r}")

    def _direction(self, model: GanModel, direction: Any) -> tuple[str, str]:
        if direction is None:
            return DIRECTIONS["AtoB"]
        if direction in DIRECTIONS:
            return DIRECTIONS[direction]
        cfg = model.config
        raise UsageError(f"{self._name(model)} translates direction 'AtoB' ({getattr(cfg, 'domain_a', 'A')} → "
                         f"{getattr(cfg, 'domain_b', 'B')}) or 'BtoA'; it has no direction {direction!r}")

    def channels(self, config: Any, domain: str) -> int:
        """The channels of ``domain``'s images."""
        return int(config.input_channels if domain == "A" else config.output_channels)

    # -- hooks ----------------------------------------------------------------------------------------------

    def input_channels(self, model: GanModel, *, direction: str | None = None, **options: Any) -> int:
        return self.channels(model.config, self._direction(model, direction)[0])

    def size_rule(self, model: GanModel) -> SizeRule:
        """Fully convolutional translators pad to their stride (default: multiples of 4); override for others."""
        return SizeRule("pad", 4, min_side=8)

    def encode_latent(self, model: GanModel, images: torch.Tensor, *, domain: str = "A") -> torch.Tensor:
        """Codes (N, *code_shape) of ``domain``'s images (N, C, H, W) in [-1, 1] in the shared space (the encoder's
        mean: no sampling noise). Images are brought to a size the encoder takes by :meth:`size_rule`.

        Raises:
            UsageError: an unknown domain, images with the wrong channel count or outside [-1, 1].
        """
        d = self._domain(model, domain)
        x = check_image_batch(images, self.channels(model.config, d), name=f"{self._name(model)} (domain {d})")
        x, _ = fit(x.to(model.device), self.size_rule(model), name=self._name(model))
        return self._encode(model, x, d)

    def _encode(self, model: GanModel, x: torch.Tensor, domain: str) -> torch.Tensor:
        return model.E(x, domain)

    def latent(self, model: GanModel, n: int, *, seed: int | None = None) -> torch.Tensor:
        """``n`` codes from the prior of the shared space (N(0, I), or the fitted Gaussian), reproducible for a seed."""
        shape = self.code_shape(model.config)
        eps = self.noise(n, shape, seed=seed, device="cpu")
        prior = self._prior(model)
        if prior is not None:
            mean, std = prior
            eps = mean.cpu().view(shape) + std.cpu().view(shape) * eps
        return eps.to(model.device)

    def generate(self, model: GanModel, z: torch.Tensor, *, condition: Any = None, domain: str = "B",
                 batch_size: int = 64) -> torch.Tensor:
        """Decode codes ``z`` (n, *code_shape) into ``domain``'s images.

        Raises:
            UsageError: a condition (codes decode without one), an unknown domain, or codes of other dimensions.
        """
        if condition is not None:
            raise UsageError(f"{self._name(model)}.generate decodes codes into a domain (domain='A'|'B'); it takes "
                             f"no condition")
        d = self._domain(model, domain)
        z = self._check_codes(model, z)
        out = [model.G(chunk.to(model.device), d) for chunk in z.split(max(1, int(batch_size)))]
        return torch.cat(out) if out else z.new_zeros((0,))

    def _check_codes(self, model: GanModel, z: Any) -> torch.Tensor:
        return check_codes(z, self.code_shape(model.config), name=self._name(model))

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               direction: str | None = None, batch_size: int = 16) -> torch.Tensor:
        """Translate ``condition`` (N, C, H, W) in [-1, 1]: ``G(E(x, source), target)``, the code being the encoder's
        mean (deterministic at test time; ``seed`` is accepted for the interface and changes nothing).

        Args:
            n: must equal N when given.
            condition: images of the source domain, any size (:meth:`size_rule`).
            direction: ``"AtoB"`` (default) or ``"BtoA"``.
            batch_size: images per forward pass.

        Raises:
            UsageError: no condition, a direction the model does not have, images with the wrong channel count.
        """
        src, dst = self._direction(model, direction)
        name = self._name(model)
        channels = self.channels(model.config, src)
        if condition is None:
            raise UsageError(f"{name} translates images: pass condition=<images (N, {channels}, H, W) in [-1, 1]>")
        x = check_image_batch(condition, channels, name=f"{name} ({'AtoB' if src == 'A' else 'BtoA'})")
        if n is not None and n != x.shape[0]:
            raise UsageError(f"n={n} but condition holds {x.shape[0]} images; drop n for translation")
        if batch_size < 1:
            raise UsageError(f"batch_size must be ≥ 1, got {batch_size}")
        rule = self.size_rule(model)
        xf, size = fit(x.to(model.device), rule, name=name)
        outs = [model.G(self._encode(model, chunk, src), dst) for chunk in xf.split(batch_size)]
        y = torch.cat(outs) if outs else xf
        return unfit(y, rule, size).clamp(-1, 1)

    # -- helpers --------------------------------------------------------------------------------------------

    def translate_batch(self, model: GanModel, x: torch.Tensor, direction: str) -> torch.Tensor:
        """Training-time translation (no checks, gradients kept): ``G(E(x, source), target)``."""
        src, dst = DIRECTIONS[direction]
        return model.G(model.E(x, src), dst)

    @staticmethod
    def domains() -> tuple[str, str]:
        """The two domain keys, ``("A", "B")``."""
        return DOMAINS


def unwrapped(model: GanModel, name: str) -> Any:
    """The plain module of component ``name`` (under accelerate's wrappers while training)."""
    return unwrap(model.components[name])
