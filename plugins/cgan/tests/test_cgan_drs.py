"""Discriminator rejection sampling with a class-conditional discriminator D(x | c): the cgan plugin (concat and
projection discriminators, labels and attribute vectors), in the library and through `ganzoo sample --drs`."""

from __future__ import annotations

import pytest
import torch

import ganzoo
from ganzoo.drs import _logits, calibrate, rejection_sample
from ganzoo.errors import UsageError


def _cgan(tmp_path, **overrides):
    from ganzoo import registry

    spec = registry.get_plugin("cgan")
    folder = ganzoo.build("cgan", seed=0, **{**dict(spec.tiny_config), **overrides}).save_pretrained(tmp_path / "c")
    return ganzoo.load(str(folder), components="all")


@pytest.mark.parametrize("discriminator", ["concat", "projection"])
def test_conditional_drs_keeps_each_samples_condition(tmp_path, discriminator) -> None:
    """D(x | c) judges each sample against its own condition; sample i keeps condition i."""
    model = _cgan(tmp_path, discriminator=discriminator, num_classes=4)
    k = model.config.num_classes
    wanted = torch.tensor([3, 1, 3, 0, 1, 3, 2, 0])
    result = rejection_sample(model, len(wanted), condition=wanted, seed=0, burn_in=200, percentile=50)
    assert torch.equal(result.condition, wanted) and result.samples.shape[0] == len(wanted)
    assert 0 < result.acceptance_rate < 1
    # a bound and γ per distinct condition, and the counts add up
    assert [s["condition"] for s in result.per_condition] == [0, 1, 2, 3]
    assert sum(s["drawn"] for s in result.per_condition) == result.drawn
    assert sum(s["accepted"] for s in result.per_condition) == result.accepted
    # accepted samples score higher under D(x | c) than fresh proposals for the same conditions
    props_c = wanted.repeat(32)
    proposals = model.sample(len(props_c), seed=99, condition=props_c)
    assert _logits(model, result.samples, result.condition).mean() > _logits(model, proposals, props_c).mean()
    # no condition: balanced labels i % K, like `ganzoo eval`
    balanced = rejection_sample(model, 2 * k, seed=0, burn_in=100)
    assert torch.equal(balanced.condition, torch.arange(2 * k) % k)
    # one label for all
    sevens = rejection_sample(model, 5, condition=torch.tensor([k - 1]), seed=0, burn_in=50)
    assert torch.equal(sevens.condition, torch.full((5,), k - 1))
    with pytest.raises(UsageError, match="one per sample"):
        rejection_sample(model, 4, condition=torch.tensor([0, 1]), burn_in=20)
    with pytest.raises(UsageError, match="label"):
        rejection_sample(model, 2, condition=torch.tensor([k, 0]), burn_in=20)
    real = torch.tanh(torch.randn(40, *result.samples.shape[1:], generator=torch.Generator().manual_seed(0)))
    with pytest.raises(UsageError, match="real_condition"):
        calibrate(model, real)
    a, b = calibrate(model, real, real_condition=torch.arange(40) % k)
    assert torch.isfinite(torch.tensor([a, b])).all()


def test_attribute_cgan_needs_a_condition(tmp_path) -> None:
    model = _cgan(tmp_path, condition="attributes", num_attributes=3)
    with pytest.raises(UsageError, match="attribute vectors"):
        rejection_sample(model, 4, burn_in=20)
    attrs = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    result = rejection_sample(model, 2, condition=attrs, seed=0, burn_in=40)
    assert torch.equal(result.condition, attrs)


def test_cli_drs_with_condition(tmp_path) -> None:
    from click.testing import CliRunner

    from ganzoo.cli import cli

    _cgan(tmp_path)  # saves the model folder tmp_path / "c"
    res = CliRunner().invoke(cli, ["sample", str(tmp_path / "c"), "--drs", "--condition", "2", "-n", "6",
                                   "-o", str(tmp_path / "g.png")])
    assert res.exit_code == 0, res.output
    assert "6 samples by discriminator rejection sampling" in res.output and (tmp_path / "g.png").is_file()
