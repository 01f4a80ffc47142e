"""Discriminator rejection sampling: it needs the discriminator, and it moves samples towards what D prefers.

Core tests on the toy GAN; conditional DRS (D(x | c)) is tested with the cgan plugin, in plugins/cgan/tests."""

from __future__ import annotations

import pytest
import torch

import ganzoo
from ganzoo.drs import _logits, calibrate, rejection_sample
from ganzoo.errors import UsageError


@pytest.fixture
def model(tmp_path):
    folder = ganzoo.build("toygan", seed=0).save_pretrained(tmp_path / "m")  # 8×8 grey images, with D
    return ganzoo.load(str(folder), components="all")


def test_accepted_samples_score_higher_under_d(model) -> None:
    result = rejection_sample(model, 64, seed=0, burn_in=256, percentile=50)
    assert result.samples.shape == (64, 1, 8, 8)
    assert 0 < result.acceptance_rate < 1
    proposals = model.sample(512, seed=123)
    assert _logits(model, result.samples).mean() > _logits(model, proposals).mean()


def test_needs_the_discriminator(tmp_path) -> None:
    folder = ganzoo.build("toygan", seed=0).save_pretrained(tmp_path / "m")
    with pytest.raises(UsageError, match="components='all'"):
        rejection_sample(ganzoo.load(str(folder)), 4)


def test_calibration_fits_a_logistic_map(model) -> None:
    real = torch.tanh(torch.randn(64, 1, 8, 8, generator=torch.Generator().manual_seed(0)))
    a, b = calibrate(model, real)
    assert torch.isfinite(torch.tensor([a, b])).all()
    result = rejection_sample(model, 8, seed=0, burn_in=64, calibration=(a, b))
    assert result.samples.shape[0] == 8


@pytest.mark.parametrize("extra, named", [(["--condition", "all"], "--condition all"),
                                          (["--interpolate"], "--interpolate"),
                                          (["--truncation", "0.7"], "--truncation")])
def test_cli_drs_refuses_options_it_would_ignore(tmp_path, extra, named) -> None:
    from click.testing import CliRunner

    from ganzoo.cli import cli

    res = CliRunner().invoke(cli, ["sample", "any-model", "--drs", *extra, "-o", str(tmp_path / "g.png")])
    assert res.exit_code != 0 and f"cannot be combined with {named}" in res.output
    assert res.output.count("\n") == 1 and not (tmp_path / "g.png").exists()
