"""Discriminator rejection sampling: it needs the discriminator, and it moves samples towards what D prefers."""

from __future__ import annotations

import pytest
import torch

import ganzoo
from ganzoo.drs import _logits, calibrate, rejection_sample
from ganzoo.errors import UsageError

TINY = dict(image_size=16, channels=1, nz=8, ngf=8, ndf=8)


@pytest.fixture
def model(tmp_path):
    folder = ganzoo.build("dcgan", seed=0, **TINY).save_pretrained(tmp_path / "m")
    return ganzoo.load(str(folder), components="all")


def test_accepted_samples_score_higher_under_d(model) -> None:
    result = rejection_sample(model, 64, seed=0, burn_in=256, percentile=50)
    assert result.samples.shape == (64, 1, 16, 16)
    assert 0 < result.acceptance_rate < 1
    proposals = model.sample(512, seed=123)
    assert _logits(model, result.samples).mean() > _logits(model, proposals).mean()


def test_needs_the_discriminator(tmp_path) -> None:
    folder = ganzoo.build("dcgan", seed=0, **TINY).save_pretrained(tmp_path / "m")
    with pytest.raises(UsageError, match="components='all'"):
        rejection_sample(ganzoo.load(str(folder)), 4)


def test_calibration_fits_a_logistic_map(model) -> None:
    real = torch.tanh(torch.randn(64, 1, 16, 16, generator=torch.Generator().manual_seed(0)))
    a, b = calibrate(model, real)
    assert torch.isfinite(torch.tensor([a, b])).all()
    result = rejection_sample(model, 8, seed=0, burn_in=64, calibration=(a, b))
    assert result.samples.shape[0] == 8
