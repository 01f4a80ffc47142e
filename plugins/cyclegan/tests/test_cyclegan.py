"""The cyclegan plugin: converter parity with the original implementation, the published files' quirks, bad
input, directions, any-size translation, the CLI end to end, training faithfulness, the 18 cards, conformance.

The "original" here is built in the test from the facts of notes/reference-cyclegan-pix2pix.md §1-2: a state dict
with the original key layout (117 tensors, as the published 2018 files) and a reference forward pass written with
plain torch functions over those tensors — independent of ganzoo.nn.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo.cli import cli
from ganzoo.convert import convert_checkpoint
from ganzoo.errors import DataError, UsageError, WeightsError, WeightsUnavailableError
from ganzoo.testing import check_plugin

pytestmark = pytest.mark.usefixtures("one_thread")


# -- the original, from the notes ---------------------------------------------------------------------------


def original_resnet_state(ngf: int = 8, n_blocks: int = 9, c_in: int = 3, c_out: int = 3, *, stray: bool = True,
                          seed: int = 0) -> dict[str, torch.Tensor]:
    """A resnet_<n>blocks G in the original key layout (notes §2); ``stray``: + the 2018 files' IN statistics."""
    g = torch.Generator().manual_seed(seed)

    def t(*shape: int, scale: float = 0.1) -> torch.Tensor:
        return torch.randn(*shape, generator=g) * scale

    sd: dict[str, torch.Tensor] = {}
    norms: dict[str, int] = {}

    def conv(key: str, cout: int, cin: int, k: int, norm: str | None = None, transposed: bool = False) -> None:
        sd[f"{key}.weight"] = t(cin, cout, k, k) if transposed else t(cout, cin, k, k)
        sd[f"{key}.bias"] = t(cout)
        if norm:
            norms[norm] = cout

    conv("model.1", ngf, c_in, 7, "model.2")
    conv("model.4", 2 * ngf, ngf, 3, "model.5")
    conv("model.7", 4 * ngf, 2 * ngf, 3, "model.8")
    for i in range(10, 10 + n_blocks):
        conv(f"model.{i}.conv_block.1", 4 * ngf, 4 * ngf, 3, f"model.{i}.conv_block.2")
        conv(f"model.{i}.conv_block.5", 4 * ngf, 4 * ngf, 3, f"model.{i}.conv_block.6")
    conv(f"model.{10 + n_blocks}", 2 * ngf, 4 * ngf, 3, f"model.{11 + n_blocks}", transposed=True)
    conv(f"model.{13 + n_blocks}", ngf, 2 * ngf, 3, f"model.{14 + n_blocks}", transposed=True)
    conv(f"model.{17 + n_blocks}", c_out, ngf, 7)
    if stray:
        for key, c in norms.items():
            sd[f"{key}.running_mean"] = t(c, scale=1.0)
            sd[f"{key}.running_var"] = t(c, scale=1.0).abs() + 0.5
            sd[f"{key}.num_batches_tracked"] = torch.tensor(1000)
    return sd


def reference_forward(sd: dict[str, torch.Tensor], x: torch.Tensor, n_blocks: int) -> torch.Tensor:
    """The original ResnetGenerator's forward (notes §1), with plain torch functions. Instance norm has no
    statistics and no affine parameters: the stray running statistics are never used."""

    def conv(h: torch.Tensor, key: str, stride: int = 1, padding: int = 0) -> torch.Tensor:
        return F.conv2d(h, sd[f"{key}.weight"], sd[f"{key}.bias"], stride=stride, padding=padding)

    def inorm(h: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(h, eps=1e-5)

    def reflect(h: torch.Tensor, p: int) -> torch.Tensor:
        return F.pad(h, (p, p, p, p), mode="reflect")

    h = F.relu(inorm(conv(reflect(x, 3), "model.1")))
    h = F.relu(inorm(conv(h, "model.4", 2, 1)))
    h = F.relu(inorm(conv(h, "model.7", 2, 1)))
    for i in range(10, 10 + n_blocks):
        r = F.relu(inorm(conv(reflect(h, 1), f"model.{i}.conv_block.1")))
        h = h + inorm(conv(reflect(r, 1), f"model.{i}.conv_block.5"))
    for idx in (10 + n_blocks, 13 + n_blocks):
        h = F.conv_transpose2d(h, sd[f"model.{idx}.weight"], sd[f"model.{idx}.bias"], stride=2, padding=1,
                               output_padding=1)
        h = F.relu(inorm(h))
    return torch.tanh(conv(reflect(h, 3), f"model.{17 + n_blocks}"))


def _save(state: dict, path: Path, *, legacy: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path, _use_new_zipfile_serialization=not legacy)
    return path


def _image(x: torch.Tensor) -> torch.Tensor:
    return x.clamp(-1, 1)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Path, dict[str, torch.Tensor]]:
    """A file shaped like the published horse2zebra.pth: 117 tensors, legacy serialisation, named as downloaded."""
    root = tmp_path_factory.mktemp("orig")
    state = original_resnet_state()
    assert len(state) == 117
    path = _save(state, root / "horse2zebra_pretrained" / "latest_net_G.pth", legacy=True)
    assert not zipfile.is_zipfile(path)
    return path, state


@pytest.fixture(scope="module")
def converted(published, tmp_path_factory) -> Path:
    return convert_checkpoint("cyclegan", published[0], tmp_path_factory.mktemp("conv") / "h2z")


# -- converter parity -------------------------------------------------------------------------------------


def test_converted_generator_reproduces_the_original(published, converted) -> None:
    _, state = published
    model = ganzoo.load(str(converted))
    assert not model.training and set(model.loaded_components) == {"G_AB"}
    x = _image(torch.randn(2, 3, 64, 48, generator=torch.Generator().manual_seed(1)))
    expected = reference_forward(state, x, 9)
    got = model.sample(condition=x)
    assert got.shape == expected.shape == (2, 3, 64, 48)
    assert float((got - expected).abs().max()) < 1e-5
    # batch independence (instance norm): one image alone gives the same output
    assert float((model.sample(condition=x[:1]) - expected[:1]).abs().max()) < 1e-5
    # the "paper" (train-mode) test path is identical for instance norm without dropout
    assert float((model.sample(condition=x, mode="paper") - expected).abs().max()) < 1e-5


def test_converted_folder_config_card_and_components(converted) -> None:
    import json

    data = json.loads((converted / "config.json").read_text())
    assert list(data["components"]) == ["G_AB"]  # only what the file held
    cfg = data["config"]
    assert (cfg["ngf"], cfg["n_blocks"], cfg["norm"], cfg["use_dropout"]) == (8, 9, "instance", False)
    assert (cfg["domain_a"], cfg["domain_b"]) == ("horse", "zebra")
    assert sorted(p.name for p in converted.iterdir()) == ["G_AB.safetensors", "README.md", "config.json"]
    from ganzoo.cards import read_card_info

    info = read_card_info((converted / "README.md").read_text())
    assert info.id == "cyclegan-horse2zebra"
    conv = info.metadata["ganzoo"]["converted_from"]
    assert conv["tensors"] == 117 and conv["dropped_instance_norm_stats"] == 69
    assert conv["serialization"].startswith("legacy") and len(conv["sha256"]) == 64
    assert conv["url"].endswith("/cyclegan/pretrained_models/horse2zebra.pth")
    assert info.metadata["ganzoo"]["reverse_model"] == "cyclegan-zebra2horse"


def test_zip_serialisation_module_prefix_and_nested_state_dict(tmp_path) -> None:
    state = original_resnet_state(ngf=4, n_blocks=6, stray=False, seed=3)
    x = _image(torch.randn(1, 3, 32, 32))
    expected = reference_forward(state, x, 6)
    for i, obj in enumerate([state, {f"module.{k}": v for k, v in state.items()}, {"state_dict": state}]):
        folder = convert_checkpoint("cyclegan", _save(obj, tmp_path / f"f{i}" / "my_run.pth"), tmp_path / f"o{i}")
        model = ganzoo.load(str(folder))
        assert float((model.sample(condition=x) - expected).abs().max()) < 1e-5
    assert model.config.n_blocks == 6 and model.config.image_size == 128  # resnet_6blocks: the 128² setting


# -- directions -------------------------------------------------------------------------------------------


def test_missing_direction_is_a_clear_error(converted) -> None:
    model = ganzoo.load(str(converted))
    x = torch.zeros(1, 3, 16, 16)
    with pytest.raises(UsageError, match="no zebra → horse generator \\(G_BA.*cyclegan-zebra2horse"):
        model.sample(condition=x, direction="BtoA")
    with pytest.raises(UsageError, match="direction must be"):
        model.sample(condition=x, direction="sideways")


def test_direction_option_file_names_and_reverse(tmp_path) -> None:
    g_a = original_resnet_state(ngf=4, n_blocks=1, stray=False, seed=4)
    g_b = original_resnet_state(ngf=4, n_blocks=1, stray=False, seed=5)
    run = tmp_path / "myrun"
    pa, pb = _save(g_a, run / "latest_net_G_A.pth"), _save(g_b, run / "latest_net_G_B.pth")
    x = _image(torch.randn(1, 3, 16, 16))

    only_b = ganzoo.load(str(convert_checkpoint("cyclegan", pb, tmp_path / "b")))  # *_G_B → G_BA
    assert set(only_b.loaded_components) == {"G_BA"}
    assert float((only_b.sample(condition=x) - reference_forward(g_b, x, 1)).abs().max()) < 1e-5  # default: BtoA
    with pytest.raises(UsageError, match="G_AB"):
        only_b.sample(condition=x, direction="AtoB")

    forced = ganzoo.load(str(convert_checkpoint("cyclegan", pa, tmp_path / "a", direction="BtoA")))
    assert set(forced.loaded_components) == {"G_BA"}

    both = ganzoo.load(str(convert_checkpoint("cyclegan", pa, tmp_path / "ab", reverse=str(pb))))
    assert set(both.loaded_components) == {"G_AB", "G_BA"}
    assert float((both.sample(condition=x, direction="AtoB") - reference_forward(g_a, x, 1)).abs().max()) < 1e-5
    assert float((both.sample(condition=x, direction="BtoA") - reference_forward(g_b, x, 1)).abs().max()) < 1e-5
    assert both.card.data.ganzoo["converted_from"]["reverse"]["file"] == "latest_net_G_B.pth"
    # only the generator a direction needs is fetched
    one = ganzoo.load(str(tmp_path / "ab"), components=["G_BA"])
    assert set(one.loaded_components) == {"G_BA"}
    assert torch.equal(one.sample(condition=x), both.sample(condition=x, direction="BtoA"))  # default: what is there
    with pytest.raises(UsageError, match="G_AB"):
        one.sample(condition=x, direction="AtoB")


def test_label_map_channels_are_detected(tmp_path) -> None:
    state = original_resnet_state(ngf=4, n_blocks=1, c_in=1, c_out=3, stray=False)
    model = ganzoo.load(str(convert_checkpoint("cyclegan", _save(state, tmp_path / "labels.pth"), tmp_path / "o")))
    assert (model.config.input_channels, model.config.output_channels, model.config.lambda_identity) == (1, 3, 0.0)
    assert model.sample(condition=torch.zeros(1, 1, 20, 20)).shape == (1, 3, 20, 20)
    with pytest.raises(UsageError, match="takes 1-channel images"):
        model.sample(condition=torch.zeros(1, 3, 20, 20))


# -- bad checkpoints ----------------------------------------------------------------------------------------


def _pix2pix_unet_state(ngf: int = 4, num_downs: int = 8) -> dict[str, torch.Tensor]:
    from ganzoo.nn import UnetGenerator

    return dict(UnetGenerator(3, 3, num_downs, ngf).state_dict())


def test_pix2pix_file_is_refused_with_the_right_converter(tmp_path) -> None:
    path = _save(_pix2pix_unet_state(), tmp_path / "facades_label2photo.pth")
    with pytest.raises(WeightsError, match=r"U-Net generator \(unet_256, batch norm\).*ganzoo convert pix2pix"):
        convert_checkpoint("cyclegan", path, tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_wrong_architectures_are_refused(tmp_path) -> None:
    from ganzoo.nn import NLayerDiscriminator

    cases = {
        "random.pth": ({"fc.weight": torch.zeros(3, 3), "fc.bias": torch.zeros(3)}, "match no ResNet generator layout"),
        "D.pth": (dict(NLayerDiscriminator(3, 4, 3, "instance").state_dict()), "PatchGAN \\(n_layers=3\\) discriminator"),
    }
    broken = original_resnet_state(ngf=4, n_blocks=2, stray=False)
    broken.pop("model.11.conv_block.5.weight")
    cases["broken.pth"] = (broken, "does not fit .*missing model.11.conv_block.5.weight")
    odd = original_resnet_state(ngf=4, n_blocks=2, stray=False)
    odd["model.4.weight"] = torch.zeros(8, 4, 5, 5)
    cases["odd.pth"] = (odd, "shape mismatch model.4.weight")
    for name, (state, message) in cases.items():
        with pytest.raises(WeightsError, match=message):
            convert_checkpoint("cyclegan", _save(state, tmp_path / name), tmp_path / f"out-{name}")


def test_pickles_that_are_not_state_dicts(tmp_path) -> None:
    from ganzoo.nn import ResnetGenerator

    module = _save(ResnetGenerator(ngf=2, n_blocks=1), tmp_path / "module.pth")  # a pickled nn.Module
    listed = _save([torch.zeros(2)], tmp_path / "list.pth")
    text = tmp_path / "notes.pth"
    text.write_text("not a checkpoint")
    with pytest.raises(WeightsError, match="refusing to unpickle"):
        convert_checkpoint("cyclegan", module, tmp_path / "o1")
    with pytest.raises(WeightsError, match="holds list, not a state dict"):
        convert_checkpoint("cyclegan", listed, tmp_path / "o2")
    with pytest.raises(WeightsError, match="notes.pth"):  # (the core's message for a non-pickle could be clearer)
        convert_checkpoint("cyclegan", text, tmp_path / "o3")
    result = CliRunner().invoke(cli, ["convert", "cyclegan", str(module), str(tmp_path / "o4")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0 and result.output.startswith("Error:")


def test_unknown_converter_option(tmp_path, published) -> None:
    with pytest.raises(UsageError, match="unknown converter option"):
        convert_checkpoint("cyclegan", published[0], tmp_path / "o", colour="blue")
    # an explicit --set wins over what the file says; when the weights then do not fit, the message says so
    with pytest.raises(WeightsError, match=r"--set n_blocks=6 overrode what the file says\): missing .*; unexpected"):
        convert_checkpoint("cyclegan", published[0], tmp_path / "o", n_blocks=6)


# -- any-size translation, files and folders --------------------------------------------------------------


def _write_inputs(folder: Path) -> dict[str, tuple[int, int]]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (37, 53, 3), dtype=np.uint8)).save(folder / "odd.jpg")
    Image.fromarray(rng.integers(0, 255, (20, 31), dtype=np.uint8), mode="L").save(folder / "grey.png")
    Image.fromarray(rng.integers(0, 255, (24, 24, 4), dtype=np.uint8), mode="RGBA").save(folder / "rgba.png")
    Image.fromarray(rng.integers(0, 65535, (18, 40), dtype=np.uint16)).save(folder / "deep16.png")
    (folder / "sub").mkdir()
    Image.fromarray(rng.integers(0, 255, (37, 53, 3), dtype=np.uint8)).save(folder / "sub" / "same.png")
    (folder / "readme.txt").write_text("not an image")
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    return {"odd": (53, 37), "grey": (31, 20), "rgba": (24, 24), "deep16": (40, 18), "sub/same": (53, 37)}


def test_translate_folder_any_mode_and_size(converted, tmp_path, caplog) -> None:
    from ganzoo.translate import translate_path

    sizes = _write_inputs(tmp_path / "in")
    assert Image.open(tmp_path / "in" / "deep16.png").mode.startswith("I")
    model = ganzoo.load(str(converted))
    out = translate_path(model, tmp_path / "in", tmp_path / "out", batch_size=2)
    for stem, size in sizes.items():
        img = Image.open(out / f"{stem}.png")
        assert img.size == size and img.mode == "RGB"
    assert not (out / "readme.png").exists() and not (out / "broken.png").exists()
    assert "broken.png" in caplog.text
    # a single file; an odd-sized tensor through sample()
    single = translate_path(model, tmp_path / "in" / "odd.jpg", tmp_path / "one.png")
    assert Image.open(single).size == (53, 37)
    assert model.sample(condition=torch.zeros(3, 3, 9, 13)).shape == (3, 3, 9, 13)


def test_too_small_and_bad_inputs(converted, tmp_path) -> None:
    model = ganzoo.load(str(converted))
    with pytest.raises(DataError, match="3×3 px: smaller than the 4-px stride"):
        model.sample(condition=torch.zeros(1, 3, 3, 3))
    Image.fromarray(np.zeros((3, 3, 3), dtype=np.uint8)).save(tmp_path / "dot.png")
    result = CliRunner().invoke(cli, ["sample", str(converted), "--input", str(tmp_path / "dot.png"), "-o",
                                      str(tmp_path / "dot-out.png")])
    assert result.exit_code == 1 and "smaller than the 4-px stride" in result.output
    (tmp_path / "x.png").write_text("no")
    result = CliRunner().invoke(cli, ["sample", str(converted), "--input", str(tmp_path / "x.png"), "-o",
                                      str(tmp_path / "x-out.png")])
    assert result.exit_code == 1 and "not a readable image" in result.output and "Traceback" not in result.output
    with pytest.raises(UsageError, match="values must be in \\[-1, 1\\]"):
        model.sample(condition=torch.full((1, 3, 8, 8), 255.0))
    with pytest.raises(UsageError, match="float tensor"):
        model.sample(condition=torch.zeros(1, 3, 8, 8, dtype=torch.uint8))
    with pytest.raises(UsageError, match="needs an input"):
        model.sample(2)


def test_cli_convert_then_sample_a_folder(tmp_path) -> None:
    state = original_resnet_state(ngf=4, n_blocks=2, seed=7)
    src = _save(state, tmp_path / "style_monet.pth", legacy=True)
    runner = CliRunner()
    result = runner.invoke(cli, ["convert", "cyclegan", str(src), str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output
    sizes = _write_inputs(tmp_path / "photos")
    result = runner.invoke(cli, ["sample", str(tmp_path / "m"), "--input", str(tmp_path / "photos"), "-o",
                                 str(tmp_path / "paintings"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    for stem, size in sizes.items():
        assert Image.open(tmp_path / "paintings" / f"{stem}.png").size == size
    # the translation equals the reference on a valid size
    x = torch.rand(1, 3, 24, 24) * 2 - 1
    model = ganzoo.load(str(tmp_path / "m"))
    assert model.card.data.ganzoo["tag"] == "style_monet" and model.config.domain_b == "Monet-style painting"
    assert float((model.sample(condition=x) - reference_forward(state, x, 2)).abs().max()) < 1e-5
    # no BtoA generator: one line, and the reverse model named
    result = runner.invoke(cli, ["sample", str(tmp_path / "m"), "--input", str(tmp_path / "photos" / "odd.jpg"),
                                 "-o", str(tmp_path / "r.png"), "--direction", "BtoA"])
    assert result.exit_code == 1 and "cyclegan-monet2photo" in result.output


# -- training: the original's objective ----------------------------------------------------------------


def test_training_objective_is_the_originals() -> None:
    from ganzoo.nn import gan_loss

    with pytest.raises(ganzoo.errors.ConfigError, match="too small for a 3-layer PatchGAN"):
        ganzoo.build("cyclegan", image_size=16, load_size=16)
    model = ganzoo.build("cyclegan", seed=0, image_size=32, load_size=32, ngf=4, ndf=4, n_blocks=1)
    impl = model.impl
    assert impl.phase_order == ("G", "D")
    assert impl.train_defaults == {"batch_size": 1, "lr_schedule": "linear_decay", "decay_start": 0.5}
    cfg = model.config
    assert (cfg.gan_mode, cfg.lambda_A, cfg.lambda_B, cfg.lambda_identity, cfg.pool_size) == ("lsgan", 10, 10, 0.5, 50)
    assert (cfg.norm, cfg.n_blocks, cfg.use_dropout, cfg.lr, cfg.beta1) == ("instance", 1, False, 2e-4, 0.5)
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1, torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    batch = {"A": a, "B": b}
    g_losses = impl.generator_loss(model, batch)
    with torch.no_grad():
        fake_b, fake_a = model.G_AB(a), model.G_BA(b)
        assert torch.allclose(g_losses["cycle_a"], 10 * F.l1_loss(model.G_BA(fake_b), a))
        assert torch.allclose(g_losses["cycle_b"], 10 * F.l1_loss(model.G_AB(fake_a), b))
        assert torch.allclose(g_losses["idt_b"], 5 * F.l1_loss(model.G_AB(b), b))  # λ_B · 0.5
        assert torch.allclose(g_losses["g_ab_gan"], F.mse_loss(model.D_B(fake_b), torch.ones_like(model.D_B(fake_b))))
    assert torch.equal(batch["_fake_B"], fake_b)  # the D step reuses the G step's images
    d_losses = impl.discriminator_loss(model, batch)
    with torch.no_grad():  # the pool is filling: it returns the new images; each D's loss is halved
        assert torch.allclose(d_losses["d_b_fake"], 0.5 * gan_loss(model.D_B(fake_b), False, "lsgan"))
        assert torch.allclose(d_losses["d_a_real"], 0.5 * gan_loss(model.D_A(a), True, "lsgan"))
    state = impl.state_dict()
    assert len(state["pool_A"]["images"]) == 2 and len(state["pool_B"]["images"]) == 2
    opts = impl.configure_optimizers(model)
    g_params = {id(p) for p in opts["G"].param_groups[0]["params"]}
    assert g_params == {id(p) for n in ("G_AB", "G_BA") for p in model.components[n].parameters()}
    assert opts["G"].defaults["betas"] == (0.5, 0.999)


def test_resume_restores_the_image_pools(tmp_path, monkeypatch) -> None:
    """A run stopped and resumed equals an uninterrupted one: the pools (images + RNG) are in the checkpoint."""
    from ganzoo_cyclegan.model import CycleGAN
    from safetensors.torch import load_file

    from ganzoo.testing import write_dataset

    kw = dict(image_size=32, load_size=36, ngf=4, ndf=4, n_blocks=1, pool_size=2)
    data = write_dataset("unpaired-translation", tmp_path / "data", ganzoo.build("cyclegan", **kw).config, n=4)
    opts = dict(lr_schedule="constant", progress=False, sample_every=0, checkpoint_every=0, batch_size=1)

    def run(out: str, steps: int, resume: bool = False) -> dict[str, torch.Tensor]:
        ganzoo.train(ganzoo.build("cyclegan", seed=0, **kw), data, out=tmp_path / out, max_steps=steps,
                     resume=resume, **opts)
        return load_file(tmp_path / out / "D_B.safetensors")

    straight = run("a", 5)
    run("b", 2)
    resumed = run("b", 5, resume=True)
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    monkeypatch.setattr(CycleGAN, "load_state_dict", lambda self, state: None)  # control: forget the pools
    run("c", 2)
    forgetful = run("c", 5, resume=True)
    assert not all(torch.equal(straight[k], forgetful[k]) for k in straight)


def test_conformance() -> None:
    report = check_plugin("cyclegan")
    assert "round trip" in report.passed and "trainer" in report.passed


@pytest.mark.parametrize("overrides", [{"norm": "batch", "use_dropout": True, "inference_mode": "paper"},
                                       {"input_channels": 1, "lambda_identity": 0.0, "pool_size": 0,
                                        "size_policy": "resize", "gan_mode": "vanilla"}])
def test_variants_conform(overrides) -> None:
    check_plugin("cyclegan", train=False, overrides=overrides)


# -- the 18 published models -------------------------------------------------------------------------------


CYCLEGAN_MODELS = ["apple2orange", "orange2apple", "summer2winter_yosemite", "winter2summer_yosemite", "horse2zebra",
                   "zebra2horse", "monet2photo", "style_monet", "style_cezanne", "style_ukiyoe", "style_vangogh",
                   "sat2map", "map2sat", "cityscapes_photo2label", "cityscapes_label2photo", "facades_photo2label",
                   "facades_label2photo", "iphone2dslr_flower"]


def test_all_18_cards_are_listed_with_the_authors_file_as_source() -> None:
    from ganzoo.cards import load_card
    from ganzoo.sources import weights_origin

    listed = {m.id: m for m in ganzoo.list_models() if m.plugin == "cyclegan" and not m.bundled}
    assert sorted(listed) == sorted(f"cyclegan-{n}" for n in CYCLEGAN_MODELS)
    for model_id, entry in listed.items():
        block = entry.card.metadata["ganzoo"]
        assert entry.card.repo_id == f"ganzoo/{model_id}" and entry.card.revision is None
        assert entry.card.license == "bsd-2-clause" and block["input"]["policy"] == "pad"
        assert block["converted_from"]["url"].endswith(f"/{entry.tag}.pth")
        load_card(entry.folder / "README.md")
        # no Hub revision yet: the card names the authors' file as its source, fetched on first use (the test
        # session's GANZOO_SOURCE_MIRRORS sends it to a closed local port: one line, nothing cached)
        assert block["source"] == {"url": block["converted_from"]["url"], "sha256": None, "converter": entry.plugin}
        assert weights_origin(entry) == "source"
        with pytest.raises(WeightsUnavailableError, match="Cannot fetch the weights of") as err:
            ganzoo.load(model_id)
        assert "\n" not in str(err.value) and block["converted_from"]["url"].split("/", 3)[3] in str(err.value)
    fcn = listed["cyclegan-cityscapes_label2photo"].card.metadata["ganzoo"]["published_metrics"]
    assert {m["name"]: m["value"] for m in fcn}["FCN-score class IoU"] == 0.11


def test_cards_are_what_the_script_renders() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    proc = subprocess.run([sys.executable, str(root / "scripts" / "make_i2i_cards.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_maintainer_procedure_convert_push_pin_render(published, converted, hub, hf_cache, tmp_path) -> None:
    """convert → push (the local Hub) → --pin-card → make_i2i_cards.py keeps the pin → the pinned bytes load."""
    import subprocess
    import sys

    from ganzoo.cards import read_card_info
    from ganzoo.hub import push_folder, write_pinned_card

    repo = "ganzoo-tests/cyclegan-horse2zebra"
    commit = push_folder(converted, repo).commit
    cards = tmp_path / "cards"
    write_pinned_card(converted, cards / "cyclegan-horse2zebra", repo_id=repo, revision=commit)
    root = Path(__file__).resolve().parents[3]
    proc = subprocess.run([sys.executable, str(root / "scripts" / "make_i2i_cards.py"), "--out", str(cards)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    info = read_card_info((cards / "cyclegan-horse2zebra" / "README.md").read_text())
    block = info.metadata["ganzoo"]
    assert (info.repo_id, info.revision) == (repo, commit)
    assert set(info.sha256) == {"config.json", "G_AB.safetensors"} and len(block["converted_from"]["sha256"]) == 64
    assert block["reverse_model"] == "cyclegan-zebra2horse" and "Publishing (maintainers)" in \
        (cards / "cyclegan-horse2zebra" / "README.md").read_text()
    assert read_card_info((cards / "cyclegan-zebra2horse" / "README.md").read_text()).revision is None
    model = ganzoo.load(f"hf-hub:{repo}@{commit}")
    x = _image(torch.randn(1, 3, 32, 32))
    assert float((model.sample(condition=x) - reference_forward(published[1], x, 9)).abs().max()) < 1e-5


def test_original_names_and_tags() -> None:
    """The release's two layouts name the same model; names become valid tags or None."""
    from ganzoo.convert import original_name, tag_from_name

    assert original_name("ckpt/horse2zebra_pretrained/latest_net_G.pth") == "horse2zebra"
    assert original_name("runs/maps/200_net_G_A.pth") == "maps"
    assert original_name("horse2zebra.pth") == "horse2zebra"
    assert tag_from_name("Style Monet!") == "style-monet" and tag_from_name("summer2winter_yosemite") == \
        "summer2winter_yosemite"
    assert tag_from_name("!!!") is None
