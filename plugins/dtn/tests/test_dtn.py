"""DTN: the paper's digit networks and losses, the shipped encoder, one-way sampling, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.errors import ConfigError, IntegrityError, UsageError

torch.set_num_threads(1)

TINY = dict(encoder="none", f_dims=[4, 4, 4, 8], g_dim=4, d_dim=4)


@pytest.fixture
def model():
    return ganzoo.build("dtn", seed=0, **TINY)


def _batch(n: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"A": torch.rand(n, 3, 32, 32, generator=g) * 2 - 1, "B": torch.rand(n, 1, 32, 32, generator=g) * 2 - 1}


def test_paper_networks() -> None:
    """f: 4 conv layers (64, 128, 256, 128) each followed by max pooling and ReLU → 128-d; g: 4 transposed convs with
    batch norm + ReLU and a tanh output → 32×32; D: 4 convs with batch norm and ReLU → 3 logits."""
    from ganzoo_dtn.model import Decoder, Encoder, TernaryDiscriminator

    f, g, d = Encoder(3), Decoder(128, 1), TernaryDiscriminator(1)
    convs = [m for m in f.body if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 128]
    assert sum(isinstance(m, (nn.MaxPool2d, nn.AdaptiveMaxPool2d)) for m in f.body) == 4
    code = f(torch.zeros(2, 3, 32, 32))
    assert code.shape == (2, 128)
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in g.modules()) == 4 and isinstance(g.main[-1], nn.Tanh)
    assert g(code).shape == (2, 1, 32, 32)
    assert sum(isinstance(m, nn.Conv2d) for m in d.modules()) == 4 and d(torch.zeros(2, 1, 32, 32)).shape == (2, 3)


def test_paper_weights_are_the_defaults() -> None:
    from ganzoo_dtn.model import DTNConfig

    cfg = DTNConfig()
    assert (cfg.alpha, cfg.beta, cfg.gamma) == (15.0, 15.0, 0.0)
    assert (cfg.image_size, cfg.input_channels, cfg.output_channels, cfg.flip) == (32, 3, 1, False)


def test_the_shipped_encoder_is_fixed_and_pinned(tmp_path: Path, monkeypatch) -> None:
    from ganzoo_dtn import model as dtn

    m = ganzoo.build("dtn", g_dim=4, d_dim=4)
    assert not any(p.requires_grad for p in m.f.parameters())
    from safetensors.torch import load_file

    shipped = load_file(str(dtn.encoder_path("print-digits")))
    assert all(torch.equal(shipped[k], v) for k, v in m.f.state_dict().items())
    # only g and D are optimised
    opts = m.impl.configure_optimizers(m)
    owned = {id(p) for o in opts.values() for grp in o.param_groups for p in grp["params"]}
    assert not any(id(p) in owned for p in m.f.parameters())
    assert all(id(p) in owned for p in m.g.parameters()) and all(id(p) in owned for p in m.D.parameters())
    # a replaced weights file is refused
    fake = tmp_path / dtn.ENCODERS["print-digits"]["file"]
    fake.write_bytes(b"not the encoder")
    monkeypatch.setattr(dtn, "WEIGHTS", tmp_path)
    with pytest.raises(IntegrityError, match="reinstall ganzoo-dtn"):
        dtn.encoder_path("print-digits")


def test_a_meta_build_reads_no_encoder_file(monkeypatch) -> None:
    """The loader's shape check builds on the meta device: f stays unallocated and its file is not read (copying
    real tensors into meta parameters is a silent no-op that PyTorch warns about)."""
    import warnings

    from ganzoo_dtn import model as dtn

    from ganzoo.registry import get_plugin

    def refuse(name: str) -> Path:
        raise AssertionError("a meta build read the encoder file")

    monkeypatch.setattr(dtn, "encoder_path", refuse)
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("error")
        m = get_plugin("dtn").load_impl().build(dtn.DTNConfig(g_dim=4, d_dim=4))
    assert m.f.head.weight.is_meta and tuple(m.f.head.weight.shape) == (10, 128)


def test_the_shipped_encoder_reads_printed_digits() -> None:
    """The encoder classifies rendered printed digits (its pretraining task) — a check that the file is f."""
    from PIL import Image, ImageDraw, ImageFont

    from ganzoo.data import to_tensor

    font = ImageFont.truetype("DejaVuSans.ttf", 24) if _has_dejavu() else None
    if font is None:
        pytest.skip("DejaVu Sans is not installed")
    images = []
    for d in range(10):
        im = Image.new("RGB", (32, 32), (20, 40, 160))
        ImageDraw.Draw(im).text((16, 16), str(d), font=font, fill=(250, 220, 60), anchor="mm")
        images.append(to_tensor(im))
    m = ganzoo.build("dtn", g_dim=4, d_dim=4)
    with torch.no_grad():
        pred = m.f.logits(torch.stack(images)).argmax(1)
    assert (pred == torch.arange(10)).float().mean() >= 0.9


def _has_dejavu() -> bool:
    from PIL import ImageFont

    try:
        ImageFont.truetype("DejaVuSans.ttf", 10)
        return True
    except OSError:
        return False


def test_losses_are_the_papers(model) -> None:
    from ganzoo_dtn.model import total_variation

    batch = _batch()
    d = model.impl.discriminator_loss(model, dict(batch))
    assert set(d) == {"d_src_fake", "d_tgt_fake", "d_real"}
    s, t = batch["A"], batch["B"]
    with torch.no_grad():
        fs, ft = model.g(model.f(s)), model.g(model.f(t.expand(-1, 3, -1, -1)))
        ce = nn.functional.cross_entropy
        assert d["d_src_fake"].item() == pytest.approx(ce(model.D(fs), torch.zeros(4, dtype=torch.long)).item(), 1e-5)
        assert d["d_tgt_fake"].item() == pytest.approx(ce(model.D(ft), torch.ones(4, dtype=torch.long)).item(), 1e-5)
    g = model.impl.generator_loss(model, dict(batch))
    assert set(g) == {"g_gan_src", "g_gan_tgt", "const", "tid"}  # γ = 0: no TV term
    with torch.no_grad():
        const = nn.functional.mse_loss(model.f(fs.expand(-1, 3, -1, -1)), model.f(s))
        assert g["const"].item() == pytest.approx(15 * const.item(), rel=1e-4)
        assert g["tid"].item() == pytest.approx(15 * nn.functional.mse_loss(ft, t).item(), rel=1e-4)
    tv = ganzoo.build("dtn", seed=0, gamma=0.5, **TINY)
    losses = tv.impl.generator_loss(tv, dict(batch))
    assert "tv" in losses and losses["tv"].item() > 0
    flat = torch.zeros(1, 1, 8, 8)
    assert total_variation(flat).item() == pytest.approx(1e-4, abs=1e-4)
    ramp = torch.arange(8.0).repeat(8, 1)[None, None]
    assert total_variation(ramp).item() == pytest.approx(1.0, rel=1e-3)


def test_only_g_learns(model) -> None:
    """A generator step moves g, never f (fixed) — gradients reach g through f(G(x)) and D."""
    before = {k: v.clone() for k, v in model.f.state_dict().items()}
    losses = model.impl.generator_loss(model, _batch())
    total = sum(v for v in losses.values())
    total.backward()
    assert all(p.grad is None for p in model.f.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.g.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.f.state_dict().items())


def test_sample_is_one_way_at_any_size(model) -> None:
    out = model.eval().sample(condition=torch.rand(2, 3, 40, 28) * 2 - 1)
    assert out.shape == (2, 1, 40, 28) and out.abs().max() <= 1
    with pytest.raises(UsageError, match="has no option 'direction'"):
        model.sample(condition=torch.zeros(1, 3, 32, 32), direction="BtoA")
    with pytest.raises(UsageError, match="takes 3-channel images, got 1 channels"):
        model.sample(condition=torch.zeros(1, 1, 32, 32))
    with pytest.raises(UsageError, match="translates source-domain images"):
        model.impl.sample(model)


def test_diagnose_refuses_a_one_way_model(model) -> None:
    from ganzoo.diagnose import round_trip

    with pytest.raises(UsageError, match="translates one way only"):
        round_trip(model)


def test_bad_configs() -> None:
    with pytest.raises(ConfigError, match="image_size must be 32"):
        ganzoo.build("dtn", image_size=64, **TINY)
    with pytest.raises(ConfigError, match="the print-digits encoder was trained with f_dims"):
        ganzoo.build("dtn", f_dims=[8, 8, 8, 8])
    with pytest.raises(ConfigError, match="unknown encoder 'imagenet'"):
        ganzoo.build("dtn", encoder="imagenet")


def test_trains_and_reloads(tmp_path: Path) -> None:
    model = ganzoo.build("dtn", seed=0, **TINY)
    root = model.task.write_dataset(tmp_path / "data", model.config, n=4)
    out = tmp_path / "run"
    ganzoo.train(model, str(root), out=out, max_steps=2, batch_size=2, progress=False, sample_every=0,
                 checkpoint_every=0)
    back = ganzoo.load(str(out))
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert torch.allclose(back.sample(condition=x), model.eval().sample(condition=x), atol=1e-6)
    assert not any(p.requires_grad for p in back.f.parameters())
