"""The cgan plugin: conformance on its variants, and the facts its paper fixes (Mirza & Osindero: the condition
reaches G and D; projection discriminator (Miyato & Koyama); labels and attribute vectors)."""

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
    {'discriminator': 'projection', 'optimizer': 'adam', 'lr': 0.0002, 'beta1': 0.0, 'beta2': 0.9},
])
def test_cgan_conforms(overrides: dict | None, tmp_path: Path) -> None:
    report = check_plugin("cgan", tmp_path=tmp_path, overrides=overrides)
    assert report.passed[-1] == "card"


def test_cgan_with_attribute_vectors_conforms(tmp_path: Path) -> None:
    # the kit's synthetic data are class folders, so the trainer part is checked on an attributes.csv below
    report = check_plugin("cgan", tmp_path=tmp_path, train=False, overrides={"condition": "attributes",
                                                                              "num_attributes": 3})
    assert "round trip" in report.passed


@pytest.mark.parametrize("disc", ["concat", "projection"])
def test_cgan_condition_reaches_generator_and_discriminator(disc: str) -> None:
    model = tiny_model("cgan", discriminator=disc, d_init_range=0.5, g_init_range=0.5).eval()
    x = torch.tanh(torch.randn(4, 1, 8, 8))
    d0 = model.impl.discriminate(model, x, condition=torch.tensor([0, 0, 0, 0]))
    d1 = model.impl.discriminate(model, x, condition=torch.tensor([1, 1, 1, 1]))
    assert not torch.allclose(d0, d1)
    z = model.impl.latent(model, 4, seed=0)
    g0 = model.impl.generate(model, z, condition=torch.zeros(4, dtype=torch.long))
    g1 = model.impl.generate(model, z, condition=torch.full((4,), 2))
    assert not torch.allclose(g0, g1)
    # in training, D's loss sees the batch's labels
    model.train()
    batch = model.impl.example_batch(model, 4)
    torch.manual_seed(0)
    a = model.impl.discriminator_loss(model, dict(batch))["d_real"]
    torch.manual_seed(0)
    b = model.impl.discriminator_loss(model, {**batch, "label": (batch["label"] + 1) % 3})["d_real"]
    assert a.item() != pytest.approx(b.item())


def test_cgan_projection_discriminator_is_the_papers() -> None:
    from ganzoo_cgan.model import ProjectionDiscriminator

    model = tiny_model("cgan", discriminator="projection")
    d = model.D
    assert isinstance(d, ProjectionDiscriminator) and model.config.adversarial_loss == "hinge"
    assert tiny_model("cgan").config.adversarial_loss == "vanilla"
    layers = [d.phi[0].linear, d.phi[1].linear, d.psi, d.embed]
    assert all(hasattr(m, "parametrizations") for m in layers)  # spectral norm everywhere, V included
    for _ in range(30):  # power iterations run in training-mode forwards
        d(torch.randn(8, 1, 8, 8), torch.eye(3)[torch.randint(0, 3, (8,))])
    d.eval()
    for m in layers:
        assert torch.linalg.matrix_norm(m.weight, ord=2).item() == pytest.approx(1.0, abs=0.05)
    # D(x, y) = ψ(φ(x)) + yᵀ V φ(x)
    x, y = torch.randn(5, 1, 8, 8), torch.tensor([0, 1, 2, 1, 0])
    onehot = torch.eye(3)[y]
    phi = d.phi((x.flatten(1) + 1) * 0.5)  # D reads intensities in [0, 1]
    expected = d.psi(phi).flatten() + ((onehot @ d.embed.weight.T) * phi).sum(1)
    assert torch.allclose(d(x, onehot), expected, atol=1e-5)
    # the hinge loss: D's terms are relu(1 ∓ logit)
    model.train()
    losses = model.impl.discriminator_loss(model, model.impl.example_batch(model, 4))
    assert losses["d_real"].item() >= 0 and losses["d_fake"].item() >= 0


def test_cgan_architecture_is_the_papers() -> None:
    from ganzoo_cgan.model import ConcatDiscriminator

    model = ganzoo.build("cgan", seed=0)
    g = model.G
    assert (g.z_path[0].in_features, g.z_path[0].out_features) == (100, 200)
    assert (g.y_path[0].in_features, g.y_path[0].out_features) == (10, 1000)
    assert (g.joint[0].in_features, g.joint[0].out_features, g.joint[-1].out_features) == (1200, 1200, 784)
    d = model.D
    assert isinstance(d, ConcatDiscriminator)
    assert (d.x_path[1].units, d.x_path[1].pieces, d.y_path[0].units, d.y_path[0].pieces) == (240, 5, 50, 5)
    assert [m.p for m in d.modules() if isinstance(m, torch.nn.Dropout)] == [0.2, 0.5, 0.5, 0.5]
    assert (d.joint[0].units, d.joint[0].pieces) == (240, 4)
    # G's noise is uniform on the unit hypercube: Φ(ε) for the Gaussian codes latent() returns
    u = model.impl._g_input(model, torch.randn(20_000, 100))
    assert 0 <= u.min() and u.max() <= 1 and u.mean().item() == pytest.approx(0.5, abs=0.01)
    assert u.var().item() == pytest.approx(1 / 12, rel=0.03)


@pytest.mark.parametrize("condition, n, match", [
    (torch.tensor([0, 3]), None, r"labels 3 are out of range: this model has classes 0..2"),
    (torch.tensor([-1]), None, "out of range"),
    (torch.tensor([[0], [1]]), None, r"shape \(N,\), got \(2, 1\)"),
    (torch.eye(3)[[0, 1]].long(), None, "one-hot rows"),
    (torch.tensor([0.0, 1.0]), None, "must be integers 0..2, got a torch.float32 tensor"),
    (torch.tensor([0, 1, 2]), 5, "n=5 but 3 condition"),
    ("2", None, "must be numbers"),
])
def test_cgan_bad_labels_are_one_line_usage_errors(condition, n, match: str) -> None:
    model = tiny_model("cgan").eval()
    raises_one_line(UsageError, model.sample, n, condition=condition, match=match)


def test_cgan_labels_accepted_forms() -> None:
    model = tiny_model("cgan").eval()
    assert model.sample(condition=[0, 1, 2, 2], seed=0).shape == (4, 1, 8, 8)
    assert torch.equal(model.sample(3, condition=2, seed=0), model.sample(condition=torch.tensor([2, 2, 2]), seed=0))
    assert model.sample(5, seed=0).shape == (5, 1, 8, 8)  # labels 0, 1, 2, 0, 1
    raises_one_line(UsageError, model.impl.discriminate, model, torch.zeros(2, 1, 8, 8), match="judges")


def test_cgan_cli_rejects_out_of_range_labels(tmp_path: Path) -> None:
    from ganzoo.cli import cli

    folder = tiny_model("cgan").save_pretrained(tmp_path / "cgan")
    result = CliRunner().invoke(cli, ["sample", str(folder), "--condition", "0,7", "-o", str(tmp_path / "x.png"),
                                      "--device", "cpu"])
    assert result.exit_code == 1 and "labels 7 are out of range" in result.output
    assert "Traceback" not in result.output
    good = CliRunner().invoke(cli, ["sample", str(folder), "--condition", "all", "-n", "4", "-o",
                                    str(tmp_path / "all.png"), "--device", "cpu"])
    assert good.exit_code == 0, good.output


def test_cgan_attribute_vectors(tmp_path: Path) -> None:
    from PIL import Image

    from ganzoo.training import train

    model = tiny_model("cgan", condition="attributes", num_attributes=3).eval()
    attrs = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    assert model.sample(condition=attrs, seed=0).shape == (2, 1, 8, 8)
    z = model.impl.latent(model, 2, seed=0)
    assert not torch.allclose(model.impl.generate(model, z, condition=attrs),
                              model.impl.generate(model, z, condition=attrs.flip(0)))
    raises_one_line(UsageError, model.sample, None, condition=torch.tensor([0, 1]), match=r"shape \(N, 3\)")
    raises_one_line(UsageError, model.sample, 4, match="needs condition")
    raises_one_line(UsageError, model.sample, None, condition=torch.tensor([[0.0, float("nan"), 1.0]]), match="finite")

    # training data: images + attributes.csv
    data = tmp_path / "attrs"
    data.mkdir()
    rows = ["file,smile,glasses,hat"]
    for i in range(6):
        Image.fromarray((torch.rand(8, 8) * 255).byte().numpy()).save(data / f"{i}.png")
        rows.append(f"{i}.png,{i % 2},{(i // 2) % 2},1")
    (data / "attributes.csv").write_text("\n".join(rows) + "\n")
    ds = model.impl.make_dataset(model, data)
    assert len(ds) == 6 and ds.attributes == ["smile", "glasses", "hat"]
    assert torch.equal(ds[3]["label"], torch.tensor([1.0, 1.0, 1.0])) and ds[3]["image"].shape == (1, 8, 8)
    fresh = tiny_model("cgan", condition="attributes", num_attributes=3)
    trained = train(fresh, data, out=tmp_path / "run", max_steps=2, batch_size=2, sample_every=0,
                    checkpoint_every=0, sample_n=4, progress=False)
    assert (tmp_path / "run" / "samples" / "final.png").is_file()
    assert trained.sample(condition=attrs).shape == (2, 1, 8, 8)
    # a CSV with the wrong number of columns is a data error naming the fix
    from ganzoo.errors import DataError

    with pytest.raises(DataError, match="num_attributes=3"):
        tiny_model("cgan", condition="attributes", num_attributes=2).impl.make_dataset(
            tiny_model("cgan", condition="attributes", num_attributes=2), data)
