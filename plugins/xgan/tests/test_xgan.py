"""XGAN: conformance, the shared embedding, its losses (domain-adversarial, semantic consistency, teacher, latent
cycle), sampling, the fitted prior and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.errors import ConfigError, UsageError
from ganzoo.explore_shared import interpolate_domains
from ganzoo.testing import check_plugin

TINY = {"image_size": 16, "ch": 4, "code_dim": 16, "ndf": 4, "dann_hidden": 8}


def _model(**overrides: object) -> ganzoo.GanModel:
    torch.manual_seed(0)
    return ganzoo.build("xgan", **{**TINY, **overrides})


def _effnet_available() -> bool:
    from ganzoo.metrics.extractors import EXTRACTORS

    return EXTRACTORS["effnet"].available()


def test_xgan_conforms(tmp_path: Path) -> None:
    check_plugin("xgan", tmp_path=tmp_path)


@pytest.mark.parametrize("overrides", [
    {"share_layers": False, "lambda_latent_cycle": 1.0, "dann_mode": "flip", "sem_distance": "cosine"},
    {"lambda_dann": 0.0, "lambda_sem": 0.0, "output_channels": 1},
])
def test_xgan_variants_conform(overrides: dict, tmp_path: Path) -> None:
    check_plugin("xgan", tmp_path=tmp_path, train=False, overrides=overrides)


@pytest.mark.skipif(not _effnet_available(), reason="the EfficientNet-Lite0 wheel is not installed")
def test_the_teacher_trains_the_embedding_of_domain_a(tmp_path: Path) -> None:
    check_plugin("xgan", tmp_path=tmp_path, train=False, overrides={"lambda_teach": 1.0, "teacher_size": 32})
    m = _model(lambda_teach=2.0, teacher_size=32)
    batch = m.impl.example_batch(m, 2)
    losses = m.impl.generator_loss(m, dict(batch))
    with torch.no_grad():
        target = m.impl._teacher(m, batch["A"])
        expected = 2.0 * torch.nn.functional.l1_loss(m.T_head(m.E(batch["A"], "A")), target)
    assert target.shape == (2, 1280) and losses["teach"].item() == pytest.approx(expected.item(), rel=1e-4)


def test_the_encoders_share_their_last_layers_and_the_decoders_their_first() -> None:
    tied, untied = _model(), _model(share_layers=False)
    assert list(tied.E.shared.nets) == ["shared"] and list(untied.G.shared.nets) == ["A", "B"]
    assert tied.E.shared.net("A") is tied.E.shared.net("B") and tied.G.shared.net("A") is tied.G.shared.net("B")
    shared = sum(p.numel() for net in (tied.E.shared, tied.G.shared) for p in net.parameters())
    assert untied.num_parameters(["E", "G"]) == tied.num_parameters(["E", "G"]) + shared
    assert tied.impl.code_shape(tied.config) == (16,)
    assert tied.E(torch.zeros(2, 3, 16, 16), "B").shape == (2, 16)


def test_losses_follow_the_objective() -> None:
    m = _model(lambda_rec=2.0, lambda_sem=3.0, dann_mode="reverse")
    batch = m.impl.example_batch(m, 4)
    g = m.impl.generator_loss(m, dict(batch))
    assert {"rec_a", "rec_b", "gan_a", "gan_b", "dann", "sem_a", "sem_b"} == set(g)
    d = m.impl.discriminator_loss(m, dict(batch))
    assert {"d_a_real", "d_a_fake", "d_b_real", "d_b_fake", "dann_classifier"} == set(d)
    with torch.no_grad():
        e_a, e_b = m.E(batch["A"], "A"), m.E(batch["B"], "B")
        clf = torch.nn.functional.binary_cross_entropy_with_logits
        c_loss = clf(m.D_code(e_a), torch.ones(4)) + clf(m.D_code(e_b), torch.zeros(4))
        sem = (m.E(m.G(e_a, "B"), "B") - e_a).abs().mean()
        rec = ((m.G(e_a, "A") - batch["A"]) ** 2).mean()
    # gradient reversal: the encoders minimise minus the classifier's loss
    assert g["dann"].item() == pytest.approx(-c_loss.item(), rel=1e-4)
    assert d["dann_classifier"].item() == pytest.approx(c_loss.item(), rel=1e-4)
    assert g["sem_a"].item() == pytest.approx(3.0 * sem.item(), rel=1e-4)
    assert g["rec_a"].item() == pytest.approx(2.0 * rec.item(), rel=1e-4)
    off = _model(lambda_dann=0.0, lambda_sem=0.0, lambda_latent_cycle=1.0)
    lo = off.impl.generator_loss(off, dict(batch))
    assert "dann" not in lo and "sem_a" not in lo and lo["latent_cycle_a"].requires_grad


def test_semantic_consistency_moves_the_source_encoder_and_the_latent_cycle_does_not() -> None:
    def source_grad(**weights: float) -> float:
        m = _model(lambda_rec=0.0, lambda_gan=0.0, lambda_dann=0.0, **weights)
        batch = m.impl.example_batch(m, 2)
        losses = m.impl.generator_loss(m, dict(batch))
        (losses["sem_a"] if "sem_a" in losses else losses["latent_cycle_a"]).backward()
        return float(sum(p.grad.abs().sum() for p in m.E.front["A"].parameters() if p.grad is not None))

    # sem_a = ‖E_B(G_B(E_A(a))) − E_A(a)‖: the A front gets gradient from both sides; with the target detached
    # (latent cycle) only through the translation — the two differ
    assert source_grad(lambda_sem=1.0) != pytest.approx(source_grad(lambda_sem=0.0, lambda_latent_cycle=1.0))


def test_optimisers_leave_out_switched_off_networks() -> None:
    def owned(m: ganzoo.GanModel) -> dict[str, set[int]]:
        return {k: {id(p) for g in o.param_groups for p in g["params"]}
                for k, o in m.impl.configure_optimizers(m).items()}

    m = _model()
    opts = owned(m)
    assert {id(p) for p in m.D_code.parameters()} <= opts["D"]
    assert not {id(p) for p in m.T_head.parameters()} & opts["G"]
    off = _model(lambda_dann=0.0, lambda_teach=1.0)
    opts = owned(off)
    assert not {id(p) for p in off.D_code.parameters()} & opts["D"]
    assert {id(p) for p in off.T_head.parameters()} <= opts["G"]


def test_the_prior_is_fitted_to_the_training_embeddings() -> None:
    m = _model()
    e = m.E
    assert float(e.code_batches) == 0
    m.train()
    batch = m.impl.example_batch(m, 8)
    m.impl.generator_loss(m, dict(batch))
    with torch.no_grad():
        codes = torch.cat([m.E(batch["A"], "A"), m.E(batch["B"], "B")])
    assert float(e.code_batches) == 1 and torch.allclose(e.code_mean, codes.mean(0), atol=1e-5)
    z = m.impl.latent(m, 5, seed=0)
    assert z.shape == (5, 16) and torch.equal(z, m.impl.latent(m, 5, seed=0))
    m.eval()
    m.impl.generator_loss(m, dict(batch))  # evaluation passes leave the statistics alone
    assert float(e.code_batches) == 1


def test_sampling_resizes_to_the_embeddings_input_and_back() -> None:
    m = _model().eval()
    x = torch.rand(2, 3, 20, 28) * 2 - 1
    for direction in ("AtoB", "BtoA"):
        y = m.sample(condition=x, direction=direction)
        assert y.shape == x.shape and y.abs().max() <= 1
    grid = interpolate_domains(m, x[:1], torch.rand(1, 3, 40, 40) * 2 - 1, steps=3)  # codes match at any size
    assert grid.shape == (2 * 5, 3, 20, 28)


def test_bad_input_gets_one_line_messages() -> None:
    m = _model(output_channels=1).eval()
    with pytest.raises(UsageError, match="takes 1-channel images, got 3 channels"):
        m.sample(condition=torch.zeros(1, 3, 16, 16), direction="BtoA")
    with pytest.raises(UsageError, match="has no direction 'BtoB'"):
        m.sample(condition=torch.zeros(1, 3, 16, 16), direction="BtoB")
    with pytest.raises(UsageError, match=r"codes have dimensions \(8,\) but its shared latent space has \(16,\)"):
        m.impl.generate(m, torch.zeros(2, 8), domain="B")
    with pytest.raises(ConfigError, match="power of two"):
        ganzoo.build("xgan", **{**TINY, "image_size": 24})
    with pytest.raises(ConfigError, match="dann_mode"):
        ganzoo.build("xgan", **{**TINY, "dann_mode": "other"})
