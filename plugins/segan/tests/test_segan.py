"""SEGAN: architecture and losses as the paper/authors' code state them, whole-file inference without seams,
the conformance kit, and the bundled model's card."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.data.audio import pre_emphasis
from ganzoo.errors import ConfigError, UsageError
from ganzoo.testing import check_plugin

TINY = {"segment_length": 256, "g_channels": [4, 8], "d_channels": [4, 8], "z_channels": 4}
EIGHTH = [2, 4, 4, 8, 8, 16, 16, 32, 32, 64, 128]  # the paper's widths / 8, 11 layers


def test_conforms(tmp_path: Path) -> None:
    report = check_plugin("segan", tmp_path=tmp_path)
    assert "trainer" in report.passed and "round trip" in report.passed


def test_paper_architecture() -> None:
    """22 strided layers (11 down, 11 up), kernel 31, stride 2, PReLU, 8×1024 code + 8×1024 z, VBN D."""
    from ganzoo_segan.model import PAPER_CHANNELS, SEGANConfig
    from ganzoo_segan.nets import SEGANDiscriminator, SEGANGenerator, VirtualBatchNorm1d

    cfg = SEGANConfig()
    assert (cfg.sample_rate, cfg.segment_length, cfg.kernel_size, cfg.z_channels) == (16000, 16384, 31, 1024)
    assert (cfg.l1_weight, cfg.preemph, cfg.lr, cfg.d_norm) == (100.0, 0.95, 2e-4, "vbn")
    assert PAPER_CHANNELS == (16, 32, 32, 64, 64, 128, 128, 256, 256, 512, 1024)
    g = SEGANGenerator(PAPER_CHANNELS, 31, 1024)
    convs = [m for m in g.modules() if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d))]
    assert len(convs) == 22 and all(c.kernel_size == (31,) and c.stride == (2,) for c in convs)
    assert [c.out_channels for c in convs] == list(PAPER_CHANNELS) + [512, 256, 256, 128, 128, 64, 64, 32, 32, 16, 1]
    # decoder inputs: code + z, then each decoder output + its mirrored skip
    assert [c.in_channels for c in g.dec] == [2048, 1024, 512, 512, 256, 256, 128, 128, 64, 64, 32]
    assert sum(isinstance(m, nn.PReLU) for m in g.modules()) == 21
    assert g.z_shape(16384) == (1024, 8)
    d = SEGANDiscriminator(PAPER_CHANNELS, 16384)
    assert d.convs[0].in_channels == 2 and sum(isinstance(m, VirtualBatchNorm1d) for m in d.modules()) == 11
    assert d.fc.in_features == 8 and isinstance(d.act, nn.LeakyReLU) and d.act.negative_slope == 0.3


def test_bottleneck_and_skips_at_full_depth() -> None:
    """The 11-layer net at 1/8 width on a real 16,384-sample window: the code is 8 long, z is concatenated."""
    model = ganzoo.build("segan", g_channels=EIGHTH, d_channels=EIGHTH, z_channels=128)
    seen = {}
    model.G.dec[0].register_forward_hook(lambda m, i, o: seen.update(dec0_in=i[0].shape))
    out = model.G(torch.zeros(2, 1, 16384) + 0.01, torch.randn(2, 128, 8))
    assert out.shape == (2, 1, 16384) and seen["dec0_in"] == (2, 128 + 128, 8)
    assert model.D(torch.zeros(3, 2, 16384)).shape == (3,)


def test_vbn_mixes_reference_statistics() -> None:
    from ganzoo_segan.nets import VirtualBatchNorm1d

    torch.manual_seed(0)
    vbn = VirtualBatchNorm1d(3)
    ref, x = torch.randn(4, 3, 50) * 2 + 1, torch.randn(4, 3, 50)
    out_ref, stats = vbn(ref)
    # the reference batch normalised by its own statistics: zero mean, unit variance per channel
    assert torch.allclose(out_ref.mean(dim=(0, 2)), torch.zeros(3), atol=1e-5)
    out, _ = vbn(x, stats, ref_size=4)
    mean = 0.2 * x.mean(dim=(0, 2)) + 0.8 * ref.mean(dim=(0, 2))
    msq = 0.2 * (x * x).mean(dim=(0, 2)) + 0.8 * (ref * ref).mean(dim=(0, 2))
    expect = (x - mean[None, :, None]) / torch.sqrt(1e-5 + msq - mean ** 2)[None, :, None]
    assert torch.allclose(out, expect, atol=1e-5)
    # a real batch used as its own reference is normalised exactly as without one
    assert torch.allclose(vbn(ref, stats, ref_size=4)[0], out_ref, atol=1e-6)


def test_losses_are_lsgan_plus_lambda_l1_on_pre_emphasised_audio() -> None:
    model = ganzoo.build("segan", **TINY, seed=0)
    g = torch.Generator().manual_seed(1)
    batch = {"clean": torch.rand(4, 256, generator=g) - 0.5, "noisy": torch.rand(4, 256, generator=g) - 0.5}
    fixed = torch.zeros(4, 1, 256) + 0.1
    model.G.forward = lambda x, z=None: fixed  # G's output pinned: the losses are then closed-form
    logits = torch.tensor([0.5, -0.5, 1.0, 0.0])
    model.D.forward = lambda pair, ref=None, ref_size=1, return_stats=False: (logits, []) if return_stats else logits
    d = model.impl.discriminator_loss(model, batch)
    assert torch.isclose(d["d_real"], ((logits - 1) ** 2).mean()) and torch.isclose(d["d_fake"], (logits ** 2).mean())
    gl = model.impl.generator_loss(model, batch)
    clean = pre_emphasis(batch["clean"], 0.95)
    assert torch.isclose(gl["g_adv"], ((logits - 1) ** 2).mean())
    assert torch.isclose(gl["g_l1"], 100 * (fixed[:, 0] - clean).abs().mean())


def test_rmsprop_as_configured() -> None:
    model = ganzoo.build("segan", **TINY, lr=1e-3, lr_d=5e-4)
    opts = model.impl.configure_optimizers(model)
    assert {k: type(v).__name__ for k, v in opts.items()} == {"G": "RMSprop", "D": "RMSprop"}
    assert opts["G"].defaults["lr"] == 1e-3 and opts["D"].defaults["lr"] == 5e-4 and opts["G"].defaults["alpha"] == 0.9


# -- whole-file inference ----------------------------------------------------------------------------------


def _with_generator(fn) -> ganzoo.GanModel:
    model = ganzoo.build("segan", **TINY, seed=0).eval()
    model.G.forward = fn
    return model


def test_identity_generator_gives_the_input_back_at_any_length() -> None:
    model = _with_generator(lambda x, z=None: x)
    for t in (1, 100, 256, 1000, 2049):
        x = torch.from_numpy(0.5 * np.sin(np.arange(t) * 0.05, dtype=np.float32))[None]
        y = model.sample(condition=x)
        assert y.shape == (1, t) and torch.allclose(y, x, atol=1e-4), t


def test_no_clicks_at_window_seams() -> None:
    """A long sine through a generator whose gain changes from window to window (an identity-like G that is not
    exactly consistent across windows): with Hann overlap-add the output has no jump at the seams, whereas
    plain concatenation of windows (overlap 0, the authors' inference) does. (Pre-emphasis off, so the
    generator's output domain is the output's.)"""
    gains = iter(torch.linspace(0.8, 1.2, 1000)[torch.randperm(1000, generator=torch.Generator().manual_seed(0))])

    def wobbly(x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        return torch.stack([xi * next(gains) for xi in x])

    model = ganzoo.build("segan", **TINY, preemph=0.0).eval()
    model.G.forward = wobbly
    t = 40 * 256
    x = torch.from_numpy(0.5 * np.sin(2 * np.pi * 50 * np.arange(t) / 16000, dtype=np.float32))[None]
    step = float((x[0, 1:] - x[0, :-1]).abs().max())
    smooth = model.sample(condition=x, batch_size=7)[0]
    assert float((smooth[1:] - smooth[:-1]).abs().max()) < 1.5 * step
    seams = model.sample(condition=x, overlap=0.0)[0]
    assert float((seams[1:] - seams[:-1]).abs().max()) > 4 * step


def test_sample_is_seeded_and_silence_stays_silent() -> None:
    model = ganzoo.build("segan", **TINY, seed=0).eval()
    x = (torch.rand(2, 700, generator=torch.Generator().manual_seed(0)) - 0.5) * 0.2
    a, b = model.sample(condition=x, seed=3), model.sample(condition=x, seed=3)
    assert torch.equal(a, b) and not torch.equal(a, model.sample(condition=x, seed=4))
    x[1] = 0
    out = model.sample(condition=x, seed=3)
    assert torch.equal(out[1], torch.zeros(700)) and out.abs().max() <= 1


@pytest.mark.parametrize("condition,match", [
    (torch.full((1, 300), 2.0), r"in \[-1, 1\] \(peak 2\)"),
    (torch.tensor([[0.1, float("nan")]]), "NaN or infinite"),
    (torch.zeros(2, 2, 300), "mono waveforms"),
    ("noisy.wav", "waveform tensor"),
])
def test_sample_refuses_bad_conditions(condition, match: str) -> None:
    model = ganzoo.build("segan", **TINY)
    with pytest.raises(UsageError, match=match):
        model.sample(condition=condition)


def test_sample_accepts_numpy_and_checks_options() -> None:
    model = ganzoo.build("segan", **TINY).eval()
    assert model.sample(condition=np.zeros(300, np.float32) + 0.01).shape == (1, 300)
    with pytest.raises(UsageError, match="overlap must be in"):
        model.sample(condition=torch.zeros(1, 300), overlap=1.0)
    with pytest.raises(UsageError, match="no option 'windw'"):
        model.sample(condition=torch.zeros(1, 300), windw=3)


@pytest.mark.parametrize("overrides,match", [
    ({"segment_length": 258}, r"multiple of 2\*\*2 = 4"),
    ({"kernel_size": 30}, "positive odd integer"),
    ({"g_channels": []}, "non-empty list"),
    ({"preemph": 1.0}, "preemph must be in"),
])
def test_config_errors(overrides: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        ganzoo.build("segan", **{**TINY, **overrides})


def test_trains_on_a_clean_noisy_folder(tmp_path: Path) -> None:
    """The real trainer on SEGAN's layout (50 % overlapping windows), two steps, then a loadable model."""
    from ganzoo.data.audio import write_audio

    rng = np.random.default_rng(0)
    for i in range(3):
        clean = (0.3 * np.sin(np.arange(700) * 0.07 * (i + 1))).astype(np.float32)
        write_audio(tmp_path / "data" / "train" / "clean" / f"{i}.wav", clean, 16000)
        write_audio(tmp_path / "data" / "train" / "noisy" / f"{i}.wav", clean + 0.05 * rng.standard_normal(700), 16000)
    model = ganzoo.build("segan", **TINY, seed=0)
    ganzoo.train(model, tmp_path / "data", out=tmp_path / "run", max_steps=2, batch_size=4, progress=False,
                 sample_every=0, checkpoint_every=0)
    loaded = ganzoo.load(str(tmp_path / "run"))
    assert loaded.sample(condition=torch.zeros(1, 500) + 0.01).shape == (1, 500)


def test_eval_benchmark_bundles_a_run_and_writes_its_card(tmp_path: Path) -> None:
    """benchmarks/eval_speech.py on a tiny trained run: the card folder (weights byte for byte, provenance,
    departures), the table beside both baselines, spectrograms and WAVs, the metrics with their protocols."""
    import importlib.util

    from ganzoo.cards import load_card
    from ganzoo.data.audio import write_audio

    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for i in range(2):
            clean = (0.3 * np.sin(np.arange(6000) * 0.05 * (i + 1))).astype(np.float32)
            write_audio(tmp_path / "data" / split / "clean" / f"u{i}.wav", clean, 16000)
            write_audio(tmp_path / "data" / split / "noisy" / f"u{i}.wav",
                        clean + 0.05 * rng.standard_normal(6000), 16000)
    run = tmp_path / "segan-tiny"
    ganzoo.train(ganzoo.build("segan", **TINY, seed=0), tmp_path / "data", out=run, max_steps=1, batch_size=2,
                 progress=False, sample_every=0, checkpoint_every=0)
    root = Path(__file__).resolve().parents[3]
    spec = importlib.util.spec_from_file_location("eval_speech", root / "benchmarks" / "eval_speech.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    card = tmp_path / "cards" / "segan-tiny"
    mod.main([str(run), "--data", str(tmp_path / "data"), "--metrics", "si_sdr,segsnr", "--examples", "1",
              "--out", str(tmp_path / "out"), "--bundle-into", str(card), "--train-command", "ganzoo train segan …"])
    table = (tmp_path / "out" / "speech.md").read_text()
    assert "| noisy |" in table and "| wiener |" in table and "SI-SDR" in table
    assert len(list((tmp_path / "out" / "spectrograms").glob("*.png"))) == 1
    assert len(list((tmp_path / "out" / "examples").glob("*.wav"))) == 3
    assert (card / "G.safetensors").read_bytes() == (run / "G.safetensors").read_bytes()
    data = load_card(card / "README.md").data.ganzoo
    assert [m["name"] for m in data["metrics"]] == ["si_sdr", "segsnr"]
    assert set(data["metrics"][0]["protocol"]["baselines"]) == {"noisy", "wiener"}
    assert data["trained_with"]["command"] == "ganzoo train segan …" and data["trained_with"]["data"] == "data/speech"
    text = (card / "README.md").read_text()
    assert "Departures from the paper" in text and "<!-- speech-eval -->" in text and "(u0.png)" in text
    assert (card / "u0.png").exists()
