"""Losses on a latent space shared by two image domains (UNIT, XGAN, ComboGAN), and the checks of codes that users
mix across domains.

Four devices make two domains' codes agree; each has a loss here:

* the VAE prior of UNIT — :func:`kl_unit_variance`: UNIT's encoders output only the mean ``μ`` of
  ``q(z|x) = N(μ, I)``, so ``KL(q ‖ N(0, I)) = ½‖μ‖²`` (+ a constant); the authors' code minimises ``mean(μ²)``;
* a domain-adversarial code — :func:`domain_adversarial_loss` (DANN, Ganin et al. 2016; XGAN's ``L_dann``): a
  classifier learns which domain a code came from and the encoders learn to make that impossible, either by
  gradient reversal (the encoders *maximise* the classifier's loss: DANN's and XGAN's min-max) or by flipped labels
  (the usual non-saturating GAN form);
* latent cycle consistency — :func:`latent_cycle_loss` (ComboGAN, Anoosheh et al. 2018, its ``lambda_enc``): the
  code of a translation, re-encoded in the target domain, should equal the source's code, taken as a constant
  target (detached): it pulls the *translation* towards the code, never the code towards the translation;
* semantic consistency — :func:`semantic_consistency_loss` (XGAN's ``L_sem``): the same distance, but both sides
  are trained, so the encoder of the source also moves towards what survives the round trip.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from ..errors import UsageError

__all__ = ["kl_unit_variance", "latent_cycle_loss", "semantic_consistency_loss", "grad_reverse",
           "domain_adversarial_loss", "check_codes", "DannMode"]

DannMode = Literal["reverse", "flip"]


def kl_unit_variance(mu: torch.Tensor) -> torch.Tensor:
    """UNIT's KL term for ``q(z|x) = N(μ, I)`` against ``N(0, I)``: ``mean(μ²)`` (the authors' ``_compute_kl``;
    ½‖μ‖² per code up to the constant and the averaging)."""
    return mu.pow(2).mean()


def latent_cycle_loss(code_back: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
    """ComboGAN's latent cycle: L1 between the re-encoded translation's code and the source code, the source code
    detached (a fixed target)."""
    return F.l1_loss(code_back, code.detach())


def semantic_consistency_loss(code_back: torch.Tensor, code: torch.Tensor,
                              distance: Literal["l1", "l2", "cosine"] = "l1") -> torch.Tensor:
    """XGAN's semantic consistency ``‖e_1(x) − e_2(g_{1→2}(x))‖``: gradients reach both codes.

    Args:
        code_back: the translation's code in the other domain's encoder.
        code: the source's code.
        distance: ``"l1"`` (mean absolute difference), ``"l2"`` (mean squared) or ``"cosine"`` (1 − cosine
            similarity of the flattened codes, averaged).
    """
    if distance == "l1":
        return F.l1_loss(code_back, code)
    if distance == "l2":
        return F.mse_loss(code_back, code)
    if distance == "cosine":
        return (1 - F.cosine_similarity(code_back.flatten(1), code.flatten(1), dim=1)).mean()
    raise ValueError(f"distance must be l1, l2 or cosine, got {distance!r}")


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:  # type: ignore[override]
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        return -ctx.scale * grad, None


def grad_reverse(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Identity forward; multiplies the gradient by ``-scale`` backward (Ganin & Lempitsky 2015)."""
    return _GradReverse.apply(x, float(scale))


def domain_adversarial_loss(logits_a: torch.Tensor, logits_b: torch.Tensor, *, for_classifier: bool,
                            mode: DannMode = "reverse") -> torch.Tensor:
    """The code classifier's loss (``for_classifier=True``: A codes → 1, B codes → 0), or the encoders' loss.

    For the encoders (``for_classifier=False``): ``"reverse"`` returns the classifier's loss negated — minimising
    it maximises the classifier's error, exactly the gradient a gradient-reversal layer gives the encoders (DANN,
    XGAN's min-max); ``"flip"`` returns the loss with the labels swapped (non-saturating: strong gradients while the
    classifier still wins).
    """
    def bce(x: torch.Tensor, target: float) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(x, torch.full_like(x, target))

    true_loss = bce(logits_a, 1.0) + bce(logits_b, 0.0)
    if for_classifier:
        return true_loss
    if mode == "reverse":
        return -true_loss
    if mode == "flip":
        return bce(logits_a, 0.0) + bce(logits_b, 1.0)
    raise ValueError(f"mode must be 'reverse' or 'flip', got {mode!r}")


def check_codes(codes: object, shape: tuple[int, ...], *, name: str = "the model", what: str = "codes") -> torch.Tensor:
    """Validate codes for a shared latent space of per-item ``shape``; return them as a float batch.

    Raises:
        UsageError: not a tensor, or per-item dimensions other than ``shape`` (e.g. codes of images of another
            size, or of another model), in one line that names both shapes.
    """
    if not isinstance(codes, torch.Tensor):
        raise UsageError(f"{name}: {what} must be a tensor of shape (n, {', '.join(map(str, shape))}), "
                         f"got {type(codes).__name__}")
    z = codes.float()
    if z.dim() == len(shape):
        z = z[None]
    if tuple(z.shape[1:]) != tuple(shape):
        raise UsageError(f"{name}: {what} have dimensions {tuple(z.shape[1:])} but its shared latent space has "
                         f"{tuple(shape)} (codes of images of another size, or of another model?)")
    return z
