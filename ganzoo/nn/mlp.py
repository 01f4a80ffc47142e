"""Pieces of the original fully connected GANs (Goodfellow et al. 2014; Mirza & Osindero 2014) and the helpers
their trainers share: maxout layers, the uniform initialisation of the authors' code, and G's output bias set
from the data's pixel marginals."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Maxout", "uniform_init", "pixel_marginal_logits", "unwrap"]


class Maxout(nn.Module):
    """A maxout layer (Goodfellow et al. 2013): ``units`` outputs, each the max of ``pieces`` affine maps.

    ``sn=True`` puts spectral normalisation on the affine map (the projection discriminator's setting). The
    parameters are ``linear.weight`` / ``linear.bias`` either way (``linear.parametrizations…`` with ``sn``).
    """

    def __init__(self, in_features: int, units: int, pieces: int, *, sn: bool = False) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        linear = nn.Linear(in_features, units * pieces)
        self.linear = nn.utils.parametrizations.spectral_norm(linear) if sn else linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(x.shape[0], self.units, self.pieces).amax(dim=2)


def uniform_init(module: nn.Module, r: float) -> nn.Module:
    """Every ``nn.Linear`` of ``module``: weights ~ U(−r, r), biases 0 (the GAN authors' MLP initialisation); a
    spectrally normalised layer gets its underlying weight initialised. Returns ``module``."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            w = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            nn.init.uniform_(w, -r, r)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


@torch.no_grad()
def pixel_marginal_logits(real: torch.Tensor) -> torch.Tensor:
    """The logit of each pixel's mean intensity over ``real`` (N, C, S, S) in [-1, 1], flattened to (C·S·S,).

    Set as the bias of a sigmoid output layer, it makes a generator start out drawing the data's mean image (the
    GAN authors' MNIST initialisation). Under ``torch.distributed`` the mean is over every process's batch, so all
    processes get the same bias. Means are clamped to [1e-3, 1 − 1e-3].
    """
    total = ((real.detach().float() + 1) * 0.5).flatten(1).sum(0)
    count = torch.tensor(float(real.shape[0]), device=real.device)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.all_reduce(total)
        torch.distributed.all_reduce(count)
    p = (total / count).clamp(1e-3, 1 - 1e-3)
    return torch.log(p) - torch.log1p(-p)


def unwrap(module: nn.Module) -> nn.Module:
    """The plain network under DDP / torch.compile wrappers (where buffers are updated), via accelerate."""
    from accelerate.utils import extract_model_from_parallel

    return extract_model_from_parallel(module, keep_torch_compile=False)
