"""The autoencoder plugin: conformance on its variants, and the facts its paper fixes (the auto-encoder baseline: its
fitted code Gaussian)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganzoo.errors import UsageError
from ganzoo.hub import load_model_folder
from ganzoo.testing import check_plugin, raises_one_line, tiny_model


@pytest.mark.parametrize("overrides", [
    None,
])
def test_autoencoder_conforms(overrides: dict | None, tmp_path: Path) -> None:
    report = check_plugin("autoencoder", tmp_path=tmp_path, overrides=overrides)
    assert report.passed[-1] == "card"


def test_autoencoder_fits_a_gaussian_to_the_training_codes_and_keeps_it(tmp_path: Path) -> None:
    model = tiny_model("autoencoder", code_momentum=0.5)
    g = torch.Generator().manual_seed(0)
    a, b = torch.tanh(torch.randn(64, 1, 8, 8, generator=g)), torch.tanh(2 * torch.randn(64, 1, 8, 8, generator=g))
    # the first batch is taken as it is, the second averaged in with weight max(momentum, 1/2)
    with torch.no_grad():
        za, zb = model.E(a).double(), model.E(b).double()
    model.impl.train_step(model, {"image": a}, 0)
    assert torch.allclose(model.G.code_mean.double(), za.mean(0), atol=1e-5)
    assert torch.allclose(model.G.code_moment2.double(), za.T @ za / 64, atol=1e-5)
    model.impl.train_step(model, {"image": b}, 1)
    both = torch.cat([za, zb])
    mean, cov = model.G.code_gaussian()
    assert torch.allclose(mean, both.mean(0), atol=1e-5)
    assert torch.allclose(cov, torch.cov(both.T, correction=0), atol=1e-5)

    # sampling draws from exactly that Gaussian
    model.eval()
    codes = model.impl.latent(model, 40_000, seed=0).double()
    assert torch.allclose(codes.mean(0), mean, atol=0.03 * cov.diagonal().sqrt().max().item())
    assert torch.allclose(torch.cov(codes.T), cov, atol=0.05 * cov.abs().max().item())
    assert torch.equal(model.sample(5, seed=3), model.G(model.impl.latent(model, 5, seed=3)))

    # an exact refit over a dataset
    data = torch.cat([a, b])
    fmean, fcov = model.impl.fit_prior(model, data, batch_size=50)
    with torch.no_grad():
        codes = model.E(data).double()
    assert torch.allclose(fmean, codes.mean(0), atol=1e-5)
    assert torch.allclose(fcov, torch.cov(codes.T, correction=0), atol=1e-5)

    # the statistics are saved with G's weights: a loaded model samples the same
    folder = model.save_pretrained(tmp_path / "ae")
    loaded = load_model_folder(folder)
    assert set(loaded.loaded_components) == {"G", "E"}
    for key in ("code_mean", "code_moment2", "code_batches"):
        assert torch.equal(getattr(loaded.G, key), getattr(model.G, key))
    assert torch.equal(loaded.sample(6, seed=1), model.sample(6, seed=1))
    # reconstructions: sample(condition=images) = G(E(x))
    assert torch.equal(loaded.sample(condition=a[:3]), loaded.G(loaded.E(a[:3])))
    raises_one_line(UsageError, loaded.sample, 2, condition=a[:3], match="n=2 but 3 images")
    raises_one_line(UsageError, loaded.sample, None, condition=torch.zeros(3, 1, 9, 9), match=r"shape \(N, 1, 8, 8\)")


def test_autoencoder_a_fresh_model_samples_the_standard_normal() -> None:
    model = tiny_model("autoencoder").eval()
    mean, cov = model.G.code_gaussian()
    assert torch.equal(mean, torch.zeros(3, dtype=torch.float64)) and torch.equal(cov, torch.eye(3, dtype=torch.float64))
