"""The stackgan plugin: conformance on its variants, and the facts its paper fixes (Zhang et al.: two stages (small →
large), conditioning augmentation, the matching-aware discriminator)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganzoo import registry
from ganzoo.errors import ConfigError, UsageError
from ganzoo.hub import load_model_folder
from ganzoo.testing import check_plugin, raises_one_line, tiny_model


@pytest.fixture(scope="module")
def stage1_run(tmp_path_factory) -> Path:
    """A stage-I StackGAN run folder (two trainer steps), from the conformance kit."""
    root = tmp_path_factory.mktemp("stackgan-s1")
    check_plugin("stackgan", tmp_path=root)
    return root / "run"


def test_stackgan_conforms_in_both_stages(stage1_run: Path, tmp_path: Path) -> None:
    report = check_plugin("stackgan", tmp_path=tmp_path, overrides={"stage": 2, "stage1_from": str(stage1_run)})
    assert report.passed[-1] == "card"


def test_stackgan_stage_sizes_and_sampling() -> None:
    model = tiny_model("stackgan").eval()  # image_size 32: stage I at 8×8
    labels = torch.tensor([0, 1, 2])
    s1 = model.sample(condition=labels, seed=0, stage=1)
    s2 = model.sample(condition=labels, seed=0, stage=2)
    assert s1.shape == (3, 1, 8, 8) and s2.shape == (3, 1, 32, 32)
    assert model.sample(condition=labels, seed=0).shape == s1.shape  # default: the trained stage (1)
    # stage II refines the very stage-I image it is given: G2(G1(z, ĉ1), ĉ2)
    z = model.impl.latent(model, 3, seed=0)
    cfg = model.config
    zz, e1, e2 = z.split([cfg.nz, cfg.cond_dim, cfg.cond_dim], dim=1)
    phi = torch.eye(3)[labels]
    assert torch.equal(s1, model.G1(zz, phi, e1)[0])
    assert torch.equal(s2, model.G2(s1, phi, e2)[0])
    raises_one_line(UsageError, model.sample, None, condition=labels, stage=3, match="stage must be 1")
    raises_one_line(UsageError, model.sample, None, condition=torch.tensor([0, 5]), match="labels 5 are out of range")
    raises_one_line(UsageError, model.sample, None, condition=torch.tensor([0.5]), match="must be integers")
    raises_one_line(UsageError, model.sample, 4, condition=labels, match="n=4 but 3 labels")
    assert model.impl.discriminate(model, s2, condition=labels).shape == (3,)
    assert model.impl.discriminate(model, s1, condition=labels).shape == (3,)


def test_stackgan_conditioning_augmentation() -> None:
    from ganzoo_stackgan.model import gaussian_kl

    model = tiny_model("stackgan", kl_weight=2.0)
    phi = torch.eye(3)[[0, 1, 2, 0]]
    ca = model.G1.ca
    c, mu, logvar = ca(phi, torch.zeros(4, 4))
    assert torch.equal(c, mu)  # ε = 0 → ĉ = μ(φ)
    eps = torch.randn(4, 4)
    c, mu, logvar = ca(phi, eps)
    assert torch.allclose(c, mu + torch.exp(0.5 * logvar) * eps)
    # G's loss carries λ·KL(N(μ, σ²) ‖ N(0, I)) of the CA output, in closed form
    batch = {"image": torch.zeros(4, 1, 32, 32), "label": torch.tensor([0, 1, 2, 0])}
    losses = model.impl.generator_loss(model, batch)
    closed = (0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(1)).mean()
    assert losses["kl"].item() == pytest.approx(2.0 * closed.item(), rel=1e-5)
    assert gaussian_kl(torch.zeros(3, 4), torch.zeros(3, 4)).item() == 0.0
    assert losses["kl"].requires_grad


def test_stackgan_matching_aware_discriminator() -> None:
    model = tiny_model("stackgan")
    labels = torch.arange(3).repeat(200)
    wrong = model.impl.mismatched_labels(labels, 3)
    assert not (wrong == labels).any() and set(wrong.tolist()) == {0, 1, 2}
    losses = model.impl.discriminator_loss(model, {"image": torch.zeros(4, 1, 32, 32), "label": torch.tensor([0, 1, 2, 0])})
    assert {"d_real", "d_fake", "d_wrong"} <= set(losses) and losses["d_wrong"].requires_grad
    # stage I's D sees the real images 4× down-sampled
    assert model.impl._real(model, torch.ones(2, 1, 32, 32)).shape == (2, 1, 8, 8)


def test_stackgan_trains_stage_by_stage(stage1_run: Path, tmp_path: Path) -> None:
    from ganzoo.testing import write_dataset
    from ganzoo.training import train

    spec = registry.get_plugin("stackgan")
    s1 = load_model_folder(stage1_run, components="all")
    fresh = tiny_model("stackgan")
    # stage 1 trained G1/D1 only: G2/D2 are still their fresh (seed 0) weights
    for name in ("G2", "D2"):
        assert all(torch.equal(a, b) for a, b in zip(s1.components[name].state_dict().values(),
                                                      fresh.components[name].state_dict().values()))
    assert not all(torch.equal(a, b) for a, b in zip(s1.G1.state_dict().values(), fresh.G1.state_dict().values()))

    data = write_dataset("class-conditional", tmp_path / "data", fresh.config, n=8)
    model = tiny_model("stackgan", stage=2, stage1_from=str(stage1_run))
    init_g2 = {k: v.clone() for k, v in model.G2.state_dict().items()}
    trained = train(model, data, out=tmp_path / "s2", max_steps=2, batch_size=2, sample_every=0,
                    checkpoint_every=0, sample_n=4, progress=False)
    # stage I came from the stage-1 folder and stayed fixed (weights and batch-norm statistics)
    for name in ("G1", "D1"):
        for k, v in s1.components[name].state_dict().items():
            assert torch.equal(trained.components[name].state_dict()[k], v), f"{name}.{k} changed in stage 2"
    assert not all(torch.equal(init_g2[k], v) for k, v in trained.G2.state_dict().items())
    # the stage-2 folder holds all four networks and samples both stages
    out = load_model_folder(tmp_path / "s2")
    assert set(out.loaded_components) == set(spec.inference)
    assert out.config.stage == 2
    assert out.sample(condition=torch.tensor([0, 1]), seed=0).shape == (2, 1, 32, 32)
    assert out.sample(condition=torch.tensor([0, 1]), seed=0, stage=1).shape == (2, 1, 8, 8)
    assert (tmp_path / "s2" / "samples" / "final.png").is_file()


def test_stackgan_stage2_needs_a_matching_stage1(stage1_run: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="stage1_from"):
        tiny_model("stackgan", stage=2)
    other = tiny_model("stackgan", stage=2, stage1_from=str(stage1_run), ngf=8)
    with pytest.raises(ConfigError, match=r"ngf=4 \(here 8\)"):
        other.impl.configure_optimizers(other)
    missing = tiny_model("stackgan", stage=2, stage1_from=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="No such model folder"):
        missing.impl.configure_optimizers(missing)
    gan_folder = tiny_model("gan").save_pretrained(tmp_path / "gan")
    wrong = tiny_model("stackgan", stage=2, stage1_from=str(gan_folder))
    with pytest.raises(ConfigError, match="stage1_from"):
        wrong.impl.configure_optimizers(wrong)
