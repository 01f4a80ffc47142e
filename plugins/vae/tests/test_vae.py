"""The vae plugin: conformance on its variants, and the facts its paper fixes (Kingma & Welling: the ELBO terms, the
KL in closed form, the likelihoods)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from ganzoo.testing import check_plugin, tiny_model


@pytest.mark.parametrize("overrides", [
    None,
    {'likelihood': 'gaussian', 'beta': 4.0},
])
def test_vae_conforms(overrides: dict | None, tmp_path: Path) -> None:
    report = check_plugin("vae", tmp_path=tmp_path, overrides=overrides)
    assert report.passed[-1] == "card"


def test_vae_kl_closed_form_matches_monte_carlo() -> None:
    from ganzoo_vae.model import gaussian_kl

    g = torch.Generator().manual_seed(0)
    mu = torch.randn(3, 4, generator=g, dtype=torch.float64)
    logvar = torch.randn(3, 4, generator=g, dtype=torch.float64) * 0.5
    closed = gaussian_kl(mu, logvar).double()
    std = torch.exp(0.5 * logvar)
    z = mu + std * torch.randn(200_000, 3, 4, generator=g, dtype=torch.float64)
    log_q = (-0.5 * ((z - mu) / std) ** 2 - torch.log(std) - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_p = (-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)).sum(-1)
    mc = (log_q - log_p).mean(0)
    assert torch.allclose(closed, mc, rtol=0.03, atol=0.01), (closed, mc)
    assert torch.equal(gaussian_kl(torch.zeros(2, 5), torch.zeros(2, 5)), torch.zeros(2))


def test_vae_elbo_terms_and_beta() -> None:
    from ganzoo_vae.model import bernoulli_nll, gaussian_kl

    x = torch.tanh(torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(1)))
    out = {}
    for beta in (1.0, 3.0):
        model = tiny_model("vae", beta=beta)
        torch.manual_seed(5)  # the reparameterisation noise (the trainer's step noise in training)
        out[beta] = model.impl.train_step(model, {"image": x}, 0)
    assert out[1.0]["nll"].item() == pytest.approx(out[3.0]["nll"].item())
    assert out[3.0]["kl_term"].item() == pytest.approx(3 * out[1.0]["kl_term"].item(), rel=1e-6)
    assert out[3.0]["kl"].item() == pytest.approx(out[1.0]["kl"].item())
    assert out[1.0]["elbo"].item() == pytest.approx(-(out[1.0]["nll"] + out[1.0]["kl"]).item(), rel=1e-6)
    assert not out[1.0]["elbo"].requires_grad and out[1.0]["kl_term"].requires_grad

    # the terms as the paper writes them: z = μ + σ ε; −log p(x|z) Bernoulli; closed-form KL
    model = tiny_model("vae")
    eps = torch.randn(6, 3)
    terms = model.impl.elbo_terms(model, x, eps)
    mu, logvar = model.E(x)
    z = mu + torch.exp(0.5 * logvar) * eps
    p = torch.sigmoid(model.G(z, params=True))
    t = (x + 1) / 2
    manual = -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).flatten(1).sum(1)
    assert torch.allclose(terms["nll"], manual, rtol=1e-4)
    assert torch.allclose(terms["nll"], bernoulli_nll(model.G(z, params=True), t))
    assert torch.allclose(terms["kl"], gaussian_kl(mu, logvar))
    # samples decode z ~ N(0, I); reconstructions decode the posterior mean
    model.eval()
    assert torch.equal(model.sample(4, seed=2), model.G(model.impl.latent(model, 4, seed=2)))
    assert torch.equal(model.sample(condition=x), model.G(model.E(x)[0]))


def test_vae_gaussian_likelihood_bounds_the_variance() -> None:
    model = tiny_model("vae", likelihood="gaussian", min_logvar=-4.0)
    with torch.no_grad():
        for p in model.G.parameters():
            p.fill_(-50.0)
    _, logvar = model.G(torch.zeros(2, 3), params=True)
    assert logvar.min().item() >= -4.0 - 1e-6
