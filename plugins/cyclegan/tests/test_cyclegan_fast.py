"""CycleGAN's batched generator passes compute the original iteration's losses and gradients.

The G step runs G_AB(a ‖ b), G_BA(b ‖ a ‖ fake_b), G_AB(fake_a) instead of the original's six passes. Instance
norm is per sample, so this is the same mathematics; only the rounding of batched convolutions may differ. Checked
against ganzoo's own six-pass path and against ``benchmarks/original_style.py`` (the original's
``optimize_parameters()``, written independently) on the same weights.
"""

from __future__ import annotations

import sys
from pathlib import Path

import ganzoo_cyclegan.model as cyclegan_model
import pytest
import torch

import ganzoo

pytestmark = pytest.mark.usefixtures("one_thread")

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
TOL = 1e-5


def _model():
    return ganzoo.build("cyclegan", seed=0, image_size=32, load_size=32, ngf=8, ndf=8, n_blocks=2, pool_size=0).train()


def _batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    return {"A": torch.rand(2, 3, 32, 32, generator=g) * 2 - 1, "B": torch.rand(2, 3, 32, 32, generator=g) * 2 - 1}


def _g_step(model, batch) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    g_params = {f"{c}.{k}": p for c in ("G_AB", "G_BA") for k, p in model.components[c].named_parameters()}
    for p in g_params.values():
        p.grad = None
    losses = model.impl.generator_loss(model, dict(batch))
    sum(losses.values()).backward(inputs=list(g_params.values()))
    return {k: float(v.detach()) for k, v in losses.items()}, {k: p.grad.clone() for k, p in g_params.items()}


def _close(a: torch.Tensor, b: torch.Tensor, scale: float) -> float:
    """max |a - b| relative to the largest gradient of the network (biases before instance norm have gradients
    that are zero but for rounding, so a per-tensor relative error would compare noise with noise)."""
    return float((a - b).abs().max()) / scale


def _scale(grads) -> float:
    return max(float(g.abs().max()) for g in grads)


def test_batched_passes_equal_the_six_passes(monkeypatch) -> None:
    model, batch = _model(), _batch()
    calls: list[int] = []
    hooks = [model.components[c].register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
             for c in ("G_AB", "G_BA")]
    fast_losses, fast_grads = _g_step(model, batch)
    assert calls == [4, 6, 2]  # three calls: (a ‖ b), (b ‖ a ‖ fake_b), fake_a — batch 2 each
    calls.clear()
    monkeypatch.setattr(cyclegan_model, "_batched_passes", lambda model: False)
    plain_losses, plain_grads = _g_step(model, batch)
    assert calls == [2] * 6
    for h in hooks:
        h.remove()
    assert fast_losses.keys() == plain_losses.keys() == {"g_ab_gan", "g_ba_gan", "cycle_a", "cycle_b", "idt_a", "idt_b"}
    for k in fast_losses:
        assert abs(fast_losses[k] - plain_losses[k]) <= TOL * max(1.0, abs(plain_losses[k])), k
    scale = _scale(plain_grads.values())
    for k in fast_grads:
        assert _close(fast_grads[k], plain_grads[k], scale) <= TOL, k


def test_batch_norm_or_dropout_keep_the_six_passes() -> None:
    for overrides in ({"norm": "batch"}, {"use_dropout": True}):
        model = ganzoo.build("cyclegan", seed=0, image_size=32, ngf=8, ndf=8, n_blocks=2, **overrides)
        assert not cyclegan_model._batched_passes(model)
    assert cyclegan_model._batched_passes(_model())


def test_g_step_matches_the_original_iteration(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import original_style as O

    model, batch = _model(), _batch()
    nets = {"G_A": O.ResnetGenerator(ngf=8, n_blocks=2), "G_B": O.ResnetGenerator(ngf=8, n_blocks=2),
            "D_A": O.NLayerDiscriminator(ndf=8, norm="instance"), "D_B": O.NLayerDiscriminator(ndf=8, norm="instance")}
    for ours, theirs in (("G_AB", "G_A"), ("G_BA", "G_B"), ("D_B", "D_A"), ("D_A", "D_B")):
        nets[theirs].load_state_dict(model.components[ours].state_dict())  # the original's netD_A judges B
    loop = O.CycleGANLoop(nets["G_A"], nets["G_B"], nets["D_A"], nets["D_B"], pool_size=0)
    loop.set_input(batch)
    loop.forward()
    loop.optimizer_G.zero_grad()
    loop.backward_G()
    losses, grads = _g_step(model, batch)
    names = {"g_ab_gan": "G_A", "g_ba_gan": "G_B", "cycle_a": "cycle_A", "cycle_b": "cycle_B", "idt_b": "idt_A",
             "idt_a": "idt_B"}
    for ours, theirs in names.items():
        assert abs(losses[ours] - float(loop.losses[theirs].detach())) <= TOL * max(1.0, abs(losses[ours])), ours
    scale = _scale(grads.values())
    for name, theirs in (("G_AB", "G_A"), ("G_BA", "G_B")):
        for k, p in nets[theirs].named_parameters():
            assert _close(grads[f"{name}.{k}"], p.grad, scale) <= TOL, f"{name}.{k}"
    assert sys.modules["original_style"] is O
