"""The seed's generation family — gan, autoencoder, vae, cgan, stackgan: conformance, and the facts each paper
(or, for the auto-encoder, the seed's contrast) fixes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import ganzoo
from ganzoo import registry
from ganzoo.errors import ConfigError, UsageError
from ganzoo.hub import load_model_folder
from ganzoo.testing import check_plugin

FAMILY = ("gan", "autoencoder", "vae", "cgan", "stackgan")


def tiny(name: str, **overrides):
    """A tiny model of a plugin (its spec's tiny_config plus overrides), seed 0."""
    spec = registry.get_plugin(name)
    return ganzoo.build(name, seed=0, **{**dict(spec.tiny_config), **overrides})


def one_line_usage_error(fn, *args, match: str, **kwargs) -> str:
    with pytest.raises(UsageError, match=match) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg and len(msg) < 300, msg
    return msg


# -- conformance ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, overrides", [
    ("gan", None),
    ("gan", {"generator_loss_type": "minimax", "optimizer": "adam", "lr": 2e-4}),
    ("autoencoder", None),
    ("vae", None),
    ("vae", {"likelihood": "gaussian", "beta": 4.0}),
    ("cgan", None),
    ("cgan", {"discriminator": "projection", "optimizer": "adam", "lr": 2e-4, "beta1": 0.0, "beta2": 0.9}),
])
def test_family_conforms(name: str, overrides: dict | None, tmp_path: Path) -> None:
    report = check_plugin(name, tmp_path=tmp_path, overrides=overrides)
    assert report.passed[-1] == "card"


def test_cgan_with_attribute_vectors_conforms(tmp_path: Path) -> None:
    # the kit's synthetic data are class folders, so the trainer part is checked on an attributes.csv below
    report = check_plugin("cgan", tmp_path=tmp_path, train=False, overrides={"condition": "attributes",
                                                                              "num_attributes": 3})
    assert "round trip" in report.passed


@pytest.fixture(scope="module")
def stage1_run(tmp_path_factory) -> Path:
    """A stage-I StackGAN run folder (two trainer steps), from the conformance kit."""
    root = tmp_path_factory.mktemp("stackgan-s1")
    check_plugin("stackgan", tmp_path=root)
    return root / "run"


def test_stackgan_conforms_in_both_stages(stage1_run: Path, tmp_path: Path) -> None:
    report = check_plugin("stackgan", tmp_path=tmp_path, overrides={"stage": 2, "stage1_from": str(stage1_run)})
    assert report.passed[-1] == "card"


# -- gan: the two generator losses ------------------------------------------------------------------------------


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
        model = tiny("gan", generator_loss_type=kind, d_input_dropout=0.0, d_dropout=0.0)
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
    """The authors' initialisation: G's sigmoid bias = logit(pixel means), once, at the first D step."""
    model = tiny(name)
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
    off = tiny(name, g_bias_from_data=False)
    off.impl.discriminator_loss(off, dict(batch))
    assert float(off.G.bias_from_data) == 0


def test_unconditional_models_refuse_a_condition(tmp_path: Path) -> None:
    labels = torch.tensor([1, 2])
    gan = tiny("gan").eval()
    one_line_usage_error(gan.sample, 2, condition=labels, match="unconditional")
    one_line_usage_error(gan.impl.generate, gan, torch.zeros(2, 8), condition=labels, match="unconditional")
    one_line_usage_error(gan.impl.discriminate, gan, torch.zeros(2, 1, 8, 8), condition=labels, match="unconditional")
    # the same through the CLI: one line, no traceback
    from ganzoo.cli import cli

    folder = gan.save_pretrained(tmp_path / "gan")
    result = CliRunner().invoke(cli, ["sample", str(folder), "--condition", "3", "-n", "4", "-o",
                                      str(tmp_path / "x.png"), "--device", "cpu"])
    assert result.exit_code == 1 and "unconditional" in result.output and "Traceback" not in result.output
    # the reconstruction models read a "condition" as images to reconstruct, and say so
    vae = tiny("vae").eval()
    one_line_usage_error(vae.sample, None, condition=labels, match="float image batch")


# -- autoencoder: the fitted Gaussian ----------------------------------------------------------------------------


def test_autoencoder_fits_a_gaussian_to_the_training_codes_and_keeps_it(tmp_path: Path) -> None:
    model = tiny("autoencoder", code_momentum=0.5)
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
    one_line_usage_error(loaded.sample, 2, condition=a[:3], match="n=2 but 3 images")
    one_line_usage_error(loaded.sample, None, condition=torch.zeros(3, 1, 9, 9), match=r"shape \(N, 1, 8, 8\)")


def test_autoencoder_a_fresh_model_samples_the_standard_normal() -> None:
    model = tiny("autoencoder").eval()
    mean, cov = model.G.code_gaussian()
    assert torch.equal(mean, torch.zeros(3, dtype=torch.float64)) and torch.equal(cov, torch.eye(3, dtype=torch.float64))


# -- vae: the ELBO -----------------------------------------------------------------------------------------------


def test_vae_kl_closed_form_matches_monte_carlo() -> None:
    from ganzoo_vae.model import gaussian_kl

    g = torch.Generator().manual_seed(0)
    mu = torch.randn(3, 4, generator=g, dtype=torch.float64)
    logvar = torch.randn(3, 4, generator=g, dtype=torch.float64) * 0.5
    closed = gaussian_kl(mu, logvar).double()
    std = torch.exp(0.5 * logvar)
    z = mu + std * torch.randn(200_000, 3, 4, generator=g, dtype=torch.float64)
    log_q = (-0.5 * ((z - mu) / std) ** 2 - torch.log(std) - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_p = (-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)).sum(-1)
    mc = (log_q - log_p).mean(0)
    assert torch.allclose(closed, mc, rtol=0.03, atol=0.01), (closed, mc)
    assert torch.equal(gaussian_kl(torch.zeros(2, 5), torch.zeros(2, 5)), torch.zeros(2))


def test_vae_elbo_terms_and_beta() -> None:
    from ganzoo_vae.model import bernoulli_nll, gaussian_kl

    x = torch.tanh(torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(1)))
    out = {}
    for beta in (1.0, 3.0):
        model = tiny("vae", beta=beta)
        torch.manual_seed(5)  # the reparameterisation noise (the trainer's step noise in training)
        out[beta] = model.impl.train_step(model, {"image": x}, 0)
    assert out[1.0]["nll"].item() == pytest.approx(out[3.0]["nll"].item())
    assert out[3.0]["kl_term"].item() == pytest.approx(3 * out[1.0]["kl_term"].item(), rel=1e-6)
    assert out[3.0]["kl"].item() == pytest.approx(out[1.0]["kl"].item())
    assert out[1.0]["elbo"].item() == pytest.approx(-(out[1.0]["nll"] + out[1.0]["kl"]).item(), rel=1e-6)
    assert not out[1.0]["elbo"].requires_grad and out[1.0]["kl_term"].requires_grad

    # the terms as the paper writes them: z = μ + σ ε; −log p(x|z) Bernoulli; closed-form KL
    model = tiny("vae")
    eps = torch.randn(6, 3)
    terms = model.impl.elbo_terms(model, x, eps)
    mu, logvar = model.E(x)
    z = mu + torch.exp(0.5 * logvar) * eps
    p = torch.sigmoid(model.G(z, params=True))
    t = (x + 1) / 2
    manual = -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).flatten(1).sum(1)
    assert torch.allclose(terms["nll"], manual, rtol=1e-4)
    assert torch.allclose(terms["nll"], bernoulli_nll(model.G(z, params=True), t))
    assert torch.allclose(terms["kl"], gaussian_kl(mu, logvar))
    # samples decode z ~ N(0, I); reconstructions decode the posterior mean
    model.eval()
    assert torch.equal(model.sample(4, seed=2), model.G(model.impl.latent(model, 4, seed=2)))
    assert torch.equal(model.sample(condition=x), model.G(model.E(x)[0]))


def test_vae_gaussian_likelihood_bounds_the_variance() -> None:
    model = tiny("vae", likelihood="gaussian", min_logvar=-4.0)
    with torch.no_grad():
        for p in model.G.parameters():
            p.fill_(-50.0)
    _, logvar = model.G(torch.zeros(2, 3), params=True)
    assert logvar.min().item() >= -4.0 - 1e-6


# -- cgan: the condition reaches G and D; projection; bad input ---------------------------------------------------


@pytest.mark.parametrize("disc", ["concat", "projection"])
def test_cgan_condition_reaches_generator_and_discriminator(disc: str) -> None:
    model = tiny("cgan", discriminator=disc, d_init_range=0.5, g_init_range=0.5).eval()
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

    model = tiny("cgan", discriminator="projection")
    d = model.D
    assert isinstance(d, ProjectionDiscriminator) and model.config.adversarial_loss == "hinge"
    assert tiny("cgan").config.adversarial_loss == "vanilla"
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
    model = tiny("cgan").eval()
    one_line_usage_error(model.sample, n, condition=condition, match=match)


def test_cgan_labels_accepted_forms() -> None:
    model = tiny("cgan").eval()
    assert model.sample(condition=[0, 1, 2, 2], seed=0).shape == (4, 1, 8, 8)
    assert torch.equal(model.sample(3, condition=2, seed=0), model.sample(condition=torch.tensor([2, 2, 2]), seed=0))
    assert model.sample(5, seed=0).shape == (5, 1, 8, 8)  # labels 0, 1, 2, 0, 1
    one_line_usage_error(model.impl.discriminate, model, torch.zeros(2, 1, 8, 8), match="judges")


def test_cgan_cli_rejects_out_of_range_labels(tmp_path: Path) -> None:
    from ganzoo.cli import cli

    folder = tiny("cgan").save_pretrained(tmp_path / "cgan")
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

    model = tiny("cgan", condition="attributes", num_attributes=3).eval()
    attrs = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    assert model.sample(condition=attrs, seed=0).shape == (2, 1, 8, 8)
    z = model.impl.latent(model, 2, seed=0)
    assert not torch.allclose(model.impl.generate(model, z, condition=attrs),
                              model.impl.generate(model, z, condition=attrs.flip(0)))
    one_line_usage_error(model.sample, None, condition=torch.tensor([0, 1]), match=r"shape \(N, 3\)")
    one_line_usage_error(model.sample, 4, match="needs condition")
    one_line_usage_error(model.sample, None, condition=torch.tensor([[0.0, float("nan"), 1.0]]), match="finite")

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
    fresh = tiny("cgan", condition="attributes", num_attributes=3)
    trained = train(fresh, data, out=tmp_path / "run", max_steps=2, batch_size=2, sample_every=0,
                    checkpoint_every=0, sample_n=4, progress=False)
    assert (tmp_path / "run" / "samples" / "final.png").is_file()
    assert trained.sample(condition=attrs).shape == (2, 1, 8, 8)
    # a CSV with the wrong number of columns is a data error naming the fix
    from ganzoo.errors import DataError

    with pytest.raises(DataError, match="num_attributes=3"):
        tiny("cgan", condition="attributes", num_attributes=2).impl.make_dataset(
            tiny("cgan", condition="attributes", num_attributes=2), data)


# -- stackgan: two stages ----------------------------------------------------------------------------------------


def test_stackgan_stage_sizes_and_sampling() -> None:
    model = tiny("stackgan").eval()  # image_size 32: stage I at 8×8
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
    one_line_usage_error(model.sample, None, condition=labels, stage=3, match="stage must be 1")
    one_line_usage_error(model.sample, None, condition=torch.tensor([0, 5]), match="labels 5 are out of range")
    one_line_usage_error(model.sample, None, condition=torch.tensor([0.5]), match="must be integers")
    one_line_usage_error(model.sample, 4, condition=labels, match="n=4 but 3 labels")
    assert model.impl.discriminate(model, s2, condition=labels).shape == (3,)
    assert model.impl.discriminate(model, s1, condition=labels).shape == (3,)


def test_stackgan_conditioning_augmentation() -> None:
    from ganzoo_stackgan.model import gaussian_kl

    model = tiny("stackgan", kl_weight=2.0)
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
    model = tiny("stackgan")
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
    fresh = tiny("stackgan")
    # stage 1 trained G1/D1 only: G2/D2 are still their fresh (seed 0) weights
    for name in ("G2", "D2"):
        assert all(torch.equal(a, b) for a, b in zip(s1.components[name].state_dict().values(),
                                                      fresh.components[name].state_dict().values()))
    assert not all(torch.equal(a, b) for a, b in zip(s1.G1.state_dict().values(), fresh.G1.state_dict().values()))

    data = write_dataset("class-conditional", tmp_path / "data", fresh.config, n=8)
    model = tiny("stackgan", stage=2, stage1_from=str(stage1_run))
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
        tiny("stackgan", stage=2)
    other = tiny("stackgan", stage=2, stage1_from=str(stage1_run), ngf=8)
    with pytest.raises(ConfigError, match=r"ngf=4 \(here 8\)"):
        other.impl.configure_optimizers(other)
    missing = tiny("stackgan", stage=2, stage1_from=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="No such model folder"):
        missing.impl.configure_optimizers(missing)
    gan_folder = tiny("gan").save_pretrained(tmp_path / "gan")
    wrong = tiny("stackgan", stage=2, stage1_from=str(gan_folder))
    with pytest.raises(ConfigError, match="stage1_from"):
        wrong.impl.configure_optimizers(wrong)


# -- latent access and DRS hooks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FAMILY)
def test_latent_and_generate_reproduce_sample(name: str) -> None:
    from ganzoo import explore

    model = tiny(name).eval()
    cond = torch.tensor([0, 1, 2]) if name in ("cgan", "stackgan") else None
    z = model.impl.latent(model, 3, seed=4)
    kwargs = {} if cond is None else {"condition": cond}
    assert torch.equal(model.impl.generate(model, z, **kwargs), model.sample(3, seed=4, **kwargs))
    rows = explore.interpolate(model, rows=2, steps=3, seed=0)
    assert rows.shape[0] == 6 and rows.min() >= -1 and rows.max() <= 1
