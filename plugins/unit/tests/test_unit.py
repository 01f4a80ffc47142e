"""UNIT: conformance, the paper's structure and losses, sampling both ways, the shared space, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.errors import ConfigError, UsageError
from ganzoo.explore_shared import interpolate_domains, supports_shared_latent, write_interpolation
from ganzoo.testing import check_plugin

TINY = {"image_size": 16, "ch": 4, "n_downsample": 1, "n_enc_res": 1, "n_gen_res": 1, "ndf": 4, "n_layers_D": 2}


def _model(**overrides: object) -> ganzoo.GanModel:
    torch.manual_seed(0)
    return ganzoo.build("unit", **{**TINY, **overrides})


def test_unit_conforms(tmp_path: Path) -> None:
    check_plugin("unit", tmp_path=tmp_path)


@pytest.mark.parametrize("overrides", [{"share_layers": False, "lambda_latent_cycle": 1.0, "d_shared_layers": 1},
                                       {"input_channels": 1}])
def test_unit_variants_conform(overrides: dict, tmp_path: Path) -> None:
    check_plugin("unit", tmp_path=tmp_path, train=False, overrides=overrides)


def test_defaults_are_the_papers() -> None:
    from ganzoo_unit.model import UNITConfig

    cfg = UNITConfig()
    # λ0 (GAN) = 10, λ1 (KL) = 0.1, λ2 (VAE L1) = 100, λ3 (cycle KL) = 0.1, λ4 (cycle L1) = 100
    assert (cfg.lambda_gan, cfg.lambda_kl, cfg.lambda_recon, cfg.lambda_kl_cycle, cfg.lambda_cycle) == \
        (10.0, 0.1, 100.0, 0.1, 100.0)
    assert (cfg.lr, cfg.beta1, cfg.beta2, cfg.weight_decay) == (1e-4, 0.5, 0.999, 1e-4)
    assert (cfg.ch, cfg.n_downsample, cfg.n_enc_res, cfg.n_enc_shared, cfg.n_gen_shared, cfg.n_gen_res) == \
        (64, 2, 3, 1, 1, 3)
    assert cfg.lambda_latent_cycle == 0 and cfg.share_layers


def test_the_high_level_layers_are_shared() -> None:
    tied, untied = _model(), _model(share_layers=False)
    for m in (tied, untied):
        assert set(m.E.front) == {"A", "B"} and set(m.G.back) == {"A", "B"}
    assert list(tied.E.shared.nets) == ["shared"] and list(tied.G.shared.nets) == ["shared"]
    assert list(untied.E.shared.nets) == ["A", "B"]
    shared = sum(p.numel() for net in (tied.E.shared, tied.G.shared) for p in net.parameters())
    assert untied.num_parameters(["E", "G"]) == tied.num_parameters(["E", "G"]) + shared
    # the code of an A image and of a B image come out of the same layers
    assert tied.E.shared.net("A") is tied.E.shared.net("B")


def test_generator_losses_carry_the_papers_weights() -> None:
    m = _model(lambda_gan=2.0, lambda_kl=0.5, lambda_kl_cycle=0.25)
    batch = m.impl.example_batch(m, 3)
    losses = m.impl.generator_loss(m, dict(batch))
    assert {"gan_a", "gan_b", "recon_a", "recon_b", "kl_a", "kl_b", "cycle_a", "cycle_b", "kl_cycle_a",
            "kl_cycle_b"} <= set(losses)
    with torch.no_grad():
        mu_a = m.E(batch["A"], "A")
    assert losses["kl_a"].item() == pytest.approx(0.5 * mu_a.pow(2).mean().item(), rel=1e-5)
    assert "latent_cycle_a" not in losses and not losses["latent_gap"].requires_grad
    with_cycle = _model(lambda_latent_cycle=3.0)
    lc = with_cycle.impl.generator_loss(with_cycle, dict(batch))
    assert lc["latent_cycle_a"].requires_grad and lc["latent_cycle_a"].item() > 0
    d = m.impl.discriminator_loss(m, dict(batch))
    assert set(d) == {"d_a_real", "d_a_fake", "d_b_real", "d_b_fake"}


def test_sampling_translates_both_ways_at_any_size() -> None:
    m = _model(input_channels=1).eval()
    a, b = torch.rand(2, 1, 18, 22) * 2 - 1, torch.rand(2, 3, 18, 22) * 2 - 1
    ab, ba = m.sample(condition=a), m.sample(condition=b, direction="BtoA")
    assert ab.shape == (2, 3, 18, 22) and ba.shape == (2, 1, 18, 22)
    assert ab.abs().max() <= 1
    # a translation is the decoder of the other domain on the encoder's mean
    x = torch.rand(1, 1, 16, 16) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(m.sample(condition=x), m.G(m.E(x, "A"), "B"))
    assert m.impl.input_channels(m, direction="BtoA") == 3


def test_bad_input_gets_one_line_messages() -> None:
    m = _model(domain_a="noto", domain_b="twemoji").eval()
    x = torch.zeros(1, 3, 16, 16)
    with pytest.raises(UsageError, match=r"direction 'AtoB' \(noto → twemoji\) or 'BtoA'; it has no direction 'AtoC'"):
        m.sample(condition=x, direction="AtoC")
    with pytest.raises(UsageError, match="takes 3-channel images, got 1 channels"):
        m.sample(condition=torch.zeros(1, 1, 16, 16))
    with pytest.raises(UsageError, match="takes 3-channel images, got 4 channels"):
        m.impl.encode_latent(m, torch.zeros(1, 4, 16, 16), domain="B")
    with pytest.raises(UsageError, match=r"has domains 'A' \(noto\) and 'B' \(twemoji\); got domain='C'"):
        m.impl.encode_latent(m, x, domain="C")
    with pytest.raises(UsageError, match=r"codes have dimensions \(5, 8, 8\) but its shared latent space has"):
        m.impl.generate(m, torch.zeros(1, 5, 8, 8), domain="A")
    with pytest.raises(UsageError, match="takes no condition"):
        m.impl.generate(m, torch.zeros(1, 8, 8, 8), condition=x)
    with pytest.raises(ConfigError, match="multiple of 2"):
        ganzoo.build("unit", **{**TINY, "image_size": 15})


def test_the_shared_space_decodes_into_either_domain() -> None:
    m = _model(domain_a="noto").eval()
    assert supports_shared_latent(m) and m.impl.supports("encode_latent")
    z = m.impl.latent(m, 4, seed=1)
    assert z.shape == (4, *m.impl.code_shape(m.config)) and torch.equal(z, m.impl.latent(m, 4, seed=1))
    assert m.impl.generate(m, z, domain="noto").shape == (4, 3, 16, 16)
    a = torch.rand(1, 3, 16, 16) * 2 - 1
    assert torch.equal(m.impl.encode_latent(m, a, domain="noto"), m.impl.encode_latent(m, a, domain="A"))


def test_interpolation_between_an_a_and_a_b_image(tmp_path: Path) -> None:
    m = _model().eval()
    a, b = torch.rand(1, 3, 16, 16) * 2 - 1, torch.rand(1, 3, 16, 16) * 2 - 1
    grid = interpolate_domains(m, a, b, steps=5)
    assert grid.shape == (2 * 7, 3, 16, 16)
    with torch.no_grad():
        z_a, z_b = m.E(a, "A"), m.E(b, "B")
        assert torch.allclose(grid[0], a[0]) and torch.allclose(grid[6], b[0])
        assert torch.allclose(grid[1], m.G(z_a, "A")[0], atol=1e-6)   # row "into A" starts with a reconstructed
        assert torch.allclose(grid[5], m.G(z_b, "A")[0], atol=1e-6)   # … and ends with b translated into A
        assert torch.allclose(grid[8], m.sample(condition=a)[0], atol=1e-6)  # row "into B" starts with a → B
        mid = m.G((z_a + z_b) / 2, "B")[0]
        assert torch.allclose(grid[7 + 1 + 2], mid, atol=1e-6)
    with pytest.raises(UsageError, match=r"code dimensions do not match across domains: the A image's code is "
                                          r"\(8, 8, 8\), the B image's \(8, 12, 12\)"):
        interpolate_domains(m, a, torch.zeros(1, 3, 24, 24))
    with pytest.raises(UsageError, match="steps ≥ 2"):
        interpolate_domains(m, a, b, steps=1)


def test_write_interpolation_reads_two_files(tmp_path: Path) -> None:
    from ganzoo.data.images import save_image

    m = _model().eval()
    pa = save_image(torch.zeros(3, 16, 16), tmp_path / "a.png")
    pb = save_image(torch.ones(3, 16, 16), tmp_path / "b.png")
    out = write_interpolation(m, pa, pb, tmp_path / "grid.png", steps=4)
    from PIL import Image

    assert Image.open(out).size == (6 * 16 + 7 * 2, 2 * 16 + 3 * 2)
    with pytest.raises(UsageError, match="needs two images"):
        write_interpolation(m, pa, None, tmp_path / "g.png")
    with pytest.raises(UsageError, match="is not a file"):
        write_interpolation(m, pa, tmp_path / "missing.png", tmp_path / "g.png")
    with pytest.raises(UsageError, match=r"as \.png or \.jpg"):
        write_interpolation(m, pa, pb, tmp_path / "g.gif")


def test_models_without_a_shared_space_are_refused() -> None:
    m = ganzoo.build("cogan", image_size=8, ngf=4, ndf=4, latent_dim=8)  # a latent space, but no encoder
    assert m.impl.supports("latent") and not supports_shared_latent(m)
    with pytest.raises(UsageError, match="does not encode images into a shared latent space"):
        interpolate_domains(m, torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8))


def test_cli_interpolates_across_domains(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from PIL import Image

    from ganzoo.cli import cli
    from ganzoo.data.images import save_image

    folder = _model().save_pretrained(tmp_path / "unit-tiny")
    pa = save_image(torch.zeros(3, 16, 16), tmp_path / "a.png")
    pb = save_image(torch.ones(3, 16, 16), tmp_path / "b.png")
    runner = CliRunner()
    out = tmp_path / "path.png"
    result = runner.invoke(cli, ["sample", str(folder), "--interpolate", "--input", str(pa), "--input-b", str(pb),
                                 "--steps", "4", "-o", str(out), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "shared latent space, 4 steps, decoded into A and B" in result.output
    assert Image.open(out).size == (6 * 16 + 7 * 2, 2 * 16 + 3 * 2)
    one = runner.invoke(cli, ["sample", str(folder), "--interpolate", "--input", str(pa), "--input-b", str(pb),
                              "--domain", "B", "-o", str(tmp_path / "b_row.png"), "--device", "cpu"])
    assert one.exit_code == 0, one.output
    assert Image.open(tmp_path / "b_row.png").size == (10 * 16 + 11 * 2, 16 + 2 * 2)
    for args, message in ((["--input-b", str(pb)], "--input-b is the B image of a cross-domain interpolation"),
                          (["--interpolate", "--input", str(pa)], "needs two images"),
                          (["--interpolate", "--input", str(pa), "--input-b", str(pb), "--direction", "BtoA"],
                           "drop --direction")):
        bad = runner.invoke(cli, ["sample", str(folder), *args, "-o", str(tmp_path / "x.png"), "--device", "cpu"])
        assert bad.exit_code != 0 and message in bad.output and "Traceback" not in bad.output, bad.output
        assert len(bad.output.strip().splitlines()) == 1, bad.output
