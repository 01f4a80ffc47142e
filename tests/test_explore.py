"""Sampling utilities: interpolation, truncation, condition sweeps, and their CLI flags."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

import ganzoo
from ganzoo import explore
from ganzoo.cli import cli
from ganzoo.errors import UsageError


@pytest.fixture
def model():
    return ganzoo.build("toygan", seed=0).eval()  # 8×8 grey images from a 4-d latent


def test_slerp_hits_the_endpoints_and_keeps_the_norm() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(1, 64, generator=g), torch.randn(1, 64, generator=g)
    b = b / b.norm() * a.norm()
    t = torch.linspace(0, 1, 5)
    path = explore.slerp(a.expand(5, -1), b.expand(5, -1), t)
    assert torch.allclose(path[0], a[0], atol=1e-5) and torch.allclose(path[-1], b[0], atol=1e-5)
    assert torch.allclose(path.norm(dim=1), a.norm().expand(5), rtol=1e-4)  # lerp would dip in the middle
    mid = explore.lerp(a, b, torch.tensor([0.5]))
    assert mid.norm() < a.norm()


def test_interpolation_rows_start_and_end_at_samples(model) -> None:
    images = explore.interpolate(model, rows=2, steps=5, seed=3)
    assert images.shape == (10, 1, 8, 8)
    ends = model.impl.latent(model, 4, seed=3)
    expected = model.impl.generate(model, torch.stack([ends[0], ends[2]]))
    assert torch.allclose(images[0], expected[0], atol=1e-5) and torch.allclose(images[4], expected[1], atol=1e-5)


def test_truncation_bounds_the_codes(model) -> None:
    z = explore.truncated_latent(model, 256, 0.5, seed=0)
    assert z.abs().max() <= 0.5
    assert explore.sample_truncated(model, 4, 0.5).shape == (4, 1, 8, 8)
    with pytest.raises(UsageError, match="psi must be > 0"):
        explore.truncated_latent(model, 4, 0.0)


def test_condition_sweep_needs_a_conditional_model(model) -> None:
    with pytest.raises(UsageError, match="not class-conditional"):
        explore.condition_sweep(model)


def test_cli_flags(model, tmp_path) -> None:
    folder = model.save_pretrained(tmp_path / "m")
    runner = CliRunner()
    for args in (["--interpolate", "-n", "2", "--steps", "4"], ["--truncation", "0.7", "-n", "4"],
                 ["--drs", "-n", "4"]):
        out = tmp_path / f"{args[0].strip('-')}.png"
        result = runner.invoke(cli, ["sample", str(folder), *args, "-o", str(out), "--device", "cpu"])
        assert result.exit_code == 0, result.output
        assert out.is_file()
    drs = runner.invoke(cli, ["sample", str(folder), "--drs", "-n", "4", "-o", str(tmp_path / "d.png")])
    assert "acceptance" in drs.output
