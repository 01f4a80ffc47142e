"""StarGAN: the original's architecture and losses, the mask vector, sampling by domain, and bad input.

Tiny networks on the CPU; the shapes of the paper's full-size networks are checked on the meta device.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from torch import nn

import ganzoo
from ganzoo.cli import cli
from ganzoo.errors import ConfigError, DataError, UsageError

torch.set_num_threads(1)

NAMES = ["red", "green", "blue"]
TINY = dict(image_size=16, channels=3, num_domains=3, g_conv_dim=4, d_conv_dim=4, g_repeat_num=1, d_repeat_num=2)


@pytest.fixture
def model():
    return ganzoo.build("stargan", seed=0, domain_names=NAMES, **TINY)


def _images(n: int, size: int = 16, channels: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# -- the paper's networks ----------------------------------------------------------------------------------------


def test_full_size_networks_match_the_original() -> None:
    """128² RGB, 5 domains: the parameter counts the original code prints, and its output shapes."""
    from ganzoo_stargan.model import Discriminator, Generator

    with torch.device("meta"):
        g, d = Generator(3, 5, 64, 6), Discriminator(128, 3, 5, 64, 6)
        src, cls = d(torch.empty(2, 3, 128, 128))
        out = g(torch.empty(2, 3, 128, 128), torch.empty(2, 5))
    assert sum(p.numel() for p in g.parameters()) == 8_430_528
    assert sum(p.numel() for p in d.parameters()) == 44_762_048
    assert src.shape == (2, 1, 2, 2) and cls.shape == (2, 5) and out.shape == (2, 3, 128, 128)
    assert g.main[0].weight.shape == (64, 3 + 5, 7, 7)  # the domain code enters as 5 extra input channels
    norms = [m for m in g.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert norms and all(m.affine and not m.track_running_stats for m in norms)
    assert not any(isinstance(m, (nn.InstanceNorm2d, nn.BatchNorm2d)) for m in d.modules())


def test_paper_hyper_parameters_are_the_defaults() -> None:
    from ganzoo_stargan.model import StarGAN, StarGANConfig

    cfg = StarGANConfig()
    assert (cfg.lambda_cls, cfg.lambda_rec, cfg.lambda_gp) == (1.0, 10.0, 10.0)
    assert (cfg.lr, cfg.lr_d, cfg.beta1, cfg.beta2) == (1e-4, 1e-4, 0.5, 0.999)
    assert (cfg.image_size, cfg.g_conv_dim, cfg.g_repeat_num, cfg.d_repeat_num) == (128, 64, 6, 6)
    assert StarGAN.train_defaults == {"batch_size": 16, "d_steps": 5, "lr_schedule": "linear_decay",
                                      "decay_start": 0.5}


def test_the_target_code_is_tiled_onto_the_input(model) -> None:
    """G's input = image channels then the one-hot target code, constant over the image."""
    from ganzoo_stargan.model import domain_code

    seen = {}
    model.G.main[0].register_forward_hook(lambda m, args, out: seen.update(x=args[0]))
    x = _images(2)
    model.G(x, domain_code(model.config, torch.tensor([2, 0])))
    inp = seen["x"]
    assert inp.shape == (2, 3 + 3, 16, 16) and torch.equal(inp[:, :3], x)
    assert torch.equal(inp[0, 3:, 5, 7], torch.tensor([0.0, 0.0, 1.0]))
    assert bool((inp[1, 3:].std(dim=(1, 2)) == 0).all())


# -- losses ------------------------------------------------------------------------------------------------------


class _LinearCritic(nn.Module):
    """D_src(x) = <w, x> (gradient w everywhere), D_cls fixed: the penalty is (‖w‖ - 1)² exactly."""

    def __init__(self, w: torch.Tensor, k: int) -> None:
        super().__init__()
        self.w = nn.Parameter(w)
        self.k = k

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (x * self.w).flatten(1).sum(1)[:, None, None, None], torch.zeros(x.shape[0], self.k) + 0 * self.w.sum()


@pytest.mark.parametrize("norm, expected", [(1.0, 0.0), (3.0, 4.0)])
def test_gradient_penalty_is_wgan_gp(model, norm: float, expected: float) -> None:
    w = torch.randn(3, 16, 16)
    model.components["D"] = _LinearCritic(w / w.norm() * norm, 3)
    losses = model.impl.discriminator_loss(model, {"image": _images(4), "label": torch.tensor([0, 1, 2, 0])})
    assert losses["d_gp"].item() == pytest.approx(10.0 * expected, abs=1e-3)
    assert set(losses) == {"d_real", "d_fake", "d_cls", "d_gp", "d_cls_acc"}


def test_generator_loss_terms(model) -> None:
    """g_rec is λ_rec·L1(G(G(x, c), c'), x) with c' the source domains; g_cls is CE towards the targets."""
    from ganzoo_stargan.model import domain_code

    x, labels = _images(4), torch.tensor([0, 1, 2, 2])
    target = torch.tensor([1, 1, 0, 2])
    losses = model.impl.generator_loss(model, {"image": x, "label": labels, "_target": target})
    cfg = model.config
    fake = model.G(x, domain_code(cfg, target))
    rec = model.G(fake, domain_code(cfg, labels))
    assert losses["g_rec"].item() == pytest.approx(10 * (rec - x).abs().mean().item(), rel=1e-5)
    _, cls = model.D(fake)
    assert losses["g_cls"].item() == pytest.approx(torch.nn.functional.cross_entropy(cls, target).item(), rel=1e-5)
    assert losses["g_fake"].item() == pytest.approx(-model.D(fake)[0].mean().item(), rel=1e-5)


def test_targets_shuffle_the_batch_labels(model) -> None:
    labels = torch.tensor([0, 0, 1, 2, 2, 2, 1, 0])
    target = model.impl._targets(model, labels)
    assert sorted(target.tolist()) == sorted(labels.tolist())


# -- the mask vector ---------------------------------------------------------------------------------------------


def test_mask_vector_for_two_label_sets() -> None:
    from ganzoo_stargan.model import domain_code

    m = ganzoo.build("stargan", **{**TINY, "num_domains": 5, "domain_groups": [2, 3]})
    cfg = m.config
    assert cfg.code_dim == 7 and m.G.main[0].weight.shape[1] == 3 + 7
    code = domain_code(cfg, torch.tensor([1, 3]))
    assert code.tolist() == [[0, 1, 0, 0, 0, 1, 0], [0, 0, 0, 1, 0, 0, 1]]
    # targets stay in each image's own label set
    labels = torch.tensor([0, 1, 2, 3, 4, 4, 0, 2])
    target = m.impl._targets(m, labels)
    assert (cfg.group_of()[target] == cfg.group_of()[labels]).all()
    # the classification loss ignores the other set's logits
    logits = torch.zeros(2, 5)
    base = m.impl._cls_loss(m, logits, torch.tensor([0, 3]))
    logits[0, 2:] = 50.0  # another set's logits of image 0
    logits[1, :2] = 50.0
    assert m.impl._cls_loss(m, logits, torch.tensor([0, 3])).item() == pytest.approx(base.item())
    out = m.sample(condition=_images(2), domain=[4, 1])
    assert out.shape == (2, 3, 16, 16)


def test_bad_configs() -> None:
    with pytest.raises(ConfigError, match="domain_groups"):
        ganzoo.build("stargan", **{**TINY, "domain_groups": [1, 1]})
    with pytest.raises(ConfigError, match="multiple of 2\\*\\*d_repeat_num"):
        ganzoo.build("stargan", **{**TINY, "image_size": 18})
    with pytest.raises(ConfigError, match="domain_names has 2 names"):
        ganzoo.build("stargan", **{**TINY, "domain_names": ["a", "b"]})


# -- sampling and bad input --------------------------------------------------------------------------------------


def test_domain_by_index_name_list_and_tensor(model) -> None:
    x = _images(3)
    by_name = model.sample(condition=x, domain="blue")
    assert torch.equal(by_name, model.sample(condition=x, domain=2))
    assert torch.equal(by_name, model.sample(condition=x, domain=torch.tensor([2, 2, 2])))
    mixed = model.sample(condition=x, domain=["red", 1, "blue"])
    assert torch.equal(mixed[2], by_name[2]) and not torch.equal(mixed[0], by_name[0])


def test_any_size_input(model) -> None:
    out = model.sample(condition=_images(1, size=24)[:, :, :13, :22], domain=0)
    assert out.shape == (1, 3, 13, 22) and out.abs().max() <= 1


def test_own_source_domain_is_the_identity(model) -> None:
    x = _images(2)
    out = model.sample(condition=x, domain=["green", "blue"], source_domain=["green", "red"])
    assert torch.equal(out[0], x[0])  # asked for its own domain: unchanged
    assert torch.allclose(out[1], model.sample(condition=x[1:], domain="blue")[0], atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    (dict(domain="purple"), "unknown domain 'purple' for stargan; domains: red, green, blue (indices 0–2)"),
    (dict(domain="gren"), "did you mean green"),
    (dict(domain=3), "domain index 3 is out of range: stargan has 3 domains: red, green, blue"),
    (dict(domain=-1), "domain index -1 is out of range"),
    (dict(domain=[0, 1]), "domain has 2 entries for 3 images"),
    (dict(domain=torch.tensor([0.0, 1.0, 2.0])), "1-D integer tensor"),
    (dict(), "give domain=NAME|INDEX"),
    (dict(domain="all"), "--domain all"),
    (dict(domain=0, source_domain="pink"), "unknown source_domain 'pink'"),
])
def test_bad_domains_are_one_line_errors(model, kwargs: dict, message: str) -> None:
    with pytest.raises(UsageError) as err:
        model.sample(condition=_images(3), **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_wrong_channel_count(model) -> None:
    with pytest.raises(UsageError, match="takes 3-channel images, got 1 channels"):
        model.sample(condition=_images(2, channels=1), domain=0)


# -- data and the CLI --------------------------------------------------------------------------------------------


def test_dataset_follows_domain_names(model, tmp_path: Path) -> None:
    root = model.task.write_dataset(tmp_path / "data", model.config, n=6)
    assert sorted(p.name for p in root.iterdir()) == sorted(NAMES)
    ds = model.impl.make_dataset(model, root)
    assert ds.classes == NAMES and ds.flip  # the config's order, random flips (the original's augmentation)
    (root / "blue").rename(root / "cyan")
    with pytest.raises(DataError, match="no folder for the domain\\(s\\) blue"):
        model.impl.make_dataset(model, root)


def test_cli_domain_all_and_bad_domains(model, tmp_path: Path) -> None:
    folder = model.save_pretrained(tmp_path / "m")
    Image.new("RGB", (16, 16), (200, 30, 30)).save(tmp_path / "in.png")
    run = CliRunner().invoke
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "in.png"), "--domain", "all",
                    "-o", str(tmp_path / "rows.png")])
    assert res.exit_code == 0, res.output
    assert Image.open(tmp_path / "rows.png").size == (4 * 16 + 5 * 2, 16 + 2 * 2)  # input + a column per domain
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "in.png"), "--domain", "blue",
                    "-o", str(tmp_path / "b.png")])
    assert res.exit_code == 0 and Image.open(tmp_path / "b.png").size == (16, 16)
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "in.png"), "--domain", "purple",
                    "-o", str(tmp_path / "p.png")])
    assert res.exit_code == 1 and "unknown domain 'purple'" in res.output and "red, green, blue" in res.output
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "in.png"), "--domain", "7",
                    "-o", str(tmp_path / "p.png")])
    assert res.exit_code == 1 and "domain index 7 is out of range" in res.output
    assert not (tmp_path / "p.png").exists()


def test_trains_on_a_folder(model, tmp_path: Path) -> None:
    """Two trainer steps of 5 critic updates + 1 G update on the task's layout; the folder loads back."""
    root = model.task.write_dataset(tmp_path / "data", model.config, n=6)
    out = tmp_path / "run"
    trained = ganzoo.train(ganzoo.build("stargan", domain_names=NAMES, **TINY), str(root), out=out, max_steps=2,
                           batch_size=2, progress=False, sample_every=0, checkpoint_every=0)
    assert trained is not None
    back = ganzoo.load(str(out))
    assert back.config.domain_names == tuple(NAMES)
    assert back.sample(condition=_images(1), domain="green").shape == (1, 3, 16, 16)
