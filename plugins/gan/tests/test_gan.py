"""The gan plugin: conformance on its variants, and the facts its paper fixes (Goodfellow et al. 2014: the MLP/maxout
GAN, its two generator losses, the authors' initialisation)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import ganzoo
from ganzoo.errors import UsageError
from ganzoo.testing import check_plugin, raises_one_line, tiny_model


@pytest.mark.parametrize("overrides", [
    None,
    {'generator_loss_type': 'minimax', 'optimizer': 'adam', 'lr': 0.0002},
])
def test_gan_conforms(overrides: dict | None, tmp_path: Path) -> None:
    report = check_plugin("gan", tmp_path=tmp_path, overrides=overrides)
    assert report.passed[-1] == "card"


def test_minimax_generator_loss_saturates_where_the_non_saturating_one_does_not() -> None:
    from ganzoo_gan.model import generator_loss

    def grad_at(logit: float, kind: str) -> float:
        x = torch.full((8,), logit, requires_grad=True)
        generator_loss(x, kind).backward()
        return float(x.grad.mean() * 8)  # d loss / d logit for one sample

    # D(G(z)) ≈ 0 (logit −10, D rejects the samples with confidence): the minimax gradient all but vanishes
    mm, ns = grad_at(-10.0, "minimax"), grad_at(-10.0, "non_saturating")
    assert mm < 0 and ns < 0  # both push D(G(z)) up
    assert abs(mm) == pytest.approx(torch.sigmoid(torch.tensor(-10.0)).item(), rel=1e-3)  # −D(G(z))
    assert abs(ns) == pytest.approx(1 - torch.sigmoid(torch.tensor(-10.0)).item(), rel=1e-3)  # −(1 − D(G(z)))
    assert abs(ns) / abs(mm) > 1e4
    # at D(G(z)) = ½ both give the same gradient; the losses are log(1 − D) and −log D
    assert grad_at(0.0, "minimax") == pytest.approx(grad_at(0.0, "non_saturating"))
    x = torch.tensor([-1.5, 0.3])
    d = torch.sigmoid(x)
    assert float(generator_loss(x, "minimax")) == pytest.approx(float(torch.log(1 - d).mean()), rel=1e-5)
    assert float(generator_loss(x, "non_saturating")) == pytest.approx(float(-torch.log(d).mean()), rel=1e-5)


def test_gan_generator_step_saturates_through_the_plugin() -> None:
    """With a D that rejects everything, G's parameter gradients under minimax are ~10⁴× weaker."""
    norms = {}
    for kind in ("minimax", "non_saturating"):
        model = tiny_model("gan", generator_loss_type=kind, d_input_dropout=0.0, d_dropout=0.0)
        with torch.no_grad():
            model.D.main[-1].bias.fill_(-12.0)  # D(G(z)) ≈ 6e-6
        torch.manual_seed(0)
        loss = model.impl.generator_loss(model, {"image": torch.zeros(16, 1, 8, 8)})["g_adv"]
        loss.backward()
        norms[kind] = torch.sqrt(sum((p.grad ** 2).sum() for p in model.G.parameters())).item()
    assert norms["non_saturating"] > 1e4 * norms["minimax"] > 0


def test_gan_architecture_is_the_papers() -> None:
    from ganzoo_gan.model import GANConfig, Maxout

    model = ganzoo.build("gan", seed=0)
    cfg: GANConfig = model.config
    assert (cfg.nz, cfg.g_hidden, cfg.d_units, cfg.d_pieces, cfg.image_size) == (100, 1200, 240, 5, 28)
    linears = [m for m in model.G.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(100, 1200), (1200, 1200), (1200, 784)]
    assert sum(isinstance(m, torch.nn.ReLU) for m in model.G.modules()) == 2
    maxouts = [m for m in model.D.modules() if isinstance(m, Maxout)]
    assert [(m.linear.in_features, m.units, m.pieces) for m in maxouts] == [(784, 240, 5), (240, 240, 5)]
    drops = [m.p for m in model.D.modules() if isinstance(m, torch.nn.Dropout)]
    assert drops == [0.2, 0.5, 0.5]
    # a maxout unit is the max over its pieces
    m = Maxout(3, 2, 4)
    x = torch.randn(5, 3)
    assert torch.equal(m(x), m.linear(x).view(5, 2, 4).max(dim=2).values)


@pytest.mark.parametrize("name", ["gan", "cgan"])
def test_generator_output_bias_starts_from_the_data_marginals(name: str) -> None:
    """The authors' initialisation (ganzoo.nn.mlp, shared by gan and cgan): G's sigmoid bias = logit(pixel
    means), once, at the first D step."""
    from conftest import builtin_plugin

    builtin_plugin(name)
    model = tiny_model(name)
    batch = model.impl.example_batch(model, 6) if name == "cgan" else {"image": torch.tanh(torch.randn(6, 1, 8, 8))}
    out_layer = model.G.main[-1] if name == "gan" else model.G.joint[-1]
    assert float(model.G.bias_from_data) == 0 and torch.equal(out_layer.bias, torch.zeros_like(out_layer.bias))
    model.impl.discriminator_loss(model, dict(batch))
    p = ((batch["image"] + 1) / 2).flatten(1).mean(0).clamp(1e-3, 1 - 1e-3)
    assert torch.allclose(out_layer.bias, torch.log(p / (1 - p)), atol=1e-5)
    assert float(model.G.bias_from_data) == 1
    first = out_layer.bias.clone()
    model.impl.discriminator_loss(model, {**batch, "image": -torch.ones(6, 1, 8, 8)})  # only once
    assert torch.equal(out_layer.bias, first)
    # a fresh G then draws the mean image (up to the other layers' small random weights)
    model.eval()
    mean_image = model.sample(4, seed=0) if name == "gan" else model.sample(condition=[0, 1, 2, 0], seed=0)
    assert torch.allclose(mean_image, (2 * p - 1).view(1, 1, 8, 8).expand_as(mean_image), atol=0.15)
    off = tiny_model(name, g_bias_from_data=False)
    off.impl.discriminator_loss(off, dict(batch))
    assert float(off.G.bias_from_data) == 0


def test_unconditional_models_refuse_a_condition(tmp_path: Path) -> None:
    labels = torch.tensor([1, 2])
    gan = tiny_model("gan").eval()
    raises_one_line(UsageError, gan.sample, 2, condition=labels, match="unconditional")
    raises_one_line(UsageError, gan.impl.generate, gan, torch.zeros(2, 8), condition=labels, match="unconditional")
    raises_one_line(UsageError, gan.impl.discriminate, gan, torch.zeros(2, 1, 8, 8), condition=labels, match="unconditional")
    # the same through the CLI: one line, no traceback
    from ganzoo.cli import cli

    folder = gan.save_pretrained(tmp_path / "gan")
    result = CliRunner().invoke(cli, ["sample", str(folder), "--condition", "3", "-n", "4", "-o",
                                      str(tmp_path / "x.png"), "--device", "cpu"])
    assert result.exit_code == 1 and "unconditional" in result.output and "Traceback" not in result.output
    # the reconstruction models read a "condition" as images to reconstruct, and say so
    vae = tiny_model("vae").eval()
    raises_one_line(UsageError, vae.sample, None, condition=labels, match="float image batch")
